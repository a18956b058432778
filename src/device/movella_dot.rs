//! Movella (formerly Xsens) DOT: orientation and IMU payloads over the measurement service.
//!
//! Layout (all little-endian, floats IEEE-754 f32), from the Movella DOT BLE Services
//! Specification (XD0506P) as implemented by Xsens' own example server
//! (`xsens/xsens_dot_server`, `bleHandler.js`: control write `[0x01, enable, mode]`,
//! `readUInt32LE(0)` timestamp, quaternion `readFloatLE(4..16)`, free acceleration at 20,
//! rollover 2³² µs) and the `xdc` client (`adamkewley/xdc`, copied in `Xinyu-Yi/PIP`:
//! device-control layout, output rate at byte 24, visit index 0x10). See
//! `firmware-notes/movella-dot.md` for what is confirmed and what is not.
//!
//! | mode | name                   | characteristic | bytes | content                                     |
//! |------|------------------------|----------------|-------|---------------------------------------------|
//! | 2    | extended (quaternion)  | medium 0x2003  | 36    | t µs, q wxyz, free acc m/s², status, clips   |
//! | 3    | complete (quaternion)  | medium 0x2003  | 32    | t µs, q wxyz, free acc xyz m/s²              |
//! | 5    | orientation (quaternion)| short 0x2004  | 20    | t µs, q wxyz                                 |
//! | 21   | rate quantities        | medium 0x2003  | 28    | t µs, acc xyz m/s², gyro xyz °/s             |
//!
//! The quaternion is the sensor's orientation in the local earth frame (ENU by default):
//! `q_world_from_sensor`. Free acceleration is in that earth frame with gravity removed.
//! Notifications may carry padding after the payload (the medium characteristic holds up
//! to 40 bytes, the short one 20); the decoder reads the mode's fields and ignores the rest.

use crate::frames::Quat;

use super::{DecodeError, DeviceSample, Le, NotificationDecoder, RAD_PER_DEG, UnwrapSettings, Unwrapper, Uuid, finite};

const DEVICE: &str = "movella-dot";

/// Vendor base UUID `1517xxxx-4947-11e9-8646-d663bd873d93`.
pub const BASE_UUID: u128 = 0x1517_0000_4947_11e9_8646_d663_bd87_3d93;
pub const CONFIGURATION_SERVICE: Uuid = Uuid::with_short(BASE_UUID, 0x1000);
pub const DEVICE_INFO: Uuid = Uuid::with_short(BASE_UUID, 0x1001);
pub const DEVICE_CONTROL: Uuid = Uuid::with_short(BASE_UUID, 0x1002);
pub const DEVICE_REPORT: Uuid = Uuid::with_short(BASE_UUID, 0x1004);
pub const MEASUREMENT_SERVICE: Uuid = Uuid::with_short(BASE_UUID, 0x2000);
pub const MEASUREMENT_CONTROL: Uuid = Uuid::with_short(BASE_UUID, 0x2001);
pub const LONG_PAYLOAD: Uuid = Uuid::with_short(BASE_UUID, 0x2002);
pub const MEDIUM_PAYLOAD: Uuid = Uuid::with_short(BASE_UUID, 0x2003);
pub const SHORT_PAYLOAD: Uuid = Uuid::with_short(BASE_UUID, 0x2004);
pub const BATTERY_SERVICE: Uuid = Uuid::with_short(BASE_UUID, 0x3000);
pub const BATTERY: Uuid = Uuid::with_short(BASE_UUID, 0x3001);

/// Advertised local name of a DOT (the example server matches it exactly).
pub const ADVERTISED_NAMES: &[&str] = &["Xsens DOT", "Movella DOT"];

/// Real-time output rates (Hz) accepted by the device-control characteristic; 120 Hz is
/// for on-device recording only.
pub const OUTPUT_RATES_HZ: &[u16] = &[1, 4, 10, 12, 15, 20, 30, 60, 120];
/// Rates usable for live streaming over BLE.
pub const STREAMING_RATES_HZ: &[u16] = &[1, 4, 10, 12, 15, 20, 30, 60];

/// The payload modes this program decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadMode {
    ExtendedQuaternion,
    CompleteQuaternion,
    OrientationQuaternion,
    RateQuantities,
}

impl PayloadMode {
    pub const ALL: [PayloadMode; 4] = [
        PayloadMode::ExtendedQuaternion,
        PayloadMode::CompleteQuaternion,
        PayloadMode::OrientationQuaternion,
        PayloadMode::RateQuantities,
    ];

    /// The mode number written to the control characteristic.
    pub fn id(self) -> u8 {
        match self {
            PayloadMode::ExtendedQuaternion => 2,
            PayloadMode::CompleteQuaternion => 3,
            PayloadMode::OrientationQuaternion => 5,
            PayloadMode::RateQuantities => 21,
        }
    }

    pub fn from_id(id: u8) -> Option<PayloadMode> {
        PayloadMode::ALL.into_iter().find(|m| m.id() == id)
    }

    /// Bytes of the payload's fields.
    pub fn payload_len(self) -> usize {
        match self {
            PayloadMode::ExtendedQuaternion => 36,
            PayloadMode::CompleteQuaternion => 32,
            PayloadMode::OrientationQuaternion => 20,
            PayloadMode::RateQuantities => 28,
        }
    }

    /// The characteristic that carries this mode's notifications.
    pub fn characteristic(self) -> Uuid {
        match self {
            PayloadMode::OrientationQuaternion => SHORT_PAYLOAD,
            _ => MEDIUM_PAYLOAD,
        }
    }

    /// Largest notification that characteristic carries.
    fn max_len(self) -> usize {
        match self {
            PayloadMode::OrientationQuaternion => 20,
            _ => 40,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            PayloadMode::ExtendedQuaternion => "36..=40 (extended quaternion)",
            PayloadMode::CompleteQuaternion => "32..=40 (complete quaternion)",
            PayloadMode::OrientationQuaternion => "20 (orientation quaternion)",
            PayloadMode::RateQuantities => "28..=40 (rate quantities)",
        }
    }
}

/// One decoded notification, in the device's own units (for exact round trips).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Payload {
    ExtendedQuaternion {
        timestamp_us: u32,
        q_wxyz: [f32; 4],
        free_acc_mps2: [f32; 3],
        status: u16,
        clip_count_acc: u8,
        clip_count_gyr: u8,
    },
    CompleteQuaternion {
        timestamp_us: u32,
        q_wxyz: [f32; 4],
        free_acc_mps2: [f32; 3],
    },
    OrientationQuaternion {
        timestamp_us: u32,
        q_wxyz: [f32; 4],
    },
    RateQuantities {
        timestamp_us: u32,
        acc_mps2: [f32; 3],
        gyro_dps: [f32; 3],
    },
}

impl Payload {
    pub fn mode(&self) -> PayloadMode {
        match self {
            Payload::ExtendedQuaternion { .. } => PayloadMode::ExtendedQuaternion,
            Payload::CompleteQuaternion { .. } => PayloadMode::CompleteQuaternion,
            Payload::OrientationQuaternion { .. } => PayloadMode::OrientationQuaternion,
            Payload::RateQuantities { .. } => PayloadMode::RateQuantities,
        }
    }

    pub fn timestamp_us(&self) -> u32 {
        match *self {
            Payload::ExtendedQuaternion { timestamp_us, .. }
            | Payload::CompleteQuaternion { timestamp_us, .. }
            | Payload::OrientationQuaternion { timestamp_us, .. }
            | Payload::RateQuantities { timestamp_us, .. } => timestamp_us,
        }
    }

    /// Convert to the shared sample (SI units); `device_time_s` is left to the caller,
    /// who unwraps the 32-bit clock.
    pub fn to_sample(&self) -> Result<DeviceSample, DecodeError> {
        let q = |q: [f32; 4]| -> Result<Quat, DecodeError> {
            Ok(Quat::new(
                finite(DEVICE, "qw", q[0])?,
                finite(DEVICE, "qx", q[1])?,
                finite(DEVICE, "qy", q[2])?,
                finite(DEVICE, "qz", q[3])?,
            ))
        };
        let v = |v: [f32; 3], field: &'static str, scale: f64| -> Result<[f64; 3], DecodeError> {
            Ok([
                finite(DEVICE, field, v[0])? * scale,
                finite(DEVICE, field, v[1])? * scale,
                finite(DEVICE, field, v[2])? * scale,
            ])
        };
        let mut s = DeviceSample::default();
        match *self {
            Payload::ExtendedQuaternion {
                q_wxyz, free_acc_mps2, ..
            }
            | Payload::CompleteQuaternion {
                q_wxyz, free_acc_mps2, ..
            } => {
                s.q_world_from_sensor = Some(q(q_wxyz)?);
                s.free_acc_world_mps2 = Some(v(free_acc_mps2, "free_acc", 1.0)?);
            }
            Payload::OrientationQuaternion { q_wxyz, .. } => s.q_world_from_sensor = Some(q(q_wxyz)?),
            Payload::RateQuantities { acc_mps2, gyro_dps, .. } => {
                s.acc_sensor_mps2 = Some(v(acc_mps2, "acc", 1.0)?);
                s.gyro_sensor_radps = Some(v(gyro_dps, "gyro", RAD_PER_DEG)?);
            }
        }
        Ok(s)
    }
}

/// Decode one payload notification of the given mode.
pub fn decode(mode: PayloadMode, bytes: &[u8]) -> Result<Payload, DecodeError> {
    if bytes.len() < mode.payload_len() || bytes.len() > mode.max_len() {
        return Err(DecodeError::Length {
            device: DEVICE,
            expected: mode.expected(),
            found: bytes.len(),
        });
    }
    let short = || DecodeError::Length {
        device: DEVICE,
        expected: mode.expected(),
        found: bytes.len(),
    };
    let mut r = Le::new(bytes);
    let timestamp_us = r.u32().ok_or_else(short)?;
    let mut f32s = |n: usize| -> Result<Vec<f32>, DecodeError> { (0..n).map(|_| r.f32().ok_or_else(short)).collect() };
    let payload = match mode {
        PayloadMode::OrientationQuaternion => {
            let q = f32s(4)?;
            Payload::OrientationQuaternion {
                timestamp_us,
                q_wxyz: [q[0], q[1], q[2], q[3]],
            }
        }
        PayloadMode::CompleteQuaternion => {
            let v = f32s(7)?;
            Payload::CompleteQuaternion {
                timestamp_us,
                q_wxyz: [v[0], v[1], v[2], v[3]],
                free_acc_mps2: [v[4], v[5], v[6]],
            }
        }
        PayloadMode::ExtendedQuaternion => {
            let v = f32s(7)?;
            let status = r.u16().ok_or_else(short)?;
            let clip_count_acc = r.u8().ok_or_else(short)?;
            let clip_count_gyr = r.u8().ok_or_else(short)?;
            Payload::ExtendedQuaternion {
                timestamp_us,
                q_wxyz: [v[0], v[1], v[2], v[3]],
                free_acc_mps2: [v[4], v[5], v[6]],
                status,
                clip_count_acc,
                clip_count_gyr,
            }
        }
        PayloadMode::RateQuantities => {
            let v = f32s(6)?;
            Payload::RateQuantities {
                timestamp_us,
                acc_mps2: [v[0], v[1], v[2]],
                gyro_dps: [v[3], v[4], v[5]],
            }
        }
    };
    Ok(payload)
}

/// Encode a payload exactly as the device sends it (no padding).
pub fn encode(payload: &Payload) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.mode().payload_len());
    out.extend_from_slice(&payload.timestamp_us().to_le_bytes());
    let mut put = |xs: &[f32]| xs.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    match payload {
        Payload::OrientationQuaternion { q_wxyz, .. } => put(q_wxyz),
        Payload::CompleteQuaternion {
            q_wxyz, free_acc_mps2, ..
        } => {
            put(q_wxyz);
            put(free_acc_mps2);
        }
        Payload::ExtendedQuaternion {
            q_wxyz,
            free_acc_mps2,
            status,
            clip_count_acc,
            clip_count_gyr,
            ..
        } => {
            put(q_wxyz);
            put(free_acc_mps2);
            out.extend_from_slice(&status.to_le_bytes());
            out.push(*clip_count_acc);
            out.push(*clip_count_gyr);
        }
        Payload::RateQuantities { acc_mps2, gyro_dps, .. } => {
            put(acc_mps2);
            put(gyro_dps);
        }
    }
    out
}

/// Write to [`MEASUREMENT_CONTROL`] to start streaming `mode`.
pub fn start_measurement(mode: PayloadMode) -> [u8; 3] {
    [0x01, 0x01, mode.id()]
}

/// Write to [`MEASUREMENT_CONTROL`] to stop streaming `mode`.
pub fn stop_measurement(mode: PayloadMode) -> [u8; 3] {
    [0x01, 0x00, mode.id()]
}

/// A rate the device does not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("movella-dot: output rate {0} Hz is not one of 1, 4, 10, 12, 15, 20, 30, 60 (120 for recording)")]
pub struct BadRate(pub u16);

/// Write to [`DEVICE_CONTROL`] to set the output rate. The visit index (byte 0, bit 0x10)
/// tells the device to apply only the output-rate field (bytes 24..26, u16 Hz); the
/// other fields are left zero and should be ignored. Prefer [`with_output_rate`] on the
/// value just read (what the `xdc` client does) when the current value is at hand.
pub fn set_output_rate(rate_hz: u16) -> Result<[u8; 32], BadRate> {
    with_output_rate([0u8; 32], rate_hz)
}

/// Read-modify-write form of [`set_output_rate`]: `current` is the 32 bytes read from
/// [`DEVICE_CONTROL`]; everything but the visit index and the rate is written back as read.
pub fn with_output_rate(current: [u8; 32], rate_hz: u16) -> Result<[u8; 32], BadRate> {
    if !OUTPUT_RATES_HZ.contains(&rate_hz) {
        return Err(BadRate(rate_hz));
    }
    let mut out = current;
    out[0] = 0x10;
    out[24..26].copy_from_slice(&rate_hz.to_le_bytes());
    Ok(out)
}

/// Stateful decoder: one payload mode, the 32-bit µs clock unwrapped across wraps.
#[derive(Debug, Clone)]
pub struct Decoder {
    mode: PayloadMode,
    clock: Unwrapper,
}

impl Decoder {
    pub fn new(mode: PayloadMode) -> Self {
        Decoder {
            mode,
            clock: Unwrapper::new(UnwrapSettings { modulus: 1 << 32 }),
        }
    }
}

impl NotificationDecoder for Decoder {
    fn push(&mut self, characteristic: Uuid, bytes: &[u8]) -> Result<Vec<DeviceSample>, DecodeError> {
        if characteristic != self.mode.characteristic() {
            return Err(DecodeError::UnknownCharacteristic {
                device: DEVICE,
                characteristic,
            });
        }
        let payload = decode(self.mode, bytes)?;
        let mut sample = payload.to_sample()?;
        let t_us = self.clock.update(u64::from(payload.timestamp_us()));
        sample.device_time_s = Some(t_us as f64 * 1e-6);
        Ok(vec![sample])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::hex;
    use proptest::prelude::*;

    // Hand-computed vectors (Python `struct.pack('<I4f', ...)` as an independent oracle)
    // from the layout in the DOT BLE specification / xsens_dot_server bleHandler.js.
    // Timestamp 0x12345678 µs, q = (0.5, 0.5, -0.5, 0.25).
    const ORIENTATION_Q: &str = "78563412 0000003f 0000003f 000000bf 0000803e";

    #[test]
    fn orientation_quaternion_vector() {
        let bytes = hex::parse(ORIENTATION_Q).unwrap();
        let p = decode(PayloadMode::OrientationQuaternion, &bytes).unwrap();
        assert_eq!(
            p,
            Payload::OrientationQuaternion {
                timestamp_us: 0x1234_5678,
                q_wxyz: [0.5, 0.5, -0.5, 0.25]
            }
        );
        assert_eq!(encode(&p), bytes);
    }

    // Complete quaternion: t = 1 000 000 µs, q = identity, free acc = (0.1, -0.2, 9.80665)
    // (f32 bit patterns 0x3dcccccd, 0xbe4ccccd, 0x411ce80a).
    const COMPLETE_Q: &str = "40420f00 0000803f 00000000 00000000 00000000 cdcccc3d cdcc4cbe 0ae81c41";

    #[test]
    fn complete_quaternion_vector() {
        let bytes = hex::parse(COMPLETE_Q).unwrap();
        let p = decode(PayloadMode::CompleteQuaternion, &bytes).unwrap();
        let Payload::CompleteQuaternion {
            timestamp_us,
            q_wxyz,
            free_acc_mps2,
        } = p
        else {
            panic!("wrong payload {p:?}")
        };
        assert_eq!(timestamp_us, 1_000_000);
        assert_eq!(q_wxyz, [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(free_acc_mps2, [0.1, -0.2, 9.80665]);
        // Padding up to the medium characteristic's 40 bytes is accepted.
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 8]);
        assert_eq!(decode(PayloadMode::CompleteQuaternion, &padded), Ok(p));
        assert_eq!(encode(&p), bytes);
    }

    // Rate quantities: t = 0, acc = (0, 0, 9.80665) m/s², gyro = (90, 0, -45) °/s.
    const RATE_Q: &str = "00000000 00000000 00000000 0ae81c41 0000b442 00000000 000034c2";

    #[test]
    fn rate_quantities_vector_in_si_units() {
        let bytes = hex::parse(RATE_Q).unwrap();
        let s = decode(PayloadMode::RateQuantities, &bytes)
            .unwrap()
            .to_sample()
            .unwrap();
        let acc = s.acc_sensor_mps2.unwrap();
        let gyro = s.gyro_sensor_radps.unwrap();
        assert!((acc[2] - 9.80665).abs() < 1e-6);
        assert!((gyro[0] - std::f64::consts::FRAC_PI_2).abs() < 1e-6);
        assert!((gyro[2] + std::f64::consts::FRAC_PI_4).abs() < 1e-6);
    }

    #[test]
    fn control_commands_match_example_server() {
        // bleHandler.js enableSensor: Buffer.from([0x01, SENSOR_ENABLE, measuringPayloadId]).
        assert_eq!(start_measurement(PayloadMode::CompleteQuaternion), [0x01, 0x01, 0x03]);
        assert_eq!(stop_measurement(PayloadMode::OrientationQuaternion), [0x01, 0x00, 0x05]);
        let rate = set_output_rate(60).unwrap();
        assert_eq!(rate[0], 0x10);
        assert_eq!(&rate[24..26], &[60, 0]);
        assert_eq!(set_output_rate(100), Err(BadRate(100)));
        let mut current = [0xaa; 32];
        current[8..17].copy_from_slice(b"Xsens DOT");
        let rmw = with_output_rate(current, 30).unwrap();
        assert_eq!(&rmw[8..17], b"Xsens DOT");
        assert_eq!((rmw[0], rmw[24], rmw[25]), (0x10, 30, 0));
    }

    #[test]
    fn wrong_lengths_and_characteristics_are_errors() {
        assert!(matches!(
            decode(PayloadMode::OrientationQuaternion, &[0; 19]),
            Err(DecodeError::Length { found: 19, .. })
        ));
        assert!(decode(PayloadMode::OrientationQuaternion, &[0; 21]).is_err());
        let mut d = Decoder::new(PayloadMode::OrientationQuaternion);
        assert!(matches!(
            d.push(MEDIUM_PAYLOAD, &[0; 20]),
            Err(DecodeError::UnknownCharacteristic { .. })
        ));
    }

    #[test]
    fn nan_quaternion_is_an_error() {
        let p = Payload::OrientationQuaternion {
            timestamp_us: 0,
            q_wxyz: [f32::NAN, 0.0, 0.0, 0.0],
        };
        assert!(matches!(p.to_sample(), Err(DecodeError::NotFinite { .. })));
    }

    #[test]
    fn clock_unwraps_across_the_32_bit_rollover() {
        let mut d = Decoder::new(PayloadMode::OrientationQuaternion);
        let at = |t: u32| {
            encode(&Payload::OrientationQuaternion {
                timestamp_us: t,
                q_wxyz: [1.0, 0.0, 0.0, 0.0],
            })
        };
        let t0 = d.push(SHORT_PAYLOAD, &at(u32::MAX - 16_666)).unwrap()[0]
            .device_time_s
            .unwrap();
        let t1 = d.push(SHORT_PAYLOAD, &at(1)).unwrap()[0].device_time_s.unwrap();
        assert!((t1 - t0 - 16_668e-6).abs() < 1e-9, "{t0} {t1}");
    }

    fn payload() -> impl Strategy<Value = Payload> {
        let f = proptest::num::f32::ANY;
        prop_oneof![
            (any::<u32>(), [f, f, f, f]).prop_map(|(t, q)| Payload::OrientationQuaternion {
                timestamp_us: t,
                q_wxyz: q
            }),
            (any::<u32>(), [f, f, f, f], [f, f, f]).prop_map(|(t, q, a)| Payload::CompleteQuaternion {
                timestamp_us: t,
                q_wxyz: q,
                free_acc_mps2: a
            }),
            (
                any::<u32>(),
                [f, f, f, f],
                [f, f, f],
                any::<u16>(),
                any::<u8>(),
                any::<u8>()
            )
                .prop_map(|(t, q, a, s, ca, cg)| Payload::ExtendedQuaternion {
                    timestamp_us: t,
                    q_wxyz: q,
                    free_acc_mps2: a,
                    status: s,
                    clip_count_acc: ca,
                    clip_count_gyr: cg
                }),
            (any::<u32>(), [f, f, f], [f, f, f]).prop_map(|(t, a, g)| Payload::RateQuantities {
                timestamp_us: t,
                acc_mps2: a,
                gyro_dps: g
            }),
        ]
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80), mode in 0usize..4) {
            let mode = PayloadMode::ALL[mode];
            if let Ok(p) = decode(mode, &bytes) {
                let _ = p.to_sample();
            }
            let mut d = Decoder::new(mode);
            let _ = d.push(mode.characteristic(), &bytes);
        }

        #[test]
        fn encode_decode_round_trip(p in payload()) {
            let bytes = encode(&p);
            let back = decode(p.mode(), &bytes).unwrap();
            // Compare bit patterns so NaN payloads round-trip too.
            prop_assert_eq!(encode(&back), bytes);
        }
    }
}
