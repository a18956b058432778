//! A phone as a sensor: the `/phone` page sends the browser's DeviceOrientation angles
//! over a WebSocket; this module turns them into `q_world_from_sensor` (pure) and keeps
//! the stream's status.
//!
//! W3C DeviceOrientation: `alpha` about z, then `beta` about the new x, then `gamma` about
//! the newest y (intrinsic Z-X'-Y'', degrees). The device frame: x to the right of the
//! screen, y up the screen, z out of the screen. The earth frame: x east, y north, z up
//! (ENU) when `absolute`; otherwise z up with an arbitrary but fixed heading (the spec's
//! no-magnetometer convention). So q_world_from_sensor = Rz(alpha)·Rx(beta)·Ry(gamma).
//! See firmware-notes/phone.md.

use serde::{Deserialize, Serialize};

use crate::frames::Quat;

/// One `deviceorientation` reading as the page sends it.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct PhoneOrientation {
    /// The page's clock (performance.now()), ms.
    pub t_ms: f64,
    pub alpha_deg: f64,
    pub beta_deg: f64,
    pub gamma_deg: f64,
    /// The browser says alpha is referenced to magnetic north.
    #[serde(default)]
    pub absolute: bool,
}

pub use crate::device::phone::q_from_device_orientation as q_world_from_phone;

/// Why a reading is refused (outside data: nothing is guessed).
pub fn check(o: &PhoneOrientation) -> Result<(), String> {
    let finite = [o.t_ms, o.alpha_deg, o.beta_deg, o.gamma_deg]
        .iter()
        .all(|v| v.is_finite());
    if !finite {
        return Err("a non-finite angle or time".into());
    }
    if !(0.0..=360.0).contains(&o.alpha_deg)
        || !(-180.0..=180.0).contains(&o.beta_deg)
        || !(-90.0..=90.0).contains(&o.gamma_deg)
    {
        return Err(format!(
            "angles out of the W3C ranges (alpha {} beta {} gamma {})",
            o.alpha_deg, o.beta_deg, o.gamma_deg
        ));
    }
    Ok(())
}

/// The phone stream as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PhoneStatus {
    pub connected: bool,
    pub samples: u64,
    pub refused: u64,
    /// Readings per second over the last ~2 s.
    pub rate_hz: f64,
    pub absolute: bool,
    /// q_world_from_sensor [qw, qx, qy, qz] of the latest reading.
    pub q_world_from_sensor: [f64; 4],
    /// Angle between the phone's y axis (up the screen) and the world's up, °:
    /// 0 when the phone stands upright as worn on the chest.
    pub tilt_from_upright_deg: f64,
    /// Heading of the phone's screen normal (z) in the horizontal plane, ° (atan2 of its
    /// north and east components; arbitrary zero unless `absolute`).
    pub facing_deg: f64,
}

/// Keeps a phone stream's counters.
#[derive(Debug, Default)]
pub struct PhoneTracker {
    status: PhoneStatus,
    recent_ms: std::collections::VecDeque<f64>,
}

impl PhoneTracker {
    pub fn status(&self) -> &PhoneStatus {
        &self.status
    }

    pub fn set_connected(&mut self, connected: bool) {
        self.status.connected = connected;
        if !connected {
            self.recent_ms.clear();
            self.status.rate_hz = 0.0;
        }
    }

    /// Take one reading; `Err` says why it was refused.
    pub fn update(&mut self, o: &PhoneOrientation) -> Result<(), String> {
        if let Err(e) = check(o) {
            self.status.refused += 1;
            return Err(e);
        }
        self.update_q(
            o.t_ms,
            q_world_from_phone(o.alpha_deg, o.beta_deg, o.gamma_deg),
            o.absolute,
        );
        Ok(())
    }

    /// Count a refused reading (a malformed push).
    pub fn refuse(&mut self) {
        self.status.refused += 1;
    }

    /// Count a reading already converted to `q_world_from_sensor` (Sensor Logger's push);
    /// `t_ms` is the phone's clock.
    pub fn update_q(&mut self, t_ms: f64, q: Quat, absolute: bool) {
        let y_world = q.rotate([0.0, 1.0, 0.0]);
        let z_world = q.rotate([0.0, 0.0, 1.0]);
        self.status.samples += 1;
        self.status.absolute = absolute;
        self.status.q_world_from_sensor = q.to_array();
        self.status.tilt_from_upright_deg = y_world[2].clamp(-1.0, 1.0).acos().to_degrees();
        self.status.facing_deg = z_world[0].atan2(z_world[1]).to_degrees();
        self.recent_ms.push_back(t_ms);
        while self.recent_ms.front().is_some_and(|&t| t_ms - t > 2000.0) {
            self.recent_ms.pop_front();
        }
        let span_ms = self
            .recent_ms
            .back()
            .zip(self.recent_ms.front())
            .map_or(0.0, |(b, a)| b - a);
        self.status.rate_hz = if span_ms > 0.0 {
            (self.recent_ms.len() - 1) as f64 / (span_ms / 1000.0)
        } else {
            0.0
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f64; 3], b: [f64; 3]) {
        for i in 0..3 {
            assert!((a[i] - b[i]).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn flat_on_a_table_top_to_north_is_identity() {
        let q = q_world_from_phone(0.0, 0.0, 0.0);
        assert!((q.w - 1.0).abs() < 1e-15 && q.x.abs() < 1e-15 && q.y.abs() < 1e-15 && q.z.abs() < 1e-15);
    }

    #[test]
    fn alpha_turns_the_top_to_the_west() {
        // Flat, alpha 90°: counter-clockwise seen from above, the top (y) points west.
        let q = q_world_from_phone(90.0, 0.0, 0.0);
        close(q.rotate([0.0, 1.0, 0.0]), [-1.0, 0.0, 0.0]);
        close(q.rotate([0.0, 0.0, 1.0]), [0.0, 0.0, 1.0]);
    }

    #[test]
    fn beta_stands_the_phone_up() {
        // beta 90°: top up, screen facing south (toward a user standing south of it).
        let q = q_world_from_phone(0.0, 90.0, 0.0);
        close(q.rotate([0.0, 1.0, 0.0]), [0.0, 0.0, 1.0]);
        close(q.rotate([0.0, 0.0, 1.0]), [0.0, -1.0, 0.0]);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((q.w - h).abs() < 1e-12 && (q.x - h).abs() < 1e-12);
    }

    #[test]
    fn gamma_tilts_the_right_edge_down() {
        // gamma 90°: rotated about y: right edge (x) down, screen facing east.
        let q = q_world_from_phone(0.0, 0.0, 90.0);
        close(q.rotate([1.0, 0.0, 0.0]), [0.0, 0.0, -1.0]);
        close(q.rotate([0.0, 0.0, 1.0]), [1.0, 0.0, 0.0]);
    }

    #[test]
    fn the_order_is_z_then_x_then_y() {
        // alpha 90 then beta 90: upright, top up, screen facing east (x ← west-pointing
        // top stood up). With the order reversed the screen would face south instead.
        let q = q_world_from_phone(90.0, 90.0, 0.0);
        close(q.rotate([0.0, 1.0, 0.0]), [0.0, 0.0, 1.0]);
        close(q.rotate([0.0, 0.0, 1.0]), [1.0, 0.0, 0.0]);
        // beta 90 then gamma 30 (worn upright on the chest, leaning 30° about its own y).
        let q = q_world_from_phone(0.0, 90.0, 30.0);
        let (s, c) = (30f64.to_radians().sin(), 30f64.to_radians().cos());
        // Ry(30) takes z to (s, 0, c); Rx(90) takes (x, y, z) to (x, -z, y).
        close(q.rotate([0.0, 0.0, 1.0]), [s, -c, 0.0]);
        close(q.rotate([0.0, 1.0, 0.0]), [0.0, 0.0, 1.0]);
    }

    #[test]
    fn tracker_counts_and_refuses() {
        let mut t = PhoneTracker::default();
        for i in 0..11 {
            let o = PhoneOrientation {
                t_ms: f64::from(i) * 20.0,
                alpha_deg: 0.0,
                beta_deg: 90.0,
                gamma_deg: 0.0,
                absolute: false,
            };
            t.update(&o).unwrap();
        }
        let s = t.status();
        assert_eq!(s.samples, 11);
        assert!((s.rate_hz - 50.0).abs() < 1e-9);
        assert!(s.tilt_from_upright_deg.abs() < 1e-6);
        assert!((s.facing_deg.abs() - 180.0).abs() < 1e-6, "screen faces south");
        let bad = PhoneOrientation {
            t_ms: 300.0,
            alpha_deg: f64::NAN,
            beta_deg: 0.0,
            gamma_deg: 0.0,
            absolute: false,
        };
        assert!(t.update(&bad).is_err());
        let bad = PhoneOrientation {
            gamma_deg: 120.0,
            alpha_deg: 0.0,
            ..bad
        };
        assert!(t.update(&bad).is_err());
        assert_eq!(t.status().refused, 2);
        assert_eq!(t.status().samples, 11);
    }
}
