//! The session report, `twistcoach.report/1` (spec §7). Field names and meanings are the
//! external contract: extend, never rename.

use serde::{Deserialize, Serialize};

use crate::body::{Placement, Variation};

pub const REPORT_SCHEMA: &str = "twistcoach.report/1";

/// Which way the measured segment's front turned (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

impl Side {
    /// Positive primary angle = the front turns to the person's left.
    pub fn of_angle(angle: f64) -> Side {
        if angle >= 0.0 { Side::Left } else { Side::Right }
    }
}

/// Rep flags, in the spec's order (the derive keeps that order when sorting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepFlag {
    ShortHold,
    OverRotation,
    TooFast,
    ShouldersLifted,
    PelvisMoved,
    HipsNotSquare,
    Slouch,
}

/// Session flags (a closed list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionFlag {
    UnpairedSide,
}

/// The limits applied to this session (after any caution profile).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    pub hold_min_s: f64,
    pub hold_max_s: f64,
    pub over_rotation_deg: f64,
    pub too_fast_dps: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rep {
    pub side: Side,
    pub start_s: f64,
    pub hold_start_s: f64,
    pub hold_end_s: f64,
    pub end_s: f64,
    pub hold_s: f64,
    pub peak_deg: f64,
    pub hold_mean_deg: f64,
    pub flags: Vec<RepFlag>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Plain-language advice for the flags (an additional field, allowed by the spec).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub variation: Variation,
    /// The caution profile's name, or null.
    pub caution: Option<String>,
    /// Placements in command-line order.
    pub sensors: Vec<Placement>,
    pub targets: Targets,
    pub reps: Vec<Rep>,
    pub flags: Vec<SessionFlag>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
