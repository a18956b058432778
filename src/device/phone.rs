//! A phone as an orientation sensor (`DeviceKind::Phone`), over the LAN rather than BLE.
//!
//! Two ways in, both at the web edge (`ui::web::server`): the page `/phone` sends the
//! browser's `deviceorientation` angles over a WebSocket, and the Sensor Logger app
//! pushes JSON batches over HTTP ([`super::sensor_logger`]). Both end up here as one
//! *phone packet* per reading, so that the live pipeline, the recording and `replay`
//! treat a phone exactly like a BLE device whose characteristic is [`ORIENTATION`].
//!
//! Packet (little-endian, 26 bytes; this project's own format, not a vendor's):
//! `u8 version (1)`, `u8 origin` ([`Origin`]), `f64 device_time_s` (the phone's clock,
//! made continuous across reconnects by `source::phone`), `f32 qw, qx, qy, qz`
//! (`q_world_from_sensor`, z-up world; heading east-north when the phone has a compass).
//!
//! The phone frame (W3C DeviceOrientation, Android and iOS alike): x to the right of the
//! screen, y up the screen, z out of the screen. `deviceorientation` angles are intrinsic
//! Z-X'-Y'' rotations ([`q_from_device_orientation`]); see `firmware-notes/phone.md`.
//! Pure: no I/O, no clock.

use crate::frames::Quat;

use super::{DecodeError, DeviceSample, Le, NotificationDecoder, Uuid, finite};

const DEVICE: &str = "phone";

/// The pseudo-characteristic of phone packets (in recordings and source events). Not a
/// Bluetooth UUID: it names this project's packet format ("twistcoach phone" in ASCII).
pub const ORIENTATION: Uuid = Uuid(0x7477_6973_7463_6f61_6368_7068_6f6e_6501);

pub const PACKET_VERSION: u8 = 1;
pub const PACKET_LEN: usize = 26;

/// A quaternion whose norm is further than this from 1 is refused (not renormalised).
pub const MAX_NORM_ERROR: f64 = 0.05;

/// Where a phone reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The `/phone` page (W3C `deviceorientation`).
    Page = 0,
    /// The Sensor Logger app's HTTP push (`orientation` entries).
    SensorLogger = 1,
}

impl Origin {
    fn from_u8(v: u8) -> Option<Origin> {
        match v {
            0 => Some(Origin::Page),
            1 => Some(Origin::SensorLogger),
            _ => None,
        }
    }
}

/// One decoded phone packet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Packet {
    pub origin: Origin,
    pub device_time_s: f64,
    pub q_world_from_sensor: Quat,
}

/// Encode a packet (the quaternion is stored as f32).
pub fn encode(p: &Packet) -> Vec<u8> {
    let mut out = Vec::with_capacity(PACKET_LEN);
    out.push(PACKET_VERSION);
    out.push(p.origin as u8);
    out.extend_from_slice(&p.device_time_s.to_le_bytes());
    for c in p.q_world_from_sensor.to_array() {
        out.extend_from_slice(&(c as f32).to_le_bytes());
    }
    out
}

/// Decode one packet; refuses a wrong length or version, non-finite numbers and a
/// quaternion that is not (nearly) unit.
pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
    if bytes.len() != PACKET_LEN {
        return Err(DecodeError::Length {
            device: DEVICE,
            expected: "26",
            found: bytes.len(),
        });
    }
    let mut r = Le::new(bytes);
    let short = || DecodeError::Length {
        device: DEVICE,
        expected: "26",
        found: bytes.len(),
    };
    let version = r.u8().ok_or_else(short)?;
    if version != PACKET_VERSION {
        return Err(DecodeError::Unsupported {
            device: DEVICE,
            what: "packet version",
            found: u32::from(version),
            supported: "1",
        });
    }
    let origin_byte = r.u8().ok_or_else(short)?;
    let origin = Origin::from_u8(origin_byte).ok_or(DecodeError::Unsupported {
        device: DEVICE,
        what: "origin",
        found: u32::from(origin_byte),
        supported: "0 (page), 1 (Sensor Logger)",
    })?;
    let t = r.f64().ok_or_else(short)?;
    if !t.is_finite() {
        return Err(DecodeError::NotFinite {
            device: DEVICE,
            field: "device_time_s",
            value: t as f32,
        });
    }
    let mut q = [0.0; 4];
    for (i, name) in ["qw", "qx", "qy", "qz"].into_iter().enumerate() {
        q[i] = finite(DEVICE, name, r.f32().ok_or_else(short)?)?;
    }
    let q = Quat::from_array(q);
    if (q.norm() - 1.0).abs() > MAX_NORM_ERROR {
        return Err(DecodeError::NotFinite {
            device: DEVICE,
            field: "quaternion norm",
            value: q.norm() as f32,
        });
    }
    Ok(Packet {
        origin,
        device_time_s: t,
        q_world_from_sensor: q.normalized(),
    })
}

/// The phone's decoder: one packet, one sample (orientation and device time).
#[derive(Debug, Default)]
pub struct Decoder;

impl NotificationDecoder for Decoder {
    fn push(&mut self, characteristic: Uuid, bytes: &[u8]) -> Result<Vec<DeviceSample>, DecodeError> {
        if characteristic != ORIENTATION {
            return Err(DecodeError::UnknownCharacteristic {
                device: DEVICE,
                characteristic,
            });
        }
        let p = decode(bytes)?;
        Ok(vec![DeviceSample {
            device_time_s: Some(p.device_time_s),
            q_world_from_sensor: Some(p.q_world_from_sensor),
            ..DeviceSample::default()
        }])
    }
}

/// `q_world_from_sensor` from W3C `deviceorientation` angles (degrees): intrinsic
/// Z-X'-Y'' rotations, `Rz(alpha) · Rx(beta) · Ry(gamma)`, in the page's earth frame
/// (ENU when `absolute`, else z up with an arbitrary heading).
pub fn q_from_device_orientation(alpha_deg: f64, beta_deg: f64, gamma_deg: f64) -> Quat {
    let z = Quat::from_axis_angle([0.0, 0.0, 1.0], alpha_deg.to_radians());
    let x = Quat::from_axis_angle([1.0, 0.0, 0.0], beta_deg.to_radians());
    let y = Quat::from_axis_angle([0.0, 1.0, 0.0], gamma_deg.to_radians());
    (z * x * y).normalized()
}

/// The inverse of [`q_from_device_orientation`] within the W3C ranges: alpha in
/// [0, 360), beta in [−180, 180], gamma in (−90, 90). Used by the simulator and tests to
/// play a known motion as a browser would report it. (At gamma = ±90° the split between
/// alpha and beta is not unique; any valid split is returned.)
pub fn device_orientation_from_q(q: Quat) -> (f64, f64, f64) {
    let m = |v: [f64; 3]| q.rotate(v);
    // Columns of R: images of the phone's axes.
    let cx = m([1.0, 0.0, 0.0]);
    let cy = m([0.0, 1.0, 0.0]);
    let cz = m([0.0, 0.0, 1.0]);
    // R = Rz(a) Rx(b) Ry(g): R21 = sin b, R20 = −cos b sin g, R22 = cos b cos g,
    // R01 = −sin a cos b, R11 = cos a cos b.
    let (r20, r21, r22) = (cx[2], cy[2], cz[2]);
    let (r01, r11) = (cy[0], cy[1]);
    // Choose cos g > 0 (gamma in (−90, 90)); then sign(cos b) = sign(R22).
    let sign = if r22 < 0.0 { -1.0 } else { 1.0 };
    let cb = sign * r20.hypot(r22);
    let beta = r21.atan2(cb);
    let gamma = if cb.abs() < 1e-12 {
        0.0
    } else {
        (-r20 / cb).atan2(r22 / cb)
    };
    let alpha = if cb.abs() < 1e-12 {
        // Upright-and-flipped: fold everything into alpha (gamma = 0).
        cx[1].atan2(cx[0])
    } else {
        (-r01 / cb).atan2(r11 / cb)
    };
    let alpha_deg = alpha.to_degrees().rem_euclid(360.0);
    // rem_euclid of a tiny negative number rounds to 360 itself.
    let alpha_deg = if alpha_deg >= 360.0 { 0.0 } else { alpha_deg };
    (alpha_deg, beta.to_degrees(), gamma.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::hex;

    #[test]
    fn packet_round_trip_and_vector() {
        let p = Packet {
            origin: Origin::Page,
            device_time_s: 1.5,
            q_world_from_sensor: Quat::from_array([1.0, 0.0, 0.0, 0.0]),
        };
        let b = encode(&p);
        // version 1, origin 0, 1.5 as f64 LE, 1.0f32, 0, 0, 0.
        assert_eq!(hex::format(&b), "0100000000000000f83f0000803f000000000000000000000000");
        assert_eq!(decode(&b).unwrap(), p);
        let mut d = Decoder;
        let s = d.push(ORIENTATION, &b).unwrap();
        assert_eq!(s[0].device_time_s, Some(1.5));
        assert!(d.push(Uuid(1), &b).is_err());
    }

    #[test]
    fn bad_packets_are_refused() {
        let good = encode(&Packet {
            origin: Origin::SensorLogger,
            device_time_s: 2.0,
            q_world_from_sensor: Quat::from_axis_angle([0.0, 0.0, 1.0], 0.3),
        });
        assert!(matches!(decode(&good[..25]), Err(DecodeError::Length { .. })));
        let mut v = good.clone();
        v[0] = 2;
        assert!(matches!(decode(&v), Err(DecodeError::Unsupported { .. })));
        let mut o = good.clone();
        o[1] = 9;
        assert!(matches!(decode(&o), Err(DecodeError::Unsupported { .. })));
        let mut n = good.clone();
        n[10..14].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(matches!(decode(&n), Err(DecodeError::NotFinite { .. })));
        let mut z = good;
        z[10..26].fill(0);
        assert!(decode(&z).is_err(), "a zero quaternion is no orientation");
    }

    #[test]
    fn device_orientation_inverts() {
        // A grid over the W3C ranges (away from gamma = ±90, where the split is not unique).
        for a in (0..360).step_by(37) {
            for b in (-175..=175).step_by(25) {
                for g in (-85..=85).step_by(17) {
                    let q = q_from_device_orientation(f64::from(a), f64::from(b), f64::from(g));
                    let (a2, b2, g2) = device_orientation_from_q(q);
                    let q2 = q_from_device_orientation(a2, b2, g2);
                    assert!(q.angle_to_rad(q2) < 1e-9, "{a} {b} {g} -> {a2} {b2} {g2}");
                    assert!(
                        (0.0..360.0).contains(&a2) && (-180.0..=180.0).contains(&b2),
                        "{a} {b} {g} -> {a2} {b2} {g2}"
                    );
                    assert!(g2.abs() < 90.0);
                    let da = (a2 - f64::from(a) + 180.0).rem_euclid(360.0) - 180.0;
                    assert!(da.abs() < 1e-6, "{a} {b} {g} -> {a2} {b2} {g2}");
                }
            }
        }
    }
}
