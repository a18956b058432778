//! A deliberately simple reading of sensor streams, used to check the oracle and the
//! evaluation harness — not the project's analysis.
//!
//! Orientation: the stream's own quaternions, or VQF 6D for raw streams. Neutral: the
//! mean over the first 2 s. Head-ward axis: gravity (upright), or the sensor's +y made
//! perpendicular to gravity (supine, wear convention). Then the truth's own spec §7 code
//! ([`truth::report_from_angles`]) on the measured angles. Because it shares that code
//! with the truth, agreement here says the *angles* agree; it says nothing independent
//! about the §7 logic. Its use: reading the spec's example sessions with our conventions
//! (do we get their expected reports?), and a stand-in analysis to exercise `eval`.

use super::truth::{self, ReportContext, TruthAngles};
use crate::body::{Placement, Segment, Variation};
use crate::frames::{Quat, cross, dot, normalize, scale, sub};
use crate::session::report::Report;
use crate::stream::{Samples, Stream};

struct Track {
    t_s: Vec<f64>,
    /// Rotation of the segment's body frame relative to its neutral, per sample.
    q_neutral_from_body: Vec<Quat>,
}

fn orientations(stream: &Stream) -> (Vec<f64>, Vec<Quat>) {
    match &stream.samples {
        Samples::Imu(s) => {
            let settings = crate::orientation::Settings {
                use_mag: false,
                ..Default::default()
            };
            let q = crate::orientation::estimate_causal(s, settings);
            (s.iter().map(|s| s.t_s).collect(), q)
        }
        Samples::Orientation(s) => (
            s.iter().map(|s| s.t_s).collect(),
            s.iter().map(|s| s.q_world_from_sensor).collect(),
        ),
    }
}

fn track(variation: Variation, placement: Placement, stream: &Stream) -> Track {
    let (t, q) = orientations(stream);
    let t0 = t.first().copied().unwrap_or(0.0);
    let window: Vec<Quat> = t
        .iter()
        .zip(&q)
        .filter(|(ti, _)| **ti <= t0 + 2.0)
        .map(|(_, q)| *q)
        .collect();
    let neutral = truth::mean_quat(&window);
    let up_sensor = neutral.conj().rotate([0.0, 0.0, 1.0]);
    let out = if placement.is_posterior() { -1.0 } else { 1.0 };
    // Body axes in the sensor frame.
    let (head, front) = match variation {
        Variation::Seated | Variation::Standing => {
            let z = [0.0, 0.0, out];
            let front = normalize(sub(z, scale(up_sensor, dot(z, up_sensor))));
            (up_sensor, front)
        }
        Variation::Supine => {
            let front = scale(up_sensor, out);
            let y = [0.0, 1.0, 0.0];
            (normalize(sub(y, scale(front, dot(y, front)))), front)
        }
    };
    let left = cross(head, front);
    let q_sensor_from_body = super::motion::quat_from_axes(left, head, front);
    let q_neutral_from_body = q
        .iter()
        .map(|q| q_sensor_from_body.conj() * neutral.conj() * *q * q_sensor_from_body)
        .collect();
    Track {
        t_s: t,
        q_neutral_from_body,
    }
}

fn sample_at(tr: &Track, t: f64) -> Quat {
    let i = tr.t_s.partition_point(|v| *v <= t).clamp(1, tr.t_s.len().max(2) - 1);
    if tr.t_s.len() < 2 {
        return tr.q_neutral_from_body.first().copied().unwrap_or(Quat::IDENTITY);
    }
    // Nearest neighbour is plenty at these rates.
    if (t - tr.t_s[i - 1]).abs() < (tr.t_s[i] - t).abs() {
        tr.q_neutral_from_body[i - 1]
    } else {
        tr.q_neutral_from_body[i]
    }
}

/// Measured angles on the primary sensor's samples (within the time both streams cover).
pub fn measured_angles(variation: Variation, streams: &[(Placement, Stream)]) -> TruthAngles {
    let primary_seg = variation.primary_segment();
    let Some((pp, ps)) = streams.iter().find(|(p, _)| p.segment() == primary_seg) else {
        return TruthAngles::default();
    };
    let primary = track(variation, *pp, ps);
    let secondary = streams
        .iter()
        .find(|(p, _)| p.segment() != primary_seg)
        .map(|(p, s)| track(variation, *p, s));
    let y = [0.0, 1.0, 0.0];
    let (lo, hi) = match &secondary {
        Some(s) => (
            s.t_s.first().copied().unwrap_or(f64::NEG_INFINITY),
            s.t_s.last().copied().unwrap_or(f64::INFINITY),
        ),
        None => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let mut a = TruthAngles {
        compensation_deg: secondary.as_ref().map(|_| Vec::new()),
        chest_flexion_deg: (primary_seg == Segment::Thorax || secondary.is_some()).then(Vec::new),
        ..TruthAngles::default()
    };
    for (i, &t) in primary.t_s.iter().enumerate() {
        if t < lo || t > hi {
            continue;
        }
        let a_m = primary.q_neutral_from_body[i];
        let a_s = secondary.as_ref().map(|s| sample_at(s, t));
        a.t_s.push(t);
        a.primary_deg.push(match a_s {
            Some(a_s) => truth::twist_deg(a_s.conj() * a_m, y),
            None => truth::twist_deg(a_m, y),
        });
        if let (Some(c), Some(a_s)) = (a.compensation_deg.as_mut(), a_s) {
            c.push(truth::twist_deg(a_s, y).abs());
        }
        if let Some(f) = a.chest_flexion_deg.as_mut() {
            let a_c = if primary_seg == Segment::Thorax { Some(a_m) } else { a_s };
            f.push(a_c.map_or(0.0, truth::flexion_deg));
        }
    }
    a
}

/// The baseline report of some streams.
pub fn analyze(variation: Variation, streams: &[(Placement, Stream)]) -> Report {
    let a = measured_angles(variation, streams);
    let ctx = ReportContext {
        variation,
        sensors: streams.iter().map(|(p, _)| *p).collect(),
        targets: truth::default_targets(variation),
        rep_min_deg: 15.0,
        gaps_s: Vec::new(),
    };
    truth::report_from_angles(&ctx, &a).report
}
