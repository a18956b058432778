//! BLE sensor protocols: one module per protocol, listed in one registry.
//!
//! Each protocol module owns its GATT UUIDs, a pure `decode(&[u8])` for every notification
//! it understands, an `encode` (for tests and simulated peripherals), command builders,
//! and hex test vectors with their sources. A stateful [`NotificationDecoder`] per kind
//! turns a stream of notifications into [`DeviceSample`]s (timestamp unwrapping, packet
//! re-assembly, drop counting) so everything above it is tested without hardware.
//! `simulate` turns a known motion into each kind's notifications (fixtures, `sim:KIND`);
//! `timing` turns jittery BLE receive times into smooth host-clock sample times.
//!
//! Pure: no I/O, no clock, no Bluetooth stack. Owns nothing about bodies: mounting is
//! *declared* in the registry (spec §2 `--mount` syntax) and applied by the body model.
//! Units: SI inside (m/s², rad/s, s); magnetic field in µT; quaternions Hamilton,
//! scalar first, `q_world_from_sensor`.

pub mod capture;
pub mod metamotion;
pub mod movella_dot;
pub mod open_imu;
pub mod phone;
pub mod registry;
pub mod sensor_logger;
pub mod simulate;
pub mod thingy52;
pub mod timing;
pub mod witmotion;

use std::fmt;

use crate::frames::{Quat, Vec3};

pub use registry::{DeviceInfo, DeviceKind, OutputKind};

/// Standard gravity (m/s²), used to convert accelerations reported in g.
pub const STANDARD_GRAVITY_MPS2: f64 = 9.80665;

/// Degrees per second → radians per second.
pub const RAD_PER_DEG: f64 = std::f64::consts::PI / 180.0;

/// A 128-bit Bluetooth UUID. Kept as a plain `u128` so the pure core needs no UUID crate;
/// `uuid::Uuid::from_u128(x.0)` converts it at the BLE edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub u128);

impl Uuid {
    /// The Bluetooth SIG base UUID `0000xxxx-0000-1000-8000-00805f9b34fb` with a 16-bit id.
    pub const fn from_u16_sig(short: u16) -> Uuid {
        Uuid(0x0000_0000_0000_1000_8000_0080_5f9b_34fb | ((short as u128) << 96))
    }

    /// A vendor base UUID with the 16-bit id placed in bits 96..112 (`xxxx` in
    /// `bbbbxxxx-…`), the way Movella, Nordic and MbientLab number their characteristics.
    pub const fn with_short(base: u128, short: u16) -> Uuid {
        Uuid((base & !(0xffff_u128 << 96)) | ((short as u128) << 96))
    }

    /// Parse the hyphenated form (case-insensitive).
    pub fn parse(s: &str) -> Option<Uuid> {
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || s.len() != 36 {
            return None;
        }
        u128::from_str_radix(&hex, 16).ok().map(Uuid)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = format!("{:032x}", self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// Why a notification could not be decoded. Every decoder returns one of these for any
/// input it does not understand; none panics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("{device}: notification of {found} bytes, expected {expected}")]
    Length {
        device: &'static str,
        expected: &'static str,
        found: usize,
    },
    #[error("{device}: unexpected header {found}, expected {expected}")]
    Header {
        device: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("{device}: unsupported {what} {found} (this program understands {supported})")]
    Unsupported {
        device: &'static str,
        what: &'static str,
        found: u32,
        supported: &'static str,
    },
    #[error("{device}: field `{field}` is not a finite number ({value})")]
    NotFinite {
        device: &'static str,
        field: &'static str,
        value: f32,
    },
    #[error("{device}: notification on characteristic {characteristic}, which this decoder does not read")]
    UnknownCharacteristic { device: &'static str, characteristic: Uuid },
}

/// One decoded measurement, shared by all devices. Each field is present only when the
/// device sent it; units are SI (magnetic field in µT, or arbitrary units where the
/// vendor gives none, see the module).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeviceSample {
    /// The device's own clock (s), unwrapped, counting from the device's epoch (often
    /// power-on). `None` for devices that send no time (then use the receive time).
    pub device_time_s: Option<f64>,
    /// Sequence number (unwrapped) for devices that count packets.
    pub sequence: Option<u64>,
    /// Specific force in the sensor frame (m/s²): about (0, 0, +9.81) lying still z up.
    pub acc_sensor_mps2: Option<Vec3>,
    /// Angular rate in the sensor frame (rad/s).
    pub gyro_sensor_radps: Option<Vec3>,
    /// Magnetic field in the sensor frame (µT unless the module says otherwise).
    pub mag_sensor_ut: Option<Vec3>,
    /// The device's own orientation estimate.
    pub q_world_from_sensor: Option<Quat>,
    /// Acceleration in the world frame with gravity removed (m/s²), where sent.
    pub free_acc_world_mps2: Option<Vec3>,
}

/// A stateful decoder for one connected device: feed it each notification (with the
/// characteristic it came from), get samples out. State covers timestamp unwrapping,
/// re-assembly of split packets and dropped-packet counting.
pub trait NotificationDecoder: Send {
    /// Decode one notification. A notification may hold zero, one or several samples.
    fn push(&mut self, characteristic: Uuid, bytes: &[u8]) -> Result<Vec<DeviceSample>, DecodeError>;

    /// Packets known to be lost so far (from sequence counters), if the protocol can tell.
    fn dropped(&self) -> Option<u64> {
        None
    }
}

/// Settings of a wrapping counter (device clocks and sequence numbers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnwrapSettings {
    /// Number of distinct raw values, e.g. 2³² for a u32 microsecond clock.
    pub modulus: u64,
}

/// Turns a counter that wraps (u16 sequence, u32 µs clock) into a monotone u64.
/// A raw value smaller than the previous one is taken as one wrap-around: a u32 µs clock
/// wraps every 71.6 min, so a session loses nothing as long as no gap is that long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unwrapper {
    settings: UnwrapSettings,
    last_raw: Option<u64>,
    wraps: u64,
}

impl Unwrapper {
    pub fn new(settings: UnwrapSettings) -> Self {
        Unwrapper {
            settings,
            last_raw: None,
            wraps: 0,
        }
    }

    /// Unwrap the next raw value.
    pub fn update(&mut self, raw: u64) -> u64 {
        let raw = raw % self.settings.modulus;
        if let Some(last) = self.last_raw
            && raw < last
        {
            self.wraps += 1;
        }
        self.last_raw = Some(raw);
        self.wraps * self.settings.modulus + raw
    }
}

/// Bounds-checked little-endian reader. Every read returns `None` past the end, so the
/// decoders cannot panic on short input (they check lengths first anyway).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Le<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Le<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Le { bytes, pos: 0 }
    }
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let end = self.pos.checked_add(N)?;
        let slice = self.bytes.get(self.pos..end)?;
        self.pos = end;
        slice.try_into().ok()
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }
    pub(crate) fn i16(&mut self) -> Option<i16> {
        self.take().map(i16::from_le_bytes)
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    pub(crate) fn i32(&mut self) -> Option<i32> {
        self.take().map(i32::from_le_bytes)
    }
    pub(crate) fn f32(&mut self) -> Option<f32> {
        self.take().map(f32::from_le_bytes)
    }
    pub(crate) fn f64(&mut self) -> Option<f64> {
        self.take().map(f64::from_le_bytes)
    }
}

/// Check a decoded float: NaN or infinity from a device is a decode error, not a sample.
pub(crate) fn finite(device: &'static str, field: &'static str, value: f32) -> Result<f64, DecodeError> {
    if value.is_finite() {
        Ok(f64::from(value))
    } else {
        Err(DecodeError::NotFinite { device, field, value })
    }
}

/// Hex helpers for test vectors and fixture files (`"55 61 0a"` or `"55610a"`).
pub mod hex {
    /// Parse hex bytes, ignoring spaces. `None` for odd length or a non-hex character.
    pub fn parse(s: &str) -> Option<Vec<u8>> {
        let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if !digits.len().is_multiple_of(2) {
            return None;
        }
        digits
            .chunks(2)
            .map(|pair| {
                let text = std::str::from_utf8(pair).ok()?;
                u8::from_str_radix(text, 16).ok()
            })
            .collect()
    }

    /// Lower-case hex without separators.
    pub fn format(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_display_and_parse_round_trip() {
        let u = Uuid(0x1517_2004_4947_11e9_8646_d663_bd87_3d93);
        assert_eq!(u.to_string(), "15172004-4947-11e9-8646-d663bd873d93");
        assert_eq!(Uuid::parse("15172004-4947-11E9-8646-D663BD873D93"), Some(u));
        assert_eq!(Uuid::parse("15172004494711e98646d663bd873d93"), None);
    }

    #[test]
    fn sig_and_vendor_short_uuids() {
        assert_eq!(
            Uuid::from_u16_sig(0x180f).to_string(),
            "0000180f-0000-1000-8000-00805f9b34fb"
        );
        let base = 0x1517_0000_4947_11e9_8646_d663_bd87_3d93;
        assert_eq!(
            Uuid::with_short(base, 0x2001).to_string(),
            "15172001-4947-11e9-8646-d663bd873d93"
        );
    }

    #[test]
    fn unwrapper_counts_wraps() {
        let mut u = Unwrapper::new(UnwrapSettings { modulus: 1 << 16 });
        assert_eq!(u.update(65_530), 65_530);
        assert_eq!(u.update(65_535), 65_535);
        assert_eq!(u.update(3), 65_536 + 3);
        assert_eq!(u.update(10), 65_536 + 10);
        assert_eq!(u.update(2), 2 * 65_536 + 2);
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        assert_eq!(hex::parse("55 61 0A"), Some(vec![0x55, 0x61, 0x0a]));
        assert_eq!(hex::format(&[0x55, 0x0a]), "550a");
        assert_eq!(hex::parse("556"), None);
        assert_eq!(hex::parse("zz"), None);
    }

    #[test]
    fn reader_stops_at_end() {
        let mut r = Le::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0201));
        assert_eq!(r.u16(), None);
        assert_eq!(r.u8(), Some(3));
        assert_eq!(r.u8(), None);
    }
}
