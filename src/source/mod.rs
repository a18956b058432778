//! Sources of sensor data behind one trait: live BLE (`ble`), phones on the LAN
//! (`phone`), simulated peripherals (`sim`) and recordings (`replay`). Everything above a
//! [`Source`] (decoding, fusion, calibration, reps, UI, recording) is tested without
//! hardware.
//!
//! A source is an async stream of [`SourceEvent`]s: raw notifications with the time they
//! were received, connection state changes, battery and signal strength. Times are
//! seconds on the session's host clock (`receive_s`), the same axis the recording uses.
//! This module owns the event types, the `--sensor PLACEMENT=DEVICE` syntax and the
//! reconnect backoff; it must not decode anything (that is `device`) or know about bodies.

pub mod ble;
pub mod phone;
pub mod replay;
pub mod sim;

use std::future::Future;
use std::pin::Pin;

use crate::body::Placement;
use crate::device::{DeviceKind, Uuid};

/// A boxed future, so that [`Source`] stays object-safe without extra crates.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Index of a sensor in the session (command-line order); also its recording stream id.
pub type SensorId = u16;

/// Connection state of one sensor.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionState {
    /// Looking for the device / connecting (attempt number, from 1).
    Connecting { attempt: u32 },
    /// Connected, subscribed and configured: notifications flow.
    Connected,
    /// The link dropped; a reconnect follows after `retry_in_s`.
    Disconnected { reason: String, retry_in_s: f64 },
    /// The source has nothing more to send (simulation or replay ended, or given up).
    Ended { reason: String },
}

/// One thing a source reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    /// A GATT notification exactly as received.
    Notification {
        sensor: SensorId,
        receive_s: f64,
        characteristic: Uuid,
        bytes: Vec<u8>,
    },
    Connection {
        sensor: SensorId,
        receive_s: f64,
        state: ConnectionState,
    },
    /// Battery level, %.
    Battery {
        sensor: SensorId,
        receive_s: f64,
        percent: u8,
    },
    /// Received signal strength, dBm.
    Rssi { sensor: SensorId, receive_s: f64, dbm: i16 },
}

impl SourceEvent {
    pub fn sensor(&self) -> SensorId {
        match self {
            SourceEvent::Notification { sensor, .. }
            | SourceEvent::Connection { sensor, .. }
            | SourceEvent::Battery { sensor, .. }
            | SourceEvent::Rssi { sensor, .. } => *sensor,
        }
    }
    pub fn receive_s(&self) -> f64 {
        match self {
            SourceEvent::Notification { receive_s, .. }
            | SourceEvent::Connection { receive_s, .. }
            | SourceEvent::Battery { receive_s, .. }
            | SourceEvent::Rssi { receive_s, .. } => *receive_s,
        }
    }
}

/// An async stream of events for one sensor.
pub trait Source: Send {
    /// The next event, or `None` once the source has ended (after its `Ended` event).
    fn next_event(&mut self) -> BoxFuture<'_, Option<SourceEvent>>;
}

/// What `--sensor PLACEMENT=DEVICE` names as the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// `sim:KIND`: a simulated peripheral of that kind.
    Sim(DeviceKind),
    /// A Bluetooth address (`AA:BB:CC:DD:EE:FF`) or, on macOS, a peripheral id.
    Address(String),
    /// An advertised name (exact, or a prefix such as `Xsens DOT`).
    Name(String),
    /// `phone`: a phone on the LAN (`twistcoach serve` only; see `source::phone`).
    Phone,
}

/// One `--sensor` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorSpec {
    pub placement: Placement,
    pub device: DeviceSpec,
}

fn looks_like_address(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Parse `PLACEMENT=DEVICE` (DEVICE: an address, a name, `sim:KIND` or `phone`).
pub fn parse_sensor_spec(arg: &str) -> Result<SensorSpec, String> {
    let (p, d) = arg.split_once('=').ok_or_else(|| {
        format!("`{arg}`: expected PLACEMENT=DEVICE, e.g. chest=sim:witmotion or chest=D4:22:CD:00:11:22")
    })?;
    let placement = Placement::parse(p.trim())
        .ok_or_else(|| format!("unknown placement `{p}`; expected chest, pelvis, upper-back or sacrum"))?;
    let d = d.trim();
    let device = if let Some(kind) = d.strip_prefix("sim:") {
        DeviceSpec::Sim(DeviceKind::parse(kind).ok_or_else(|| {
            let kinds: Vec<&str> = DeviceKind::ALL.iter().map(|k| k.name()).collect();
            format!(
                "unknown simulated device kind `{kind}`; expected one of {}",
                kinds.join(", ")
            )
        })?)
    } else if d == "phone" {
        DeviceSpec::Phone
    } else if d.is_empty() {
        return Err(format!(
            "`{arg}`: the device is empty; give an address, a name or sim:KIND"
        ));
    } else if looks_like_address(d) {
        DeviceSpec::Address(d.to_ascii_uppercase())
    } else {
        DeviceSpec::Name(d.to_string())
    };
    Ok(SensorSpec { placement, device })
}

/// Settings of the reconnect backoff.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffSettings {
    /// Wait before the first retry, s.
    pub initial_s: f64,
    /// Each failed attempt multiplies the wait by this.
    pub factor: f64,
    /// The wait never exceeds this, s.
    pub max_s: f64,
}

impl Default for BackoffSettings {
    fn default() -> Self {
        BackoffSettings {
            initial_s: 0.5,
            factor: 2.0,
            max_s: 8.0,
        }
    }
}

/// Exponential backoff between reconnect attempts (reset once connected).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    settings: BackoffSettings,
    failures: u32,
}

impl Backoff {
    pub fn new(settings: BackoffSettings) -> Self {
        Backoff { settings, failures: 0 }
    }
    /// The wait before the next attempt, s; counts one more failure.
    pub fn next_wait_s(&mut self) -> f64 {
        let s = self.settings;
        let wait = s.initial_s * s.factor.powi(self.failures.min(30) as i32);
        self.failures = self.failures.saturating_add(1);
        wait.min(s.max_s)
    }
    /// Attempts made since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A known list of events (a simulated session, a recording) paced at `speed` × real
/// time from the first event's receive time, or as fast as possible (`None`).
pub struct PacedSource {
    events: std::collections::VecDeque<SourceEvent>,
    speed: Option<f64>,
    start: Option<(tokio::time::Instant, f64)>,
}

impl PacedSource {
    pub fn new(events: Vec<SourceEvent>, speed: Option<f64>) -> Self {
        PacedSource {
            events: events.into(),
            speed: speed.filter(|s| s.is_finite() && *s > 0.0),
            start: None,
        }
    }

    /// Waits until `receive_s` (session time) is due.
    async fn pace(&mut self, receive_s: f64) {
        let Some(speed) = self.speed else {
            return;
        };
        let (t_wall, t_session) = *self.start.get_or_insert((tokio::time::Instant::now(), receive_s));
        let due = t_wall + std::time::Duration::from_secs_f64(((receive_s - t_session) / speed).max(0.0));
        // Sleep only when more than a millisecond ahead: timers are coarser than 100 Hz × speed.
        if due > tokio::time::Instant::now() + std::time::Duration::from_millis(1) {
            tokio::time::sleep_until(due).await;
        }
    }
}

impl Source for PacedSource {
    fn next_event(&mut self) -> BoxFuture<'_, Option<SourceEvent>> {
        Box::pin(async move {
            let ev = self.events.pop_front()?;
            self.pace(ev.receive_s()).await;
            Some(ev)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_specs() {
        assert_eq!(
            parse_sensor_spec("chest=sim:witmotion").unwrap(),
            SensorSpec {
                placement: Placement::Chest,
                device: DeviceSpec::Sim(DeviceKind::WitMotion)
            }
        );
        assert_eq!(
            parse_sensor_spec("pelvis=d4:22:cd:00:11:22").unwrap().device,
            DeviceSpec::Address("D4:22:CD:00:11:22".into())
        );
        assert_eq!(
            parse_sensor_spec("sacrum=Xsens DOT").unwrap().device,
            DeviceSpec::Name("Xsens DOT".into())
        );
        assert!(parse_sensor_spec("chest").unwrap_err().contains("PLACEMENT=DEVICE"));
        assert!(
            parse_sensor_spec("knee=sim:witmotion")
                .unwrap_err()
                .contains("placement")
        );
        assert!(
            parse_sensor_spec("chest=sim:fitbit")
                .unwrap_err()
                .contains("movella-dot")
        );
        assert!(parse_sensor_spec("chest=").is_err());
        assert_eq!(parse_sensor_spec("pelvis=phone").unwrap().device, DeviceSpec::Phone);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(BackoffSettings::default());
        let waits: Vec<f64> = (0..7).map(|_| b.next_wait_s()).collect();
        assert_eq!(waits, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]);
        assert_eq!(b.failures(), 7);
        b.reset();
        assert_eq!(b.next_wait_s(), 0.5);
    }
}
