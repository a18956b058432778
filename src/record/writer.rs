//! Writing recordings: append framed records, flush and sync on a time budget.
//!
//! Crash safety comes from three things: records are only ever appended; each is framed
//! with its length and CRC (a torn last write is detected and dropped by the reader);
//! and buffered records are handed to the OS and synced to disk no later than
//! `flush_interval_s` after they were appended — provided the caller calls
//! [`RecordWriter::append`] or [`RecordWriter::tick`] at least that often. The live loop
//! ticks every 0.25 s, so after a kill -9 or power loss at most the last
//! `flush_interval_s` + 0.25 s (< 1 s with the defaults) is lost.
//!
//! The writer has no clock: callers pass `now_s` (the same monotonic seconds they use
//! for receive times), which keeps it testable.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::error::Error;

use super::format::{encode_frame, header};
use super::{Metadata, Record};

/// Where a recording goes: a file in practice, a `Vec<u8>` in tests.
pub trait Sink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Make the data durable (fsync for files).
    fn sync(&mut self) -> io::Result<()>;
}

impl Sink for File {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(self, bytes)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }
}

impl Sink for Vec<u8> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Settings of the writer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriterSettings {
    /// Longest time (s) a record may wait in the buffer before it is written and synced.
    pub flush_interval_s: f64,
    /// Sync (fsync) after each flush: survives power loss, not only a killed process.
    pub sync: bool,
}

impl Default for WriterSettings {
    fn default() -> Self {
        WriterSettings {
            flush_interval_s: 0.5,
            sync: true,
        }
    }
}

/// An open recording.
#[derive(Debug)]
pub struct RecordWriter<S: Sink> {
    sink: S,
    settings: WriterSettings,
    buffer: Vec<u8>,
    oldest_pending_s: Option<f64>,
    flushes: u64,
    records: u64,
}

impl<S: Sink> RecordWriter<S> {
    /// Start a recording: the header and the metadata record are written and synced at
    /// once, so even a session that crashes in its first second leaves a readable file.
    pub fn new(sink: S, settings: WriterSettings, metadata: &Metadata) -> io::Result<Self> {
        let mut w = RecordWriter {
            sink,
            settings,
            buffer: header().to_vec(),
            oldest_pending_s: None,
            flushes: 0,
            records: 0,
        };
        w.buffer.extend(encode_frame(&Record::Metadata(metadata.clone())));
        w.records += 1;
        w.flush()?;
        Ok(w)
    }

    /// Append a record; flushes if buffered data has waited long enough.
    pub fn append(&mut self, record: &Record, now_s: f64) -> io::Result<()> {
        self.buffer.extend(encode_frame(record));
        self.records += 1;
        self.oldest_pending_s.get_or_insert(now_s);
        self.tick(now_s).map(|_| ())
    }

    /// Flush if the oldest buffered record is `flush_interval_s` old. Returns whether it
    /// flushed. Call at least every 0.25 s while recording.
    pub fn tick(&mut self, now_s: f64) -> io::Result<bool> {
        match self.oldest_pending_s {
            Some(t) if now_s - t >= self.settings.flush_interval_s => {
                self.flush()?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Write everything buffered and sync it.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.sink.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        if self.settings.sync {
            self.sink.sync()?;
        }
        self.oldest_pending_s = None;
        self.flushes += 1;
        Ok(())
    }

    /// Records appended so far (metadata included).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Records known to be on disk: everything except what is still buffered.
    pub fn is_buffer_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    pub fn flushes(&self) -> u64 {
        self.flushes
    }

    /// Close normally: an `End` record, flushed and synced. Returns the sink.
    pub fn finish(mut self, now_s: f64) -> io::Result<S> {
        self.buffer.extend(encode_frame(&Record::End { receive_s: now_s }));
        self.records += 1;
        self.flush()?;
        Ok(self.sink)
    }
}

/// Create a new recording file (refusing to overwrite an existing one).
pub fn create_file(path: &Path, settings: WriterSettings, metadata: &Metadata) -> Result<RecordWriter<File>, Error> {
    let output = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(output)?;
    RecordWriter::new(file, settings, metadata).map_err(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Placement, Variation};
    use crate::record::{StreamInfo, parse};

    fn metadata() -> Metadata {
        Metadata {
            schema: crate::record::METADATA_SCHEMA.to_string(),
            program_version: env!("CARGO_PKG_VERSION").to_string(),
            started_utc: None,
            variation: Variation::Supine,
            protocol_toml: Some("[supine]\nhold_min_s = 20\n".to_string()),
            caution: Some("pregnancy".to_string()),
            streams: vec![StreamInfo {
                id: 3,
                placement: Placement::Pelvis,
                device_kind: "sim:movella-dot".to_string(),
                device_address: None,
                device_name: None,
                mount: "+x:head,+z:out".to_string(),
                protocol: None,
                rate_hz: Some(60.0),
                calibration: Some(serde_json::json!({"q_neutral": [1, 0, 0, 0]})),
            }],
            extra: Default::default(),
        }
    }

    #[test]
    fn flushes_once_the_oldest_record_is_due() {
        let settings = WriterSettings {
            flush_interval_s: 0.5,
            sync: true,
        };
        let mut w = RecordWriter::new(Vec::new(), settings, &metadata()).unwrap();
        let on_disk_after_start = w.sink.len();
        assert!(on_disk_after_start > 16, "header and metadata are written at once");
        for i in 0..10 {
            let t = f64::from(i) * 0.1;
            w.append(&Record::End { receive_s: t }, t).unwrap();
            // Nothing waits longer than the interval.
            if i < 5 {
                assert_eq!(w.sink.len(), on_disk_after_start, "record {i} buffered");
            }
        }
        assert!(w.sink.len() > on_disk_after_start);
        // A quiet period: tick flushes what is pending.
        w.append(&Record::End { receive_s: 1.0 }, 1.0).unwrap();
        assert!(!w.is_buffer_empty());
        assert!(w.tick(1.6).unwrap());
        assert!(w.is_buffer_empty());
        let bytes = w.finish(2.0).unwrap();
        let rec = parse(&bytes).unwrap();
        assert_eq!(rec.records.len(), 13);
        assert_eq!(rec.metadata(), Some(&metadata()));
        assert!(rec.ended_cleanly());
    }

    #[test]
    fn create_file_refuses_to_overwrite() {
        let dir = std::env::temp_dir().join(format!("twistcoach-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.twrec");
        let _ = std::fs::remove_file(&path);
        let w = create_file(&path, WriterSettings::default(), &metadata()).unwrap();
        w.finish(0.0).unwrap();
        assert!(matches!(
            create_file(&path, WriterSettings::default(), &metadata()),
            Err(Error::Output { .. })
        ));
        let rec = crate::record::read_file(&path).unwrap();
        assert!(rec.ended_cleanly());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
