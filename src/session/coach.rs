//! Live cues: from the extractor's events and the current angle to one plain-language cue
//! at a time ("turn slowly left", "hold… 10 s to go", "ease off", "return to centre",
//! "now the other side"). Pure and causal: it sees each sample once, in order, with the
//! events the extractor emitted for it, and never looks ahead.
//!
//! It owns the wording and timing of live cues only. Flags, notes and the rep's
//! after-the-fact advice come from `session::flags` (the same text the report carries).

use std::collections::VecDeque;

use crate::body::Variation;
use crate::session::extract::{Event, Sample};
use crate::session::flags::{FlagContext, judge_rep};
use crate::session::protocol::VariationTargets;
use crate::session::report::Side;

/// Timing of the cues, with units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub variation: Variation,
    pub targets: VariationTargets,
    /// Countdown cues every this many seconds of hold (and at 10 s and 5 s to go), s.
    pub countdown_step_s: f64,
    /// Live turn speed: |θ(t) − θ(t − window)| / window (trailing: live cannot look ahead), s.
    pub speed_window_s: f64,
    /// After "ease off", the angle must come this far below the limit before it can
    /// be said again, °.
    pub ease_off_rearm_deg: f64,
    /// The gap above which a rep counts as interrupted (for the rep's advice), s.
    pub gap_s: f64,
    /// A steady angle below this is a pause or a false start, not a hold (`rep_min_deg`), °.
    pub min_hold_deg: f64,
    /// Steady: the trailing `stay_window_s` speed is below `stay_speed_dps` (spec §7's stay).
    pub stay_window_s: f64,
    pub stay_speed_dps: f64,
}

impl Settings {
    pub fn new(variation: Variation, targets: VariationTargets) -> Settings {
        Settings {
            variation,
            targets,
            countdown_step_s: 5.0,
            speed_window_s: 0.5,
            ease_off_rearm_deg: 5.0,
            gap_s: 1.0,
            min_hold_deg: 15.0,
            stay_window_s: 1.0,
            stay_speed_dps: 10.0,
        }
    }
}

/// What a cue is about (a UI may style or voice them differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CueKind {
    /// Turn into the stretch (at the start, and for the other side).
    Turn,
    /// Moving faster than the target's speed limit.
    SlowDown,
    /// Past the over-rotation limit.
    EaseOff,
    /// The hold has begun.
    Hold,
    /// Seconds to go in the hold.
    Countdown,
    /// The hold reached its target: ring the bell, then return.
    HoldComplete,
    /// Past the hold's maximum: time to come back.
    Release,
    /// A rep finished: what it was and what to change.
    RepDone,
}

/// One cue: when, what kind, what to say.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub t_s: f64,
    pub kind: CueKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Neutral,
    Turning {
        sign: f64,
    },
    Holding {
        sign: f64,
        since_s: f64,
        next_cue_s: f64,
        complete: bool,
        released: bool,
    },
    Returning,
}

/// The coach's state.
#[derive(Debug, Clone)]
pub struct Coach {
    settings: Settings,
    phase: Phase,
    recent: VecDeque<(f64, f64)>,
    eased_off: bool,
    slowed: bool,
    left_reps: usize,
    right_reps: usize,
    started: bool,
    last_side: Option<Side>,
}

fn side_word(sign: f64) -> &'static str {
    if sign >= 0.0 { "left" } else { "right" }
}

impl Coach {
    pub fn new(settings: Settings) -> Coach {
        Coach {
            settings,
            phase: Phase::Neutral,
            recent: VecDeque::new(),
            eased_off: false,
            slowed: false,
            left_reps: 0,
            right_reps: 0,
            started: false,
            last_side: None,
        }
    }

    /// Reps done so far per side: (left, right).
    pub fn reps_per_side(&self) -> (usize, usize) {
        (self.left_reps, self.right_reps)
    }

    /// Seconds of hold left before the target minimum, while holding.
    pub fn hold_to_go_s(&self, t_s: f64) -> Option<f64> {
        match self.phase {
            Phase::Holding { since_s, .. } => Some((self.settings.targets.hold_min_s - (t_s - since_s)).max(0.0)),
            _ => None,
        }
    }

    fn push(out: &mut Vec<Cue>, t_s: f64, kind: CueKind, text: String) {
        out.push(Cue { t_s, kind, text });
    }

    /// The side to do next: the one with fewer reps, else the other side than last time
    /// (left first).
    fn next_side(&self) -> &'static str {
        match self.left_reps.cmp(&self.right_reps) {
            std::cmp::Ordering::Greater => "right",
            std::cmp::Ordering::Less => "left",
            std::cmp::Ordering::Equal if self.last_side == Some(Side::Left) => "right",
            std::cmp::Ordering::Equal => "left",
        }
    }

    /// Feed one sample and the events the extractor emitted for it; cues go to `out`.
    pub fn update(&mut self, sample: &Sample, events: &[Event], out: &mut Vec<Cue>) {
        let t = sample.t_s;
        let s = self.settings;
        if !self.started {
            self.started = true;
            Self::push(
                out,
                t,
                CueKind::Turn,
                format!("calibrated: turn slowly to the {}", self.next_side()),
            );
        }
        for e in events {
            match e {
                Event::Turning { sign, .. } => {
                    self.phase = Phase::Turning { sign: *sign };
                    self.slowed = false;
                }
                // The extractor's steadiness also fires in slow turns: the coach judges
                // the hold itself (below), from the angle and the stay speed.
                Event::Holding { .. } => {}
                Event::Returning { .. } => {
                    self.phase = Phase::Returning;
                    self.slowed = false;
                }
                Event::Neutral { .. } => {
                    self.phase = Phase::Neutral;
                }
                Event::Rep(m) => {
                    let ctx = FlagContext {
                        variation: s.variation,
                        targets: s.targets,
                        gap_s: s.gap_s,
                    };
                    let rep = judge_rep(m, &ctx);
                    self.last_side = Some(rep.side);
                    match rep.side {
                        Side::Left => self.left_reps += 1,
                        Side::Right => self.right_reps += 1,
                    }
                    let verdict = if rep.cues.is_empty() {
                        "well done".to_string()
                    } else {
                        rep.cues.join("; ")
                    };
                    Self::push(
                        out,
                        t,
                        CueKind::RepDone,
                        format!(
                            "{} rep: held {:.0} s at {:.0}°: {verdict}",
                            side_word(m.sign),
                            rep.hold_s,
                            rep.hold_mean_deg
                        ),
                    );
                    Self::push(
                        out,
                        t,
                        CueKind::Turn,
                        format!("now turn slowly to the {}", self.next_side()),
                    );
                }
            }
        }

        // Live speeds over trailing windows (live cannot look ahead).
        self.recent.push_back((t, sample.angle_deg));
        let keep_s = s.speed_window_s.max(s.stay_window_s);
        while self.recent.len() > 2 && self.recent[1].0 <= t - keep_s {
            self.recent.pop_front();
        }
        let speed_over = |window_s: f64| -> Option<f64> {
            let i = self.recent.partition_point(|&(ti, _)| ti < t - window_s);
            let (t0, a0) = *self.recent.get(i.saturating_sub(1))?;
            (t - t0 >= 0.8 * window_s).then(|| (sample.angle_deg - a0).abs() / (t - t0))
        };
        let speed_dps = speed_over(s.speed_window_s).unwrap_or(0.0);
        let steady = speed_over(s.stay_window_s).is_some_and(|v| v < s.stay_speed_dps);
        if let Phase::Turning { sign } = self.phase
            && steady
            && sample.angle_deg * sign >= s.min_hold_deg
        {
            self.phase = Phase::Holding {
                sign,
                since_s: t,
                next_cue_s: t + s.countdown_step_s,
                complete: false,
                released: false,
            };
            Self::push(
                out,
                t,
                CueKind::Hold,
                format!("hold… breathe steadily, {:.0} s to go", s.targets.hold_min_s),
            );
        }
        let moving = matches!(self.phase, Phase::Turning { .. } | Phase::Returning);
        if moving && !self.slowed && speed_dps > s.targets.too_fast_dps {
            self.slowed = true;
            Self::push(
                out,
                t,
                CueKind::SlowDown,
                format!(
                    "slower: {speed_dps:.0}°/s, keep it under {:.0}°/s",
                    s.targets.too_fast_dps
                ),
            );
        }

        let magnitude = sample.angle_deg.abs();
        if magnitude > s.targets.over_rotation_deg && !self.eased_off && self.phase != Phase::Neutral {
            self.eased_off = true;
            Self::push(
                out,
                t,
                CueKind::EaseOff,
                format!(
                    "ease off: {:.0}° past your limit of {:.0}°",
                    (magnitude - s.targets.over_rotation_deg).max(1.0),
                    s.targets.over_rotation_deg
                ),
            );
        } else if magnitude < s.targets.over_rotation_deg - s.ease_off_rearm_deg {
            self.eased_off = false;
        }

        if let Phase::Holding {
            sign,
            since_s,
            ref mut next_cue_s,
            ref mut complete,
            ref mut released,
        } = self.phase
        {
            let held = t - since_s;
            let to_go = s.targets.hold_min_s - held;
            if !*complete && to_go <= 0.0 {
                *complete = true;
                out.push(Cue {
                    t_s: t,
                    kind: CueKind::HoldComplete,
                    text: format!(
                        "hold complete ({:.0} s): return slowly to centre, or stay up to {:.0} s",
                        s.targets.hold_min_s, s.targets.hold_max_s
                    ),
                });
            } else if !*complete && t >= *next_cue_s {
                *next_cue_s += s.countdown_step_s;
                out.push(Cue {
                    t_s: t,
                    kind: CueKind::Countdown,
                    text: format!("{:.0} s to go, keep turned {}", to_go.ceil(), side_word(sign)),
                });
            }
            if !*released && held > s.targets.hold_max_s {
                *released = true;
                out.push(Cue {
                    t_s: t,
                    kind: CueKind::Release,
                    text: "release and return to centre".to_string(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::extract::{self, State};
    use crate::session::protocol::Protocol;

    /// Seated: rest, turn left to 40° in 2 s, hold `hold_s`, return in 2 s, rest.
    fn cues_for(hold_s: f64, peak_deg: f64, turn_s: f64) -> Vec<Cue> {
        let targets = Protocol::default().targets(Variation::Seated, None);
        let mut coach = Coach::new(Settings::new(Variation::Seated, targets));
        let mut state = State::new(extract::Settings::default());
        let mut out = Vec::new();
        let dt = 0.01;
        let total = 3.0 + turn_s + hold_s + turn_s + 4.0;
        let mut events = Vec::new();
        for i in 0..(total / dt) as usize {
            let t = i as f64 * dt;
            let angle = if t < 3.0 {
                0.0
            } else if t < 3.0 + turn_s {
                let x = (t - 3.0) / turn_s;
                peak_deg * (10.0 * x.powi(3) - 15.0 * x.powi(4) + 6.0 * x.powi(5))
            } else if t < 3.0 + turn_s + hold_s {
                peak_deg
            } else if t < 3.0 + 2.0 * turn_s + hold_s {
                let x = (t - 3.0 - turn_s - hold_s) / turn_s;
                peak_deg * (1.0 - (10.0 * x.powi(3) - 15.0 * x.powi(4) + 6.0 * x.powi(5)))
            } else {
                0.0
            };
            let sample = Sample {
                t_s: t,
                angle_deg: angle,
                compensation_deg: None,
                flexion_deg: None,
            };
            events.clear();
            state.update(sample, &mut events);
            coach.update(&sample, &events, &mut out);
        }
        events.clear();
        state.finish(&mut events);
        out
    }

    fn kinds(c: &[Cue]) -> Vec<CueKind> {
        c.iter().map(|c| c.kind).collect()
    }

    #[test]
    fn a_good_rep_counts_down_completes_and_asks_for_the_other_side() {
        let cues = cues_for(20.0, 40.0, 3.0);
        let k = kinds(&cues);
        assert_eq!(k[0], CueKind::Turn);
        assert!(k.contains(&CueKind::Hold), "{cues:#?}");
        assert!(k.contains(&CueKind::Countdown));
        assert!(k.contains(&CueKind::HoldComplete));
        assert!(!k.contains(&CueKind::EaseOff) && !k.contains(&CueKind::SlowDown));
        let done = cues.iter().find(|c| c.kind == CueKind::RepDone).expect("rep cue");
        assert!(done.text.starts_with("left rep: held"), "{}", done.text);
        assert!(done.text.ends_with("well done"), "{}", done.text);
        assert_eq!(
            cues.last().map(|c| c.text.as_str()),
            Some("now turn slowly to the right")
        );
        // The hold completes about 15 s after it began.
        let hold = cues
            .iter()
            .find(|c| c.kind == CueKind::Hold)
            .map(|c| c.t_s)
            .unwrap_or(0.0);
        let complete = cues
            .iter()
            .find(|c| c.kind == CueKind::HoldComplete)
            .map(|c| c.t_s)
            .unwrap_or(0.0);
        assert!(
            (complete - hold - 15.0).abs() < 1.0,
            "hold at {hold}, complete at {complete}"
        );
    }

    #[test]
    fn a_fast_deep_short_rep_gets_slow_down_ease_off_and_the_reps_advice() {
        let cues = cues_for(6.0, 70.0, 0.8);
        let k = kinds(&cues);
        assert!(k.contains(&CueKind::SlowDown), "{cues:#?}");
        assert!(k.contains(&CueKind::EaseOff));
        assert!(!k.contains(&CueKind::HoldComplete));
        let done = cues.iter().find(|c| c.kind == CueKind::RepDone).expect("rep cue");
        assert!(done.text.contains("longer next time"), "{}", done.text);
        assert!(done.text.contains("past your limit"), "{}", done.text);
    }

    #[test]
    fn a_hold_past_the_maximum_is_released() {
        let cues = cues_for(34.0, 40.0, 3.0);
        assert!(kinds(&cues).contains(&CueKind::Release), "{cues:#?}");
    }
}
