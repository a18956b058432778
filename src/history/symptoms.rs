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

#[cfg(test)]
mod tests {
    use super::*;

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
