//! The body: placements, variations, neutral calibration, swing–twist, primary angle.

use serde::{Deserialize, Serialize};

/// Where a sensor is worn (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    Chest,
    Pelvis,
    UpperBack,
    Sacrum,
}

impl Placement {
    pub const ALL: [Placement; 4] = [
        Placement::Chest,
        Placement::Pelvis,
        Placement::UpperBack,
        Placement::Sacrum,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Placement::Chest => "chest",
            Placement::Pelvis => "pelvis",
            Placement::UpperBack => "upper-back",
            Placement::Sacrum => "sacrum",
        }
    }

    pub fn parse(s: &str) -> Option<Placement> {
        Placement::ALL.into_iter().find(|p| p.name() == s)
    }

    /// The body segment this placement measures.
    pub fn segment(self) -> Segment {
        match self {
            Placement::Chest | Placement::UpperBack => Segment::Thorax,
            Placement::Pelvis | Placement::Sacrum => Segment::Pelvis,
        }
    }

    /// Whether the sensor's +z (worn convention) points backwards (posterior placements).
    pub fn is_posterior(self) -> bool {
        matches!(self, Placement::UpperBack | Placement::Sacrum)
    }
}

/// The two segments twistcoach measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    Thorax,
    Pelvis,
}

/// The three twist variations (spec §3, §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variation {
    Supine,
    Seated,
    Standing,
}

impl Variation {
    pub const ALL: [Variation; 3] = [Variation::Supine, Variation::Seated, Variation::Standing];

    pub fn name(self) -> &'static str {
        match self {
            Variation::Supine => "supine",
            Variation::Seated => "seated",
            Variation::Standing => "standing",
        }
    }

    pub fn parse(s: &str) -> Option<Variation> {
        Variation::ALL.into_iter().find(|v| v.name() == s)
    }

    /// The segment whose twist is the primary angle.
    pub fn primary_segment(self) -> Segment {
        match self {
            Variation::Supine => Segment::Pelvis,
            Variation::Seated | Variation::Standing => Segment::Thorax,
        }
    }
}

pub mod calibration;
pub mod mount;
pub mod twist;
