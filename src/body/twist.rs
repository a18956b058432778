//! Body-frame angles: swing–twist decomposition, segment twist, relative twist, flexion
//! (spec §3). Pure functions over quaternions.
//!
//! Body frame of a segment: x = the person's left, y = head-ward (superior), z = front
//! (anterior); right-handed. A positive rotation about +y turns the front (z) toward the
//! left (x): positive twist = front turns left, as the spec's sign convention says.

use crate::frames::{Quat, Vec3, cross, dot, normalize};

/// The head-ward axis of a body frame.
pub const HEAD_BODY: Vec3 = [0.0, 1.0, 0.0];
/// The front axis of a body frame.
pub const FRONT_BODY: Vec3 = [0.0, 0.0, 1.0];

/// The twist part of `q` about the unit `axis` (swing–twist decomposition `q = swing ⊗ twist`),
/// as a signed angle in (−π, π] rad (right-hand rule about `axis`).
pub fn twist_angle_rad(q: Quat, axis: Vec3) -> f64 {
    let axis = normalize(axis);
    let p = dot([q.x, q.y, q.z], axis);
    let mut angle = 2.0 * p.atan2(q.w);
    if angle > std::f64::consts::PI {
        angle -= 2.0 * std::f64::consts::PI;
    } else if angle <= -std::f64::consts::PI {
        angle += 2.0 * std::f64::consts::PI;
    }
    angle
}

/// The twist quaternion of `q` about `axis` (identity when undefined).
pub fn twist_quat(q: Quat, axis: Vec3) -> Quat {
    Quat::from_axis_angle(axis, twist_angle_rad(q, axis))
}

/// Twist of a segment relative to its neutral: `q_neutral_from_now` in body coordinates,
/// about the head-ward axis. Radians, positive = front turned left.
pub fn segment_twist_rad(q_neutral_from_now: Quat) -> f64 {
    twist_angle_rad(q_neutral_from_now, HEAD_BODY)
}

/// Twist of segment `a` relative to segment `b` (e.g. chest relative to pelvis), from each
/// segment's rotation since neutral, both in body coordinates (the frames count as aligned
/// at neutral): the twist of `q_b_from_a = d_b⁻¹ ⊗ d_a` about `a`'s head-ward axis.
pub fn relative_twist_rad(d_a: Quat, d_b: Quat) -> f64 {
    twist_angle_rad(d_b.conj() * d_a, HEAD_BODY)
}

/// Flexion = asin(−f·u): f the segment's current front axis, u its neutral head-ward axis,
/// both in neutral body coordinates. Radians, forward positive.
pub fn flexion_rad(q_neutral_from_now: Quat) -> f64 {
    let f = q_neutral_from_now.rotate(FRONT_BODY);
    (-dot(f, HEAD_BODY)).clamp(-1.0, 1.0).asin()
}

/// The rotation whose matrix has the given columns (an orthonormal, right-handed basis):
/// maps the standard axes onto `x`, `y`, `z`.
pub fn quat_from_columns(x: Vec3, y: Vec3, z: Vec3) -> Quat {
    // Shepperd's method on m[row][col].
    let m = [[x[0], y[0], z[0]], [x[1], y[1], z[1]], [x[2], y[2], z[2]]];
    let tr = m[0][0] + m[1][1] + m[2][2];
    let q = if tr > 0.0 {
        let s = (tr + 1.0).sqrt() * 2.0;
        Quat::new(
            0.25 * s,
            (m[2][1] - m[1][2]) / s,
            (m[0][2] - m[2][0]) / s,
            (m[1][0] - m[0][1]) / s,
        )
    } else if m[0][0] > m[1][1] && m[0][0] > m[2][2] {
        let s = (1.0 + m[0][0] - m[1][1] - m[2][2]).sqrt() * 2.0;
        Quat::new(
            (m[2][1] - m[1][2]) / s,
            0.25 * s,
            (m[0][1] + m[1][0]) / s,
            (m[0][2] + m[2][0]) / s,
        )
    } else if m[1][1] > m[2][2] {
        let s = (1.0 + m[1][1] - m[0][0] - m[2][2]).sqrt() * 2.0;
        Quat::new(
            (m[0][2] - m[2][0]) / s,
            (m[0][1] + m[1][0]) / s,
            0.25 * s,
            (m[1][2] + m[2][1]) / s,
        )
    } else {
        let s = (1.0 + m[2][2] - m[0][0] - m[1][1]).sqrt() * 2.0;
        Quat::new(
            (m[1][0] - m[0][1]) / s,
            (m[0][2] + m[2][0]) / s,
            (m[1][2] + m[2][1]) / s,
            0.25 * s,
        )
    };
    q.normalized().canonical()
}

/// Which measured axis is kept exactly when building a body frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyAxis {
    Head,
    Front,
}

/// `q_sensor_from_body` from the head-ward and front axes measured in the sensor frame.
/// The `keep` axis is used as measured; the other is made perpendicular to it. `None`
/// when they are (nearly) parallel.
pub fn sensor_from_body(head_sensor: Vec3, front_sensor: Vec3, keep: BodyAxis) -> Option<Quat> {
    let (exact, other) = match keep {
        BodyAxis::Head => (normalize(head_sensor), front_sensor),
        BodyAxis::Front => (normalize(front_sensor), head_sensor),
    };
    let d = dot(other, exact);
    let perp = [
        other[0] - d * exact[0],
        other[1] - d * exact[1],
        other[2] - d * exact[2],
    ];
    if crate::frames::norm(perp) < 0.2 {
        return None;
    }
    let perp = normalize(perp);
    let (head, front) = match keep {
        BodyAxis::Head => (exact, perp),
        BodyAxis::Front => (perp, exact),
    };
    let left = cross(head, front);
    Some(quat_from_columns(left, head, front))
}

/// Mean of unit quaternions (sign-aligned to the first, then normalised): good for the
/// small spreads of a still window.
pub fn mean_quat(qs: impl IntoIterator<Item = Quat>) -> Option<Quat> {
    let mut it = qs.into_iter();
    let first = it.next()?;
    let mut sum = first.to_array();
    for q in it {
        let s = if q.dot(first) < 0.0 { -1.0 } else { 1.0 };
        for (a, b) in sum.iter_mut().zip(q.to_array()) {
            *a += s * b;
        }
    }
    Some(Quat::from_array(sum).normalized())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use nalgebra::{Quaternion, Unit, UnitQuaternion, Vector3};
    use proptest::prelude::*;
    use std::f64::consts::PI;

    fn na(q: Quat) -> UnitQuaternion<f64> {
        UnitQuaternion::from_quaternion(Quaternion::new(q.w, q.x, q.y, q.z))
    }
    fn from_na(q: UnitQuaternion<f64>) -> Quat {
        Quat::new(q.w, q.i, q.j, q.k)
    }
    fn unit() -> impl Strategy<Value = Vec3> {
        proptest::array::uniform3(-1.0..1.0f64)
            .prop_filter("non-zero", |v| crate::frames::norm(*v) > 0.1)
            .prop_map(normalize)
    }

    proptest! {
        /// swing ⊗ twist recomposes q, the twist is about the axis, and the swing's axis
        /// is perpendicular to it (checked with nalgebra's independent quaternion algebra).
        #[test]
        fn swing_twist_decomposes(axis in unit(), twist in -3.0..3.0f64, swing_axis in unit(), swing in -1.4..1.4f64) {
            let a = Vector3::new(axis[0], axis[1], axis[2]);
            let s_dir = Vector3::new(swing_axis[0], swing_axis[1], swing_axis[2]);
            let perp = s_dir - a * a.dot(&s_dir);
            prop_assume!(perp.norm() > 0.1);
            let q_twist = UnitQuaternion::from_axis_angle(&Unit::new_normalize(a), twist);
            let q_swing = UnitQuaternion::from_axis_angle(&Unit::new_normalize(perp), swing);
            let q = from_na(q_swing * q_twist);
            assert_abs_diff_eq!(twist_angle_rad(q, axis), twist, epsilon = 1e-9);
            let t = twist_quat(q, axis);
            let swing_back = na(q) * na(t).inverse();
            let v = swing_back.axis().map(|ax| ax.into_inner().dot(&a)).unwrap_or(0.0);
            assert_abs_diff_eq!(v, 0.0, epsilon = 1e-6);
        }

        /// Relative twist equals the twist of nalgebra's `d_b⁻¹ d_a` and does not depend on
        /// a common rotation about the head axis applied to both segments.
        #[test]
        fn relative_twist_is_invariant_to_common_yaw(a in -1.5..1.5f64, b in -1.5..1.5f64, common in -3.0..3.0f64) {
            let y = Unit::new_normalize(Vector3::y());
            let da = UnitQuaternion::from_axis_angle(&y, a);
            let db = UnitQuaternion::from_axis_angle(&y, b);
            let c = UnitQuaternion::from_axis_angle(&y, common);
            let r = relative_twist_rad(from_na(c * da), from_na(c * db));
            let diff = (a - b + PI).rem_euclid(2.0 * PI) - PI;
            assert_abs_diff_eq!(r, diff, epsilon = 1e-9);
        }

        #[test]
        fn quat_from_columns_matches_nalgebra(q in (unit(), -3.0..3.0f64)) {
            let (axis, angle) = q;
            let r = UnitQuaternion::from_axis_angle(&Unit::new_normalize(Vector3::new(axis[0], axis[1], axis[2])), angle);
            let m = r.to_rotation_matrix();
            let col = |i: usize| [m[(0, i)], m[(1, i)], m[(2, i)]];
            let ours = quat_from_columns(col(0), col(1), col(2));
            assert_abs_diff_eq!(na(ours).angle_to(&r), 0.0, epsilon = 1e-7);
        }

        #[test]
        fn flexion_is_the_forward_tilt(phi in -1.4..1.4f64, twist in -1.0..1.0f64) {
            // Twist about the head axis, then tilt forward about the twisted segment's own
            // left axis: the forward tilt in its current sagittal plane is exactly phi.
            let q = Quat::from_axis_angle(HEAD_BODY, twist) * Quat::from_axis_angle([1.0, 0.0, 0.0], phi);
            assert_abs_diff_eq!(flexion_rad(q), phi, epsilon = 1e-9);
        }
    }

    #[test]
    fn positive_twist_turns_the_front_left() {
        let q = Quat::from_axis_angle(HEAD_BODY, 0.3);
        let f = q.rotate(FRONT_BODY);
        assert!(f[0] > 0.0, "front should move toward +x = left");
        assert_abs_diff_eq!(segment_twist_rad(q), 0.3, epsilon = 1e-12);
    }

    #[test]
    fn sensor_from_body_maps_body_axes() {
        // A sensor lying flat: head = sensor +y, front = sensor +z (tilted 20° off).
        let front = [0.0, 0.34, 0.94];
        let q = sensor_from_body([0.0, 1.0, 0.0], front, BodyAxis::Head).unwrap();
        let h = q.rotate(HEAD_BODY);
        assert_abs_diff_eq!(h[1], 1.0, epsilon = 1e-12);
        let l = q.rotate([1.0, 0.0, 0.0]);
        assert_abs_diff_eq!(l[0], 1.0, epsilon = 1e-12);
        assert!(sensor_from_body([0.0, 1.0, 0.0], [0.0, 1.0, 0.01], BodyAxis::Head).is_none());
    }
}
