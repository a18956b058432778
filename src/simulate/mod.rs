//! Synthetic sessions with ground truth.
//!
//! `simulate(&Settings)` draws a scenario (what the person does, [`scenario`]), moves a body
//! model ([`motion`]), puts simulated sensors on it ([`sensors`]) and computes the true
//! report from the true motion ([`truth`], spec §7 taken literally, independent of the
//! analysis). [`eval`] compares an analysis with that truth. Everything is pure and
//! deterministic for a seed (own PRNG, [`rng`]); writing files is `commands::simulate`.

pub mod baseline;
pub mod eval;
pub mod fixtures;
pub mod motion;
pub mod rng;
pub mod scenario;
pub mod sensors;
pub mod truth;

use std::path::Path;

use crate::body::{Placement, Variation};
use crate::error::BadInput;
use crate::session::report::Report;
use crate::stream::{Stream, parse_stream};

pub use sensors::{Format, HardCases};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Settings {
    pub variation: Variation,
    /// Placements in command-line order (the primary segment must be among them).
    pub sensors: Vec<Placement>,
    pub seed: u64,
    pub format: Format,
    /// Sample rate of every stream (None: drawn per stream).
    pub rate_hz: Option<f64>,
    /// Raw streams: with a magnetometer (None: drawn).
    pub with_mag: Option<bool>,
    pub hard: HardCases,
    /// 10–14 reps over several minutes.
    pub long_session: bool,
    /// Only 2.05–2.3 s still at the start, the first rep right after it.
    pub short_still: bool,
    /// Number of reps (None: drawn).
    pub reps: Option<usize>,
    /// Stop adding reps past about this duration.
    pub max_duration_s: Option<f64>,
    /// Error-free sensors (no bias, scale error, noise, drift, jitter or dropouts): for
    /// checking that the streams follow the true motion.
    pub ideal_sensors: bool,
}

impl Settings {
    pub fn new(variation: Variation, sensors: Vec<Placement>, seed: u64, format: Format) -> Settings {
        Settings {
            variation,
            sensors,
            seed,
            format,
            rate_hz: None,
            with_mag: None,
            hard: HardCases::default(),
            long_session: false,
            short_still: false,
            reps: None,
            max_duration_s: None,
            ideal_sensors: false,
        }
    }
}

/// Grid step of the truth computation (200 Hz).
pub const TRUTH_DT_S: f64 = 0.005;

/// A simulated session: the streams, the true angles and the true report.
#[derive(Debug, Clone)]
pub struct SimSession {
    pub settings: Settings,
    pub scenario: Vec<String>,
    pub streams: Vec<sensors::SimStream>,
    pub angles: truth::TruthAngles,
    pub truth: truth::TruthReport,
    /// How many scenarios were drawn before one had no threshold ambiguity.
    pub attempts: u32,
    /// Remaining ambiguities (only if no clear scenario was found).
    pub ambiguities: Vec<String>,
}

/// Why a session cannot be simulated.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the {variation} variation needs a sensor on the {primary} (chest or upper-back / pelvis or sacrum)")]
    NoPrimarySensor {
        variation: &'static str,
        primary: &'static str,
    },
    #[error("segment measured twice: {0}")]
    SegmentTwice(&'static str),
    #[error("no sensors given")]
    NoSensors,
}

fn check(settings: &Settings) -> Result<(), SimError> {
    if settings.sensors.is_empty() {
        return Err(SimError::NoSensors);
    }
    let segs: Vec<_> = settings.sensors.iter().map(|p| p.segment()).collect();
    for (i, s) in segs.iter().enumerate() {
        if segs[..i].contains(s) {
            return Err(SimError::SegmentTwice(settings.sensors[i].name()));
        }
    }
    if !segs.contains(&settings.variation.primary_segment()) {
        return Err(SimError::NoPrimarySensor {
            variation: settings.variation.name(),
            primary: match settings.variation.primary_segment() {
                crate::body::Segment::Pelvis => "pelvis",
                crate::body::Segment::Thorax => "chest",
            },
        });
    }
    Ok(())
}

/// File name of a placement's stream inside a session folder.
pub fn stream_file_name(p: Placement) -> String {
    format!("{}.csv.gz", p.name())
}

/// The command line that analyses a simulated session folder (run inside it).
pub fn analyze_command(settings: &Settings) -> String {
    let mut c = format!("twistcoach analyze --variation {}", settings.variation.name());
    for p in &settings.sensors {
        c.push_str(&format!(" --sensor {}={}", p.name(), stream_file_name(*p)));
    }
    c.push_str(" --json");
    c
}

/// Simulate one session.
pub fn simulate(settings: &Settings) -> Result<SimSession, SimError> {
    check(settings)?;
    let segments: Vec<_> = settings.sensors.iter().map(|p| p.segment()).collect();
    let two = segments.len() == 2;
    let opts = scenario::ScenarioOptions {
        variation: settings.variation,
        two_sensors: two,
        reps: settings.reps,
        long_session: settings.long_session,
        short_still: settings.short_still,
        max_duration_s: settings.max_duration_s,
    };
    let mut attempt = 0u32;
    loop {
        let mut rng = rng::Rng::new(settings.seed ^ (u64::from(attempt) << 40));
        let mut scen_rng = rng.fork(1);
        let mut sensor_rng = rng.fork(2);
        let scen = scenario::draw(&mut scen_rng, &opts);
        let plan = &scen.plan;
        let streams: Vec<sensors::SimStream> = settings
            .sensors
            .iter()
            .map(|p| {
                let o = sensors::SensorOptions {
                    placement: *p,
                    format: settings.format,
                    rate_hz: settings.rate_hz,
                    with_mag: settings.with_mag,
                    hard: settings.hard,
                    ideal: settings.ideal_sensors,
                };
                let mut r = sensor_rng.fork(p.name().len() as u64 * 7919 + *p as u64);
                sensors::simulate_sensor(&mut r, plan, &o)
            })
            .collect();
        // The truth covers the time all streams cover.
        let t_a = streams.iter().map(|s| s.t_first_s).fold(f64::NEG_INFINITY, f64::max);
        let t_b = streams.iter().map(|s| s.t_last_s).fold(f64::INFINITY, f64::min);
        let n = ((t_b - t_a) / TRUTH_DT_S).floor().max(0.0) as usize;
        let grid: Vec<f64> = (0..=n).map(|i| t_a + i as f64 * TRUTH_DT_S).collect();
        let angles = truth::angles(settings.variation, &segments, &grid, |s, t| {
            plan.q_world_from_segment(s, t)
        });
        let primary_idx = segments
            .iter()
            .position(|s| *s == settings.variation.primary_segment())
            .unwrap_or(0);
        let ctx = truth::ReportContext {
            variation: settings.variation,
            sensors: settings.sensors.clone(),
            targets: truth::default_targets(settings.variation),
            rep_min_deg: 15.0,
            gaps_s: streams[primary_idx].gaps_s.clone(),
        };
        let tr = truth::report_from_angles(&ctx, &angles);
        let amb = truth::ambiguities(settings.variation, &tr);
        attempt += 1;
        if amb.is_empty() || attempt >= 40 {
            let mut scenario_text = scen.description.clone();
            for s in &streams {
                for d in &s.description {
                    scenario_text.push(format!("{}: {d}", s.placement.name()));
                }
            }
            return Ok(SimSession {
                settings: settings.clone(),
                scenario: scenario_text,
                streams,
                angles,
                truth: tr,
                attempts: attempt,
                ambiguities: amb,
            });
        }
    }
}

impl SimSession {
    /// The streams parsed exactly as an analysis would read the written files.
    pub fn parsed_streams(&self) -> Result<Vec<(Placement, Stream)>, BadInput> {
        self.streams
            .iter()
            .map(|s| {
                let name = stream_file_name(s.placement);
                parse_stream(Path::new(&name), s.csv.as_bytes()).map(|st| (s.placement, st))
            })
            .collect()
    }

    pub fn report(&self) -> &Report {
        &self.truth.report
    }

    /// `truth.json`: the true report plus how to analyse the session and what it contains.
    pub fn truth_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.truth.report).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("command".into(), analyze_command(&self.settings).into());
            m.insert(
                "scenario".into(),
                serde_json::json!({
                    "seed": self.settings.seed,
                    "format": match self.settings.format { Format::Raw => "raw", Format::Orientation => "orientation" },
                    "hard_cases": self.settings.hard.names(),
                    "long_session": self.settings.long_session,
                    "short_still": self.settings.short_still,
                    "attempts": self.attempts,
                    "ambiguities": self.ambiguities,
                    "description": self.scenario,
                }),
            );
            m.insert(
                "truth_details".into(),
                serde_json::to_value(&self.truth.details).unwrap_or(serde_json::Value::Null),
            );
        }
        v
    }

    /// `truth_angles.csv`: t, the true primary angle, compensation and chest flexion (deg).
    pub fn truth_angles_csv(&self, step: usize) -> String {
        let a = &self.angles;
        let mut s = String::from("t,primary_deg,compensation_deg,chest_flexion_deg\n");
        for i in (0..a.t_s.len()).step_by(step.max(1)) {
            let c = a
                .compensation_deg
                .as_ref()
                .map_or(String::new(), |c| format!("{:.3}", c[i]));
            let f = a
                .chest_flexion_deg
                .as_ref()
                .map_or(String::new(), |f| format!("{:.3}", f[i]));
            s.push_str(&format!("{:.5},{:.3},{c},{f}\n", a.t_s[i], a.primary_deg[i]));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::Quat;
    use crate::stream::Samples;

    /// A minimal, upright-only reading of ideal streams (neutral from the first 2 s,
    /// head-ward axis from gravity): if the simulated sensors are consistent with the body
    /// motion (gyro = derivative of the orientation, accelerometer = gravity + motion in the
    /// sensor frame), it follows the true primary angle.
    fn naive_chest_twist(session: &SimSession) -> (Vec<f64>, Vec<f64>) {
        let streams = session.parsed_streams().expect("simulated streams parse");
        let (_, stream) = &streams[0];
        let (t, q): (Vec<f64>, Vec<Quat>) = match &stream.samples {
            Samples::Imu(s) => {
                // Plain gyro integration (trapezoid), from the gravity-levelled first sample:
                // with ideal sensors nothing else is needed.
                let up = crate::frames::normalize(s[0].acc_sensor_mps2);
                let z = [0.0, 0.0, 1.0];
                let axis = crate::frames::cross(up, z);
                let angle = crate::frames::dot(up, z).clamp(-1.0, 1.0).acos();
                let mut q = Quat::from_axis_angle(axis, angle);
                let mut qs = vec![q];
                for k in 1..s.len() {
                    let dt = s[k].t_s - s[k - 1].t_s;
                    let w: [f64; 3] =
                        std::array::from_fn(|i| 0.5 * (s[k].gyr_sensor_rps[i] + s[k - 1].gyr_sensor_rps[i]));
                    q = (q * Quat::from_rotation_vector(crate::frames::scale(w, dt))).normalized();
                    qs.push(q);
                }
                (s.iter().map(|s| s.t_s).collect(), qs)
            }
            Samples::Orientation(s) => (
                s.iter().map(|s| s.t_s).collect(),
                s.iter().map(|s| s.q_world_from_sensor).collect(),
            ),
        };
        let neutral = truth::mean_quat(
            &t.iter()
                .zip(&q)
                .filter(|(ti, _)| **ti <= t[0] + 2.0)
                .map(|(_, q)| *q)
                .collect::<Vec<_>>(),
        );
        let up_sensor = neutral.conj().rotate([0.0, 0.0, 1.0]);
        let twist = q
            .iter()
            .map(|q| truth::twist_deg(neutral.conj() * *q, up_sensor))
            .collect();
        (t, twist)
    }

    fn median_abs_error(session: &SimSession) -> f64 {
        let (t, twist) = naive_chest_twist(session);
        let a = &session.angles;
        let mut err: Vec<f64> = t
            .iter()
            .zip(&twist)
            .filter(|(ti, _)| **ti >= a.t_s[0] && **ti <= *a.t_s.last().unwrap())
            .map(|(ti, tw)| {
                let i = ((ti - a.t_s[0]) / TRUTH_DT_S).round() as usize;
                (tw - a.primary_deg[i.min(a.t_s.len() - 1)]).abs()
            })
            .collect();
        err.sort_by(f64::total_cmp);
        err[err.len() / 2]
    }

    #[test]
    fn simulated_streams_agree_with_the_true_motion() {
        for (format, seed) in [(Format::Raw, 11), (Format::Orientation, 12)] {
            let mut s = Settings::new(Variation::Standing, vec![Placement::Chest], seed, format);
            s.rate_hz = Some(100.0);
            s.with_mag = Some(false);
            s.ideal_sensors = true;
            let session = simulate(&s).unwrap();
            let e = median_abs_error(&session);
            assert!(e < 0.5, "{format:?}: median |error| {e:.2}°");
        }
    }

    #[test]
    fn same_seed_same_session_and_truth_is_clear() {
        let s = Settings::new(
            Variation::Supine,
            vec![Placement::Pelvis, Placement::Chest],
            5,
            Format::Raw,
        );
        let a = simulate(&s).unwrap();
        let b = simulate(&s).unwrap();
        assert_eq!(a.streams[0].csv, b.streams[0].csv);
        assert_eq!(a.truth.report, b.truth.report);
        assert!(a.ambiguities.is_empty(), "{:?}", a.ambiguities);
        assert!(a.truth.report.reps.len() >= 2);
        let json = a.truth_json();
        assert_eq!(
            json["command"],
            "twistcoach analyze --variation supine --sensor pelvis=pelvis.csv.gz --sensor chest=chest.csv.gz --json"
        );
    }

    #[test]
    fn a_sensor_set_without_the_primary_segment_is_refused() {
        let s = Settings::new(Variation::Supine, vec![Placement::Chest], 1, Format::Raw);
        assert!(matches!(simulate(&s), Err(SimError::NoPrimarySensor { .. })));
        let s = Settings::new(
            Variation::Seated,
            vec![Placement::Chest, Placement::UpperBack],
            1,
            Format::Raw,
        );
        assert!(matches!(simulate(&s), Err(SimError::SegmentTwice(_))));
    }
}
