//! Live Bluetooth LE sensors through btleplug (BlueZ over D-Bus on Linux, CoreBluetooth on
//! macOS, WinRT on Windows): `scan`, and a [`BleSource`] that connects, subscribes,
//! configures the device per kind, and reconnects with exponential backoff.
//!
//! The per-kind GATT set-up is a pure list of steps ([`setup_steps`]), tested here; the
//! rest is the radio edge and was never run against real hardware on the machines this
//! was written on (no Bluetooth there): see docs/live.md. Without a usable adapter every
//! entry point returns [`BleError::Unavailable`] quickly, never panics or hangs.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use btleplug::api::{Central, CentralEvent, Manager as _, Peripheral as _, ScanFilter, WriteType};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::{Backoff, BackoffSettings, BoxFuture, ConnectionState, DeviceSpec, SensorId, Source, SourceEvent};
use crate::device::{DeviceKind, Uuid, metamotion, movella_dot, open_imu, registry, thingy52, witmotion};

/// How long any one call into the Bluetooth stack may take before we give up on it.
const STACK_TIMEOUT: Duration = Duration::from_secs(8);

/// The Bluetooth SIG battery level characteristic (Battery Service 0x180F).
pub const BATTERY_LEVEL: Uuid = Uuid::from_u16_sig(0x2a19);
/// The Battery Service, as it appears in advertisements' service data.
pub const BATTERY_SERVICE: Uuid = Uuid::from_u16_sig(0x180f);

/// Why Bluetooth could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BleError {
    /// No adapter, no BlueZ, no system bus, or the stack does not answer.
    #[error("{0}")]
    Unavailable(String),
    /// The named device was not found or refused the set-up.
    #[error("{0}")]
    Device(String),
}

/// One line saying what to install or check, from whatever the stack said.
pub fn unavailable_message(detail: &str) -> String {
    let hint = if detail.contains("system_bus_socket") || detail.contains("D-Bus") || detail.contains("dbus") {
        "no system D-Bus: install and start dbus and BlueZ (e.g. `apt install bluez`, `systemctl start bluetooth`)"
    } else if detail.contains("ServiceUnknown") || detail.contains("org.bluez") {
        "BlueZ (bluetoothd) is not running: install bluez and start it (`systemctl start bluetooth`)"
    } else if detail.contains("no adapter") {
        "no Bluetooth adapter: plug one in or enable it (`bluetoothctl list`, `rfkill unblock bluetooth`)"
    } else if detail.contains("timed out") {
        "the Bluetooth stack did not answer: check `systemctl status bluetooth` and `bluetoothctl list`"
    } else {
        "check that a Bluetooth adapter is present and powered (`bluetoothctl list`, `rfkill list`)"
    };
    format!("Bluetooth is not usable: {hint} ({detail}); to try without a sensor use --sensor PLACEMENT=sim:KIND")
}

fn to_btle_uuid(u: Uuid) -> uuid::Uuid {
    uuid::Uuid::from_u128(u.0)
}
fn from_btle_uuid(u: uuid::Uuid) -> Uuid {
    Uuid(u.as_u128())
}

async fn with_timeout<T, E: std::fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(STACK_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: timed out after {} s", STACK_TIMEOUT.as_secs())),
    }
}

/// The first Bluetooth adapter, or why there is none.
pub async fn adapter() -> Result<Adapter, BleError> {
    let unavailable = |d: String| BleError::Unavailable(unavailable_message(&d));
    let manager = with_timeout("connecting to the Bluetooth stack", Manager::new())
        .await
        .map_err(unavailable)?;
    let adapters = with_timeout("listing Bluetooth adapters", manager.adapters())
        .await
        .map_err(unavailable)?;
    adapters
        .into_iter()
        .next()
        .ok_or_else(|| unavailable("no adapter found".to_string()))
}

/// One device seen while scanning.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanHit {
    pub address: String,
    pub name: Option<String>,
    pub rssi_dbm: Option<i16>,
    pub battery_percent: Option<u8>,
    /// The supported kind it matches in the registry.
    pub kind: Option<DeviceKind>,
}

impl ScanHit {
    /// One line for `twistcoach scan`.
    pub fn line(&self) -> String {
        let (vendor, kind) = match self.kind {
            Some(k) => (k.info().vendor_model, k.name()),
            None => ("(not supported)", "-"),
        };
        format!(
            "{:<12} {:<17} {:<20} {:>8} {:>8}  {}",
            kind,
            self.address,
            self.name.as_deref().unwrap_or("(no name)"),
            self.rssi_dbm.map_or("-".into(), |r| format!("{r} dBm")),
            self.battery_percent.map_or("-".into(), |b| format!("{b}%")),
            vendor
        )
    }
}

async fn hit_of(p: &Peripheral) -> Option<ScanHit> {
    let props = p.properties().await.ok()??;
    let services: Vec<Uuid> = props.services.iter().map(|u| from_btle_uuid(*u)).collect();
    let battery = props
        .service_data
        .get(&to_btle_uuid(BATTERY_SERVICE))
        .and_then(|d| d.first().copied())
        .filter(|b| *b <= 100);
    Some(ScanHit {
        address: props.address.to_string(),
        kind: registry::identify(props.local_name.as_deref(), &services),
        name: props.local_name,
        rssi_dbm: props.rssi,
        battery_percent: battery,
    })
}

/// Scan for `seconds` and list what was seen, supported sensors first (strongest first).
pub async fn scan(seconds: f64) -> Result<Vec<ScanHit>, BleError> {
    let central = adapter().await?;
    with_timeout("starting the scan", central.start_scan(ScanFilter::default()))
        .await
        .map_err(|d| BleError::Unavailable(unavailable_message(&d)))?;
    tokio::time::sleep(Duration::from_secs_f64(seconds.max(0.5))).await;
    let peripherals = with_timeout("listing devices", central.peripherals())
        .await
        .map_err(|d| BleError::Unavailable(unavailable_message(&d)))?;
    let _ = central.stop_scan().await;
    let mut hits = Vec::new();
    for p in &peripherals {
        if let Some(h) = hit_of(p).await {
            hits.push(h);
        }
    }
    hits.sort_by_key(|h| (h.kind.is_none(), std::cmp::Reverse(h.rssi_dbm.unwrap_or(i16::MIN))));
    Ok(hits)
}

/// One step of a device's GATT set-up, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GattStep {
    /// Write (with response) to a characteristic.
    Write(Uuid, Vec<u8>),
    /// Enable notifications.
    Subscribe(Uuid),
    /// Movella DOT: read DEVICE_CONTROL and write it back with this output rate.
    MovellaOutputRate(u16),
}

/// How to make a device of `kind` stream what `kind.decoder()` reads, at `rate_hz`.
pub fn setup_steps(kind: DeviceKind, rate_hz: f64) -> Vec<GattStep> {
    use GattStep::*;
    match kind {
        DeviceKind::MovellaDot => vec![
            MovellaOutputRate(rate_hz.round() as u16),
            Subscribe(movella_dot::MEDIUM_PAYLOAD),
            Write(
                movella_dot::MEASUREMENT_CONTROL,
                movella_dot::start_measurement(movella_dot::PayloadMode::CompleteQuaternion).to_vec(),
            ),
        ],
        DeviceKind::WitMotion => {
            let mut v: Vec<GattStep> = witmotion::ReturnRate::from_hz(rate_hz)
                .map(|r| {
                    witmotion::set_return_rate(r)
                        .into_iter()
                        .map(|b| Write(witmotion::WRITE, b.to_vec()))
                        .collect()
                })
                .unwrap_or_default();
            v.push(Subscribe(witmotion::NOTIFY));
            v
        }
        DeviceKind::Thingy52 => {
            let config = thingy52::MotionConfig::FIRMWARE_DEFAULT.with_motion_freq_hz(rate_hz.round() as u16);
            let mut v: Vec<GattStep> = thingy52::encode_config(&config)
                .map(|b| vec![Write(thingy52::MOTION_CONFIG, b.to_vec())])
                .unwrap_or_default();
            v.push(Subscribe(thingy52::RAW_DATA));
            v
        }
        DeviceKind::MetaMotion => {
            let mode = metamotion::FusionMode::ImuPlus;
            let outputs = [metamotion::FusionData::Quaternion];
            let mut v = vec![Subscribe(metamotion::NOTIFY)];
            for cmd in metamotion::config_sequence(mode, metamotion::AccRange::G4, metamotion::GyroRange::Dps1000)
                .into_iter()
                .chain(metamotion::start_sequence(mode, &outputs))
            {
                v.push(Write(metamotion::COMMAND, cmd));
            }
            v
        }
        DeviceKind::OpenImu => vec![
            Write(
                open_imu::CONFIG,
                open_imu::encode_config(&open_imu::Config {
                    kind: open_imu::Kind::Imu6,
                    rate_hz: rate_hz.round() as u16,
                })
                .to_vec(),
            ),
            Subscribe(open_imu::DATA),
        ],
        // Not a Bluetooth device: it comes over the LAN (`source::phone`), nothing to set up.
        DeviceKind::Phone => Vec::new(),
    }
}

/// A live BLE sensor as a [`Source`].
pub struct BleSource {
    rx: mpsc::Receiver<SourceEvent>,
}

/// What a [`BleSource`] connects to.
#[derive(Debug, Clone)]
pub struct BleTarget {
    pub sensor: SensorId,
    pub device: DeviceSpec,
    /// The kind, when known from the command line or a scan; otherwise identified by the
    /// registry on the first scan that sees the device.
    pub kind: Option<DeviceKind>,
    pub rate_hz: Option<f64>,
}

impl BleSource {
    /// Start connecting in the background. `clock` is the session's time origin.
    pub fn start(adapter: Adapter, target: BleTarget, clock: Instant, backoff: BackoffSettings) -> BleSource {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(run_link(adapter, target, clock, backoff, tx));
        BleSource { rx }
    }
}

impl Source for BleSource {
    fn next_event(&mut self) -> BoxFuture<'_, Option<SourceEvent>> {
        Box::pin(self.rx.recv())
    }
}

fn matches(device: &DeviceSpec, hit: &ScanHit) -> bool {
    match device {
        DeviceSpec::Address(a) => hit.address.eq_ignore_ascii_case(a),
        DeviceSpec::Name(n) => hit
            .name
            .as_deref()
            .is_some_and(|name| name == n || name.starts_with(n.as_str())),
        DeviceSpec::Sim(_) | DeviceSpec::Phone => false,
    }
}

async fn find(central: &Adapter, target: &BleTarget) -> Result<(Peripheral, ScanHit), String> {
    with_timeout("starting the scan", central.start_scan(ScanFilter::default())).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for p in with_timeout("listing devices", central.peripherals()).await? {
            if let Some(h) = hit_of(&p).await
                && matches(&target.device, &h)
            {
                let _ = central.stop_scan().await;
                return Ok((p, h));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let _ = central.stop_scan().await;
    Err("device not found within 10 s (is it on, charged and not connected to a phone?)".to_string())
}

async fn set_up(p: &Peripheral, kind: DeviceKind, rate_hz: f64) -> Result<(), String> {
    with_timeout("connecting", p.connect()).await?;
    with_timeout("discovering services", p.discover_services()).await?;
    let chars: HashMap<Uuid, btleplug::api::Characteristic> = p
        .characteristics()
        .into_iter()
        .map(|c| (from_btle_uuid(c.uuid), c))
        .collect();
    let get = |u: Uuid| {
        chars.get(&u).ok_or_else(|| {
            format!(
                "the device has no characteristic {u}; is it a {}?",
                kind.info().vendor_model
            )
        })
    };
    for step in setup_steps(kind, rate_hz) {
        match step {
            GattStep::Subscribe(u) => with_timeout("subscribing", p.subscribe(get(u)?)).await?,
            GattStep::Write(u, bytes) => {
                with_timeout("configuring", p.write(get(u)?, &bytes, WriteType::WithResponse)).await?
            }
            GattStep::MovellaOutputRate(hz) => {
                let c = get(movella_dot::DEVICE_CONTROL)?;
                let current = with_timeout("reading device control", p.read(c)).await?;
                let current: [u8; 32] = current
                    .try_into()
                    .map_err(|_| "movella-dot: device control is not 32 bytes".to_string())?;
                let bytes = movella_dot::with_output_rate(current, hz).map_err(|e| e.to_string())?;
                with_timeout("setting the output rate", p.write(c, &bytes, WriteType::WithResponse)).await?;
            }
        }
    }
    Ok(())
}

async fn battery(p: &Peripheral, kind: DeviceKind) -> Option<u8> {
    let want = if kind == DeviceKind::MovellaDot {
        movella_dot::BATTERY
    } else {
        BATTERY_LEVEL
    };
    let c = p
        .characteristics()
        .into_iter()
        .find(|c| from_btle_uuid(c.uuid) == want)?;
    let v = tokio::time::timeout(STACK_TIMEOUT, p.read(&c)).await.ok()?.ok()?;
    v.first().copied().filter(|b| *b <= 100)
}

/// Connect, stream, and on any failure reconnect after an exponential backoff.
async fn run_link(
    central: Adapter,
    target: BleTarget,
    clock: Instant,
    backoff: BackoffSettings,
    tx: mpsc::Sender<SourceEvent>,
) {
    let sensor = target.sensor;
    let now = || clock.elapsed().as_secs_f64();
    let mut backoff = Backoff::new(backoff);
    let mut attempt = 0u32;
    let mut events = central.events().await.ok();
    loop {
        attempt += 1;
        let connecting = SourceEvent::Connection {
            sensor,
            receive_s: now(),
            state: ConnectionState::Connecting { attempt },
        };
        if tx.send(connecting).await.is_err() {
            return;
        }
        let result: Result<(), String> = async {
            let (p, hit) = find(&central, &target).await?;
            let kind = target
                .kind
                .or(hit.kind)
                .ok_or_else(|| format!("{} is not a supported sensor", hit.address))?;
            let rate = target.rate_hz.unwrap_or(kind.info().default_rate_hz);
            set_up(&p, kind, rate).await?;
            let mut notes = with_timeout("opening notifications", p.notifications()).await?;
            backoff.reset();
            let _ = tx
                .send(SourceEvent::Connection {
                    sensor,
                    receive_s: now(),
                    state: ConnectionState::Connected,
                })
                .await;
            if let Some(b) = battery(&p, kind).await {
                let _ = tx
                    .send(SourceEvent::Battery {
                        sensor,
                        receive_s: now(),
                        percent: b,
                    })
                    .await;
            }
            let id = p.id();
            let mut rssi_tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    n = notes.next() => {
                        let Some(n) = n else { return Err("notifications stopped".to_string()) };
                        let ev = SourceEvent::Notification {
                            sensor,
                            receive_s: now(),
                            characteristic: from_btle_uuid(n.uuid),
                            bytes: n.value,
                        };
                        if tx.send(ev).await.is_err() {
                            let _ = p.disconnect().await;
                            return Ok(());
                        }
                    }
                    e = async { match events.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } } => {
                        if let Some(CentralEvent::DeviceDisconnected(d)) = e && d == id {
                            return Err("link lost".to_string());
                        }
                    }
                    _ = rssi_tick.tick() => {
                        if let Ok(Some(props)) = p.properties().await && let Some(r) = props.rssi {
                            let _ = tx.send(SourceEvent::Rssi { sensor, receive_s: now(), dbm: r }).await;
                        }
                    }
                }
            }
        }
        .await;
        match result {
            Ok(()) => return,
            Err(reason) => {
                let wait = backoff.next_wait_s();
                let ev = SourceEvent::Connection {
                    sensor,
                    receive_s: now(),
                    state: ConnectionState::Disconnected {
                        reason,
                        retry_in_s: wait,
                    },
                };
                if tx.send(ev).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
            }
        }
    }
}

/// Kinds of the sensors in a scan, by address (for `live` with an address or a name).
pub fn kinds_by_address(hits: &[ScanHit]) -> BTreeMap<String, DeviceKind> {
    hits.iter()
        .filter_map(|h| h.kind.map(|k| (h.address.clone(), k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_subscribes_to_what_its_decoder_reads() {
        for kind in DeviceKind::ALL.into_iter().filter(|k| k.is_bluetooth()) {
            let steps = setup_steps(kind, kind.info().default_rate_hz);
            for c in kind.notify_characteristics() {
                assert!(steps.contains(&GattStep::Subscribe(*c)), "{kind}: {steps:?}");
            }
        }
    }

    #[test]
    fn set_up_bytes_per_kind() {
        let s = setup_steps(DeviceKind::MovellaDot, 60.0);
        assert_eq!(s[0], GattStep::MovellaOutputRate(60));
        // Start, complete (quaternion) payload.
        assert_eq!(
            s[2],
            GattStep::Write(movella_dot::MEASUREMENT_CONTROL, vec![0x01, 0x01, 0x03])
        );
        let w = setup_steps(DeviceKind::WitMotion, 50.0);
        assert_eq!(
            w[0],
            GattStep::Write(witmotion::WRITE, vec![0xff, 0xaa, 0x69, 0x88, 0xb5])
        );
        assert_eq!(
            w[1],
            GattStep::Write(witmotion::WRITE, vec![0xff, 0xaa, 0x03, 0x08, 0x00])
        );
        let o = setup_steps(DeviceKind::OpenImu, 100.0);
        assert_eq!(o[0], GattStep::Write(open_imu::CONFIG, vec![1, 2, 100, 0]));
        // MetaMotion: subscribe first (datasignal), then configure and start fusion.
        let m = setup_steps(DeviceKind::MetaMotion, 100.0);
        assert_eq!(m[0], GattStep::Subscribe(metamotion::NOTIFY));
        assert!(matches!(m.last(), Some(GattStep::Write(_, b)) if b == &vec![0x19, 0x01, 0x01]));
    }

    #[test]
    fn unavailable_messages_say_what_to_do() {
        let m = unavailable_message(
            "connecting to the Bluetooth stack: D-Bus error: Failed to connect to socket /run/dbus/system_bus_socket",
        );
        assert!(m.contains("install and start dbus and BlueZ"), "{m}");
        assert!(!m.contains('\n'));
        assert!(unavailable_message("org.freedesktop.DBus.Error.ServiceUnknown org.bluez").contains("bluetoothd"));
        assert!(unavailable_message("no adapter found").contains("adapter"));
    }
}
