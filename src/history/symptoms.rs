//! Symptom tags a user can record with a session, and what the program says about each.
//!
//! This is the one place where tags and their safety messages are defined. Red flags are
//! symptoms that need a clinician whatever the stretch data say; the program repeats the
//! message every time one is recorded (never "only the first time").

use std::fmt;

/// How urgent a symptom is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth tracking; no advice beyond the record.
    Track,
    /// Stop the stretch that caused it.
    StopStretch,
    /// See a clinician before stretching again.
    RedFlag,
    /// Seek medical care now.
    Urgent,
}

/// The closed list of symptom tags (`--symptom TAG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Symptom {
    LegPain,
    Weakness,
    Numbness,
    Bladder,
    Worsening,
    SharpPain,
    Stiffness,
}

impl Symptom {
    pub const ALL: [Symptom; 7] = [
        Symptom::LegPain,
        Symptom::Weakness,
        Symptom::Numbness,
        Symptom::Bladder,
        Symptom::Worsening,
        Symptom::SharpPain,
        Symptom::Stiffness,
    ];

    /// The tag as written on the command line and stored in the database.
    pub fn tag(self) -> &'static str {
        match self {
            Symptom::LegPain => "leg-pain",
            Symptom::Weakness => "weakness",
            Symptom::Numbness => "numbness",
            Symptom::Bladder => "bladder",
            Symptom::Worsening => "worsening",
            Symptom::SharpPain => "sharp-pain",
            Symptom::Stiffness => "stiffness",
        }
    }

    pub fn parse(tag: &str) -> Option<Symptom> {
        Symptom::ALL.into_iter().find(|s| s.tag() == tag)
    }

    /// One line describing the tag (for `--help` and error messages).
    pub fn description(self) -> &'static str {
        match self {
            Symptom::LegPain => "pain radiating into a leg (buttock, thigh, calf or foot)",
            Symptom::Weakness => "weakness in a leg or foot that is getting worse",
            Symptom::Numbness => "numbness or tingling (legs, feet, groin or saddle area)",
            Symptom::Bladder => "loss of bladder or bowel control, or new difficulty passing urine",
            Symptom::Worsening => "pain that keeps getting worse despite stretching regularly",
            Symptom::SharpPain => "sharp or increasing pain during a stretch",
            Symptom::Stiffness => "ordinary stiffness or a dull ache",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Symptom::Bladder => Severity::Urgent,
            Symptom::LegPain | Symptom::Weakness | Symptom::Numbness | Symptom::Worsening => Severity::RedFlag,
            Symptom::SharpPain => Severity::StopStretch,
            Symptom::Stiffness => Severity::Track,
        }
    }

    /// What the program says, plainly, each time this symptom is recorded; `None` when
    /// there is nothing to say.
    pub fn advice(self) -> Option<&'static str> {
        match self {
            Symptom::Bladder => Some(
                "Loss of bladder or bowel control (or numbness in the groin/saddle area) with back pain \
                 needs urgent medical care: contact emergency services or go to an emergency department now. \
                 Do not continue the stretches.",
            ),
            Symptom::LegPain => Some(
                "Pain radiating into the leg can mean a nerve is irritated. Stop the twist stretches and \
                 see a clinician (doctor or physiotherapist) before you continue.",
            ),
            Symptom::Weakness => Some(
                "Progressive weakness in a leg or foot needs a clinician's assessment soon. Stop the \
                 twist stretches and see a doctor before you continue.",
            ),
            Symptom::Numbness => Some(
                "Numbness or tingling can mean a nerve is affected. Stop the twist stretches and see a \
                 clinician (doctor or physiotherapist) before you continue.",
            ),
            Symptom::Worsening => Some(
                "Pain that gets worse despite stretching regularly is a reason to see a clinician. Pause \
                 the programme until you have been assessed.",
            ),
            Symptom::SharpPain => Some(
                "Sharp or increasing pain during a stretch: stop that stretch now and do not push into \
                 the pain. If it keeps happening, see a clinician.",
            ),
            Symptom::Stiffness => None,
        }
    }
}

impl fmt::Display for Symptom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Parse a tag from the command line or the database, naming the valid tags on failure.
pub fn parse_tag(tag: &str) -> Result<Symptom, String> {
    Symptom::parse(tag.trim()).ok_or_else(|| {
        let known: Vec<String> = Symptom::ALL
            .iter()
            .map(|s| format!("  {:<11} {}", s.tag(), s.description()))
            .collect();
        format!("unknown symptom tag `{tag}`; use one of:\n{}", known.join("\n"))
    })
}

/// The advice to print for a set of recorded symptoms, most urgent first, one per symptom.
pub fn advice_for(symptoms: &[Symptom]) -> Vec<(Symptom, &'static str)> {
    let mut with_advice: Vec<(Symptom, &'static str)> =
        symptoms.iter().filter_map(|s| s.advice().map(|a| (*s, a))).collect();
    with_advice.sort_by(|a, b| b.0.severity().cmp(&a.0.severity()).then(a.0.cmp(&b.0)));
    with_advice.dedup_by_key(|(s, _)| *s);
    with_advice
}

/// Rising pain despite regular stretching, found in the pain ratings themselves (even
/// when nobody tagged `worsening`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PainWorsening {
    pub before_mean: f64,
    pub recent_mean: f64,
    /// Days with at least one session in the recent window.
    pub active_days: usize,
}

/// Window compared with the one before it, in days.
pub const PAIN_WINDOW_DAYS: i64 = 14;
/// Rise of the mean pain-before rating (0–10 scale) that counts as worsening.
pub const PAIN_RISE_POINTS: f64 = 2.0;
/// "Consistent stretching": sessions on at least this many of the recent window's days.
pub const PAIN_MIN_ACTIVE_DAYS: usize = 10;
/// Ratings needed in each window.
pub const PAIN_MIN_RATINGS: usize = 3;

/// Compare the mean pain-before of the last `PAIN_WINDOW_DAYS` days up to `today` with the
/// window before it. `sessions`: (local day, pain before) of every session.
pub fn pain_worsening(sessions: &[(i64, Option<u8>)], today: i64) -> Option<PainWorsening> {
    let recent_from = today - PAIN_WINDOW_DAYS + 1;
    let before_from = recent_from - PAIN_WINDOW_DAYS;
    let mean = |from: i64, to: i64| {
        let v: Vec<f64> = sessions
            .iter()
            .filter(|(d, _)| *d >= from && *d <= to)
            .filter_map(|(_, p)| p.map(f64::from))
            .collect();
        (v.len() >= PAIN_MIN_RATINGS).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let recent_mean = mean(recent_from, today)?;
    let before_mean = mean(before_from, recent_from - 1)?;
    let mut days: Vec<i64> = sessions
        .iter()
        .map(|(d, _)| *d)
        .filter(|d| *d >= recent_from && *d <= today)
        .collect();
    days.sort_unstable();
    days.dedup();
    let active_days = days.len();
    (recent_mean - before_mean >= PAIN_RISE_POINTS && active_days >= PAIN_MIN_ACTIVE_DAYS).then_some(PainWorsening {
        before_mean,
        recent_mean,
        active_days,
    })
}

impl PainWorsening {
    /// What the program says.
    pub fn message(&self) -> String {
        format!(
            "Your pain ratings before sessions rose from {:.1} to {:.1} (0–10) over the last {} days, \
             although you stretched on {} of them. {}",
            self.before_mean,
            self.recent_mean,
            PAIN_WINDOW_DAYS,
            self.active_days,
            Symptom::Worsening.advice().unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rising_pain_with_regular_sessions_is_worsening() {
        let mut sessions: Vec<(i64, Option<u8>)> = Vec::new();
        for d in 0..28 {
            let pain = if d < 14 { 2 } else { 5 };
            sessions.push((d, Some(pain)));
            sessions.push((d, None));
        }
        let w = pain_worsening(&sessions, 27).expect("worsening");
        assert!((w.before_mean - 2.0).abs() < 1e-9 && (w.recent_mean - 5.0).abs() < 1e-9);
        assert_eq!(w.active_days, 14);
        assert!(w.message().contains("clinician"));
        // Rising by less than the threshold: no message.
        let mild: Vec<(i64, Option<u8>)> = (0..28).map(|d| (d, Some(if d < 14 { 2 } else { 3 }))).collect();
        assert!(pain_worsening(&mild, 27).is_none());
        // Rising but not stretching regularly (sessions on 5 of 14 days): not this rule.
        let sparse: Vec<(i64, Option<u8>)> = (0..28)
            .filter(|d| *d < 14 || d % 3 == 0)
            .map(|d| (d, Some(if d < 14 { 2 } else { 6 })))
            .collect();
        assert!(pain_worsening(&sparse, 27).is_none());
        // Too few ratings: no verdict.
        assert!(pain_worsening(&[(20, Some(9)), (21, Some(9))], 27).is_none());
    }

    #[test]
    fn tags_round_trip_and_are_unique() {
        for s in Symptom::ALL {
            assert_eq!(Symptom::parse(s.tag()), Some(s));
        }
        let mut tags: Vec<_> = Symptom::ALL.iter().map(|s| s.tag()).collect();
        tags.dedup();
        assert_eq!(tags.len(), Symptom::ALL.len());
    }

    #[test]
    fn every_red_flag_has_advice_naming_a_clinician_or_emergency() {
        for s in Symptom::ALL {
            if s.severity() >= Severity::RedFlag {
                let advice = s.advice().unwrap_or_default();
                assert!(
                    advice.contains("clinician") || advice.contains("doctor") || advice.contains("emergency"),
                    "{s}: {advice}"
                );
            }
        }
        assert!(
            Symptom::SharpPain
                .advice()
                .unwrap_or_default()
                .contains("stop that stretch")
        );
    }

    #[test]
    fn advice_is_most_urgent_first_and_once_per_symptom() {
        let advice = advice_for(&[
            Symptom::SharpPain,
            Symptom::Bladder,
            Symptom::Stiffness,
            Symptom::SharpPain,
        ]);
        let order: Vec<Symptom> = advice.iter().map(|(s, _)| *s).collect();
        assert_eq!(order, vec![Symptom::Bladder, Symptom::SharpPain]);
    }

    #[test]
    fn unknown_tag_lists_the_valid_ones() {
        let err = parse_tag("back-ache").unwrap_err();
        assert!(err.contains("leg-pain") && err.contains("bladder"), "{err}");
    }
}
