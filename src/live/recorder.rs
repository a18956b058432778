//! The recording of a live session (`twistcoach live --record`, and phone sessions served
//! by the page): the crash-safe file of `docs/recording-format.md` with the raw
//! notifications or phone packets, decoded samples, connection events, the calibration
//! and the final report, so `twistcoach replay` and `analyze` read it back. Owns only the
//! file; the session is the pipeline's.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{LiveEvent, Output, Pipeline};
use crate::record::{Metadata, Record, RecordWriter, StreamInfo, WriterSettings, create_file};
use crate::session::report::Report;
use crate::source::SourceEvent;
use crate::source::replay::event_json;

/// An open recording; writing stops (with one warning) at the first I/O error.
pub struct SessionRecorder {
    writer: Option<RecordWriter<File>>,
    path: PathBuf,
    clock: Instant,
}

impl SessionRecorder {
    /// Create `path` (which must not exist) with this metadata; `clock` is the origin of
    /// the flush schedule.
    pub fn create(path: &Path, metadata: &Metadata, clock: Instant) -> Result<SessionRecorder, crate::error::Error> {
        let writer = create_file(path, WriterSettings::default(), metadata)?;
        Ok(SessionRecorder {
            writer: Some(writer),
            path: path.to_path_buf(),
            clock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn wall(&self) -> f64 {
        self.clock.elapsed().as_secs_f64()
    }

    fn append(&mut self, r: &Record) -> Option<String> {
        let now = self.wall();
        let w = self.writer.as_mut()?;
        match w.append(r, now) {
            Ok(()) => None,
            Err(e) => {
                self.writer = None;
                Some(format!(
                    "the recording {} could not be written ({e}); the session goes on without it",
                    self.path.display()
                ))
            }
        }
    }

    /// Record a source event before the pipeline sees it.
    pub fn event(&mut self, e: &SourceEvent) -> Option<String> {
        let r = match e {
            SourceEvent::Notification {
                sensor,
                receive_s,
                characteristic,
                bytes,
            } => Record::Notification {
                stream: *sensor,
                receive_s: *receive_s,
                characteristic: *characteristic,
                bytes: bytes.clone(),
            },
            other => Record::Event {
                receive_s: other.receive_s(),
                json: event_json(other).unwrap_or_default(),
            },
        };
        self.append(&r)
    }

    /// Record what the pipeline made of it: decoded samples and the calibration.
    pub fn output(&mut self, e: &SourceEvent, out: &Output, pipeline: &Pipeline) -> Option<String> {
        let mut warning = None;
        for (sensor, receive_s, sample) in &out.samples {
            let r = Record::Sample {
                stream: *sensor,
                receive_s: *receive_s,
                sample: *sample,
            };
            warning = warning.or(self.append(&r));
        }
        for ev in &out.events {
            if let LiveEvent::Calibrated { t_s, .. } = ev
                && let Some(cal) = pipeline.calibration_json()
            {
                let json = serde_json::json!({"kind": "calibrated", "t_s": t_s, "calibration": cal});
                warning = warning.or(self.append(&Record::Event {
                    receive_s: e.receive_s(),
                    json,
                }));
            }
        }
        warning
    }

    /// Flush what is buffered if it is time (call on a timer); a warning if that failed
    /// (writing stops then).
    pub fn tick(&mut self) -> Option<String> {
        let now = self.wall();
        let w = self.writer.as_mut()?;
        match w.tick(now) {
            Ok(_) => None,
            Err(e) => {
                self.writer = None;
                Some(format!(
                    "the recording {} could not be written ({e}); the session goes on without it",
                    self.path.display()
                ))
            }
        }
    }

    /// Append the report and close the file: its path, or why it was not closed cleanly
    /// (it then reads back up to its last complete record).
    pub fn finish(mut self, report: Option<&Report>) -> Result<PathBuf, String> {
        let now = self.wall();
        if let Some(r) = report {
            let json = serde_json::json!({"kind": "report", "report": r});
            self.append(&Record::Event { receive_s: now, json });
        }
        let Some(w) = self.writer.take() else {
            return Err(format!(
                "the recording {} stopped at a write error",
                self.path.display()
            ));
        };
        w.finish(now)
            .map(|_| self.path.clone())
            .map_err(|e| format!("the recording {} could not be closed ({e})", self.path.display()))
    }
}

/// Metadata for a session of these streams, started now.
pub fn metadata(
    variation: crate::body::Variation,
    caution: Option<&str>,
    protocol_toml: Option<String>,
    streams: Vec<StreamInfo>,
) -> Metadata {
    Metadata {
        schema: crate::record::METADATA_SCHEMA.to_string(),
        program_version: env!("CARGO_PKG_VERSION").to_string(),
        started_utc: Some(jiff::Timestamp::now().to_string()),
        variation,
        protocol_toml,
        caution: caution.map(String::from),
        streams,
        extra: Default::default(),
    }
}
