//! Heading drift removal using the rests between reps (spec §3: "an analysis may use the
//! rests between reps to cancel its own drift").
//!
//! A 6D orientation (and many on-board fusions) drifts in heading: a slow rotation about
//! the world vertical. Between reps the person is back at neutral, so each sensor's
//! heading there should equal its neutral heading; the differences, sampled at every
//! rest, give the drift, which is interpolated linearly between rests and removed by
//! rotating each orientation back about the world vertical. Upright, that heading is
//! the twist; supine it is the swing about the body's front axis, so the correction is
//! harmless there and the twist stays what gravity observes.

use crate::body::calibration::SegmentCalibration;
use crate::body::twist::twist_angle_rad;
use crate::frames::Quat;

/// Rest chunks are at most this long, s (one drift anchor each).
const ANCHOR_SPAN_S: f64 = 2.0;
/// A rest chunk needs at least this much time, s.
const MIN_ANCHOR_S: f64 = 0.5;
/// A still sample moves slower than this (centred 1 s speed), °/s.
const STILL_SPEED_DPS: f64 = 6.0;
/// A still segment lasts at least this long, s.
const MIN_STILL_S: f64 = 0.5;
/// A movement of at least this much leaves neutral, °.
const OUT_DEG: f64 = 12.0;
/// A movement back by at least this fraction of the way out returns to neutral.
const BACK_FRACTION: f64 = 0.5;
/// At neutral, a still segment this far from the last rest is a pause (a false start),
/// not a rest, unless it follows a return, °.
const PAUSE_DEG: f64 = 6.0;

/// Which samples are rest at neutral, judged by the movements between still segments
/// rather than by the (drifting) angle itself: a movement of more than `OUT_DEG` leaves
/// neutral; a movement back by half the way out returns. Holds can drift by many degrees
/// without being mistaken for rest, and a rest that drifted away from zero is still rest.
pub fn rest_mask(t_s: &[f64], angle_deg: &[f64]) -> Vec<bool> {
    let n = t_s.len();
    let mut still = vec![false; n];
    let (mut lo, mut hi) = (0usize, 0usize);
    for i in 0..n {
        while t_s[lo] < t_s[i] - 0.5 {
            lo += 1;
        }
        while hi + 1 < n && t_s[hi + 1] <= t_s[i] + 0.5 {
            hi += 1;
        }
        let dt = t_s[hi] - t_s[lo];
        still[i] = dt > 0.0 && (angle_deg[hi] - angle_deg[lo]).abs() / dt < STILL_SPEED_DPS;
    }
    // Still segments [a, b] (inclusive), long enough.
    let mut segments = Vec::new();
    let mut i = 0;
    while i < n {
        if !still[i] {
            i += 1;
            continue;
        }
        let a = i;
        while i + 1 < n && still[i + 1] && t_s[i + 1] - t_s[i] < 1.0 {
            i += 1;
        }
        if t_s[i] - t_s[a] >= MIN_STILL_S {
            segments.push((a, i));
        }
        i += 1;
    }
    let edge_level = |a: usize, b: usize, at_end: bool| -> f64 {
        let mut v: Vec<f64> = if at_end {
            (a..=b)
                .rev()
                .take_while(|&k| t_s[k] >= t_s[b] - 0.5)
                .map(|k| angle_deg[k])
                .collect()
        } else {
            (a..=b)
                .take_while(|&k| t_s[k] <= t_s[a] + 0.5)
                .map(|k| angle_deg[k])
                .collect()
        };
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut mask = vec![false; n];
    let mut out = false;
    // Displacement from the last rest, summed over the movements between still segments
    // (so drift inside a long still segment does not count), and its extreme while out.
    let mut disp = 0.0f64;
    let mut peak = 0.0f64;
    let mut last_rest_level: Option<f64> = None;
    let mut just_returned = true;
    for (k, &(a, b)) in segments.iter().enumerate() {
        // A movement across a sensor gap has an unreliable size (the rotation during the
        // gap was not seen).
        let mut across_gap = false;
        if k > 0 {
            let (pa, pb) = segments[k - 1];
            disp += edge_level(a, b, false) - edge_level(pa, pb, true);
            across_gap = (pb..a).any(|m| t_s[m + 1] - t_s[m] > GAP_STEP_S);
        }
        if !out {
            if disp.abs() >= OUT_DEG {
                out = true;
                peak = disp;
            }
        } else if disp * peak < 0.0 && disp.abs() >= OUT_DEG.max(0.5 * peak.abs()) && !across_gap {
            // Straight through neutral to the other side: still out.
            peak = disp;
        } else if disp * peak <= 0.0 || disp.abs() < BACK_FRACTION * peak.abs() {
            out = false;
            just_returned = true;
        } else if disp.abs() > peak.abs() {
            peak = disp;
        }
        if out {
            continue;
        }
        let level = edge_level(a, b, false);
        let is_rest = just_returned || last_rest_level.is_none_or(|l| (level - l).abs() < PAUSE_DEG);
        if is_rest {
            for m in &mut mask[a..=b] {
                *m = true;
            }
            last_rest_level = Some(edge_level(a, b, true));
            just_returned = false;
            disp = 0.0;
        }
    }
    mask
}

/// Drift anchors (time, heading error in rad) from the rest samples.
pub fn heading_anchors(
    t_s: &[f64],
    q_world_from_sensor: &[Quat],
    cal: &SegmentCalibration,
    rest: &[bool],
) -> Vec<(f64, f64)> {
    let q0_inv = cal.q_world_from_sensor_neutral.conj();
    let mut anchors: Vec<(f64, f64)> = Vec::new();
    // Headings are unwrapped along the session: an hour of 6D drift can pass ±180°.
    let mut reference = 0.0;
    let mut i = 0;
    while i < t_s.len() {
        if !rest[i] {
            i += 1;
            continue;
        }
        let from = i;
        let mut yaw = Vec::new();
        while i < t_s.len() && rest[i] && t_s[i] - t_s[from] < ANCHOR_SPAN_S {
            let y = twist_angle_rad(q_world_from_sensor[i] * q0_inv, [0.0, 0.0, 1.0]);
            yaw.push(reference + wrap_pi(y - reference));
            i += 1;
        }
        let to = i - 1;
        if t_s[to] - t_s[from] >= MIN_ANCHOR_S {
            yaw.sort_by(f64::total_cmp);
            let median = yaw[yaw.len() / 2];
            anchors.push((0.5 * (t_s[from] + t_s[to]), median));
            reference = median;
        }
    }
    anchors
}

/// The angle in (−π, π].
pub fn wrap_pi(a: f64) -> f64 {
    let two_pi = 2.0 * std::f64::consts::PI;
    let r = (a + std::f64::consts::PI).rem_euclid(two_pi) - std::f64::consts::PI;
    if r <= -std::f64::consts::PI { r + two_pi } else { r }
}

/// A wrapped angle signal (degrees) made continuous.
pub fn unwrap_deg(angle_deg: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(angle_deg.len());
    let mut offset = 0.0;
    let mut prev: Option<f64> = None;
    for &a in angle_deg {
        if let Some(p) = prev {
            let d = a - p;
            if d > 180.0 {
                offset -= 360.0;
            } else if d < -180.0 {
                offset += 360.0;
            }
        }
        prev = Some(a);
        out.push(a + offset);
    }
    out
}

/// A sensor gap longer than this between two rests is where the heading jumped, s: the
/// gyroscope saw nothing of the rotation during it.
pub const GAP_STEP_S: f64 = 0.5;

/// The gaps (start, end) longer than [`GAP_STEP_S`] in a stream's own times.
pub fn gaps(t_s: &[f64]) -> Vec<(f64, f64)> {
    t_s.windows(2)
        .filter(|w| w[1] - w[0] > GAP_STEP_S)
        .map(|w| (w[0], w[1]))
        .collect()
}

/// The drift at `t`: piecewise-linear between anchors (constant beyond the ends), except
/// that between two anchors with sensor gaps between them, the drift changes only across
/// the gaps, shared in proportion to their durations (a rotation lost in a dropout is a
/// jump, not a slow drift).
pub fn drift_at_with_gaps(anchors: &[(f64, f64)], gaps: &[(f64, f64)], t: f64) -> f64 {
    let i = anchors.partition_point(|a| a.0 < t);
    if i > 0 && i < anchors.len() {
        let (a, b) = (anchors[i - 1], anchors[i]);
        let inside: Vec<(f64, f64)> = gaps.iter().copied().filter(|g| g.0 >= a.0 && g.1 <= b.0).collect();
        let total: f64 = inside.iter().map(|g| g.1 - g.0).sum();
        if total > 0.0 {
            let passed: f64 = inside.iter().map(|g| t.clamp(g.0, g.1) - g.0).sum();
            return a.1 + passed / total * (b.1 - a.1);
        }
    }
    drift_at(anchors, t)
}

/// Piecewise-linear interpolation of anchors (constant beyond the ends).
pub fn drift_at(anchors: &[(f64, f64)], t: f64) -> f64 {
    if anchors.is_empty() {
        return 0.0;
    }
    let i = anchors.partition_point(|a| a.0 < t);
    if i == 0 {
        return anchors[0].1;
    }
    if i >= anchors.len() {
        return anchors[anchors.len() - 1].1;
    }
    let (a, b) = (anchors[i - 1], anchors[i]);
    a.1 + (t - a.0) / (b.0 - a.0) * (b.1 - a.1)
}

/// The orientations with the heading drift measured at rests removed.
pub fn remove_heading_drift(
    t_s: &[f64],
    q_world_from_sensor: &[Quat],
    cal: &SegmentCalibration,
    rest: &[bool],
    gaps: &[(f64, f64)],
) -> Vec<Quat> {
    let anchors = heading_anchors(t_s, q_world_from_sensor, cal, rest);
    t_s.iter()
        .zip(q_world_from_sensor)
        .map(|(&t, &q)| Quat::from_axis_angle([0.0, 0.0, 1.0], -drift_at_with_gaps(&anchors, gaps, t)) * q)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// Rests at 0°, reps to ±40° held 15 s, plus a heading drift of 0.8°/s: the rest mask
    /// finds the rests (not the holds), and removing the drift restores the angle.
    #[test]
    fn linear_drift_is_removed_and_holds_are_not_rest() {
        let t: Vec<f64> = (0..12_000).map(|i| i as f64 * 0.01).collect();
        let truth = |t: f64| {
            let k = (t / 30.0).floor();
            let u = t - 30.0 * k;
            let side = if k as i64 % 2 == 0 { 1.0 } else { -1.0 };
            let x = ((u - 5.0) / 2.0).clamp(0.0, 1.0);
            let y = ((u - 22.0) / 2.0).clamp(0.0, 1.0);
            side * 40.0 * (x - y)
        };
        let drift = |t: f64| 0.8 * t;
        let measured: Vec<f64> = t.iter().map(|&t| truth(t) + drift(t)).collect();
        let rest = rest_mask(&t, &measured);
        for (i, &ti) in t.iter().enumerate() {
            if truth(ti).abs() > 10.0 {
                assert!(!rest[i], "a hold at {ti:.2} s was taken for rest");
            }
        }
        let rest_count = rest.iter().filter(|r| **r).count();
        assert!(rest_count > 4000, "only {rest_count} rest samples");
        // The same drift as a heading rotation of an upright sensor.
        let cal = SegmentCalibration {
            q_world_from_sensor_neutral: Quat::IDENTITY,
            q_sensor_from_body: Quat::IDENTITY,
        };
        let q: Vec<Quat> = measured
            .iter()
            .map(|a| Quat::from_axis_angle([0.0, 0.0, 1.0], a.to_radians()))
            .collect();
        let fixed = remove_heading_drift(&t, &q, &cal, &rest, &[]);
        for (i, &ti) in t
            .iter()
            .enumerate()
            .step_by(97)
            .filter(|(_, t)| **t > 3.0 && **t < 115.0)
        {
            let yaw = twist_angle_rad(fixed[i], [0.0, 0.0, 1.0]).to_degrees();
            assert_abs_diff_eq!(yaw, truth(ti), epsilon = 1.0);
        }
    }

    #[test]
    fn a_dropout_between_rests_is_a_step() {
        let anchors = [(0.0, 0.0), (20.0, 10.0)];
        let gaps = [(8.0, 10.5)];
        assert_eq!(drift_at_with_gaps(&anchors, &gaps, 5.0), 0.0);
        assert_eq!(drift_at_with_gaps(&anchors, &gaps, 12.0), 10.0);
        assert_eq!(drift_at_with_gaps(&anchors, &[], 5.0), 2.5);
    }

    #[test]
    fn unwrap_and_wrap() {
        assert_eq!(
            unwrap_deg(&[170.0, 179.0, -179.0, -170.0]),
            vec![170.0, 179.0, 181.0, 190.0]
        );
        assert_abs_diff_eq!(
            wrap_pi(3.0 * std::f64::consts::PI),
            std::f64::consts::PI,
            epsilon = 1e-12
        );
        assert_abs_diff_eq!(wrap_pi(-0.5), -0.5, epsilon = 1e-12);
    }

    #[test]
    fn headings_past_180_degrees_are_unwrapped() {
        // A sensor that drifts by 400° over 200 s, still the whole time.
        let t: Vec<f64> = (0..2000).map(|i| i as f64 * 0.1).collect();
        let q: Vec<Quat> = t
            .iter()
            .map(|t| Quat::from_axis_angle([0.0, 0.0, 1.0], (2.0 * t).to_radians()))
            .collect();
        let cal = SegmentCalibration {
            q_world_from_sensor_neutral: Quat::IDENTITY,
            q_sensor_from_body: Quat::IDENTITY,
        };
        let rest = vec![true; t.len()];
        let fixed = remove_heading_drift(&t, &q, &cal, &rest, &[]);
        for (i, f) in fixed.iter().enumerate().skip(20).take(1900) {
            assert!(
                f.angle_rad().to_degrees() < 3.0,
                "at {} s: {}",
                t[i],
                f.angle_rad().to_degrees()
            );
        }
    }
}
