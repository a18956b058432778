//! The demo programme through the real pipeline: each planned session becomes a body
//! motion (`simulate::motion::Plan`), simulated raw IMU streams (`simulate::sensors`),
//! parsed as files would be, and analysed by `analysis::analyze`, exactly as
//! `twistcoach analyze` would do with recorded files.

use std::path::Path;

use crate::body::Placement;
use crate::error::{BadInput, Error, Problem};
use crate::session::report::{Report, Side};
use crate::simulate::motion::{Breathing, Plan, Profile, Sines};
use crate::simulate::rng::Rng;
use crate::simulate::sensors::{self, Format, HardCases, SensorOptions};
use crate::stream::parse_stream;

use super::demo::{SessionPipeline, SessionPlan};

/// Simulate the sensors of each planned session and analyse them.
pub struct SimulatedAnalysis {
    rng: Rng,
    /// Sample rate of the simulated raw streams.
    pub rate_hz: f64,
}

impl SimulatedAnalysis {
    pub fn new(seed: u64) -> SimulatedAnalysis {
        SimulatedAnalysis {
            rng: Rng::new(seed ^ 0x5157_4953_5445_4400),
            rate_hz: 60.0,
        }
    }
}

/// Duration of a minimum-jerk turn of `amp_deg` whose peak speed is about `speed_dps`
/// (peak speed of a minimum-jerk move = 1.875 × amplitude / duration).
fn turn_duration_s(amp_deg: f64, speed_dps: f64) -> f64 {
    (1.875 * amp_deg / speed_dps.max(1.0)).max(0.8)
}

/// The body motion of a planned session (pure given the random source).
pub fn motion_plan(plan: &SessionPlan, rng: &mut Rng) -> Plan {
    let two_sensors = plan.sensors.len() >= 2;
    let t0 = 0.2;
    let flex_base = rng.uniform(-3.0, 5.0);
    let mut primary = Profile::new(0.0);
    let mut secondary = Profile::new(0.0);
    let mut flex = Profile::new(flex_base);
    let mut t = t0 + rng.uniform(3.0, 4.5);
    let hold_all = |t: f64, a: &mut Profile, b: &mut Profile, c: &mut Profile| {
        a.hold_until(t);
        b.hold_until(t);
        c.hold_until(t);
    };
    hold_all(t, &mut primary, &mut secondary, &mut flex);
    for rep in &plan.reps {
        let sign = match rep.side {
            Side::Left => 1.0,
            Side::Right => -1.0,
        };
        // With one sensor the measured angle includes the secondary segment's turn.
        let comp = rep.compensation_deg.min(rep.level_deg * 0.5);
        let rel = if two_sensors {
            rep.level_deg
        } else {
            rep.level_deg - comp
        };
        let turn_in = turn_duration_s(rel, rep.turn_speed_dps);
        let turn_out = turn_duration_s(rel, rep.turn_speed_dps * rng.uniform(0.8, 1.0));
        primary.move_to(t + turn_in, sign * rel);
        secondary.move_to(t + turn_in, sign * comp);
        let slouch = (rep.flexion_deg - flex_base).max(0.0);
        flex.move_to(t + turn_in, flex_base + slouch);
        t += turn_in + rep.hold_s;
        hold_all(t, &mut primary, &mut secondary, &mut flex);
        primary.move_to(t + turn_out, 0.0);
        secondary.move_to(t + turn_out, 0.0);
        flex.move_to(t + turn_out, flex_base);
        t += turn_out + rng.uniform(4.0, 7.0);
        hold_all(t, &mut primary, &mut secondary, &mut flex);
    }
    t += rng.uniform(2.0, 4.0);
    hold_all(t, &mut primary, &mut secondary, &mut flex);
    let sway_amp = Sines::sway_amplitude_deg(plan.variation);
    let mut sines = |amp: f64| Sines::random(amp, rng);
    let sway_deg = [sines(sway_amp), sines(sway_amp * 0.3), sines(sway_amp)];
    let fidget_deg = sines(0.3);
    Plan {
        variation: plan.variation,
        t_begin_s: t0,
        t_end_s: t,
        primary_rel_deg: primary,
        secondary_deg: secondary,
        chest_flex_deg: flex,
        pelvis_flex_deg: rng.uniform(-5.0, 5.0),
        breathing: Breathing {
            freq_hz: rng.uniform(0.15, 0.3),
            phase_rad: rng.uniform(0.0, std::f64::consts::TAU),
            twist_rest_deg: rng.uniform(0.2, 0.5),
            twist_stretch_deg: rng.uniform(1.0, 2.0),
            flex_deg: rng.uniform(0.8, 1.5),
        },
        sway_deg,
        heading_rad: rng.uniform(-std::f64::consts::PI, std::f64::consts::PI),
        fidget_deg,
    }
}

impl SessionPipeline for SimulatedAnalysis {
    fn kind(&self) -> &'static str {
        "simulated+analyzed"
    }

    fn run(&mut self, plan: &SessionPlan) -> crate::error::Result<Report> {
        let mut rng = self.rng.fork(plan.started.unix_s as u64);
        let motion = motion_plan(plan, &mut rng);
        let mut streams = Vec::new();
        for &placement in &plan.sensors {
            let options = SensorOptions {
                placement,
                format: Format::Raw,
                rate_hz: Some(self.rate_hz),
                with_mag: Some(false),
                hard: HardCases::default(),
                ideal: false,
            };
            let mut sensor_rng = rng.fork(placement as u64 + 1);
            let sim = sensors::simulate_sensor(&mut sensor_rng, &motion, &options);
            let name = crate::simulate::stream_file_name(placement);
            streams.push((placement, parse_stream(Path::new(&name), sim.csv.as_bytes())?));
        }
        crate::simulate::eval::analyze_streams(plan.variation, &streams).map_err(|e| {
            Error::BadInput(BadInput::file(
                format!("simulated {} session", plan.variation.name()),
                Problem::Other(e),
            ))
        })
    }
}

/// Placements of a plan, for messages.
pub fn sensors_text(sensors: &[Placement]) -> String {
    sensors.iter().map(|p| p.name()).collect::<Vec<_>>().join("+")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::demo::{DirectReports, ProgrammeSettings, plan_programme};

    /// The analysed reports agree with the plan: same reps and sides, hold angles within a
    /// few degrees of the planned level (the analysis' accuracy, not a tuned tolerance).
    #[test]
    fn simulated_sessions_analyse_back_to_the_plan() {
        let plans = plan_programme(&ProgrammeSettings {
            weeks: 1,
            first_day: 20_000,
            utc_offset_s: 0,
            seed: 4,
        });
        let mut sim = SimulatedAnalysis::new(4);
        let mut direct = DirectReports::new(4);
        for plan in plans.iter().take(3) {
            let report = sim.run(plan).expect("analysis runs");
            assert_eq!(report.variation, plan.variation);
            assert_eq!(report.reps.len(), plan.reps.len(), "{:?}", report.warnings);
            for (rep, planned) in report.reps.iter().zip(&plan.reps) {
                assert_eq!(rep.side, planned.side);
                assert!(
                    (rep.hold_mean_deg - planned.level_deg).abs() < 6.0,
                    "{} vs {}",
                    rep.hold_mean_deg,
                    planned.level_deg
                );
            }
            // Same shape as the direct reports.
            assert_eq!(direct.run(plan).unwrap().reps.len(), report.reps.len());
        }
    }
}
