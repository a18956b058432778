//! The crash-safe recording format (`docs/recording-format.md`).
//!
//! A recording is append-only: a 16-byte file header, then framed records
//! (`u32 length, u32 CRC-32, payload`). Metadata (devices, placements, mounting,
//! variation, protocol, calibration, program version) is a JSON record; the raw BLE
//! notifications with their receive times and the decoded samples are binary records.
//! After a crash (kill -9, power loss) the reader returns every complete record and a
//! warning; the writer flushes and syncs at least once a second, so at most the last
//! second is lost.
//!
//! `format` is pure (bytes ↔ records), `reader` parses bytes (and has a small file edge),
//! `writer` is the edge that appends to a file. Owns nothing about BLE or bodies beyond
//! the record types.

pub mod format;
pub mod reader;
pub mod streams;
pub mod writer;

use serde::{Deserialize, Serialize};

use crate::body::{Placement, Variation};
use crate::device::{DeviceSample, Uuid};

pub use format::{FORMAT_MAJOR, FORMAT_MINOR, HEADER_LEN, MAGIC};
pub use reader::{ReadError, Recording, TailProblem, parse, read_file};
pub use streams::{RecordedStream, StreamsError, to_streams};
pub use writer::{RecordWriter, Sink, WriterSettings, create_file};

/// The schema name of the metadata record (changes with the major version).
pub const METADATA_SCHEMA: &str = "twistcoach.recording/1";

/// Everything needed to re-run a session from its recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Always [`METADATA_SCHEMA`].
    pub schema: String,
    /// `twistcoach` version that wrote the file.
    pub program_version: String,
    /// Wall-clock start (RFC 3339, UTC) as the writer's caller saw it; receive times in
    /// the records are seconds since this instant on a monotonic clock.
    pub started_utc: Option<String>,
    pub variation: Variation,
    /// The protocol (targets) in force: the TOML text of `--protocol`, or `None` for the
    /// defaults of spec §4.
    pub protocol_toml: Option<String>,
    /// The caution profile, if any (`--caution`).
    pub caution: Option<String>,
    pub streams: Vec<StreamInfo>,
    /// Anything else (future fields are kept when a file is rewritten).
    #[serde(default, flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One sensor stream of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// The id used by this stream's notification and sample records.
    pub id: u16,
    pub placement: Placement,
    /// Registry kind name (`movella-dot`, …, `open-imu`), or `sim:KIND`.
    pub device_kind: String,
    pub device_address: Option<String>,
    pub device_name: Option<String>,
    /// Mounting in the spec's `--mount` SPEC syntax, as applied.
    pub mount: String,
    /// The device protocol configuration, e.g. `"complete quaternion, 60 Hz"`.
    pub protocol: Option<String>,
    pub rate_hz: Option<f64>,
    /// Calibration results (neutral orientation, biases …) as the analysis wrote them.
    pub calibration: Option<serde_json::Value>,
}

/// One record of a recording.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Session metadata; the first record of every file (later ones may amend it).
    Metadata(Metadata),
    /// A raw BLE notification as received.
    Notification {
        stream: u16,
        receive_s: f64,
        characteristic: Uuid,
        bytes: Vec<u8>,
    },
    /// A decoded sample.
    Sample {
        stream: u16,
        receive_s: f64,
        sample: DeviceSample,
    },
    /// Something that happened (calibration done, a warning, a user mark), as JSON with
    /// at least a `"kind"` field.
    Event { receive_s: f64, json: serde_json::Value },
    /// The writer closed the file normally.
    End { receive_s: f64 },
}
