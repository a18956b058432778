//! The one world convention, stated once.
//!
//! - Quaternions are Hamilton, scalar first (`w, x, y, z`).
//! - `q_a_from_b` maps vectors expressed in frame `b` into frame `a`:
//!   `v_a = q_a_from_b ⊗ v_b ⊗ q_a_from_b*`.
//! - World frame: z up (opposite to gravity); with a magnetometer x east, y north (ENU).
//! - SI units inside (s, rad, rad/s, m/s²); degrees only at the edges.
//!
//! This module owns the small amount of quaternion and vector math the core needs. It does
//! no I/O and knows nothing about sensors or bodies.

use std::ops::Mul;

/// A 3-vector in some frame named by the variable that holds it.
pub type Vec3 = [f64; 3];

/// A rotation as a Hamilton quaternion, scalar first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quat {
    pub w: f64,
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

impl Quat {
    pub const IDENTITY: Quat = Quat {
        w: 1.0,
        x: 0.0,
        y: 0.0,
        z: 0.0,
    };

    pub const fn new(w: f64, x: f64, y: f64, z: f64) -> Self {
        Quat { w, x, y, z }
    }

    /// Rotation by `angle_rad` about the unit vector `axis`.
    pub fn from_axis_angle(axis: Vec3, angle_rad: f64) -> Self {
        let n = norm(axis);
        if n == 0.0 {
            return Quat::IDENTITY;
        }
        let (s, c) = (angle_rad / 2.0).sin_cos();
        Quat::new(c, s * axis[0] / n, s * axis[1] / n, s * axis[2] / n)
    }

    /// Rotation by the rotation vector `r` (axis × angle, rad).
    pub fn from_rotation_vector(r: Vec3) -> Self {
        Quat::from_axis_angle(r, norm(r))
    }

    pub fn conj(self) -> Self {
        Quat::new(self.w, -self.x, -self.y, -self.z)
    }

    pub fn norm(self) -> f64 {
        (self.w * self.w + self.x * self.x + self.y * self.y + self.z * self.z).sqrt()
    }

    /// Unit quaternion in the same direction; identity for a zero quaternion.
    pub fn normalized(self) -> Self {
        let n = self.norm();
        if n == 0.0 || !n.is_finite() {
            return Quat::IDENTITY;
        }
        Quat::new(self.w / n, self.x / n, self.y / n, self.z / n)
    }

    pub fn dot(self, o: Quat) -> f64 {
        self.w * o.w + self.x * o.x + self.y * o.y + self.z * o.z
    }

    /// Rotate a vector: `q ⊗ v ⊗ q*`.
    pub fn rotate(self, v: Vec3) -> Vec3 {
        // v' = v + 2w(u×v) + 2u×(u×v), with u the vector part.
        let u = [self.x, self.y, self.z];
        let t = scale(cross(u, v), 2.0);
        add(add(v, scale(t, self.w)), cross(u, t))
    }

    /// Angle of the rotation, in [0, π] rad.
    pub fn angle_rad(self) -> f64 {
        let q = self.normalized();
        let v = (q.x * q.x + q.y * q.y + q.z * q.z).sqrt();
        2.0 * v.atan2(q.w.abs())
    }

    /// Angle between two orientations, in [0, π] rad.
    pub fn angle_to_rad(self, other: Quat) -> f64 {
        (self.conj() * other).angle_rad()
    }

    /// The same rotation with a non-negative scalar part.
    pub fn canonical(self) -> Self {
        if self.w < 0.0 {
            Quat::new(-self.w, -self.x, -self.y, -self.z)
        } else {
            self
        }
    }

    /// The same rotation on the same hemisphere as `other` (`q` and `−q` are one rotation).
    pub fn same_hemisphere_as(self, other: Quat) -> Self {
        if self.dot(other) < 0.0 {
            Quat::new(-self.w, -self.x, -self.y, -self.z)
        } else {
            self
        }
    }

    /// Normalised linear interpolation from `self` (f = 0) to `other` (f = 1), along the
    /// shorter way.
    pub fn nlerp(self, other: Quat, f: f64) -> Self {
        let b = other.same_hemisphere_as(self);
        Quat::new(
            self.w + f * (b.w - self.w),
            self.x + f * (b.x - self.x),
            self.y + f * (b.y - self.y),
            self.z + f * (b.z - self.z),
        )
        .normalized()
    }

    pub fn to_array(self) -> [f64; 4] {
        [self.w, self.x, self.y, self.z]
    }

    pub fn from_array(a: [f64; 4]) -> Self {
        Quat::new(a[0], a[1], a[2], a[3])
    }
}

impl Mul for Quat {
    type Output = Quat;
    fn mul(self, b: Quat) -> Quat {
        let a = self;
        Quat::new(
            a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
            a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
            a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
            a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
        )
    }
}

pub fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn scale(a: Vec3, s: f64) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

pub fn norm(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

pub fn normalize(a: Vec3) -> Vec3 {
    let n = norm(a);
    if n == 0.0 { a } else { scale(a, 1.0 / n) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use nalgebra::{Quaternion, UnitQuaternion, Vector3};
    use proptest::prelude::*;

    fn na(q: Quat) -> UnitQuaternion<f64> {
        UnitQuaternion::from_quaternion(Quaternion::new(q.w, q.x, q.y, q.z))
    }

    fn quat() -> impl Strategy<Value = Quat> {
        (-1.0..1.0f64, -1.0..1.0f64, -1.0..1.0f64, -1.0..1.0f64)
            .prop_filter("non-zero", |(w, x, y, z)| w * w + x * x + y * y + z * z > 1e-3)
            .prop_map(|(w, x, y, z)| Quat::new(w, x, y, z).normalized())
    }

    proptest! {
        #[test]
        fn product_matches_nalgebra(a in quat(), b in quat()) {
            let ours = a * b;
            let theirs = na(a) * na(b);
            assert_abs_diff_eq!(ours.w, theirs.w, epsilon = 1e-12);
            assert_abs_diff_eq!(ours.x, theirs.i, epsilon = 1e-12);
            assert_abs_diff_eq!(ours.y, theirs.j, epsilon = 1e-12);
            assert_abs_diff_eq!(ours.z, theirs.k, epsilon = 1e-12);
        }

        #[test]
        fn rotate_matches_nalgebra(q in quat(), v in proptest::array::uniform3(-10.0..10.0f64)) {
            let ours = q.rotate(v);
            let theirs = na(q) * Vector3::new(v[0], v[1], v[2]);
            for i in 0..3 {
                assert_abs_diff_eq!(ours[i], theirs[i], epsilon = 1e-9);
            }
        }

        #[test]
        fn angle_matches_nalgebra(a in quat(), b in quat()) {
            assert_abs_diff_eq!(a.angle_to_rad(b), na(a).angle_to(&na(b)), epsilon = 1e-6);
        }
    }

    #[test]
    fn quarter_turn_about_z_maps_x_to_y() {
        let q = Quat::from_axis_angle([0.0, 0.0, 1.0], std::f64::consts::FRAC_PI_2);
        let v = q.rotate([1.0, 0.0, 0.0]);
        assert_abs_diff_eq!(v[1], 1.0, epsilon = 1e-12);
        assert_abs_diff_eq!(v[0], 0.0, epsilon = 1e-12);
    }
}
