//! The open IMU GATT profile: our own profile for DIY sensors (ESP32, nRF52 boards).
//! The normative description is `firmware-notes/open-profile.md`; this module is its
//! reference decoder/encoder. A reference firmware is in `firmware-notes/open-imu-firmware/`.
//!
//! Data packet, version 1 (little-endian), on the DATA characteristic (notify):
//!
//! | offset | type | field |
//! |---|---|---|
//! | 0 | u8  | profile major version (1) |
//! | 1 | u8  | kind: 1 quaternion, 2 IMU 6D, 3 IMU 9D |
//! | 2 | u16 | sequence number, +1 per packet, wraps (drop detection) |
//! | 4 | u32 | device time, µs since boot, wraps after 2³² µs ≈ 71.6 min |
//! | 8 | …   | payload |
//!
//! Payloads: quaternion = 4 × i16 Q14 (w, x, y, z; `q_world_from_sensor`, z up) → 16 bytes;
//! IMU 6D = acc 3 × i16 (1/2048 g) + gyro 3 × i16 (1/32 °/s) → 20 bytes (fits the default
//! ATT MTU); IMU 9D = IMU 6D + mag 3 × i16 (1/16 µT) → 26 bytes (needs ATT MTU ≥ 29).
//! Evolution rule: a new minor revision may only append fields, so decoders accept
//! packets longer than the kind's size and ignore the tail; an incompatible change bumps
//! the major version, which old decoders refuse.

use crate::frames::Quat;

use super::{
    DecodeError, DeviceSample, Le, NotificationDecoder, RAD_PER_DEG, STANDARD_GRAVITY_MPS2, UnwrapSettings, Unwrapper,
    Uuid,
};

const DEVICE: &str = "open-imu";

/// Base UUID `4f70xxxx-656e-494d-5500-747769737463` ("Op…en IM U\0 twistc").
pub const BASE_UUID: u128 = 0x4f70_0000_656e_494d_5500_7477_6973_7463;
pub const SERVICE: Uuid = Uuid::with_short(BASE_UUID, 0x0001);
/// Notify: data packets.
pub const DATA: Uuid = Uuid::with_short(BASE_UUID, 0x0002);
/// Read/write: [`Config`].
pub const CONFIG: Uuid = Uuid::with_short(BASE_UUID, 0x0003);
/// Read: [`Info`].
pub const INFO: Uuid = Uuid::with_short(BASE_UUID, 0x0004);

/// Advertised name prefix recommended for firmware (scanning also matches the service).
pub const NAME_PREFIX: &str = "OpenIMU";

pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 8;

/// Scale factors of version 1.
pub const QUAT_COUNTS_PER_UNIT: f64 = 16384.0;
pub const ACC_COUNTS_PER_G: f64 = 2048.0;
pub const GYRO_COUNTS_PER_DPS: f64 = 32.0;
pub const MAG_COUNTS_PER_UT: f64 = 16.0;

/// Rates a firmware should offer (Hz); the config may ask for any of them.
pub const RATES_HZ: &[u16] = &[25, 50, 100, 200];

/// What a data packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Quaternion = 1,
    Imu6 = 2,
    Imu9 = 3,
}

impl Kind {
    pub fn from_u8(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Quaternion),
            2 => Some(Kind::Imu6),
            3 => Some(Kind::Imu9),
            _ => None,
        }
    }

    /// Packet length (header included) in version 1.
    pub fn packet_len(self) -> usize {
        HEADER_LEN
            + match self {
                Kind::Quaternion => 8,
                Kind::Imu6 => 12,
                Kind::Imu9 => 18,
            }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Quaternion => "at least 16 (quaternion packet)",
            Kind::Imu6 => "at least 20 (IMU 6D packet)",
            Kind::Imu9 => "at least 26 (IMU 9D packet)",
        }
    }
}

/// The payload in wire counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    Quaternion {
        q_wxyz_q14: [i16; 4],
    },
    Imu6 {
        acc: [i16; 3],
        gyro: [i16; 3],
    },
    Imu9 {
        acc: [i16; 3],
        gyro: [i16; 3],
        mag: [i16; 3],
    },
}

impl Data {
    pub fn kind(&self) -> Kind {
        match self {
            Data::Quaternion { .. } => Kind::Quaternion,
            Data::Imu6 { .. } => Kind::Imu6,
            Data::Imu9 { .. } => Kind::Imu9,
        }
    }
}

/// One data packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    pub sequence: u16,
    pub device_time_us: u32,
    pub data: Data,
}

/// Decode one data packet.
pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
    let short = |expected| DecodeError::Length {
        device: DEVICE,
        expected,
        found: bytes.len(),
    };
    let mut r = Le::new(bytes);
    let version = r.u8().ok_or_else(|| short("at least 8 (header)"))?;
    if version != VERSION {
        return Err(DecodeError::Unsupported {
            device: DEVICE,
            what: "profile version",
            found: u32::from(version),
            supported: "1",
        });
    }
    let kind_byte = r.u8().ok_or_else(|| short("at least 8 (header)"))?;
    let kind = Kind::from_u8(kind_byte).ok_or(DecodeError::Unsupported {
        device: DEVICE,
        what: "packet kind",
        found: u32::from(kind_byte),
        supported: "1 (quaternion), 2 (IMU 6D), 3 (IMU 9D)",
    })?;
    if bytes.len() < kind.packet_len() {
        return Err(short(kind.expected()));
    }
    let err = || short(kind.expected());
    let sequence = r.u16().ok_or_else(err)?;
    let device_time_us = r.u32().ok_or_else(err)?;
    let mut i16s = |n: usize| -> Result<Vec<i16>, DecodeError> { (0..n).map(|_| r.i16().ok_or_else(err)).collect() };
    let data = match kind {
        Kind::Quaternion => {
            let q = i16s(4)?;
            Data::Quaternion {
                q_wxyz_q14: [q[0], q[1], q[2], q[3]],
            }
        }
        Kind::Imu6 => {
            let v = i16s(6)?;
            Data::Imu6 {
                acc: [v[0], v[1], v[2]],
                gyro: [v[3], v[4], v[5]],
            }
        }
        Kind::Imu9 => {
            let v = i16s(9)?;
            Data::Imu9 {
                acc: [v[0], v[1], v[2]],
                gyro: [v[3], v[4], v[5]],
                mag: [v[6], v[7], v[8]],
            }
        }
    };
    Ok(Packet {
        sequence,
        device_time_us,
        data,
    })
}

/// Encode one data packet (version 1).
pub fn encode(packet: &Packet) -> Vec<u8> {
    let kind = packet.data.kind();
    let mut out = Vec::with_capacity(kind.packet_len());
    out.push(VERSION);
    out.push(kind as u8);
    out.extend_from_slice(&packet.sequence.to_le_bytes());
    out.extend_from_slice(&packet.device_time_us.to_le_bytes());
    let words: Vec<i16> = match packet.data {
        Data::Quaternion { q_wxyz_q14 } => q_wxyz_q14.to_vec(),
        Data::Imu6 { acc, gyro } => acc.iter().chain(&gyro).copied().collect(),
        Data::Imu9 { acc, gyro, mag } => acc.iter().chain(&gyro).chain(&mag).copied().collect(),
    };
    words.iter().for_each(|w| out.extend_from_slice(&w.to_le_bytes()));
    out
}

fn to_counts(v: f64, per_unit: f64) -> i16 {
    (v * per_unit).round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
}

impl Data {
    /// Quantise SI values into a 6D or 9D payload (saturating at the ends of the range).
    pub fn imu_from_si(acc_mps2: [f64; 3], gyro_radps: [f64; 3], mag_ut: Option<[f64; 3]>) -> Data {
        let acc = acc_mps2.map(|a| to_counts(a / STANDARD_GRAVITY_MPS2, ACC_COUNTS_PER_G));
        let gyro = gyro_radps.map(|g| to_counts(g / RAD_PER_DEG, GYRO_COUNTS_PER_DPS));
        match mag_ut {
            None => Data::Imu6 { acc, gyro },
            Some(m) => Data::Imu9 {
                acc,
                gyro,
                mag: m.map(|x| to_counts(x, MAG_COUNTS_PER_UT)),
            },
        }
    }

    /// Quantise a quaternion (components within [-2, 2)).
    pub fn quaternion_from(q: Quat) -> Data {
        Data::Quaternion {
            q_wxyz_q14: q.to_array().map(|c| to_counts(c, QUAT_COUNTS_PER_UNIT)),
        }
    }

    /// The shared sample (without time or sequence: the decoder fills them in).
    pub fn to_sample(&self) -> DeviceSample {
        let v = |c: [i16; 3], per: f64, scale: f64| c.map(|x| f64::from(x) / per * scale);
        let mut s = DeviceSample::default();
        match *self {
            Data::Quaternion { q_wxyz_q14: q } => {
                s.q_world_from_sensor = Some(Quat::from_array(q.map(|c| f64::from(c) / QUAT_COUNTS_PER_UNIT)));
            }
            Data::Imu6 { acc, gyro } => {
                s.acc_sensor_mps2 = Some(v(acc, ACC_COUNTS_PER_G, STANDARD_GRAVITY_MPS2));
                s.gyro_sensor_radps = Some(v(gyro, GYRO_COUNTS_PER_DPS, RAD_PER_DEG));
            }
            Data::Imu9 { acc, gyro, mag } => {
                s.acc_sensor_mps2 = Some(v(acc, ACC_COUNTS_PER_G, STANDARD_GRAVITY_MPS2));
                s.gyro_sensor_radps = Some(v(gyro, GYRO_COUNTS_PER_DPS, RAD_PER_DEG));
                s.mag_sensor_ut = Some(v(mag, MAG_COUNTS_PER_UT, 1.0));
            }
        }
        s
    }
}

/// The CONFIG characteristic (4 bytes): version, kind to stream, rate (Hz, u16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub kind: Kind,
    pub rate_hz: u16,
}

pub fn encode_config(config: &Config) -> [u8; 4] {
    let r = config.rate_hz.to_le_bytes();
    [VERSION, config.kind as u8, r[0], r[1]]
}

pub fn decode_config(bytes: &[u8]) -> Result<Config, DecodeError> {
    let [version, kind, r0, r1, ..] = *bytes else {
        return Err(DecodeError::Length {
            device: DEVICE,
            expected: "at least 4 (config)",
            found: bytes.len(),
        });
    };
    if version != VERSION {
        return Err(DecodeError::Unsupported {
            device: DEVICE,
            what: "config version",
            found: u32::from(version),
            supported: "1",
        });
    }
    let kind = Kind::from_u8(kind).ok_or(DecodeError::Unsupported {
        device: DEVICE,
        what: "packet kind",
        found: u32::from(kind),
        supported: "1, 2, 3",
    })?;
    Ok(Config {
        kind,
        rate_hz: u16::from_le_bytes([r0, r1]),
    })
}

/// The INFO characteristic (4 bytes): version, capability bits (bit k−1 set = kind k
/// supported), maximum rate (Hz, u16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    pub version: u8,
    pub capabilities: u8,
    pub max_rate_hz: u16,
}

impl Info {
    pub fn supports(&self, kind: Kind) -> bool {
        self.capabilities & (1 << (kind as u8 - 1)) != 0
    }
}

pub fn decode_info(bytes: &[u8]) -> Result<Info, DecodeError> {
    let [version, capabilities, r0, r1, ..] = *bytes else {
        return Err(DecodeError::Length {
            device: DEVICE,
            expected: "at least 4 (info)",
            found: bytes.len(),
        });
    };
    Ok(Info {
        version,
        capabilities,
        max_rate_hz: u16::from_le_bytes([r0, r1]),
    })
}

pub fn encode_info(info: &Info) -> [u8; 4] {
    let r = info.max_rate_hz.to_le_bytes();
    [info.version, info.capabilities, r[0], r[1]]
}

/// Stateful decoder: unwraps device time and sequence, counts dropped packets.
#[derive(Debug, Clone)]
pub struct Decoder {
    clock: Unwrapper,
    last_sequence: Option<u16>,
    sequence: u64,
    dropped: u64,
    restarts: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            clock: Unwrapper::new(UnwrapSettings { modulus: 1 << 32 }),
            last_sequence: None,
            sequence: 0,
            dropped: 0,
            restarts: 0,
        }
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Times the sequence number jumped backwards (a firmware restart or reconnection).
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Decode a packet and update the counters.
    pub fn push_packet(&mut self, bytes: &[u8]) -> Result<DeviceSample, DecodeError> {
        let packet = decode(bytes)?;
        match self.last_sequence {
            None => self.sequence = u64::from(packet.sequence),
            Some(last) => {
                let step = packet.sequence.wrapping_sub(last);
                if step == 0 || step >= 0x8000 {
                    // Repeated or backwards: the device restarted its counter.
                    self.restarts += 1;
                    self.sequence += 1;
                } else {
                    self.dropped += u64::from(step - 1);
                    self.sequence += u64::from(step);
                }
            }
        }
        self.last_sequence = Some(packet.sequence);
        let mut sample = packet.data.to_sample();
        sample.sequence = Some(self.sequence);
        sample.device_time_s = Some(self.clock.update(u64::from(packet.device_time_us)) as f64 * 1e-6);
        Ok(sample)
    }
}

impl NotificationDecoder for Decoder {
    fn push(&mut self, characteristic: Uuid, bytes: &[u8]) -> Result<Vec<DeviceSample>, DecodeError> {
        if characteristic != DATA {
            return Err(DecodeError::UnknownCharacteristic {
                device: DEVICE,
                characteristic,
            });
        }
        Ok(vec![self.push_packet(bytes)?])
    }

    fn dropped(&self) -> Option<u64> {
        Some(self.dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::hex;
    use proptest::prelude::*;

    /// Worked by hand from the table in `firmware-notes/open-profile.md`:
    /// version 1, kind 2, seq 0x0102, t = 0x000f4240 µs (1 s), acc (0, 0, 2048 = 1 g),
    /// gyro (32 = 1 °/s, −32, 0).
    #[test]
    fn imu6_vector() {
        let bytes = hex::parse("01 02 0201 40420f00 0000 0000 0008 2000 e0ff 0000").unwrap();
        let p = decode(&bytes).unwrap();
        assert_eq!(
            p,
            Packet {
                sequence: 0x0102,
                device_time_us: 1_000_000,
                data: Data::Imu6 {
                    acc: [0, 0, 2048],
                    gyro: [32, -32, 0]
                }
            }
        );
        assert_eq!(encode(&p), bytes);
        let s = p.data.to_sample();
        assert!((s.acc_sensor_mps2.unwrap()[2] - STANDARD_GRAVITY_MPS2).abs() < 1e-12);
        assert!((s.gyro_sensor_radps.unwrap()[1] + RAD_PER_DEG).abs() < 1e-12);
    }

    /// Quaternion (0.5, −0.5, 0.5, −0.5): 8192 = `0020`, −8192 = `00e0`.
    #[test]
    fn quaternion_vector() {
        let bytes = hex::parse("01 01 0000 00000000 0020 00e0 0020 00e0").unwrap();
        let p = decode(&bytes).unwrap();
        assert_eq!(
            p.data.to_sample().q_world_from_sensor,
            Some(Quat::new(0.5, -0.5, 0.5, -0.5))
        );
        assert_eq!(encode(&p), bytes);
    }

    #[test]
    fn versions_kinds_and_lengths_are_checked() {
        assert!(matches!(
            decode(&hex::parse("02 01 0000 00000000 0020 00e0 0020 00e0").unwrap()),
            Err(DecodeError::Unsupported {
                what: "profile version",
                ..
            })
        ));
        assert!(matches!(
            decode(&[1, 9, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::Unsupported { .. })
        ));
        assert!(matches!(
            decode(&[1, 3, 0, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::Length { .. })
        ));
        // A future minor revision appends fields: still decodes.
        let mut longer = hex::parse("01 01 0000 00000000 0020 00e0 0020 00e0").unwrap();
        longer.extend_from_slice(&[0xaa, 0xbb]);
        assert!(decode(&longer).is_ok());
    }

    #[test]
    fn config_and_info_round_trip() {
        let c = Config {
            kind: Kind::Imu9,
            rate_hz: 100,
        };
        assert_eq!(encode_config(&c), [1, 3, 100, 0]);
        assert_eq!(decode_config(&encode_config(&c)), Ok(c));
        let info = Info {
            version: 1,
            capabilities: 0b011,
            max_rate_hz: 200,
        };
        let back = decode_info(&encode_info(&info)).unwrap();
        assert!(back.supports(Kind::Quaternion) && back.supports(Kind::Imu6) && !back.supports(Kind::Imu9));
    }

    #[test]
    fn dropped_packets_and_wraps_are_counted() {
        let mut d = Decoder::new();
        let packet = |seq: u16, t: u32| {
            encode(&Packet {
                sequence: seq,
                device_time_us: t,
                data: Data::Imu6 {
                    acc: [0, 0, 2048],
                    gyro: [0; 3],
                },
            })
        };
        let a = d.push(DATA, &packet(65_534, u32::MAX - 9_999)).unwrap()[0];
        let b = d.push(DATA, &packet(65_535, 1)).unwrap()[0];
        // Two packets lost across the sequence wrap.
        let c = d.push(DATA, &packet(2, 20_001)).unwrap()[0];
        assert_eq!(d.dropped(), Some(2));
        assert_eq!(c.sequence.unwrap() - a.sequence.unwrap(), 4);
        assert!((b.device_time_s.unwrap() - a.device_time_s.unwrap() - 0.010_001).abs() < 1e-9);
        assert!((c.device_time_s.unwrap() - b.device_time_s.unwrap() - 0.020).abs() < 1e-9);
        // A restart is not counted as 65 000 drops.
        d.push(DATA, &packet(0, 30_000)).unwrap();
        assert_eq!(d.dropped(), Some(2));
        assert_eq!(d.restarts(), 1);
    }

    #[test]
    fn si_quantisation_saturates() {
        let d = Data::imu_from_si([1000.0, 0.0, STANDARD_GRAVITY_MPS2], [0.0; 3], None);
        assert_eq!(
            d,
            Data::Imu6 {
                acc: [i16::MAX, 0, 2048],
                gyro: [0; 3]
            }
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode(&bytes);
            let _ = decode_config(&bytes);
            let _ = decode_info(&bytes);
            let mut d = Decoder::new();
            let _ = d.push(DATA, &bytes);
        }

        #[test]
        fn round_trip(seq in any::<u16>(), t in any::<u32>(), w in any::<[i16; 9]>(), kind in 1u8..=3) {
            let data = match kind {
                1 => Data::Quaternion { q_wxyz_q14: [w[0], w[1], w[2], w[3]] },
                2 => Data::Imu6 { acc: [w[0], w[1], w[2]], gyro: [w[3], w[4], w[5]] },
                _ => Data::Imu9 { acc: [w[0], w[1], w[2]], gyro: [w[3], w[4], w[5]], mag: [w[6], w[7], w[8]] },
            };
            let p = Packet { sequence: seq, device_time_us: t, data };
            let bytes = encode(&p);
            prop_assert_eq!(bytes.len(), data.kind().packet_len());
            prop_assert_eq!(decode(&bytes).unwrap(), p);
        }
    }
}
