//! Reading recordings: every complete record up to the first incomplete or damaged frame.
//!
//! `parse` is pure (bytes in, records out). A file cut short by a crash ends in a partial
//! frame: the reader stops before it and reports a [`TailProblem`], which the caller
//! turns into a warning (spec §5: a crashed recording is read up to its last complete
//! record). Only a missing or foreign header is an error.

use std::path::Path;

use crate::error::{BadInput, Problem};

use super::format::{
    self, Decoded, FORMAT_MAJOR, FRAME_HEADER_LEN, HEADER_LEN, MAGIC, MAX_PAYLOAD_LEN, decode_payload,
};
use super::{Metadata, Record};

/// A recording as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub format_major: u16,
    pub format_minor: u16,
    pub records: Vec<Record>,
    /// Why reading stopped before the end of the bytes, if it did.
    pub tail: Option<TailProblem>,
    /// Records of types this version does not know (from a newer minor version), skipped.
    pub unknown_records: usize,
}

/// How a recording's bytes end when they do not end cleanly after a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum TailProblem {
    /// The last frame is incomplete (the writer was interrupted): `missing` bytes short.
    Truncated { offset: u64, missing: usize },
    /// A frame is damaged (CRC mismatch, impossible length, undecodable payload).
    Corrupt { offset: u64, why: String },
}

/// A recording that cannot be read at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("not a twistcoach recording (the file does not start with the TWCREC header)")]
    NotARecording,
    #[error("the recording is cut short inside its {HEADER_LEN}-byte header ({found} bytes); nothing to read")]
    TruncatedHeader { found: usize },
    #[error(
        "recording format version {found} is newer than this program understands ({FORMAT_MAJOR}); update twistcoach"
    )]
    UnsupportedVersion { found: u16 },
}

impl Recording {
    /// The first metadata record (the writer puts it first).
    pub fn metadata(&self) -> Option<&Metadata> {
        self.records.iter().find_map(|r| match r {
            Record::Metadata(m) => Some(m),
            _ => None,
        })
    }

    /// Whether the writer closed the file (the last record is `End`).
    pub fn ended_cleanly(&self) -> bool {
        self.tail.is_none() && matches!(self.records.last(), Some(Record::End { .. }))
    }

    /// A plain-language warning about an interrupted or damaged file, if any.
    pub fn warning(&self) -> Option<String> {
        let last_s = self.records.iter().rev().find_map(|r| match r {
            Record::Notification { receive_s, .. }
            | Record::Sample { receive_s, .. }
            | Record::Event { receive_s, .. }
            | Record::End { receive_s } => Some(*receive_s),
            Record::Metadata(_) => None,
        });
        let upto = last_s.map(|t| format!(" (data up to {t:.3} s)")).unwrap_or_default();
        match &self.tail {
            Some(TailProblem::Truncated { offset, .. }) => Some(format!(
                "the recording was cut short at byte {offset} (the program stopped while writing); \
                 read {} complete records{upto}",
                self.records.len()
            )),
            Some(TailProblem::Corrupt { offset, why }) => Some(format!(
                "the recording is damaged at byte {offset} ({why}); read {} records before it{upto}",
                self.records.len()
            )),
            None if !self.ended_cleanly() => Some(format!(
                "the recording has no end marker (the program stopped without closing it); \
                 read {} complete records{upto}",
                self.records.len()
            )),
            None => None,
        }
    }
}

/// Parse a recording's bytes.
pub fn parse(bytes: &[u8]) -> Result<Recording, ReadError> {
    if bytes.len() < HEADER_LEN {
        // A prefix of the magic is a recording cut short; anything else is foreign.
        let n = bytes.len().min(MAGIC.len());
        return if bytes[..n] == MAGIC[..n] {
            Err(ReadError::TruncatedHeader { found: bytes.len() })
        } else {
            Err(ReadError::NotARecording)
        };
    }
    if bytes[..MAGIC.len()] != MAGIC {
        return Err(ReadError::NotARecording);
    }
    let format_major = u16::from_le_bytes([bytes[8], bytes[9]]);
    let format_minor = u16::from_le_bytes([bytes[10], bytes[11]]);
    if format_major != FORMAT_MAJOR {
        return Err(ReadError::UnsupportedVersion { found: format_major });
    }
    let mut rec = Recording {
        format_major,
        format_minor,
        records: Vec::new(),
        tail: None,
        unknown_records: 0,
    };
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        let offset = pos as u64;
        let rest = &bytes[pos..];
        if rest.len() < FRAME_HEADER_LEN {
            rec.tail = Some(TailProblem::Truncated {
                offset,
                missing: FRAME_HEADER_LEN - rest.len(),
            });
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_PAYLOAD_LEN {
            rec.tail = Some(TailProblem::Corrupt {
                offset,
                why: format!("record length {len} is impossible"),
            });
            break;
        }
        let Some(payload) = rest.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + len) else {
            rec.tail = Some(TailProblem::Truncated {
                offset,
                missing: FRAME_HEADER_LEN + len - rest.len(),
            });
            break;
        };
        if format::crc32(payload) != crc {
            rec.tail = Some(TailProblem::Corrupt {
                offset,
                why: "checksum mismatch".to_string(),
            });
            break;
        }
        match decode_payload(payload) {
            Ok(Decoded::Record(r)) => rec.records.push(*r),
            Ok(Decoded::Unknown(_)) => rec.unknown_records += 1,
            Err(e) => {
                rec.tail = Some(TailProblem::Corrupt {
                    offset,
                    why: e.to_string(),
                });
                break;
            }
        }
        pos += FRAME_HEADER_LEN + len;
    }
    Ok(rec)
}

/// Read a recording file (a `.gz` path is gunzipped first). The caller shows
/// [`Recording::warning`]; only an unreadable or foreign file is an error.
pub fn read_file(path: &Path) -> Result<Recording, BadInput> {
    let bytes = crate::stream::read_bytes(path)?;
    parse(&bytes).map_err(|e| BadInput::file(path, Problem::Other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Placement, Variation};
    use crate::device::{DeviceSample, Uuid};
    use crate::frames::Quat;
    use crate::record::StreamInfo;
    use crate::record::format::{encode_frame, header};
    use proptest::prelude::*;

    fn metadata() -> Metadata {
        Metadata {
            schema: crate::record::METADATA_SCHEMA.to_string(),
            program_version: "0.1.0".to_string(),
            started_utc: Some("2026-11-25T07:00:00Z".to_string()),
            variation: Variation::Seated,
            protocol_toml: None,
            caution: None,
            streams: vec![StreamInfo {
                id: 0,
                placement: Placement::Chest,
                device_kind: "open-imu".to_string(),
                device_address: Some("AA:BB:CC:DD:EE:FF".to_string()),
                device_name: Some("OpenIMU-chest".to_string()),
                mount: "+y:head,+z:out".to_string(),
                protocol: Some("IMU 6D, 100 Hz".to_string()),
                rate_hz: Some(100.0),
                calibration: None,
            }],
            extra: Default::default(),
        }
    }

    /// A recording with every record type, and the byte offset where each frame ends.
    fn sample_file() -> (Vec<u8>, Vec<Record>, Vec<usize>) {
        let mut records = vec![Record::Metadata(metadata())];
        for i in 0..20 {
            let t = f64::from(i) * 0.01;
            records.push(Record::Notification {
                stream: 0,
                receive_s: t,
                characteristic: Uuid(0x4f70_0002_656e_494d_5500_7477_6973_7463),
                bytes: vec![1, 2, i as u8, 0, 0, 0, 0, 0],
            });
            records.push(Record::Sample {
                stream: 0,
                receive_s: t,
                sample: DeviceSample {
                    device_time_s: Some(t + 100.0),
                    sequence: Some(i as u64),
                    acc_sensor_mps2: Some([0.0, 0.1, 9.8]),
                    gyro_sensor_radps: Some([0.01, 0.0, -0.02]),
                    q_world_from_sensor: (i % 2 == 0).then_some(Quat::new(1.0, 0.0, 0.0, 0.0)),
                    ..DeviceSample::default()
                },
            });
        }
        records.push(Record::Event {
            receive_s: 0.2,
            json: serde_json::json!({"kind": "calibrated", "placement": "chest"}),
        });
        records.push(Record::End { receive_s: 0.25 });
        let mut bytes = header().to_vec();
        let mut ends = Vec::new();
        for r in &records {
            bytes.extend(encode_frame(r));
            ends.push(bytes.len());
        }
        (bytes, records, ends)
    }

    #[test]
    fn round_trip_reads_everything_cleanly() {
        let (bytes, records, _) = sample_file();
        let rec = parse(&bytes).unwrap();
        assert_eq!(rec.records, records);
        assert!(rec.ended_cleanly());
        assert_eq!(rec.warning(), None);
        assert_eq!(rec.metadata().unwrap().streams[0].placement, Placement::Chest);
    }

    /// Cut the file at every byte offset: the reader returns exactly the records that
    /// were complete before the cut, with a warning, and never fails past the header.
    #[test]
    fn truncation_at_every_offset_keeps_all_complete_records() {
        let (bytes, records, ends) = sample_file();
        for cut in 0..=bytes.len() {
            let result = parse(&bytes[..cut]);
            if cut < HEADER_LEN {
                assert_eq!(result, Err(ReadError::TruncatedHeader { found: cut }), "cut {cut}");
                continue;
            }
            let rec = result.unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(rec.records, records[..complete], "cut {cut}");
            let at_boundary = cut == HEADER_LEN || ends.contains(&cut);
            assert_eq!(rec.tail.is_none(), at_boundary, "cut {cut}");
            if cut < bytes.len() {
                assert!(rec.warning().is_some(), "cut {cut}: a cut file must warn");
            }
        }
    }

    #[test]
    fn a_flipped_bit_stops_reading_at_that_record() {
        let (mut bytes, records, ends) = sample_file();
        let victim = ends[5] + 12; // inside record 6's payload
        bytes[victim] ^= 0x10;
        let rec = parse(&bytes).unwrap();
        assert_eq!(rec.records, records[..6]);
        assert!(matches!(rec.tail, Some(TailProblem::Corrupt { offset, .. }) if offset == ends[5] as u64));
        assert!(rec.warning().unwrap().contains("damaged"));
    }

    #[test]
    fn foreign_and_future_files_are_errors() {
        assert_eq!(
            parse(b"t,ax,ay,az,gx,gy,gz\n0,0,0,0,0,0,0\n"),
            Err(ReadError::NotARecording)
        );
        assert_eq!(parse(b"nope"), Err(ReadError::NotARecording));
        let mut h = header().to_vec();
        h[8] = 2;
        assert_eq!(parse(&h), Err(ReadError::UnsupportedVersion { found: 2 }));
    }

    #[test]
    fn unknown_record_types_are_skipped() {
        let (mut bytes, records, _) = sample_file();
        let payload = [77u8, 1, 2, 3];
        let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
        frame.extend(crate::record::format::crc32(&payload).to_le_bytes());
        frame.extend(payload);
        let end = bytes.split_off(bytes.len() - encode_frame(&Record::End { receive_s: 0.25 }).len());
        bytes.extend(frame);
        bytes.extend(end);
        let rec = parse(&bytes).unwrap();
        assert_eq!(rec.records, records);
        assert_eq!(rec.unknown_records, 1);
    }

    proptest! {
        #[test]
        fn parse_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut bytes = header().to_vec();
            bytes.extend(tail);
            let _ = parse(&bytes);
        }
    }
}
