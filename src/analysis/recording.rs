//! A recording (`record/`) as analysis input: its streams on one clock, and the
//! configuration it was made with (variation, caution, protocol, mounting). Shared by
//! `analyze RECORDING` and `history import`. Reads one file; everything else is pure.

use std::path::{Path, PathBuf};

use crate::body::mount::{Mount, parse_mount_arg};
use crate::error::{BadInput, Problem};
use crate::record::{self, Metadata};
use crate::session::protocol::{Caution, Protocol};

use super::{Config, SensorStream};

/// What a recording gives the analysis.
#[derive(Debug, Clone)]
pub struct RecordingInput {
    pub metadata: Metadata,
    /// One stream per sensor, named `FILE#placement` in messages.
    pub streams: Vec<SensorStream>,
    /// The configuration the session was recorded with.
    pub config: Config,
    /// A file cut short, skipped samples, ... (plain language).
    pub warnings: Vec<String>,
}

fn bad(path: &Path, msg: String) -> BadInput {
    BadInput::file(path, Problem::Other(msg))
}

/// Read a recording and turn it into analysis input.
pub fn read(path: &Path) -> Result<RecordingInput, BadInput> {
    let recording = record::read_file(path)?;
    from_recording(path, &recording)
}

/// A recording already in memory as analysis input; `path` names it in messages.
pub fn from_recording(path: &Path, recording: &record::Recording) -> Result<RecordingInput, BadInput> {
    let mut warnings: Vec<String> = recording.warning().into_iter().collect();
    let metadata = recording
        .metadata()
        .ok_or_else(|| {
            bad(
                path,
                "the recording has no metadata (cut short before the session started)".into(),
            )
        })?
        .clone();
    let mut config = Config::new(metadata.variation);
    if let Some(name) = &metadata.caution {
        config.caution = Some(
            Caution::parse(name)
                .ok_or_else(|| bad(path, format!("unknown caution profile `{name}` in the metadata")))?,
        );
    }
    if let Some(text) = &metadata.protocol_toml {
        config.protocol = Protocol::from_toml(path, text)?;
    }
    let recorded = record::to_streams(recording).map_err(|e| bad(path, e.to_string()))?;
    let mut streams = Vec::new();
    for r in recorded {
        warnings.extend(r.warnings);
        let mount = if r.info.mount.trim().is_empty() {
            Mount::default()
        } else {
            parse_mount_arg(&format!("{}={}", r.info.placement.name(), r.info.mount))
                .map_err(|e| bad(path, format!("stream {}: mount `{}`: {e}", r.info.id, r.info.mount)))?
                .1
        };
        streams.push(SensorStream {
            placement: r.info.placement,
            path: PathBuf::from(format!("{}#{}", path.display(), r.info.placement.name())),
            stream: r.stream,
            mount,
        });
    }
    Ok(RecordingInput {
        metadata,
        streams,
        config,
        warnings,
    })
}
