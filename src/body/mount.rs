//! Mounting: how a sensor's axes sit on the body (spec §2).
//!
//! The generic wear convention is sensor **+y toward the head** and **+z out of the body
//! surface** (anterior for chest/pelvis, posterior for upper-back/sacrum). A [`Mount`]
//! says where a device's own axes point instead (`--mount "chest=+x:head,+z:out"`), and
//! turns sensor-frame vectors into the *wear frame* (the frame of a sensor worn by the
//! convention). Pure; knows nothing about streams or calibration.

use crate::body::Placement;
use crate::frames::{Vec3, cross, dot};

/// A signed sensor axis (`+x` … `-z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensorAxis {
    pub index: usize,
    pub sign: i8,
}

impl SensorAxis {
    fn parse(s: &str) -> Option<SensorAxis> {
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => return None,
        };
        let index = match rest {
            "x" => 0,
            "y" => 1,
            "z" => 2,
            _ => return None,
        };
        Some(SensorAxis { index, sign })
    }

    fn vector(self) -> Vec3 {
        let mut v = [0.0; 3];
        v[self.index] = f64::from(self.sign);
        v
    }
}

/// A direction on the body, as `--mount` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyDirection {
    Head,
    Feet,
    Left,
    Right,
    Out,
    In,
}

impl BodyDirection {
    fn parse(s: &str) -> Option<BodyDirection> {
        Some(match s {
            "head" => BodyDirection::Head,
            "feet" => BodyDirection::Feet,
            "left" => BodyDirection::Left,
            "right" => BodyDirection::Right,
            "out" => BodyDirection::Out,
            "in" => BodyDirection::In,
            _ => return None,
        })
    }

    /// This direction in the wear frame of a sensor at `placement` (+y head, +z out; so +x
    /// is the person's left on the front of the body and their right on the back).
    pub fn in_wear_frame(self, placement: Placement) -> Vec3 {
        let left_x = if placement.is_posterior() { -1.0 } else { 1.0 };
        match self {
            BodyDirection::Head => [0.0, 1.0, 0.0],
            BodyDirection::Feet => [0.0, -1.0, 0.0],
            BodyDirection::Out => [0.0, 0.0, 1.0],
            BodyDirection::In => [0.0, 0.0, -1.0],
            BodyDirection::Left => [left_x, 0.0, 0.0],
            BodyDirection::Right => [-left_x, 0.0, 0.0],
        }
    }
}

/// How a sensor's axes map into the wear frame: a rotation matrix whose rows are the wear
/// axes expressed in the sensor frame (`v_wear = m * v_sensor`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mount {
    wear_from_sensor: [[f64; 3]; 3],
}

impl Default for Mount {
    /// The generic wear convention: sensor frame = wear frame.
    fn default() -> Self {
        Mount {
            wear_from_sensor: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        }
    }
}

/// Why a `--mount` SPEC was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MountError {
    #[error("`{0}`: expected PLACEMENT=SPEC, e.g. chest=+x:head,+z:out")]
    NoEquals(String),
    #[error("unknown placement `{0}`; expected chest, pelvis, upper-back or sacrum")]
    UnknownPlacement(String),
    #[error("`{0}`: SPEC must name exactly two sensor axes, e.g. +x:head,+z:out")]
    NotTwoParts(String),
    #[error("`{0}`: each part is AXIS:DIRECTION, e.g. +x:head")]
    NoColon(String),
    #[error("unknown sensor axis `{0}`; expected +x, -x, +y, -y, +z or -z")]
    UnknownAxis(String),
    #[error("unknown body direction `{0}`; expected head, feet, left, right, out or in")]
    UnknownDirection(String),
    #[error("`{0}`: the two sensor axes must be different axes (x, y or z)")]
    SameAxis(String),
    #[error(
        "`{0}`: the two body directions must be perpendicular (not head with feet, left with right, out with in, or the same twice)"
    )]
    ParallelDirections(String),
}

impl Mount {
    /// Build from two (sensor axis, body direction) pairs at `placement`.
    pub fn from_pairs(
        placement: Placement,
        a: (SensorAxis, BodyDirection),
        b: (SensorAxis, BodyDirection),
        spec: &str,
    ) -> Result<Mount, MountError> {
        if a.0.index == b.0.index {
            return Err(MountError::SameAxis(spec.to_string()));
        }
        let da = a.1.in_wear_frame(placement);
        let db = b.1.in_wear_frame(placement);
        if dot(da, db).abs() > 0.5 {
            return Err(MountError::ParallelDirections(spec.to_string()));
        }
        // Columns: where each sensor axis points in the wear frame.
        let sa = a.0.vector();
        let sb = b.0.vector();
        // sensor_from_wear maps wear directions to sensor axes; build wear_from_sensor by
        // sending sa -> da, sb -> db, (sa x sb) -> (da x db).
        let sc = cross(sa, sb);
        let dc = cross(da, db);
        let mut m = [[0.0; 3]; 3];
        for (s, d) in [(sa, da), (sb, db), (sc, dc)] {
            // m * s = d, with s a signed unit axis vector.
            let (idx, sign) = s
                .iter()
                .enumerate()
                .find(|(_, v)| v.abs() > 0.5)
                .map(|(i, v)| (i, v.signum()))
                .unwrap_or((0, 1.0));
            for (row, dv) in m.iter_mut().zip(d) {
                row[idx] = sign * dv;
            }
        }
        Ok(Mount { wear_from_sensor: m })
    }

    /// A sensor-frame vector in the wear frame.
    pub fn to_wear(&self, v_sensor: Vec3) -> Vec3 {
        let m = &self.wear_from_sensor;
        [dot(m[0], v_sensor), dot(m[1], v_sensor), dot(m[2], v_sensor)]
    }

    /// A wear-frame vector in the sensor frame (the transpose).
    pub fn to_sensor(&self, v_wear: Vec3) -> Vec3 {
        let m = &self.wear_from_sensor;
        let mut out = [0.0; 3];
        for (row, w) in m.iter().zip(v_wear) {
            for (o, r) in out.iter_mut().zip(row) {
                *o += r * w;
            }
        }
        out
    }
}

/// Parse one `--mount PLACEMENT=SPEC` argument.
pub fn parse_mount_arg(arg: &str) -> Result<(Placement, Mount), MountError> {
    let (placement_name, spec) = arg
        .split_once('=')
        .ok_or_else(|| MountError::NoEquals(arg.to_string()))?;
    let placement = Placement::parse(placement_name.trim())
        .ok_or_else(|| MountError::UnknownPlacement(placement_name.to_string()))?;
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    let [p1, p2] = parts[..] else {
        return Err(MountError::NotTwoParts(spec.to_string()));
    };
    let pair = |p: &str| -> Result<(SensorAxis, BodyDirection), MountError> {
        let (axis, dir) = p.split_once(':').ok_or_else(|| MountError::NoColon(p.to_string()))?;
        let axis = SensorAxis::parse(axis.trim()).ok_or_else(|| MountError::UnknownAxis(axis.to_string()))?;
        let dir = BodyDirection::parse(dir.trim()).ok_or_else(|| MountError::UnknownDirection(dir.to_string()))?;
        Ok((axis, dir))
    };
    let mount = Mount::from_pairs(placement, pair(p1)?, pair(p2)?, spec)?;
    Ok((placement, mount))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convention_spec_is_identity() {
        let (p, m) = parse_mount_arg("chest=+y:head,+z:out").unwrap();
        assert_eq!(p, Placement::Chest);
        assert_eq!(m, Mount::default());
    }

    #[test]
    fn x_head_maps_sensor_x_to_wear_y() {
        let (_, m) = parse_mount_arg("chest=+x:head,+z:out").unwrap();
        assert_eq!(m.to_wear([1.0, 0.0, 0.0]), [0.0, 1.0, 0.0]);
        assert_eq!(m.to_wear([0.0, 0.0, 1.0]), [0.0, 0.0, 1.0]);
        // The third axis follows the right-hand rule: +y sensor = x × z... = wear -x.
        assert_eq!(m.to_wear([0.0, 1.0, 0.0]), [-1.0, 0.0, 0.0]);
        for v in [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] {
            assert_eq!(m.to_sensor(m.to_wear(v)), v);
        }
    }

    #[test]
    fn left_on_the_back_is_wear_minus_x() {
        let (_, m) = parse_mount_arg("upper-back=-x:left,+z:out").unwrap();
        // Sensor -x points left = wear -x on the back, so sensor +x = wear +x.
        assert_eq!(m.to_wear([1.0, 0.0, 0.0]), [1.0, 0.0, 0.0]);
    }

    #[test]
    fn errors_are_exact() {
        assert_eq!(parse_mount_arg("chest"), Err(MountError::NoEquals("chest".into())));
        assert_eq!(
            parse_mount_arg("belly=+x:head,+z:out"),
            Err(MountError::UnknownPlacement("belly".into()))
        );
        assert_eq!(
            parse_mount_arg("chest=+x:head"),
            Err(MountError::NotTwoParts("+x:head".into()))
        );
        assert_eq!(
            parse_mount_arg("chest=+w:head,+z:out"),
            Err(MountError::UnknownAxis("+w".into()))
        );
        assert_eq!(
            parse_mount_arg("chest=+x:up,+z:out"),
            Err(MountError::UnknownDirection("up".into()))
        );
        assert_eq!(
            parse_mount_arg("chest=+x:head,-x:out"),
            Err(MountError::SameAxis("+x:head,-x:out".into()))
        );
        assert_eq!(
            parse_mount_arg("chest=+x:head,+z:feet"),
            Err(MountError::ParallelDirections("+x:head,+z:feet".into()))
        );
        assert_eq!(
            parse_mount_arg("chest=+x-head,+z:out"),
            Err(MountError::NoColon("+x-head".into()))
        );
    }
}
