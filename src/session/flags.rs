//! From measured reps to the report's flags, notes and plain-language cues (spec §4, §7).
//! Pure: the targets come in, nothing is read or printed here.

use crate::body::Variation;
use crate::session::extract::MeasuredRep;
use crate::session::protocol::VariationTargets;
use crate::session::report::{Rep, RepFlag, SessionFlag, Side};

/// What the flags may look at besides the rep itself.
#[derive(Debug, Clone, Copy)]
pub struct FlagContext {
    pub variation: Variation,
    pub targets: VariationTargets,
    /// The gap above which a rep is `interrupted`, s.
    pub gap_s: f64,
}

/// Round for the report: angles to 0.01°, times to 0.1 ms (the input's own axis).
fn r_deg(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
fn r_s(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

/// The report's rep, with flags in the spec's order, notes and cues.
pub fn judge_rep(m: &MeasuredRep, ctx: &FlagContext) -> Rep {
    let t = &ctx.targets;
    let mut flags = Vec::new();
    let mut cues = Vec::new();
    let mut notes = Vec::new();
    let hold_s = m.hold_s();
    if hold_s < t.hold_min_s {
        flags.push(RepFlag::ShortHold);
        let more = (t.hold_min_s - hold_s).ceil().max(1.0);
        cues.push(format!(
            "hold {more:.0} s longer next time (target {:.0} s)",
            t.hold_min_s
        ));
    }
    if m.peak_deg > t.over_rotation_deg {
        flags.push(RepFlag::OverRotation);
        cues.push(format!(
            "ease off: {:.0}° past your limit of {:.0}°",
            (m.peak_deg - t.over_rotation_deg).max(1.0),
            t.over_rotation_deg
        ));
    }
    if m.max_turn_speed_dps > t.too_fast_dps {
        flags.push(RepFlag::TooFast);
        cues.push("slower into and out of the twist".to_string());
    }
    if let Some(c) = m.max_compensation_deg
        && c > t.compensation_deg
    {
        let (flag, cue) = match ctx.variation {
            Variation::Supine => (RepFlag::ShouldersLifted, "keep both shoulders on the floor"),
            Variation::Seated => (RepFlag::PelvisMoved, "keep your pelvis still"),
            Variation::Standing => (RepFlag::HipsNotSquare, "keep your hips facing forward"),
        };
        flags.push(flag);
        cues.push(format!("{cue} (it turned {c:.0}°)"));
    }
    if ctx.variation == Variation::Seated
        && let Some(f) = m.max_flexion_deg
        && f > t.slouch_deg
    {
        flags.push(RepFlag::Slouch);
        cues.push(format!("sit tall: you leaned {f:.0}° forward"));
    }
    flags.sort();
    if hold_s > t.hold_max_s {
        notes.push(format!(
            "held {hold_s:.0} s, past the {:.0} s target maximum",
            t.hold_max_s
        ));
    }
    if m.longest_gap_s > ctx.gap_s {
        notes.push("interrupted".to_string());
    }
    Rep {
        side: if m.sign >= 0.0 { Side::Left } else { Side::Right },
        start_s: r_s(m.start_s),
        hold_start_s: r_s(m.hold_start_s),
        hold_end_s: r_s(m.hold_end_s),
        end_s: r_s(m.end_s),
        hold_s: r_s(hold_s),
        peak_deg: r_deg(m.peak_deg),
        hold_mean_deg: r_deg(m.hold_mean_deg),
        flags,
        notes,
        cues,
    }
}

/// Session flags and notes: `unpaired_side` when one side was done more often.
pub fn judge_session(reps: &[Rep]) -> (Vec<SessionFlag>, Vec<String>) {
    let left = reps.iter().filter(|r| r.side == Side::Left).count();
    let right = reps.len() - left;
    let mut flags = Vec::new();
    let mut notes = Vec::new();
    if left != right {
        flags.push(SessionFlag::UnpairedSide);
        let (more, less) = if left > right {
            ("left", "right")
        } else {
            ("right", "left")
        };
        notes.push(format!(
            "{left} left and {right} right reps: do {} more on the {less} side to even out the {more}",
            left.abs_diff(right)
        ));
    }
    (flags, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::protocol::Protocol;

    fn rep(hold_s: f64, peak: f64, speed: f64, comp: Option<f64>, flex: Option<f64>) -> MeasuredRep {
        MeasuredRep {
            sign: -1.0,
            start_s: 10.0,
            hold_start_s: 12.0,
            hold_end_s: 12.0 + hold_s,
            end_s: 14.0 + hold_s,
            peak_deg: peak,
            hold_mean_deg: peak - 2.0,
            level_deg: -(peak - 2.0),
            rest_before_deg: 0.0,
            rest_after_deg: 0.0,
            max_turn_speed_dps: speed,
            max_compensation_deg: comp,
            max_flexion_deg: flex,
            longest_gap_s: 0.01,
        }
    }

    #[test]
    fn flags_in_spec_order_with_cues() {
        let ctx = FlagContext {
            variation: Variation::Seated,
            targets: Protocol::default().targets(Variation::Seated, None),
            gap_s: 1.0,
        };
        let r = judge_rep(&rep(9.0, 72.0, 80.0, Some(12.0), Some(25.0)), &ctx);
        assert_eq!(r.side, Side::Right);
        assert_eq!(
            r.flags,
            vec![
                RepFlag::ShortHold,
                RepFlag::OverRotation,
                RepFlag::TooFast,
                RepFlag::PelvisMoved,
                RepFlag::Slouch
            ]
        );
        assert!(r.cues[0].starts_with("hold 6 s longer"), "{:?}", r.cues);
        assert!(r.cues[1].starts_with("ease off: 12° past"), "{:?}", r.cues);
        let ok = judge_rep(&rep(20.0, 40.0, 30.0, Some(5.0), Some(5.0)), &ctx);
        assert!(ok.flags.is_empty() && ok.cues.is_empty());
        let long = judge_rep(&rep(35.0, 40.0, 30.0, None, None), &ctx);
        assert_eq!(long.notes, vec!["held 35 s, past the 30 s target maximum".to_string()]);
    }

    #[test]
    fn slouch_only_seated_and_compensation_names_by_variation() {
        let t = Protocol::default();
        for (v, flag) in [
            (Variation::Supine, RepFlag::ShouldersLifted),
            (Variation::Standing, RepFlag::HipsNotSquare),
        ] {
            let ctx = FlagContext {
                variation: v,
                targets: t.targets(v, None),
                gap_s: 1.0,
            };
            let r = judge_rep(&rep(25.0, 40.0, 30.0, Some(20.0), Some(30.0)), &ctx);
            assert_eq!(r.flags, vec![flag]);
        }
    }

    #[test]
    fn unpaired_side() {
        let ctx = FlagContext {
            variation: Variation::Seated,
            targets: Protocol::default().targets(Variation::Seated, None),
            gap_s: 1.0,
        };
        let a = judge_rep(&rep(20.0, 40.0, 30.0, None, None), &ctx);
        let mut b = a.clone();
        b.side = Side::Left;
        assert!(judge_session(&[a.clone(), b.clone()]).0.is_empty());
        assert_eq!(judge_session(&[a.clone(), b, a]).0, vec![SessionFlag::UnpairedSide]);
    }
}
