//! `twistcoach replay FILE [--speed X | --fast] [--json]` (spec §6): a recording's raw
//! notifications through the same live pipeline. The pipeline depends only on the
//! recorded events, so the report is the live session's.

use std::path::Path;

use crate::body::mount::parse_mount_arg;
use crate::cli::ReplayArgs;
use crate::commands::live::finish;
use crate::commands::scan::runtime;
use crate::device::DeviceKind;
use crate::error::{BadInput, Error, Problem, Result};
use crate::live::run::{SessionEnd, UiMode, run_session};
use crate::live::{Pipeline, SensorSetup, Settings, run_events};
use crate::record::{Metadata, Recording, read_file};
use crate::session::protocol::{Caution, Protocol};
use crate::source::replay::{recorded_events, source as replay_source};

fn bad(path: &Path, msg: String) -> Error {
    BadInput::file(path, Problem::Other(msg)).into()
}

/// The live pipeline exactly as the recording's metadata describes the session.
pub fn pipeline_for(path: &Path, meta: &Metadata) -> Result<Pipeline> {
    let mut settings = Settings::new(meta.variation);
    if let Some(c) = &meta.caution {
        settings.caution =
            Some(Caution::parse(c).ok_or_else(|| bad(path, format!("unknown caution profile `{c}` in the metadata")))?);
    }
    if let Some(t) = &meta.protocol_toml {
        settings.protocol = Protocol::from_toml(path, t)?;
    }
    let mut setups = Vec::new();
    for (i, s) in meta.streams.iter().enumerate() {
        if usize::from(s.id) != i {
            return Err(bad(
                path,
                format!("stream ids must be 0, 1, … in order; found {} at position {i}", s.id),
            ));
        }
        let name = s.device_kind.strip_prefix("sim:").unwrap_or(&s.device_kind);
        let kind =
            DeviceKind::parse(name).ok_or_else(|| bad(path, format!("unknown device kind `{}`", s.device_kind)))?;
        let (_, mount) = parse_mount_arg(&format!("{}={}", s.placement.name(), s.mount))
            .map_err(|e| bad(path, format!("stream {}: mount: {e}", s.id)))?;
        setups.push(SensorSetup {
            placement: s.placement,
            kind,
            mount,
            rate_hz: s.rate_hz.unwrap_or(kind.info().default_rate_hz),
        });
    }
    Pipeline::new(setups, settings).map_err(|e| bad(path, e.to_string()))
}

/// Replay as fast as possible: the report (and the events) of the recorded session.
pub fn replay_fast(path: &Path, rec: &Recording) -> Result<(crate::live::Pipeline, SessionEnd)> {
    let meta = rec.metadata().ok_or_else(|| {
        bad(
            path,
            "the recording has no metadata (cut short before the session started)".into(),
        )
    })?;
    let mut pipeline = pipeline_for(path, meta)?;
    let events = recorded_events(rec);
    let (report, _) = run_events(&mut pipeline, events.iter());
    let n = events
        .iter()
        .filter(|e| matches!(e, crate::source::SourceEvent::Notification { .. }))
        .count() as u64;
    Ok((
        pipeline,
        SessionEnd {
            report,
            notifications: n,
            stopped_by_user: false,
        },
    ))
}

pub fn run(args: &ReplayArgs) -> Result<()> {
    let rec = read_file(&args.file)?;
    if let Some(w) = rec.warning() {
        eprintln!("twistcoach: warning: {}: {w}", args.file.display());
    }
    if args.json || args.fast {
        let (_, end) = replay_fast(&args.file, &rec)?;
        if !args.json {
            println!("replayed {} notifications", end.notifications);
        }
        let (report, _) = finish(end, None, args.json)?;
        save(args, &report);
        return Ok(());
    }
    let meta = rec
        .metadata()
        .ok_or_else(|| bad(&args.file, "the recording has no metadata".into()))?;
    let pipeline = pipeline_for(&args.file, meta)?;
    let speed = args.speed.unwrap_or(1.0);
    if !(speed.is_finite() && speed > 0.0) {
        return Err(bad(Path::new("--speed"), format!("{speed} is not a positive speed")));
    }
    let source = replay_source(&rec, Some(speed));
    let ui = if args.plain || !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        UiMode::Plain
    } else {
        UiMode::Tui
    };
    let (end, _) = runtime()?.block_on(run_session(vec![Box::new(source)], pipeline, None, ui));
    let (report, _) = finish(end, None, false)?;
    save(args, &report);
    Ok(())
}

fn save(args: &ReplayArgs, report: &crate::session::report::Report) {
    if !args.no_save {
        crate::commands::history::autosave(&args.db, report, Some(&args.file), "replay");
    }
}
