//! The body model: how the chest and pelvis move during a simulated session.
//!
//! Body frame (both segments): x to the person's left, y toward the head, z out of the
//! front. In the neutral posture both segments' frames coincide with `q_world_from_neutral`
//! (upright: y up; supine: z up, lying on the back). Each segment's orientation is
//!
//! ```text
//! q_neutral_from_secondary = W(t) · Ry(ψ_s(t))          · Rx(φ_s(t))
//! q_neutral_from_primary   = W(t) · Ry(ψ_s(t) + θ(t) + b(t)) · Rx(φ_p(t))
//! ```
//!
//! with W the whole-body sway, ψ_s the secondary segment's twist (compensation), θ the
//! planned twist of the primary segment relative to the secondary one, b the breathing
//! part of the twist, and φ the flexion (breathing, slouching). Rx(+φ) tilts the segment's
//! front down (forward flexion); Ry(+ψ) turns its front to the person's left.
//!
//! Everything is a smooth (C²) function of time, so angular rates and accelerations are
//! exact derivatives. Pure: no I/O.

use crate::body::{Placement, Segment, Variation};
use crate::frames::{Quat, Vec3, add, cross, normalize, scale};

const DEG: f64 = std::f64::consts::PI / 180.0;

/// A piecewise minimum-jerk curve through knots `(t_s, value)`: between two knots the value
/// follows `a + (b − a)(10s³ − 15s⁴ + 6s⁵)`; before the first and after the last it is
/// constant. Two knots with the same value make a plateau.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    knots: Vec<(f64, f64)>,
}

impl Profile {
    pub fn new(start_value: f64) -> Profile {
        Profile {
            knots: vec![(f64::NEG_INFINITY, start_value)],
        }
    }

    /// The last knot's time and value.
    pub fn last(&self) -> (f64, f64) {
        self.knots.last().copied().unwrap_or((f64::NEG_INFINITY, 0.0))
    }

    /// Stay at the current value until `t_s`.
    pub fn hold_until(&mut self, t_s: f64) {
        let (_, v) = self.last();
        self.move_to(t_s, v);
    }

    /// Move (minimum-jerk) from the current value, starting at the last knot, to `value` at `t_s`.
    pub fn move_to(&mut self, t_s: f64, value: f64) {
        let (t_last, _) = self.last();
        if t_s > t_last {
            self.knots.push((t_s, value));
        }
    }

    pub fn value(&self, t_s: f64) -> f64 {
        let i = self.knots.partition_point(|k| k.0 <= t_s);
        if i == 0 {
            return self.knots.first().map_or(0.0, |k| k.1);
        }
        if i >= self.knots.len() {
            return self.knots[self.knots.len() - 1].1;
        }
        let (t0, a) = self.knots[i - 1];
        let (t1, b) = self.knots[i];
        if !t0.is_finite() {
            return a;
        }
        let s = ((t_s - t0) / (t1 - t0)).clamp(0.0, 1.0);
        a + (b - a) * s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)
    }
}

/// A sum of sines (smooth sway or noise), in degrees.
#[derive(Debug, Clone, Default)]
pub struct Sines {
    /// (amplitude_deg, frequency_hz, phase_rad)
    pub terms: Vec<(f64, f64, f64)>,
}

impl Sines {
    /// Three sines with random amplitudes (0.2–0.5 × `amp_deg`), frequencies
    /// (0.03–0.25 Hz) and phases: slow postural sway or fidgeting.
    pub fn random(amp_deg: f64, rng: &mut crate::simulate::rng::Rng) -> Self {
        Sines {
            terms: (0..3)
                .map(|_| {
                    (
                        amp_deg * rng.uniform(0.2, 0.5),
                        rng.uniform(0.03, 0.25),
                        rng.uniform(0.0, std::f64::consts::TAU),
                    )
                })
                .collect(),
        }
    }

    /// The amplitude of whole-body sway in a variation: most standing, least lying.
    pub fn sway_amplitude_deg(variation: crate::body::Variation) -> f64 {
        match variation {
            crate::body::Variation::Standing => 0.8,
            crate::body::Variation::Seated => 0.4,
            crate::body::Variation::Supine => 0.1,
        }
    }

    pub fn value(&self, t_s: f64) -> f64 {
        self.terms
            .iter()
            .map(|(a, f, p)| a * (std::f64::consts::TAU * f * t_s + p).sin())
            .sum()
    }
}

/// Breathing: a slowly modulated sine.
#[derive(Debug, Clone)]
pub struct Breathing {
    pub freq_hz: f64,
    pub phase_rad: f64,
    /// Twist amplitude at rest and, fully, in a stretch (the person breathes into it).
    pub twist_rest_deg: f64,
    pub twist_stretch_deg: f64,
    /// Chest flexion amplitude (the chest lifts on each breath).
    pub flex_deg: f64,
}

impl Breathing {
    fn wave(&self, t_s: f64) -> f64 {
        // A slight frequency wobble keeps breaths from being perfectly periodic.
        let w = std::f64::consts::TAU * self.freq_hz;
        (w * t_s + self.phase_rad + 0.6 * (0.05 * std::f64::consts::TAU * t_s).sin()).sin()
    }
}

/// The planned motion of one session, in the neutral body frame (degrees, seconds).
#[derive(Debug, Clone)]
pub struct Plan {
    pub variation: Variation,
    /// Session time of the first and the last instant simulated.
    pub t_begin_s: f64,
    pub t_end_s: f64,
    /// θ: twist of the primary segment relative to the secondary one (without breathing).
    pub primary_rel_deg: Profile,
    /// ψ_s: twist of the secondary segment.
    pub secondary_deg: Profile,
    /// Chest flexion (slouching), without breathing.
    pub chest_flex_deg: Profile,
    pub pelvis_flex_deg: f64,
    pub breathing: Breathing,
    /// Whole-body sway about the neutral body x, y, z axes.
    pub sway_deg: [Sines; 3],
    /// Heading of the person in the world (rad, about world z).
    pub heading_rad: f64,
    /// Slow fidgeting noise added to θ (degrees).
    pub fidget_deg: Sines,
}

/// The neutral posture in the world: body frame → world frame.
pub fn q_world_from_neutral(variation: Variation, heading_rad: f64) -> Quat {
    let h = [heading_rad.cos(), heading_rad.sin(), 0.0];
    let up = [0.0, 0.0, 1.0];
    let (y, z) = match variation {
        // Upright: head up, front horizontal.
        Variation::Seated | Variation::Standing => (up, h),
        // Lying on the back: front up, head horizontal.
        Variation::Supine => (h, up),
    };
    let x = cross(y, z);
    quat_from_axes(x, y, z)
}

/// The rotation whose columns are the given orthonormal axes.
pub fn quat_from_axes(x: Vec3, y: Vec3, z: Vec3) -> Quat {
    let (m00, m01, m02) = (x[0], y[0], z[0]);
    let (m10, m11, m12) = (x[1], y[1], z[1]);
    let (m20, m21, m22) = (x[2], y[2], z[2]);
    let tr = m00 + m11 + m22;
    let q = if tr > 0.0 {
        let s = (tr + 1.0).sqrt() * 2.0;
        Quat::new(0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s)
    } else if m00 > m11 && m00 > m22 {
        let s = (1.0 + m00 - m11 - m22).sqrt() * 2.0;
        Quat::new((m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s)
    } else if m11 > m22 {
        let s = (1.0 + m11 - m00 - m22).sqrt() * 2.0;
        Quat::new((m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s)
    } else {
        let s = (1.0 + m22 - m00 - m11).sqrt() * 2.0;
        Quat::new((m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s)
    };
    q.normalized()
}

pub fn rx(deg: f64) -> Quat {
    Quat::from_axis_angle([1.0, 0.0, 0.0], deg * DEG)
}
pub fn ry(deg: f64) -> Quat {
    Quat::from_axis_angle([0.0, 1.0, 0.0], deg * DEG)
}
pub fn rz(deg: f64) -> Quat {
    Quat::from_axis_angle([0.0, 0.0, 1.0], deg * DEG)
}

impl Plan {
    fn primary_segment(&self) -> Segment {
        self.variation.primary_segment()
    }

    /// The breathing part of the primary twist at `t_s`.
    pub fn breathing_twist_deg(&self, t_s: f64) -> f64 {
        let b = &self.breathing;
        let depth = (self.primary_rel_deg.value(t_s).abs() / 20.0).min(1.0);
        let amp = b.twist_rest_deg + (b.twist_stretch_deg - b.twist_rest_deg) * depth;
        amp * b.wave(t_s)
    }

    /// `q_neutral_from_segment` at `t_s` (the segment's body frame in the neutral body frame).
    pub fn q_neutral_from_segment(&self, segment: Segment, t_s: f64) -> Quat {
        let sway = Quat::from_rotation_vector([
            self.sway_deg[0].value(t_s) * DEG,
            self.sway_deg[1].value(t_s) * DEG,
            self.sway_deg[2].value(t_s) * DEG,
        ]);
        let psi_s = self.secondary_deg.value(t_s);
        let flex = match segment {
            Segment::Thorax => self.chest_flex_deg.value(t_s) + self.breathing.flex_deg * self.breathing.wave(t_s),
            Segment::Pelvis => self.pelvis_flex_deg,
        };
        let twist = if segment == self.primary_segment() {
            psi_s + self.primary_rel_deg.value(t_s) + self.fidget_deg.value(t_s) + self.breathing_twist_deg(t_s)
        } else {
            psi_s
        };
        sway * ry(twist) * rx(flex)
    }

    pub fn q_world_from_segment(&self, segment: Segment, t_s: f64) -> Quat {
        q_world_from_neutral(self.variation, self.heading_rad) * self.q_neutral_from_segment(segment, t_s)
    }

    /// Where a sensor at `placement` sits, in the world (m), for linear acceleration.
    pub fn sensor_position_world_m(&self, placement: Placement, t_s: f64) -> Vec3 {
        let segment = placement.segment();
        // Lever arms from the pivot (spine at pelvis level) in the segment's body frame.
        let depth = if placement.is_posterior() { -0.10 } else { 0.12 };
        let (pivot_height_m, r_body) = match (self.variation, segment) {
            (Variation::Supine, Segment::Pelvis) => (0.0, [0.0, 0.0, depth]),
            (Variation::Supine, Segment::Thorax) => (0.0, [0.0, 0.45, depth]),
            (Variation::Seated, Segment::Pelvis) => (0.15, [0.0, 0.0, depth]),
            (Variation::Seated, Segment::Thorax) => (0.15, [0.0, 0.35, depth]),
            (Variation::Standing, Segment::Pelvis) => (1.0, [0.0, 0.0, depth]),
            (Variation::Standing, Segment::Thorax) => (1.0, [0.0, 0.35, depth]),
        };
        let sway = Quat::from_rotation_vector([
            self.sway_deg[0].value(t_s) * DEG,
            self.sway_deg[1].value(t_s) * DEG,
            self.sway_deg[2].value(t_s) * DEG,
        ]);
        let p_neutral = add(
            sway.rotate([0.0, pivot_height_m, 0.0]),
            self.q_neutral_from_segment(segment, t_s).rotate(r_body),
        );
        q_world_from_neutral(self.variation, self.heading_rad).rotate(p_neutral)
    }
}

/// How a sensor sits on its segment: `q_body_from_sensor`.
///
/// Wear convention (spec §2): sensor +y toward the head, +z out of the body surface, give
/// or take `about_normal_deg` about the surface normal, on a surface sloped `slope_deg`
/// (the normal tilted toward the head, as on a sloping sternum).
pub fn q_body_from_sensor(placement: Placement, about_normal_deg: f64, slope_deg: f64) -> Quat {
    let base = if placement.is_posterior() {
        ry(180.0)
    } else {
        Quat::IDENTITY
    };
    // In the sensor-nominal frame: tilt the surface (normal toward +y), then turn about it.
    base * rx(-slope_deg) * rz(about_normal_deg)
}

/// Angular rate in the frame of `q(t)`, rad/s, by a central difference of orientations.
pub fn angular_rate_local_rps(q: impl Fn(f64) -> Quat, t_s: f64) -> Vec3 {
    let h = 1e-3;
    let d = (q(t_s - h).conj() * q(t_s + h)).canonical();
    let v = [d.x, d.y, d.z];
    let n = crate::frames::norm(v);
    if n < 1e-15 {
        return [0.0; 3];
    }
    let angle = 2.0 * n.atan2(d.w);
    scale(normalize(v), angle / (2.0 * h))
}

/// Second derivative of a position, m/s², by a central difference.
pub fn acceleration_mps2(p: impl Fn(f64) -> Vec3, t_s: f64) -> Vec3 {
    let h = 5e-3;
    let a = p(t_s - h);
    let b = p(t_s);
    let c = p(t_s + h);
    [
        (a[0] - 2.0 * b[0] + c[0]) / (h * h),
        (a[1] - 2.0 * b[1] + c[1]) / (h * h),
        (a[2] - 2.0 * b[2] + c[2]) / (h * h),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn profile_is_min_jerk_between_knots_and_flat_outside() {
        let mut p = Profile::new(0.0);
        p.hold_until(1.0);
        p.move_to(3.0, 40.0);
        p.hold_until(5.0);
        assert_eq!(p.value(-10.0), 0.0);
        assert_eq!(p.value(1.0), 0.0);
        assert_abs_diff_eq!(p.value(2.0), 20.0, epsilon = 1e-12);
        assert_eq!(p.value(4.0), 40.0);
        assert_eq!(p.value(99.0), 40.0);
        // Peak speed of a min-jerk move is 1.875 × mean speed.
        let v = (p.value(2.0 + 1e-6) - p.value(2.0 - 1e-6)) / 2e-6;
        assert_abs_diff_eq!(v, 1.875 * 20.0, epsilon = 1e-4);
    }

    #[test]
    fn neutral_frames_follow_the_body_convention() {
        let up = [0.0, 0.0, 1.0];
        let q = q_world_from_neutral(Variation::Standing, 0.3);
        let y = q.rotate([0.0, 1.0, 0.0]);
        assert_abs_diff_eq!(y[2], 1.0, epsilon = 1e-12);
        // Facing heading h, left = up × h.
        let x = q.rotate([1.0, 0.0, 0.0]);
        let left = cross(up, [0.3f64.cos(), 0.3f64.sin(), 0.0]);
        for i in 0..3 {
            assert_abs_diff_eq!(x[i], left[i], epsilon = 1e-12);
        }
        let q = q_world_from_neutral(Variation::Supine, 1.0);
        assert_abs_diff_eq!(q.rotate([0.0, 0.0, 1.0])[2], 1.0, epsilon = 1e-12);
    }

    #[test]
    fn positive_twist_turns_the_front_left_and_positive_flexion_tilts_it_down() {
        let front = ry(30.0).rotate([0.0, 0.0, 1.0]);
        assert!(front[0] > 0.4, "front should gain a +x (left) component: {front:?}");
        let front = rx(20.0).rotate([0.0, 0.0, 1.0]);
        assert!(front[1] < -0.3, "front should tilt toward the feet: {front:?}");
    }

    #[test]
    fn rate_of_a_constant_rotation_is_recovered() {
        let w = [0.3, -0.2, 0.5];
        let q = |t: f64| Quat::from_axis_angle([1.0, 0.0, 0.0], 0.4) * Quat::from_rotation_vector(scale(w, t));
        let r = angular_rate_local_rps(q, 2.0);
        for i in 0..3 {
            assert_abs_diff_eq!(r[i], w[i], epsilon = 1e-6);
        }
    }

    #[test]
    fn sloped_mount_keeps_y_toward_the_head_within_the_slope() {
        let q = q_body_from_sensor(Placement::Chest, 10.0, 20.0);
        let y_body = q.rotate([0.0, 1.0, 0.0]);
        let angle = y_body[1].clamp(-1.0, 1.0).acos() / DEG;
        assert!(angle > 19.0 && angle < 23.0, "{angle}");
        let z_body = q.rotate([0.0, 0.0, 1.0]);
        assert!(
            z_body[2] > 0.9 && z_body[1] > 0.3,
            "normal out and toward the head: {z_body:?}"
        );
        let q = q_body_from_sensor(Placement::Sacrum, 0.0, 0.0);
        assert_abs_diff_eq!(q.rotate([0.0, 0.0, 1.0])[2], -1.0, epsilon = 1e-12);
    }
}
