//! Demo data: a realistic stretching programme over N weeks, so history and plots can be
//! seen without weeks of real sessions.
//!
//! Two steps, so the real pipeline can replace the second one:
//! 1. `plan_programme` (pure, seeded): *what the person did* — when, which variation, each
//!    rep's true side, angle, hold time and turn speed, compensation, pain and symptoms.
//!    Morning seated twists (chest + pelvis), evening supine twists (pelvis); range of
//!    motion improves with a plateau, the right side starts stiffer; evenings are often
//!    missed (more at weekends); one flare-up week (pain up, range down, sharp pain).
//! 2. a `SessionPipeline` turns a plan into a report. `DirectReports` writes the report
//!    straight from the plan plus measurement noise (no signal processing). The simulator
//!    and `analyze` pipeline implements the same trait (simulate the sensor streams of
//!    the plan, analyze them), which is what `twistcoach demo --weeks N --db FILE` will use.

use crate::body::{Placement, Variation};
use crate::session::report::{REPORT_SCHEMA, Rep, RepFlag, Report, SessionFlag, Side, Targets};
use crate::simulate::rng::Rng;

use super::UserNotes;
use super::symptoms::Symptom;
use super::time::LocalTime;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct ProgrammeSettings {
    pub weeks: u32,
    /// Local day number (days since 1970-01-01 local) of the programme's first day.
    pub first_day: i64,
    pub utc_offset_s: i32,
    pub seed: u64,
}

/// One rep as the person performed it (true values).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRep {
    pub side: Side,
    /// True primary angle held (magnitude).
    pub level_deg: f64,
    /// True hold duration.
    pub hold_s: f64,
    /// Peak turning speed into and out of the stretch.
    pub turn_speed_dps: f64,
    /// Largest twist of the secondary segment (compensation), when it is measured.
    pub compensation_deg: f64,
    /// Largest chest flexion (slouch), seated only.
    pub flexion_deg: f64,
}

/// One session as the person performed it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPlan {
    pub started: LocalTime,
    pub variation: Variation,
    pub sensors: Vec<Placement>,
    pub caution: Option<String>,
    pub targets: Targets,
    pub reps: Vec<PlannedRep>,
    pub user: UserNotes,
}

/// Default targets of spec §4 (the protocol file may change them; demo data uses these).
pub fn default_targets(variation: Variation) -> Targets {
    crate::session::protocol::Protocol::default().report_targets(variation, None)
}

/// Progress fraction 0→1 of a training effect: fast at first, then a plateau.
fn training_effect(day: f64) -> f64 {
    1.0 - (-day / 30.0).exp()
}

/// Plan the whole programme (pure: the same settings give the same plans).
pub fn plan_programme(settings: &ProgrammeSettings) -> Vec<SessionPlan> {
    let mut rng = Rng::new(settings.seed);
    let days = i64::from(settings.weeks) * 7;
    // The flare-up: one week in the middle (from the third week on, when there is one).
    let flare_start = if settings.weeks >= 3 {
        Some(i64::from(settings.weeks / 2) * 7 + 2)
    } else {
        None
    };
    let mut plans = Vec::new();
    for d in 0..days {
        let day = settings.first_day + d;
        let weekday = super::time::day_parts(day).3; // 0 = Monday
        let weekend = weekday >= 5;
        let in_flare = flare_start.is_some_and(|f| d >= f && d < f + 7);
        let flare_depth = match flare_start {
            // Worst on the flare's third day, easing over the week after it.
            Some(f) if d >= f => {
                let k = (d - f) as f64;
                if k < 2.0 {
                    0.5 + 0.25 * k
                } else {
                    (1.0 - (k - 2.0) / 9.0).max(0.0)
                }
            }
            _ => 0.0,
        };
        let effect = training_effect(d as f64);
        // Baseline pain: 4 at the start, easing to ~1.5; flare adds up to 4.
        let pain_base = 1.5 + 2.5 * (1.0 - effect) + 4.0 * flare_depth;
        for (variation, hour, p_miss) in [
            (Variation::Seated, 7.25, if weekend { 0.15 } else { 0.06 }),
            (
                Variation::Supine,
                20.5,
                if weekend { 0.45 } else { 0.22 } + if in_flare { 0.25 } else { 0.0 },
            ),
        ] {
            if rng.chance(p_miss) {
                continue;
            }
            let local_s = day * 86_400 + ((hour + rng.uniform(-0.75, 1.25)) * 3600.0) as i64;
            let started = LocalTime {
                unix_s: local_s - i64::from(settings.utc_offset_s),
                utc_offset_s: settings.utc_offset_s,
            };
            let morning = variation == Variation::Seated;
            // True range per side: improves, right starts stiffer and catches up partly.
            let (left0, left_gain, right0, right_gain) = match variation {
                Variation::Seated => (33.0, 13.0, 26.0, 15.0),
                Variation::Supine => (42.0, 15.0, 36.0, 17.0),
                Variation::Standing => (28.0, 10.0, 24.0, 11.0),
            };
            let day_form = 1.5 * rng.normal() - if morning { 1.5 } else { 0.0 } - 9.0 * flare_depth;
            let targets = default_targets(variation);
            let p_short = 0.35 * (1.0 - effect) + 0.07 + 0.3 * flare_depth;
            let p_fast = 0.18 * (1.0 - effect) + 0.02;
            let p_comp = 0.25 * (1.0 - effect) + 0.04;
            let reps_per_side = 3;
            let drop_last = rng.chance(0.08);
            let mut reps = Vec::new();
            for i in 0..(2 * reps_per_side) {
                if drop_last && i == 2 * reps_per_side - 1 {
                    break;
                }
                let side = if i % 2 == 0 { Side::Left } else { Side::Right };
                let (base, gain) = match side {
                    Side::Left => (left0, left_gain),
                    Side::Right => (right0, right_gain),
                };
                // Later reps of a session go a little deeper (warming up).
                let warm = 1.2 * (i / 2) as f64;
                let level_deg = (base + gain * effect + day_form + warm + 1.2 * rng.normal()).max(5.0);
                let hold_s = if rng.chance(p_short) {
                    rng.uniform(5.0, targets.hold_min_s - 0.5)
                } else {
                    rng.uniform(targets.hold_min_s + 0.5, targets.hold_max_s + 3.0)
                };
                let turn_speed_dps = if rng.chance(p_fast) {
                    rng.uniform(62.0, 95.0)
                } else {
                    rng.uniform(20.0, 50.0)
                };
                let compensation_deg = if rng.chance(p_comp) {
                    rng.uniform(11.0, 18.0)
                } else {
                    rng.uniform(2.0, 8.0)
                };
                let flexion_deg = if morning && rng.chance(0.05 + 0.1 * (1.0 - effect)) {
                    rng.uniform(21.0, 28.0)
                } else {
                    rng.uniform(3.0, 12.0)
                };
                reps.push(PlannedRep {
                    side,
                    level_deg,
                    hold_s,
                    turn_speed_dps,
                    compensation_deg,
                    flexion_deg,
                });
            }
            // Pain is recorded in most sessions; stretching usually eases it a little.
            let mut user = UserNotes::default();
            if rng.chance(0.75) || in_flare {
                let before = (pain_base + 0.8 * rng.normal()).round().clamp(0.0, 10.0);
                let relief = if flare_depth > 0.6 { -0.5 } else { 1.0 };
                let after = (before - relief + 0.6 * rng.normal()).round().clamp(0.0, 10.0);
                user.pain_before = Some(before as u8);
                user.pain_after = Some(after as u8);
            }
            if flare_depth > 0.7 && rng.chance(0.5) {
                user.symptoms.push(Symptom::SharpPain);
                user.note = Some("twinge on the right turn, stopped early".into());
            } else if morning && rng.chance(0.1) {
                user.symptoms.push(Symptom::Stiffness);
            }
            plans.push(SessionPlan {
                started,
                variation,
                sensors: match variation {
                    Variation::Seated => vec![Placement::Chest, Placement::Pelvis],
                    _ => vec![Placement::Pelvis],
                },
                caution: None,
                targets,
                reps,
                user,
            });
        }
    }
    plans
}

/// Turns a session plan into a report. The real pipeline (simulate the sensors, analyze
/// the streams) implements this too.
pub trait SessionPipeline {
    /// Stored as the session's `source_kind`.
    fn kind(&self) -> &'static str;
    fn run(&mut self, plan: &SessionPlan) -> crate::error::Result<Report>;
}

/// The report written straight from the plan: true values plus measurement noise of the
/// size the analysis has (a couple of degrees), flags by the spec's rules.
pub struct DirectReports {
    rng: Rng,
}

impl DirectReports {
    pub fn new(seed: u64) -> DirectReports {
        DirectReports {
            rng: Rng::new(seed.wrapping_add(1)),
        }
    }
}

impl SessionPipeline for DirectReports {
    fn kind(&self) -> &'static str {
        "demo"
    }

    fn run(&mut self, plan: &SessionPlan) -> crate::error::Result<Report> {
        let rng = &mut self.rng;
        let t = plan.targets;
        let two_sensors = plan.sensors.len() >= 2;
        let mut reps = Vec::new();
        // Calibration (still) for the first few seconds, then reps separated by rests.
        let mut now_s = rng.uniform(4.0, 7.0);
        for p in &plan.reps {
            let turn_in_s = (p.level_deg / p.turn_speed_dps * 1.6).max(0.8);
            let turn_out_s = turn_in_s * rng.uniform(0.8, 1.1);
            let start_s = now_s;
            let hold_start_s = start_s + turn_in_s;
            let hold_end_s = round2(hold_start_s + (p.hold_s + 0.3 * rng.normal()).max(0.0));
            let hold_start_s = round2(hold_start_s);
            let hold_s = round2(hold_end_s - hold_start_s);
            let end_s = hold_end_s + turn_out_s;
            let hold_mean_deg = round1((p.level_deg + 1.5 * rng.normal()).max(0.0));
            let peak_deg = round1(hold_mean_deg + rng.uniform(0.5, 3.0));
            let mut flags = Vec::new();
            if hold_s < t.hold_min_s {
                flags.push(RepFlag::ShortHold);
            }
            if peak_deg > t.over_rotation_deg {
                flags.push(RepFlag::OverRotation);
            }
            if p.turn_speed_dps > t.too_fast_dps {
                flags.push(RepFlag::TooFast);
            }
            if two_sensors {
                let limit = if plan.variation == Variation::Supine {
                    15.0
                } else {
                    10.0
                };
                if p.compensation_deg > limit {
                    flags.push(match plan.variation {
                        Variation::Supine => RepFlag::ShouldersLifted,
                        Variation::Seated => RepFlag::PelvisMoved,
                        Variation::Standing => RepFlag::HipsNotSquare,
                    });
                }
            }
            if plan.variation == Variation::Seated && p.flexion_deg > 20.0 {
                flags.push(RepFlag::Slouch);
            }
            flags.sort();
            let mut notes = Vec::new();
            if hold_s > t.hold_max_s {
                notes.push(format!(
                    "hold {hold_s:.0} s is past the target's maximum ({:.0} s)",
                    t.hold_max_s
                ));
            }
            reps.push(Rep {
                side: p.side,
                start_s: round2(start_s),
                hold_start_s,
                hold_end_s,
                end_s: round2(end_s),
                hold_s,
                peak_deg,
                hold_mean_deg,
                flags,
                notes,
                cues: Vec::new(),
            });
            now_s = end_s + rng.uniform(4.0, 9.0);
        }
        let lefts = reps.iter().filter(|r| r.side == Side::Left).count();
        let flags = if lefts * 2 == reps.len() {
            Vec::new()
        } else {
            vec![SessionFlag::UnpairedSide]
        };
        Ok(Report {
            schema: REPORT_SCHEMA.to_string(),
            variation: plan.variation,
            caution: plan.caution.clone(),
            sensors: plan.sensors.clone(),
            targets: t,
            reps,
            flags,
            notes: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(weeks: u32) -> ProgrammeSettings {
        ProgrammeSettings {
            weeks,
            first_day: 20_500, // a Monday? any day works
            utc_offset_s: 3600,
            seed: 7,
        }
    }

    #[test]
    fn plan_is_deterministic_and_realistic() {
        let a = plan_programme(&settings(8));
        let b = plan_programme(&settings(8));
        assert_eq!(a, b);
        let mornings = a.iter().filter(|p| p.variation == Variation::Seated).count();
        let evenings = a.iter().filter(|p| p.variation == Variation::Supine).count();
        // 56 days: most mornings, clearly fewer evenings, never more than planned.
        assert!((45..=56).contains(&mornings), "{mornings}");
        assert!(evenings < mornings && evenings > 20, "{evenings}");
        // Time order and local times of day.
        for w in a.windows(2) {
            assert!(w[0].started.unix_s < w[1].started.unix_s);
        }
        for p in &a {
            let h = p.started.local_hour();
            let expected = if p.variation == Variation::Seated {
                6.0..9.0
            } else {
                19.0..22.0
            };
            assert!(expected.contains(&h), "{h}");
        }
    }

    #[test]
    fn range_improves_and_flare_week_hurts() {
        let plans = plan_programme(&settings(12));
        let mean_left = |from: usize, to: usize| {
            let v: Vec<f64> = plans[from..to]
                .iter()
                .filter(|p| p.variation == Variation::Seated)
                .flat_map(|p| p.reps.iter().filter(|r| r.side == Side::Left).map(|r| r.level_deg))
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let n = plans.len();
        assert!(mean_left(n - 20, n) > mean_left(0, 20) + 6.0);
        let max_pain = plans.iter().filter_map(|p| p.user.pain_before).max().unwrap_or(0);
        assert!(max_pain >= 6, "{max_pain}");
        assert!(plans.iter().any(|p| p.user.symptoms.contains(&Symptom::SharpPain)));
    }

    #[test]
    fn direct_reports_follow_the_spec_rules() {
        let plans = plan_programme(&settings(4));
        let mut pipeline = DirectReports::new(7);
        for plan in &plans {
            let report = pipeline.run(plan).unwrap();
            assert_eq!(report.reps.len(), plan.reps.len());
            for rep in &report.reps {
                assert_eq!(
                    rep.flags.contains(&RepFlag::ShortHold),
                    rep.hold_s < report.targets.hold_min_s
                );
                assert!(
                    rep.start_s < rep.hold_start_s && rep.hold_start_s <= rep.hold_end_s && rep.hold_end_s < rep.end_s
                );
                assert!(rep.peak_deg >= rep.hold_mean_deg);
            }
            let lefts = report.reps.iter().filter(|r| r.side == Side::Left).count();
            assert_eq!(
                report.flags.contains(&SessionFlag::UnpairedSide),
                lefts * 2 != report.reps.len()
            );
        }
    }
}
