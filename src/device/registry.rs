//! The one list of supported sensor kinds.
//!
//! For each kind: its name (the spec's `sim:KIND`), how to recognise it while scanning,
//! what it streams, its rates, and how it is worn — the mounting in the spec's `--mount`
//! SPEC syntax (§2), matching `firmware-notes/<kind>.md`. The body model applies the
//! mounting; decoders never rotate anything.

use std::fmt;

use super::{NotificationDecoder, Uuid, metamotion, movella_dot, open_imu, phone, thingy52, witmotion};

/// A supported device kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceKind {
    MovellaDot,
    WitMotion,
    Thingy52,
    MetaMotion,
    OpenImu,
    /// A phone on the LAN (the `/phone` page or Sensor Logger's HTTP push), not Bluetooth.
    Phone,
}

/// What the device streams in the configuration this program uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Its own orientation estimate (`q_world_from_sensor`).
    Orientation,
    /// Accelerometer + gyroscope (+ magnetometer) for our own filter.
    RawImu,
    /// Raw IMU and the device's own orientation in the same stream.
    RawImuAndOrientation,
}

/// Everything the rest of the program needs to know about a kind.
#[derive(Debug, Clone, Copy)]
pub struct DeviceInfo {
    pub kind: DeviceKind,
    /// The name used on the command line (`sim:KIND`, spec §6).
    pub name: &'static str,
    pub vendor_model: &'static str,
    /// Advertised-name prefixes that identify the kind while scanning.
    pub name_prefixes: &'static [&'static str],
    /// Service UUIDs that identify the kind (advertised or, after connecting, present).
    pub service_uuids: &'static [Uuid],
    pub output: OutputKind,
    /// Streaming rates (Hz) this program can set.
    pub rates_hz: &'static [f64],
    pub default_rate_hz: f64,
    /// How the sensor frame sits on the body when worn as its firmware note says, in the
    /// spec's `--mount` SPEC syntax (two sensor axes with body directions).
    pub mount: &'static str,
    /// Whether `mount` was checked against the vendor's axis drawing (see the note).
    pub mount_confirmed: bool,
    /// The device sends its own clock (otherwise use the receive time).
    pub has_device_time: bool,
    /// The firmware note that explains wearing and connecting.
    pub firmware_note: &'static str,
}

const DEVICES: [DeviceInfo; 6] = [
    DeviceInfo {
        kind: DeviceKind::MovellaDot,
        name: "movella-dot",
        vendor_model: "Movella (Xsens) DOT",
        name_prefixes: movella_dot::ADVERTISED_NAMES,
        service_uuids: &[movella_dot::MEASUREMENT_SERVICE, movella_dot::CONFIGURATION_SERVICE],
        output: OutputKind::Orientation,
        rates_hz: &[10.0, 12.0, 15.0, 20.0, 30.0, 60.0],
        default_rate_hz: 60.0,
        mount: "+x:head,+z:out",
        mount_confirmed: false,
        has_device_time: true,
        firmware_note: "firmware-notes/movella-dot.md",
    },
    DeviceInfo {
        kind: DeviceKind::WitMotion,
        name: "witmotion",
        vendor_model: "WitMotion WT901BLECL / BWT901BLECL5.0 (BLE 5.0)",
        name_prefixes: witmotion::NAME_PREFIXES,
        service_uuids: &[witmotion::SERVICE],
        output: OutputKind::RawImuAndOrientation,
        rates_hz: &[10.0, 20.0, 50.0, 100.0],
        default_rate_hz: 50.0,
        mount: "+x:head,+z:out",
        mount_confirmed: true,
        has_device_time: false,
        firmware_note: "firmware-notes/witmotion.md",
    },
    DeviceInfo {
        kind: DeviceKind::Thingy52,
        name: "thingy52",
        vendor_model: "Nordic Thingy:52 (firmware 2.x)",
        name_prefixes: &[thingy52::DEFAULT_NAME],
        service_uuids: &[thingy52::CONFIGURATION_SERVICE, thingy52::MOTION_SERVICE],
        output: OutputKind::RawImu,
        rates_hz: &[10.0, 20.0, 50.0, 100.0],
        default_rate_hz: 50.0,
        mount: "+y:head,+z:out",
        mount_confirmed: false,
        has_device_time: false,
        firmware_note: "firmware-notes/thingy52.md",
    },
    DeviceInfo {
        kind: DeviceKind::MetaMotion,
        name: "metamotion",
        vendor_model: "MbientLab MetaMotion (MetaWear sensor fusion)",
        name_prefixes: metamotion::NAME_PREFIXES,
        service_uuids: &[metamotion::SERVICE],
        output: OutputKind::Orientation,
        rates_hz: &[metamotion::FUSION_RATE_HZ],
        default_rate_hz: metamotion::FUSION_RATE_HZ,
        mount: "+x:head,+z:out",
        mount_confirmed: false,
        has_device_time: false,
        firmware_note: "firmware-notes/metamotion.md",
    },
    DeviceInfo {
        kind: DeviceKind::OpenImu,
        name: "open-imu",
        vendor_model: "open GATT profile (DIY ESP32 / nRF52 firmware)",
        name_prefixes: &[open_imu::NAME_PREFIX],
        service_uuids: &[open_imu::SERVICE],
        output: OutputKind::RawImu,
        rates_hz: &[25.0, 50.0, 100.0, 200.0],
        default_rate_hz: 100.0,
        mount: "+y:head,+z:out",
        mount_confirmed: true,
        has_device_time: true,
        firmware_note: "firmware-notes/open-profile.md",
    },
    DeviceInfo {
        kind: DeviceKind::Phone,
        name: "phone",
        vendor_model: "a phone: the /phone page (DeviceOrientation) or Sensor Logger's HTTP push",
        // Not found by a Bluetooth scan: `twistcoach serve` receives it over the LAN.
        name_prefixes: &[],
        service_uuids: &[],
        output: OutputKind::Orientation,
        // Browsers fire deviceorientation at about 60 Hz; Sensor Logger's rate is set in the app.
        rates_hz: &[60.0],
        default_rate_hz: 60.0,
        // Worn upright, top edge toward the head, screen facing away from the body.
        mount: "+y:head,+z:out",
        // The axes are the W3C DeviceOrientation spec's (and Android's, see the note).
        mount_confirmed: true,
        has_device_time: true,
        firmware_note: "firmware-notes/phone.md",
    },
];

impl DeviceKind {
    pub const ALL: [DeviceKind; 6] = [
        DeviceKind::MovellaDot,
        DeviceKind::WitMotion,
        DeviceKind::Thingy52,
        DeviceKind::MetaMotion,
        DeviceKind::OpenImu,
        DeviceKind::Phone,
    ];

    /// The Bluetooth kinds (everything but the phone, which comes over the LAN).
    pub fn is_bluetooth(self) -> bool {
        self != DeviceKind::Phone
    }

    pub fn info(self) -> &'static DeviceInfo {
        // DEVICES is in the same order as ALL (checked by a test).
        &DEVICES[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Parse a `sim:KIND` kind name.
    pub fn parse(name: &str) -> Option<DeviceKind> {
        DeviceKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// A fresh decoder for the notifications this program subscribes to.
    pub fn decoder(self) -> Box<dyn NotificationDecoder> {
        match self {
            DeviceKind::MovellaDot => Box::new(movella_dot::Decoder::new(movella_dot::PayloadMode::CompleteQuaternion)),
            DeviceKind::WitMotion => Box::new(witmotion::Decoder::new()),
            DeviceKind::Thingy52 => Box::new(thingy52::Decoder),
            DeviceKind::MetaMotion => Box::new(metamotion::Decoder),
            DeviceKind::OpenImu => Box::new(open_imu::Decoder::new()),
            DeviceKind::Phone => Box::new(phone::Decoder),
        }
    }

    /// The characteristics to subscribe to, in order.
    pub fn notify_characteristics(self) -> &'static [Uuid] {
        match self {
            DeviceKind::MovellaDot => &[movella_dot::MEDIUM_PAYLOAD],
            DeviceKind::WitMotion => &[witmotion::NOTIFY],
            DeviceKind::Thingy52 => &[thingy52::RAW_DATA],
            DeviceKind::MetaMotion => &[metamotion::NOTIFY],
            DeviceKind::OpenImu => &[open_imu::DATA],
            DeviceKind::Phone => &[phone::ORIENTATION],
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every supported kind, in a fixed order.
pub fn all() -> &'static [DeviceInfo] {
    &DEVICES
}

/// The kind an advertisement belongs to: a listed service UUID wins, then a name prefix.
pub fn identify(advertised_name: Option<&str>, service_uuids: &[Uuid]) -> Option<DeviceKind> {
    DEVICES
        .iter()
        .find(|d| d.service_uuids.iter().any(|u| service_uuids.contains(u)))
        .or_else(|| {
            let name = advertised_name?;
            DEVICES
                .iter()
                .find(|d| d.name_prefixes.iter().any(|p| name.starts_with(p)))
        })
        .map(|d| d.kind)
}

/// A body direction of the `--mount` SPEC syntax.
pub const BODY_DIRECTIONS: [&str; 6] = ["head", "feet", "left", "right", "out", "in"];
/// A sensor axis of the `--mount` SPEC syntax.
pub const SENSOR_AXES: [&str; 6] = ["+x", "-x", "+y", "-y", "+z", "-z"];

/// Check a SPEC string's shape (two `axis:direction` pairs on different axes with
/// perpendicular directions). The body model owns the full parser; this keeps the
/// registry honest.
pub fn mount_spec_is_well_formed(spec: &str) -> bool {
    let pairs: Vec<(&str, &str)> = spec.split(',').filter_map(|p| p.split_once(':')).collect();
    if pairs.len() != 2 || spec.split(',').count() != 2 {
        return false;
    }
    let axis_letter = |a: &str| a.chars().nth(1);
    let line = |d: &str| match d {
        "head" | "feet" => 0,
        "left" | "right" => 1,
        _ => 2,
    };
    pairs
        .iter()
        .all(|(a, d)| SENSOR_AXES.contains(a) && BODY_DIRECTIONS.contains(d))
        && axis_letter(pairs[0].0) != axis_letter(pairs[1].0)
        && line(pairs[0].1) != line(pairs[1].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_spec_kinds_in_order() {
        let names: Vec<&str> = all().iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            [
                "movella-dot",
                "witmotion",
                "thingy52",
                "metamotion",
                "open-imu",
                "phone"
            ]
        );
        for k in DeviceKind::ALL {
            assert_eq!(k.info().kind, k);
            assert_eq!(DeviceKind::parse(k.name()), Some(k));
        }
        assert_eq!(DeviceKind::parse("movella"), None);
    }

    #[test]
    fn every_entry_is_consistent() {
        for d in all() {
            assert!(mount_spec_is_well_formed(d.mount), "{}: {}", d.name, d.mount);
            assert!(d.rates_hz.contains(&d.default_rate_hz), "{}", d.name);
            assert_eq!(
                !d.service_uuids.is_empty() && !d.name_prefixes.is_empty(),
                d.kind.is_bluetooth(),
                "{}: Bluetooth kinds are found by service and name, the phone by neither",
                d.name
            );
            assert!(d.firmware_note.starts_with("firmware-notes/"));
            assert!(!d.kind.notify_characteristics().is_empty());
        }
    }

    #[test]
    fn mount_spec_checker_rejects_bad_specs() {
        assert!(mount_spec_is_well_formed("+x:head,+z:out"));
        assert!(!mount_spec_is_well_formed("+x:head,+x:out"));
        assert!(!mount_spec_is_well_formed("+x:head,+y:feet"));
        assert!(!mount_spec_is_well_formed("+x:head"));
        assert!(!mount_spec_is_well_formed("+w:head,+z:out"));
        assert!(!mount_spec_is_well_formed("+x:head,+z:out,+y:left"));
    }

    #[test]
    fn identify_by_service_then_name() {
        assert_eq!(identify(None, &[witmotion::SERVICE]), Some(DeviceKind::WitMotion));
        assert_eq!(identify(Some("Xsens DOT"), &[]), Some(DeviceKind::MovellaDot));
        assert_eq!(identify(Some("MetaWear"), &[]), Some(DeviceKind::MetaMotion));
        assert_eq!(identify(Some("OpenIMU-chest"), &[]), Some(DeviceKind::OpenImu));
        assert_eq!(identify(Some("Headphones"), &[Uuid::from_u16_sig(0x180f)]), None);
    }
}
