//! Nordic Thingy:52 motion service (firmware v2.x).
//!
//! Source of truth: Nordic's firmware `NordicSemiconductor/Nordic-Thingy52-FW`,
//! `include/ble_services/ble_tms.h` (packed structs, config limits) and
//! `source/modules/m_motion.c` (how the values are produced). See
//! `firmware-notes/thingy52.md`.
//!
//! - 0x0404 quaternion: `ble_tms_quat_t` = 4 × i32 (w, x, y, z), fixed point Q30
//!   (`m_motion.c` debug print divides by `1 << 30`).
//! - 0x0406 raw data: `ble_tms_raw_t` = 9 × i16. The firmware holds 16Q16 values and
//!   shifts them right by the integer bits: acc `>> 6` (Q6.10, g), gyro `>> 11` (Q11.5,
//!   °/s), compass `>> 12` (Q12.4, µT). So acc = raw/1024 g, gyro = raw/32 °/s,
//!   compass = raw/16 µT.
//! - 0x0401 configuration: `ble_tms_config_t` = u16 pedometer interval ms, u16
//!   temperature-compensation interval ms, u16 magnetometer-compensation interval ms,
//!   u16 motion processing frequency Hz, u8 wake-on-motion (9 bytes).

use crate::frames::Quat;

use super::{DecodeError, DeviceSample, Le, NotificationDecoder, RAD_PER_DEG, STANDARD_GRAVITY_MPS2, Uuid};

const DEVICE: &str = "thingy52";

/// Nordic's Thingy base UUID `EF68xxxx-9B35-4933-9B10-52FFA9740042`.
pub const BASE_UUID: u128 = 0xef68_0000_9b35_4933_9b10_52ff_a974_0042;
/// The configuration service (advertised by the Thingy).
pub const CONFIGURATION_SERVICE: Uuid = Uuid::with_short(BASE_UUID, 0x0100);
pub const MOTION_SERVICE: Uuid = Uuid::with_short(BASE_UUID, 0x0400);
pub const MOTION_CONFIG: Uuid = Uuid::with_short(BASE_UUID, 0x0401);
pub const QUATERNION: Uuid = Uuid::with_short(BASE_UUID, 0x0404);
pub const RAW_DATA: Uuid = Uuid::with_short(BASE_UUID, 0x0406);
pub const EULER: Uuid = Uuid::with_short(BASE_UUID, 0x0407);
pub const GRAVITY: Uuid = Uuid::with_short(BASE_UUID, 0x040a);

/// Default advertised name (user-changeable through the configuration service).
pub const DEFAULT_NAME: &str = "Thingy";

/// Limits of the configuration fields (`ble_tms.h`).
pub const INTERVAL_MS_RANGE: std::ops::RangeInclusive<u16> = 100..=5000;
pub const MOTION_FREQ_HZ_RANGE: std::ops::RangeInclusive<u16> = 1..=200;

const Q30: f64 = (1u64 << 30) as f64;

/// A 0x0404 notification: raw Q30 components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuaternionQ30 {
    pub w: i32,
    pub x: i32,
    pub y: i32,
    pub z: i32,
}

/// A 0x0406 notification: raw fixed-point counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawData {
    pub acc_q10: [i16; 3],
    pub gyro_q5: [i16; 3],
    pub compass_q4: [i16; 3],
}

/// The 0x0401 configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MotionConfig {
    pub pedometer_interval_ms: u16,
    pub temperature_compensation_interval_ms: u16,
    pub magnetometer_compensation_interval_ms: u16,
    pub motion_processing_freq_hz: u16,
    pub wake_on_motion: bool,
}

/// A configuration the firmware would refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("thingy52: {field} = {value} ms is outside 100..=5000 ms")]
    Interval { field: &'static str, value: u16 },
    #[error("thingy52: motion processing frequency {0} Hz is outside 1..=200 Hz")]
    Frequency(u16),
}

impl MotionConfig {
    /// The firmware's default (`MOTION_DEFAULT_CONFIG` in `m_motion.h`): 10 Hz motion
    /// processing.
    pub const FIRMWARE_DEFAULT: MotionConfig = MotionConfig {
        pedometer_interval_ms: 1000,
        temperature_compensation_interval_ms: 500,
        magnetometer_compensation_interval_ms: 500,
        motion_processing_freq_hz: 10,
        wake_on_motion: true,
    };

    /// Firmware limits from `ble_tms.h` (`BLE_TMS_CONFIG_*_MIN/MAX`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("pedometer interval", self.pedometer_interval_ms),
            (
                "temperature compensation interval",
                self.temperature_compensation_interval_ms,
            ),
            (
                "magnetometer compensation interval",
                self.magnetometer_compensation_interval_ms,
            ),
        ] {
            if !INTERVAL_MS_RANGE.contains(&value) {
                return Err(ConfigError::Interval { field, value });
            }
        }
        if !MOTION_FREQ_HZ_RANGE.contains(&self.motion_processing_freq_hz) {
            return Err(ConfigError::Frequency(self.motion_processing_freq_hz));
        }
        Ok(())
    }

    /// This config with another motion processing frequency (the rate of the quaternion
    /// and raw notifications).
    pub fn with_motion_freq_hz(self, hz: u16) -> Self {
        MotionConfig {
            motion_processing_freq_hz: hz,
            ..self
        }
    }
}

/// Decode 0x0404.
pub fn decode_quaternion(bytes: &[u8]) -> Result<QuaternionQ30, DecodeError> {
    let err = || DecodeError::Length {
        device: DEVICE,
        expected: "16 (quaternion)",
        found: bytes.len(),
    };
    if bytes.len() != 16 {
        return Err(err());
    }
    let mut r = Le::new(bytes);
    Ok(QuaternionQ30 {
        w: r.i32().ok_or_else(err)?,
        x: r.i32().ok_or_else(err)?,
        y: r.i32().ok_or_else(err)?,
        z: r.i32().ok_or_else(err)?,
    })
}

pub fn encode_quaternion(q: &QuaternionQ30) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, c) in [q.w, q.x, q.y, q.z].iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&c.to_le_bytes());
    }
    out
}

/// Decode 0x0406.
pub fn decode_raw(bytes: &[u8]) -> Result<RawData, DecodeError> {
    if bytes.len() != 18 {
        return Err(DecodeError::Length {
            device: DEVICE,
            expected: "18 (raw data)",
            found: bytes.len(),
        });
    }
    let w = |i: usize| i16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]);
    Ok(RawData {
        acc_q10: [w(0), w(1), w(2)],
        gyro_q5: [w(3), w(4), w(5)],
        compass_q4: [w(6), w(7), w(8)],
    })
}

pub fn encode_raw(raw: &RawData) -> [u8; 18] {
    let mut out = [0u8; 18];
    for (i, c) in raw
        .acc_q10
        .iter()
        .chain(&raw.gyro_q5)
        .chain(&raw.compass_q4)
        .enumerate()
    {
        out[2 * i..2 * i + 2].copy_from_slice(&c.to_le_bytes());
    }
    out
}

/// Decode a 0x0401 read.
pub fn decode_config(bytes: &[u8]) -> Result<MotionConfig, DecodeError> {
    let err = || DecodeError::Length {
        device: DEVICE,
        expected: "9 (motion configuration)",
        found: bytes.len(),
    };
    if bytes.len() != 9 {
        return Err(err());
    }
    let mut r = Le::new(bytes);
    Ok(MotionConfig {
        pedometer_interval_ms: r.u16().ok_or_else(err)?,
        temperature_compensation_interval_ms: r.u16().ok_or_else(err)?,
        magnetometer_compensation_interval_ms: r.u16().ok_or_else(err)?,
        motion_processing_freq_hz: r.u16().ok_or_else(err)?,
        wake_on_motion: r.u8().ok_or_else(err)? != 0,
    })
}

/// Bytes to write to 0x0401 (validated first: the firmware asserts on a bad length).
pub fn encode_config(config: &MotionConfig) -> Result<[u8; 9], ConfigError> {
    config.validate()?;
    let mut out = [0u8; 9];
    out[0..2].copy_from_slice(&config.pedometer_interval_ms.to_le_bytes());
    out[2..4].copy_from_slice(&config.temperature_compensation_interval_ms.to_le_bytes());
    out[4..6].copy_from_slice(&config.magnetometer_compensation_interval_ms.to_le_bytes());
    out[6..8].copy_from_slice(&config.motion_processing_freq_hz.to_le_bytes());
    out[8] = u8::from(config.wake_on_motion);
    Ok(out)
}

impl QuaternionQ30 {
    pub fn to_quat(&self) -> Quat {
        Quat::new(
            f64::from(self.w) / Q30,
            f64::from(self.x) / Q30,
            f64::from(self.y) / Q30,
            f64::from(self.z) / Q30,
        )
    }

    /// Nearest Q30 encoding of a quaternion whose components lie in [-2, 2).
    pub fn from_quat(q: Quat) -> Self {
        let c = |v: f64| (v * Q30).round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
        QuaternionQ30 {
            w: c(q.w),
            x: c(q.x),
            y: c(q.y),
            z: c(q.z),
        }
    }
}

impl RawData {
    pub fn to_sample(&self) -> DeviceSample {
        let scale = |raw: [i16; 3], s: f64| raw.map(|c| f64::from(c) * s);
        DeviceSample {
            acc_sensor_mps2: Some(scale(self.acc_q10, STANDARD_GRAVITY_MPS2 / 1024.0)),
            gyro_sensor_radps: Some(scale(self.gyro_q5, RAD_PER_DEG / 32.0)),
            mag_sensor_ut: Some(scale(self.compass_q4, 1.0 / 16.0)),
            ..DeviceSample::default()
        }
    }

    /// Nearest encoding of SI values (saturating like the firmware's overflow limits).
    pub fn from_si(acc_mps2: [f64; 3], gyro_radps: [f64; 3], mag_ut: [f64; 3]) -> Self {
        let q = |v: [f64; 3], per_unit: f64| {
            v.map(|x| (x * per_unit).round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16)
        };
        RawData {
            acc_q10: q(acc_mps2, 1024.0 / STANDARD_GRAVITY_MPS2),
            gyro_q5: q(gyro_radps, 32.0 / RAD_PER_DEG),
            compass_q4: q(mag_ut, 16.0),
        }
    }
}

/// Stateful decoder: reads the quaternion and raw-data characteristics. The Thingy sends
/// no timestamp, so `device_time_s` stays `None` (use the receive time).
#[derive(Debug, Clone, Default)]
pub struct Decoder;

impl NotificationDecoder for Decoder {
    fn push(&mut self, characteristic: Uuid, bytes: &[u8]) -> Result<Vec<DeviceSample>, DecodeError> {
        if characteristic == QUATERNION {
            let q = decode_quaternion(bytes)?;
            Ok(vec![DeviceSample {
                q_world_from_sensor: Some(q.to_quat()),
                ..DeviceSample::default()
            }])
        } else if characteristic == RAW_DATA {
            Ok(vec![decode_raw(bytes)?.to_sample()])
        } else {
            Err(DecodeError::UnknownCharacteristic {
                device: DEVICE,
                characteristic,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::hex;
    use proptest::prelude::*;

    #[test]
    fn uuids() {
        assert_eq!(MOTION_SERVICE.to_string(), "ef680400-9b35-4933-9b10-52ffa9740042");
        assert_eq!(QUATERNION.to_string(), "ef680404-9b35-4933-9b10-52ffa9740042");
        assert_eq!(RAW_DATA.to_string(), "ef680406-9b35-4933-9b10-52ffa9740042");
    }

    /// Hand-computed from `ble_tms_quat_t` (4 × int32 LE) and Q30: w = 2^30 = 1.0 →
    /// `00000040`; x = −2^29 = −0.5 → `000000e0`; y = 0; z = 2^28 = 0.25 → `00000010`.
    #[test]
    fn quaternion_vector() {
        let bytes = hex::parse("00000040 000000e0 00000000 00000010").unwrap();
        let q = decode_quaternion(&bytes).unwrap();
        assert_eq!(q.to_quat(), Quat::new(1.0, -0.5, 0.0, 0.25));
        assert_eq!(encode_quaternion(&q).as_slice(), bytes.as_slice());
    }

    /// Hand-computed from `m_motion.c`: 1 g in 16Q16 is 0x10000; `>> 6` = 1024 = `0004`;
    /// 90 °/s = 0x5a0000 `>> 11` = 2880 = `400b`; 40 µT = 0x280000 `>> 12` = 640 = `8002`;
    /// −1 g → −1024 = `00fc`.
    #[test]
    fn raw_vector() {
        let bytes = hex::parse("0000 00fc 0004 400b 0000 0000 8002 0000 0000").unwrap();
        let raw = decode_raw(&bytes).unwrap();
        assert_eq!(raw.acc_q10, [0, -1024, 1024]);
        let s = raw.to_sample();
        let acc = s.acc_sensor_mps2.unwrap();
        assert!((acc[1] + STANDARD_GRAVITY_MPS2).abs() < 1e-12 && (acc[2] - STANDARD_GRAVITY_MPS2).abs() < 1e-12);
        assert!((s.gyro_sensor_radps.unwrap()[0] - 90.0 * RAD_PER_DEG).abs() < 1e-12);
        assert_eq!(s.mag_sensor_ut.unwrap(), [40.0, 0.0, 0.0]);
        assert_eq!(encode_raw(&raw).as_slice(), bytes.as_slice());
    }

    /// `ble_tms_config_t` packed: 1000 ms (`e803`), 500 ms (`f401`), 500 ms, 100 Hz
    /// (`6400`), wake-on-motion 1.
    #[test]
    fn config_vector_and_limits() {
        let config = MotionConfig::FIRMWARE_DEFAULT.with_motion_freq_hz(100);
        let bytes = encode_config(&config).unwrap();
        assert_eq!(hex::format(&bytes), "e803f401f401640001");
        assert_eq!(decode_config(&bytes), Ok(config));
        assert_eq!(
            encode_config(&config.with_motion_freq_hz(250)),
            Err(ConfigError::Frequency(250))
        );
        assert!(
            encode_config(&MotionConfig {
                pedometer_interval_ms: 50,
                ..config
            })
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode_quaternion(&bytes);
            let _ = decode_raw(&bytes);
            let _ = decode_config(&bytes);
            let mut d = Decoder;
            let _ = d.push(QUATERNION, &bytes);
            let _ = d.push(RAW_DATA, &bytes);
        }

        #[test]
        fn raw_round_trip(a in any::<[i16; 3]>(), g in any::<[i16; 3]>(), m in any::<[i16; 3]>()) {
            let raw = RawData { acc_q10: a, gyro_q5: g, compass_q4: m };
            prop_assert_eq!(decode_raw(&encode_raw(&raw)).unwrap(), raw);
            let s = raw.to_sample();
            let back = RawData::from_si(s.acc_sensor_mps2.unwrap(), s.gyro_sensor_radps.unwrap(), s.mag_sensor_ut.unwrap());
            prop_assert_eq!(back, raw);
        }

        #[test]
        fn quaternion_round_trip(c in any::<[i32; 4]>()) {
            let q = QuaternionQ30 { w: c[0], x: c[1], y: c[2], z: c[3] };
            prop_assert_eq!(decode_quaternion(&encode_quaternion(&q)).unwrap(), q);
            prop_assert_eq!(QuaternionQ30::from_quat(q.to_quat()), q);
        }
    }
}
