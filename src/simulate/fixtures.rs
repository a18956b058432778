//! The committed fixture sessions (fixtures/sessions/<name>/): their simulation settings.
//! Regenerate with `cargo run --release --example make_fixtures`.

use super::{Format, HardCases, Settings};
use crate::body::{Placement, Variation};

/// (folder, variation, sensors, format, rate Hz, magnetometer, hard case, seed, max duration s, long)
#[allow(clippy::type_complexity)]
pub const FIXTURES: &[(&str, Variation, &[Placement], Format, f64, bool, &str, u64, f64, bool)] = &[
    (
        "supine_pelvis_orientation",
        Variation::Supine,
        &[Placement::Pelvis],
        Format::Orientation,
        50.0,
        false,
        "",
        101,
        150.0,
        false,
    ),
    (
        "supine_pelvis_chest_raw",
        Variation::Supine,
        &[Placement::Pelvis, Placement::Chest],
        Format::Raw,
        50.0,
        false,
        "",
        102,
        110.0,
        false,
    ),
    (
        "supine_pelvis_raw9",
        Variation::Supine,
        &[Placement::Pelvis],
        Format::Raw,
        50.0,
        true,
        "",
        103,
        150.0,
        false,
    ),
    (
        "supine_pelvis_chest_orientation_dropouts",
        Variation::Supine,
        &[Placement::Pelvis, Placement::Chest],
        Format::Orientation,
        30.0,
        false,
        "dropouts",
        104,
        150.0,
        false,
    ),
    (
        "seated_chest_raw",
        Variation::Seated,
        &[Placement::Chest],
        Format::Raw,
        60.0,
        false,
        "",
        201,
        150.0,
        false,
    ),
    (
        "seated_chest_pelvis_orientation",
        Variation::Seated,
        &[Placement::Chest, Placement::Pelvis],
        Format::Orientation,
        30.0,
        false,
        "",
        202,
        150.0,
        false,
    ),
    (
        "seated_chest_orientation_lowrate",
        Variation::Seated,
        &[Placement::Chest],
        Format::Orientation,
        25.0,
        false,
        "low-rate",
        203,
        170.0,
        false,
    ),
    (
        "seated_chest_pelvis_raw_bias_steps",
        Variation::Seated,
        &[Placement::Chest, Placement::Pelvis],
        Format::Raw,
        50.0,
        false,
        "bias-steps",
        204,
        110.0,
        false,
    ),
    (
        "standing_chest_raw9",
        Variation::Standing,
        &[Placement::Chest],
        Format::Raw,
        50.0,
        true,
        "",
        301,
        150.0,
        false,
    ),
    (
        "standing_chest_pelvis_raw",
        Variation::Standing,
        &[Placement::Chest, Placement::Pelvis],
        Format::Raw,
        50.0,
        false,
        "",
        302,
        130.0,
        false,
    ),
    (
        "standing_chest_orientation",
        Variation::Standing,
        &[Placement::Chest],
        Format::Orientation,
        60.0,
        false,
        "",
        303,
        150.0,
        false,
    ),
    (
        "standing_chest_pelvis_orientation_lowrate",
        Variation::Standing,
        &[Placement::Chest, Placement::Pelvis],
        Format::Orientation,
        20.0,
        false,
        "low-rate",
        304,
        170.0,
        false,
    ),
    (
        "seated_chest_orientation_long",
        Variation::Seated,
        &[Placement::Chest],
        Format::Orientation,
        20.0,
        false,
        "low-rate",
        205,
        600.0,
        true,
    ),
];

/// Every fixture: (folder name, settings).
pub fn all() -> Vec<(&'static str, Settings)> {
    FIXTURES
        .iter()
        .map(
            |&(name, variation, sensors, format, rate, mag, hard, seed, max_s, long)| {
                let mut s = Settings::new(variation, sensors.to_vec(), seed, format);
                s.rate_hz = Some(rate);
                s.with_mag = Some(mag);
                s.max_duration_s = Some(max_s);
                s.long_session = long;
                let mut h = HardCases::default();
                if !hard.is_empty() {
                    HardCases::parse(hard, &mut h);
                }
                s.hard = h;
                (name, s)
            },
        )
        .collect()
}
