//! The protocol: targets per variation, `rep_min_deg`, compensation thresholds and caution
//! profiles (spec §4). Built-in defaults are the spec's; a TOML file (`--protocol FILE`)
//! overrides any of them. See `docs/protocol.example.toml` for the layout.

use std::path::Path;

use serde::Deserialize;

use crate::body::Variation;
use crate::error::{BadInput, Problem};
use crate::session::report::Targets;

/// The caution profiles (one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caution {
    DiscHerniation,
    Spondylolisthesis,
    SevereOsteoarthritis,
    Pregnancy,
}

impl Caution {
    pub const ALL: [Caution; 4] = [
        Caution::DiscHerniation,
        Caution::Spondylolisthesis,
        Caution::SevereOsteoarthritis,
        Caution::Pregnancy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Caution::DiscHerniation => "disc-herniation",
            Caution::Spondylolisthesis => "spondylolisthesis",
            Caution::SevereOsteoarthritis => "severe-osteoarthritis",
            Caution::Pregnancy => "pregnancy",
        }
    }

    pub fn parse(s: &str) -> Option<Caution> {
        Caution::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// Everything one variation is judged by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VariationTargets {
    pub hold_min_s: f64,
    pub hold_max_s: f64,
    pub over_rotation_deg: f64,
    pub too_fast_dps: f64,
    /// The secondary segment's |twist| above which the compensation flag is raised, °.
    pub compensation_deg: f64,
    /// Chest flexion above which `slouch` is raised (seated only), °.
    pub slouch_deg: f64,
}

/// A caution profile's limits: a fraction of the normal over-rotation limit, or explicit
/// limits per variation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CautionLimits {
    pub over_rotation_fraction: f64,
    pub over_rotation_deg: [Option<f64>; 3],
}

impl Default for CautionLimits {
    fn default() -> Self {
        CautionLimits {
            over_rotation_fraction: 2.0 / 3.0,
            over_rotation_deg: [None; 3],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    pub rep_min_deg: f64,
    /// Indexed by `variation_index`.
    pub variations: [VariationTargets; 3],
    /// Indexed like `Caution::ALL`.
    pub caution: [CautionLimits; 4],
}

fn variation_index(v: Variation) -> usize {
    match v {
        Variation::Supine => 0,
        Variation::Seated => 1,
        Variation::Standing => 2,
    }
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            rep_min_deg: 15.0,
            variations: [
                VariationTargets {
                    hold_min_s: 20.0,
                    hold_max_s: 30.0,
                    over_rotation_deg: 75.0,
                    too_fast_dps: 60.0,
                    compensation_deg: 15.0,
                    slouch_deg: 20.0,
                },
                VariationTargets {
                    hold_min_s: 15.0,
                    hold_max_s: 30.0,
                    over_rotation_deg: 60.0,
                    too_fast_dps: 60.0,
                    compensation_deg: 10.0,
                    slouch_deg: 20.0,
                },
                VariationTargets {
                    hold_min_s: 10.0,
                    hold_max_s: 20.0,
                    over_rotation_deg: 45.0,
                    too_fast_dps: 60.0,
                    compensation_deg: 10.0,
                    slouch_deg: 20.0,
                },
            ],
            caution: [CautionLimits::default(); 4],
        }
    }
}

impl Protocol {
    /// The targets for a variation after any caution profile.
    pub fn targets(&self, variation: Variation, caution: Option<Caution>) -> VariationTargets {
        let vi = variation_index(variation);
        let mut t = self.variations[vi];
        if let Some(c) = caution {
            let ci = Caution::ALL.iter().position(|x| *x == c).unwrap_or(0);
            let lim = self.caution[ci];
            t.over_rotation_deg = lim.over_rotation_deg[vi].unwrap_or(t.over_rotation_deg * lim.over_rotation_fraction);
            // 75 × 2/3 computed as 75 × 2 / 3 is exact; keep reports free of 49.99999.
            t.over_rotation_deg = (t.over_rotation_deg * 1e6).round() / 1e6;
        }
        t
    }

    /// The report's `targets` block.
    pub fn report_targets(&self, variation: Variation, caution: Option<Caution>) -> Targets {
        let t = self.targets(variation, caution);
        Targets {
            hold_min_s: t.hold_min_s,
            hold_max_s: t.hold_max_s,
            over_rotation_deg: t.over_rotation_deg,
            too_fast_dps: t.too_fast_dps,
        }
    }

    /// Parse a protocol file's text on top of the defaults. `path` names it in errors.
    pub fn from_toml(path: &Path, text: &str) -> Result<Protocol, BadInput> {
        let bad = |msg: String| BadInput::file(path, Problem::Other(msg));
        let file: ProtocolFile = toml::from_str(text).map_err(|e| bad(format!("not a valid protocol file: {e}")))?;
        let mut p = Protocol::default();
        if let Some(v) = file.rep_min_deg {
            p.rep_min_deg = positive("rep_min_deg", v).map_err(bad)?;
        }
        for (v, section) in [
            (Variation::Supine, &file.supine),
            (Variation::Seated, &file.seated),
            (Variation::Standing, &file.standing),
        ] {
            let Some(sec) = section else { continue };
            let t = &mut p.variations[variation_index(v)];
            let name = v.name();
            let key = |k: &str| format!("{name}.{k}");
            for (field, value) in [
                (&mut t.hold_min_s, sec.hold_min_s, "hold_min_s"),
                (&mut t.hold_max_s, sec.hold_max_s, "hold_max_s"),
                (&mut t.over_rotation_deg, sec.over_rotation_deg, "over_rotation_deg"),
                (&mut t.too_fast_dps, sec.too_fast_dps, "too_fast_dps"),
                (&mut t.compensation_deg, sec.compensation_deg, "compensation_deg"),
                (&mut t.slouch_deg, sec.slouch_deg, "slouch_deg"),
            ]
            .map(|(f, v, k)| (f, v.map(|v| (v, k))))
            {
                if let Some((v, k)) = value {
                    *field = positive(&key(k), v).map_err(bad)?;
                }
            }
            if t.hold_max_s < t.hold_min_s {
                return Err(bad(format!(
                    "key `{}` ({}) is below `{}` ({}); the hold target's maximum must not be below its minimum",
                    key("hold_max_s"),
                    t.hold_max_s,
                    key("hold_min_s"),
                    t.hold_min_s
                )));
            }
        }
        if let Some(c) = &file.caution {
            let mut all = CautionLimits::default();
            if let Some(f) = c.over_rotation_fraction {
                all.over_rotation_fraction = fraction("caution.over_rotation_fraction", f).map_err(bad)?;
            }
            p.caution = [all; 4];
            for (i, cau) in Caution::ALL.into_iter().enumerate() {
                let profile = match cau {
                    Caution::DiscHerniation => &c.disc_herniation,
                    Caution::Spondylolisthesis => &c.spondylolisthesis,
                    Caution::SevereOsteoarthritis => &c.severe_osteoarthritis,
                    Caution::Pregnancy => &c.pregnancy,
                };
                let Some(pr) = profile else { continue };
                let key = |k: &str| format!("caution.{}.{k}", cau.name());
                if let Some(f) = pr.over_rotation_fraction {
                    p.caution[i].over_rotation_fraction = fraction(&key("over_rotation_fraction"), f).map_err(bad)?;
                }
                for (vi, v, k) in [
                    (0, pr.supine_over_rotation_deg, "supine_over_rotation_deg"),
                    (1, pr.seated_over_rotation_deg, "seated_over_rotation_deg"),
                    (2, pr.standing_over_rotation_deg, "standing_over_rotation_deg"),
                ] {
                    if let Some(v) = v {
                        p.caution[i].over_rotation_deg[vi] = Some(positive(&key(k), v).map_err(bad)?);
                    }
                }
            }
        }
        Ok(p)
    }

    /// Read a protocol file.
    pub fn read(path: &Path) -> Result<Protocol, BadInput> {
        let bytes = std::fs::read(path).map_err(|e| BadInput::file(path, Problem::Missing(e.to_string())))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| BadInput::file(path, Problem::Other("not UTF-8 text; a protocol file is TOML".into())))?;
        Protocol::from_toml(path, &text)
    }
}

fn positive(key: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("key `{key}` must be a positive number, got {v}"))
    }
}

fn fraction(key: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(format!("key `{key}` must be a fraction in (0, 1], got {v}"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtocolFile {
    rep_min_deg: Option<f64>,
    supine: Option<VariationSection>,
    seated: Option<VariationSection>,
    standing: Option<VariationSection>,
    caution: Option<CautionSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariationSection {
    hold_min_s: Option<f64>,
    hold_max_s: Option<f64>,
    over_rotation_deg: Option<f64>,
    too_fast_dps: Option<f64>,
    compensation_deg: Option<f64>,
    slouch_deg: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CautionSection {
    #[serde(rename = "over_rotation_fraction")]
    over_rotation_fraction: Option<f64>,
    disc_herniation: Option<CautionProfile>,
    spondylolisthesis: Option<CautionProfile>,
    severe_osteoarthritis: Option<CautionProfile>,
    pregnancy: Option<CautionProfile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CautionProfile {
    over_rotation_fraction: Option<f64>,
    supine_over_rotation_deg: Option<f64>,
    seated_over_rotation_deg: Option<f64>,
    standing_over_rotation_deg: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec_table() {
        let p = Protocol::default();
        let t = p.report_targets(Variation::Seated, None);
        assert_eq!(
            (t.hold_min_s, t.hold_max_s, t.over_rotation_deg, t.too_fast_dps),
            (15.0, 30.0, 60.0, 60.0)
        );
        for (v, lim) in [
            (Variation::Supine, 50.0),
            (Variation::Seated, 40.0),
            (Variation::Standing, 30.0),
        ] {
            assert_eq!(p.targets(v, Some(Caution::Pregnancy)).over_rotation_deg, lim);
        }
    }

    #[test]
    fn example_protocol_file_parses() {
        let text = include_str!("../../docs/protocol.example.toml");
        let p = Protocol::from_toml(Path::new("docs/protocol.example.toml"), text).unwrap();
        assert_eq!(p.rep_min_deg, 15.0);
        assert_eq!(
            p.targets(Variation::Supine, Some(Caution::DiscHerniation))
                .over_rotation_deg,
            45.0
        );
    }

    #[test]
    fn overrides_and_errors_name_file_and_key() {
        let p = Protocol::from_toml(Path::new("p.toml"), "[standing]\nhold_min_s = 12\n").unwrap();
        assert_eq!(p.targets(Variation::Standing, None).hold_min_s, 12.0);
        let e = Protocol::from_toml(Path::new("p.toml"), "[standing]\nhold_mn_s = 12\n").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("p.toml: ") && msg.contains("hold_mn_s"), "{msg}");
        let e = Protocol::from_toml(Path::new("p.toml"), "[seated]\nover_rotation_deg = -3\n").unwrap_err();
        assert!(e.to_string().contains("seated.over_rotation_deg"), "{e}");
        let e = Protocol::from_toml(Path::new("p.toml"), "[caution]\nover_rotation_fraction = 1.5\n").unwrap_err();
        assert!(e.to_string().contains("caution.over_rotation_fraction"), "{e}");
        let e = Protocol::from_toml(Path::new("p.toml"), "[seated]\nhold_min_s = 40\n").unwrap_err();
        assert!(e.to_string().contains("seated.hold_max_s"), "{e}");
    }
}
