//! `twistcoach live` (spec §6): sensors (BLE or simulated) → the live pipeline → the
//! screen or `--plain` lines, a crash-safe recording, and the report at the end.

use std::path::Path;
use std::time::Instant;

use crate::body::Variation;
use crate::body::mount::{Mount, parse_mount_arg};
use crate::cli::LiveArgs;
use crate::commands::scan::{ble_error, runtime};
use crate::device::DeviceKind;
use crate::error::{BadInput, Error, Problem, Result};
use crate::live::recorder::{self, SessionRecorder};
use crate::live::run::{SessionEnd, UiMode, run_session};
use crate::live::{Pipeline, SensorSetup, Settings};
use crate::record::StreamInfo;
use crate::session::protocol::{Caution, Protocol};
use crate::source::ble::{self, BleSource, BleTarget};
use crate::source::sim::{SimSession, SimSettings, parse_outage};
use crate::source::{BackoffSettings, DeviceSpec, SensorSpec, Source, parse_sensor_spec};

fn arg_error(what: &str, msg: String) -> Error {
    BadInput::file(what, Problem::Other(msg)).into()
}

/// Variation, caution and protocol (with its text, for the recording) from the arguments.
pub(crate) fn session_settings(
    variation: &str,
    caution: Option<&str>,
    protocol: Option<&Path>,
) -> Result<(Settings, Option<String>)> {
    let variation = Variation::parse(variation).ok_or_else(|| {
        arg_error(
            "--variation",
            format!("unknown variation `{variation}`; expected supine, seated or standing"),
        )
    })?;
    let mut settings = Settings::new(variation);
    if let Some(c) = caution {
        settings.caution = Some(Caution::parse(c).ok_or_else(|| {
            arg_error(
                "--caution",
                format!("unknown caution profile `{c}`; expected disc-herniation, spondylolisthesis, severe-osteoarthritis or pregnancy"),
            )
        })?);
    }
    let mut text = None;
    if let Some(p) = protocol {
        let t = std::fs::read_to_string(p).map_err(|e| BadInput::file(p, Problem::Missing(e.to_string())))?;
        settings.protocol = Protocol::from_toml(p, &t)?;
        text = Some(t);
    }
    Ok((settings, text))
}

pub fn run(args: &LiveArgs) -> Result<()> {
    let (mut settings, protocol_toml) =
        session_settings(&args.variation, args.caution.as_deref(), args.protocol.as_deref())?;
    settings.use_mag = !args.no_mag;
    let specs: Vec<SensorSpec> = args
        .sensors
        .iter()
        .map(|s| parse_sensor_spec(s).map_err(|e| arg_error("--sensor", e)))
        .collect::<Result<_>>()?;
    for (i, s) in specs.iter().enumerate() {
        if s.device == DeviceSpec::Phone {
            return Err(arg_error(
                "--sensor",
                format!(
                    "`{}`: a phone streams over the local network; use `twistcoach serve --lan --sensor {}=phone` (see firmware-notes/phone.md)",
                    args.sensors[i],
                    s.placement.name()
                ),
            ));
        }
        if specs[..i].iter().any(|o| o.placement == s.placement) {
            return Err(arg_error(
                "--sensor",
                format!("placement `{}` is given twice", s.placement.name()),
            ));
        }
    }
    let mut mounts: Vec<(crate::body::Placement, Mount, String)> = Vec::new();
    for m in &args.mounts {
        let (p, mount) = parse_mount_arg(m).map_err(|e| arg_error("--mount", e.to_string()))?;
        if !specs.iter().any(|s| s.placement == p) {
            return Err(arg_error(
                "--mount",
                format!("--mount names `{}`, but no --sensor is on that placement", p.name()),
            ));
        }
        let spec = m.split_once('=').map_or(String::new(), |(_, s)| s.to_string());
        mounts.push((p, mount, spec));
    }
    let outages = args
        .sim_disconnects
        .iter()
        .map(|o| parse_outage(o).map_err(|e| arg_error("--sim-disconnect", e)))
        .collect::<Result<Vec<_>>>()?;
    if !(args.sim_speed.is_finite() && args.sim_speed >= 0.0) {
        return Err(arg_error(
            "--sim-speed",
            format!(
                "{} is not a speed; use a positive number, or 0 for as fast as possible",
                args.sim_speed
            ),
        ));
    }

    let rt = runtime()?;
    let clock = Instant::now();
    // Real sensors: Bluetooth must work, and each device must be found to know its kind.
    let needs_ble = specs.iter().any(|s| !matches!(s.device, DeviceSpec::Sim(_)));
    let (adapter, hits) = if needs_ble {
        rt.block_on(async {
            let a = ble::adapter().await?;
            let hits = ble::scan(4.0).await?;
            Ok::<_, ble::BleError>((Some(a), hits))
        })
        .map_err(ble_error)?
    } else {
        (None, Vec::new())
    };

    let mut setups = Vec::new();
    let mut infos = Vec::new();
    let mut kinds = Vec::new();
    let mut addresses = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let (kind, address, name): (DeviceKind, Option<String>, Option<String>) = match &s.device {
            DeviceSpec::Sim(k) => (*k, None, Some(format!("sim:{}", k.name()))),
            DeviceSpec::Address(_) | DeviceSpec::Name(_) | DeviceSpec::Phone => {
                let hit = hits
                    .iter()
                    .find(|h| match &s.device {
                        DeviceSpec::Address(a) => h.address.eq_ignore_ascii_case(a),
                        DeviceSpec::Name(n) => h.name.as_deref().is_some_and(|x| x.starts_with(n.as_str())),
                        DeviceSpec::Sim(_) | DeviceSpec::Phone => false,
                    })
                    .ok_or_else(|| {
                        Error::Unavailable(format!(
                            "{}: no device `{}` seen in a 4 s scan; run `twistcoach scan` to list what is in range",
                            s.placement.name(),
                            args.sensors[i].split_once('=').map_or("", |x| x.1)
                        ))
                    })?;
                let kind = hit.kind.ok_or_else(|| {
                    Error::Unavailable(format!(
                        "{}: {} is not a supported sensor (supported: movella-dot, witmotion, thingy52, metamotion, open-imu)",
                        s.placement.name(),
                        hit.address
                    ))
                })?;
                (kind, Some(hit.address.clone()), hit.name.clone())
            }
        };
        let info = kind.info();
        let (mount, mount_spec) = match mounts.iter().find(|(p, _, _)| *p == s.placement) {
            Some((_, m, spec)) => (*m, spec.clone()),
            None => {
                let m = parse_mount_arg(&format!("{}={}", s.placement.name(), info.mount))
                    .map(|(_, m)| m)
                    .map_err(|e| Error::Failed(format!("registry mount of {kind}: {e}")))?;
                (m, info.mount.to_string())
            }
        };
        setups.push(SensorSetup {
            placement: s.placement,
            kind,
            mount,
            rate_hz: info.default_rate_hz,
        });
        kinds.push(kind);
        addresses.push(address.clone());
        infos.push(StreamInfo {
            id: i as u16,
            placement: s.placement,
            device_kind: match s.device {
                DeviceSpec::Sim(k) => format!("sim:{}", k.name()),
                _ => kind.name().to_string(),
            },
            device_address: address,
            device_name: name,
            mount: mount_spec,
            protocol: Some(format!("{}, {:.0} Hz", info.vendor_model, info.default_rate_hz)),
            rate_hz: Some(info.default_rate_hz),
            calibration: None,
        });
    }
    let pipeline = Pipeline::new(setups, settings.clone()).map_err(|e| arg_error("--sensor", e.to_string()))?;

    let mut recorder = match &args.record {
        Some(path) => {
            let meta = recorder::metadata(
                settings.variation,
                settings.caution.map(|c| c.name()),
                protocol_toml,
                infos,
            );
            Some(SessionRecorder::create(path, &meta, clock)?)
        }
        None => None,
    };

    // Sources: one simulator for every sim sensor (one shared motion), one link per device.
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    let sims: Vec<(u16, crate::body::Placement, DeviceKind)> = specs
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s.device {
            DeviceSpec::Sim(k) => Some((i as u16, s.placement, k)),
            _ => None,
        })
        .collect();
    if !sims.is_empty() {
        let sim = SimSession::build(&SimSettings {
            variation: settings.variation,
            sensors: sims,
            two_sensors: specs.len() == 2,
            seed: args.sim_seed,
            reps: args.sim_reps,
            max_duration_s: args.sim_duration,
            outages,
            backoff: BackoffSettings::default(),
        });
        let speed = (args.sim_speed > 0.0).then_some(args.sim_speed);
        sources.push(Box::new(sim.source(speed)));
    }
    if let Some(adapter) = adapter {
        let _guard = rt.enter();
        for (i, s) in specs.iter().enumerate() {
            if matches!(s.device, DeviceSpec::Sim(_)) {
                continue;
            }
            sources.push(Box::new(BleSource::start(
                adapter.clone(),
                BleTarget {
                    sensor: i as u16,
                    // The address the scan found, so a reconnect finds exactly this device.
                    device: addresses[i].clone().map_or(s.device.clone(), DeviceSpec::Address),
                    kind: Some(kinds[i]),
                    rate_hz: None,
                },
                clock,
                BackoffSettings::default(),
            )));
        }
    }

    let ui = if args.json {
        UiMode::Quiet
    } else if args.plain || !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        UiMode::Plain
    } else {
        UiMode::Tui
    };
    let (end, recorder) = rt.block_on(run_session(sources, pipeline, recorder.take(), ui));
    let (report, saved) = finish(end, recorder, args.json)?;
    if !args.no_save {
        crate::commands::history::autosave(&args.db, &report, saved.as_deref(), "live");
    }
    Ok(())
}

/// Close the recording, print the summary (or the JSON report).
pub(crate) fn finish(
    end: SessionEnd,
    recorder: Option<SessionRecorder>,
    json: bool,
) -> Result<(crate::session::report::Report, Option<std::path::PathBuf>)> {
    let saved = match recorder.map(|r| r.finish(end.report.as_ref().ok())) {
        Some(Ok(path)) => Some(path),
        Some(Err(e)) => {
            eprintln!("twistcoach: warning: {e}; replay reads it up to the last complete record");
            None
        }
        None => None,
    };
    let report = end
        .report
        .map_err(|e| Error::BadInput(BadInput::file("live session", Problem::Other(e.to_string()))))?;
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| Error::Failed(e.to_string()))?;
        println!("{text}");
        if let Some(p) = &saved {
            eprintln!("recording saved to {}", p.display());
        }
    } else {
        println!();
        print!("{}", crate::commands::analyze::summary(&report));
        if let Some(p) = &saved {
            println!(
                "Recording saved to {} (replay it with `twistcoach replay {}`).",
                p.display(),
                p.display()
            );
        }
    }
    Ok((report, saved))
}
