//! Pure encoding and decoding of the recording format (no I/O).
//!
//! File header (16 bytes): magic `TWCREC\r\n`, u16 major, u16 minor, u32 reserved (0).
//! Frame: u32 payload length, u32 CRC-32 (IEEE) of the payload, payload. Payload: u8
//! record type, then the body. All integers and floats little-endian.

use crate::device::{DeviceSample, Uuid};
use crate::frames::Quat;

use super::{Metadata, Record};

/// `TWCREC\r\n`: the CR LF catches files mangled by text-mode transfers.
pub const MAGIC: [u8; 8] = *b"TWCREC\r\n";
pub const FORMAT_MAJOR: u16 = 1;
pub const FORMAT_MINOR: u16 = 0;
pub const HEADER_LEN: usize = 16;
pub const FRAME_HEADER_LEN: usize = 8;
/// Larger payloads are refused as corrupt (a torn length field).
pub const MAX_PAYLOAD_LEN: usize = 16 << 20;

pub const TYPE_METADATA: u8 = 1;
pub const TYPE_NOTIFICATION: u8 = 2;
pub const TYPE_SAMPLE: u8 = 3;
pub const TYPE_EVENT: u8 = 4;
pub const TYPE_END: u8 = 5;

/// The file header bytes.
pub fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&FORMAT_MAJOR.to_le_bytes());
    h[10..12].copy_from_slice(&FORMAT_MINOR.to_le_bytes());
    h
}

pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// A whole frame (length, CRC, payload) for one record.
pub fn encode_frame(record: &Record) -> Vec<u8> {
    let payload = encode_payload(record);
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

fn put_f64(out: &mut Vec<u8>, x: f64) {
    out.extend_from_slice(&x.to_le_bytes());
}

/// Presence bits of a sample record.
mod bit {
    pub const DEVICE_TIME: u8 = 1 << 0;
    pub const SEQUENCE: u8 = 1 << 1;
    pub const ACC: u8 = 1 << 2;
    pub const GYRO: u8 = 1 << 3;
    pub const MAG: u8 = 1 << 4;
    pub const QUAT: u8 = 1 << 5;
    pub const FREE_ACC: u8 = 1 << 6;
}

/// The payload (type byte + body) of one record.
pub fn encode_payload(record: &Record) -> Vec<u8> {
    let mut out = Vec::new();
    match record {
        Record::Metadata(m) => {
            out.push(TYPE_METADATA);
            // Serialising plain data to a Vec cannot fail; an empty object is the
            // conservative fallback.
            out.extend(serde_json::to_vec(m).unwrap_or_else(|_| b"{}".to_vec()));
        }
        Record::Notification {
            stream,
            receive_s,
            characteristic,
            bytes,
        } => {
            out.push(TYPE_NOTIFICATION);
            out.extend_from_slice(&stream.to_le_bytes());
            put_f64(&mut out, *receive_s);
            out.extend_from_slice(&characteristic.0.to_le_bytes());
            out.extend_from_slice(bytes);
        }
        Record::Sample {
            stream,
            receive_s,
            sample: s,
        } => {
            out.push(TYPE_SAMPLE);
            out.extend_from_slice(&stream.to_le_bytes());
            put_f64(&mut out, *receive_s);
            let mut bits = 0u8;
            let mut body = Vec::new();
            if let Some(t) = s.device_time_s {
                bits |= bit::DEVICE_TIME;
                put_f64(&mut body, t);
            }
            if let Some(n) = s.sequence {
                bits |= bit::SEQUENCE;
                body.extend_from_slice(&n.to_le_bytes());
            }
            for (flag, v) in [
                (bit::ACC, s.acc_sensor_mps2),
                (bit::GYRO, s.gyro_sensor_radps),
                (bit::MAG, s.mag_sensor_ut),
            ] {
                if let Some(v) = v {
                    bits |= flag;
                    v.iter().for_each(|x| put_f64(&mut body, *x));
                }
            }
            if let Some(q) = s.q_world_from_sensor {
                bits |= bit::QUAT;
                q.to_array().iter().for_each(|x| put_f64(&mut body, *x));
            }
            if let Some(v) = s.free_acc_world_mps2 {
                bits |= bit::FREE_ACC;
                v.iter().for_each(|x| put_f64(&mut body, *x));
            }
            out.push(bits);
            out.extend(body);
        }
        Record::Event { receive_s, json } => {
            out.push(TYPE_EVENT);
            put_f64(&mut out, *receive_s);
            out.extend(serde_json::to_vec(json).unwrap_or_else(|_| b"null".to_vec()));
        }
        Record::End { receive_s } => {
            out.push(TYPE_END);
            put_f64(&mut out, *receive_s);
        }
    }
    out
}

/// Why a payload that passed its CRC still could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("empty record")]
    Empty,
    #[error("record type {0} is too short")]
    Short(u8),
    #[error("record type {kind}: bad JSON ({message})")]
    Json { kind: u8, message: String },
    #[error("record type {0} has trailing bytes")]
    Trailing(u8),
}

/// A decoded payload: a known record, or a type this version does not know (skipped,
/// for forward compatibility: a later minor version may add record types).
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Record(Box<Record>),
    Unknown(u8),
}

struct Cursor<'a> {
    bytes: &'a [u8],
    kind: u8,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        if self.bytes.len() < n {
            return Err(PayloadError::Short(self.kind));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], PayloadError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn f64(&mut self) -> Result<f64, PayloadError> {
        self.arr().map(f64::from_le_bytes)
    }
    fn v3(&mut self) -> Result<[f64; 3], PayloadError> {
        Ok([self.f64()?, self.f64()?, self.f64()?])
    }
}

/// Decode one payload (after its CRC matched).
pub fn decode_payload(payload: &[u8]) -> Result<Decoded, PayloadError> {
    let (&kind, body) = payload.split_first().ok_or(PayloadError::Empty)?;
    let mut c = Cursor { bytes: body, kind };
    let json_err = |e: serde_json::Error| PayloadError::Json {
        kind,
        message: e.to_string(),
    };
    let record = match kind {
        TYPE_METADATA => Record::Metadata(serde_json::from_slice::<Metadata>(body).map_err(json_err)?),
        TYPE_NOTIFICATION => {
            let stream = u16::from_le_bytes(c.arr()?);
            let receive_s = c.f64()?;
            let characteristic = Uuid(u128::from_le_bytes(c.arr()?));
            Record::Notification {
                stream,
                receive_s,
                characteristic,
                bytes: c.bytes.to_vec(),
            }
        }
        TYPE_SAMPLE => {
            let stream = u16::from_le_bytes(c.arr()?);
            let receive_s = c.f64()?;
            let [bits] = c.arr()?;
            let has = |b: u8| bits & b != 0;
            let mut s = DeviceSample::default();
            if has(bit::DEVICE_TIME) {
                s.device_time_s = Some(c.f64()?);
            }
            if has(bit::SEQUENCE) {
                s.sequence = Some(u64::from_le_bytes(c.arr()?));
            }
            if has(bit::ACC) {
                s.acc_sensor_mps2 = Some(c.v3()?);
            }
            if has(bit::GYRO) {
                s.gyro_sensor_radps = Some(c.v3()?);
            }
            if has(bit::MAG) {
                s.mag_sensor_ut = Some(c.v3()?);
            }
            if has(bit::QUAT) {
                s.q_world_from_sensor = Some(Quat::new(c.f64()?, c.f64()?, c.f64()?, c.f64()?));
            }
            if has(bit::FREE_ACC) {
                s.free_acc_world_mps2 = Some(c.v3()?);
            }
            if !c.bytes.is_empty() {
                return Err(PayloadError::Trailing(kind));
            }
            Record::Sample {
                stream,
                receive_s,
                sample: s,
            }
        }
        TYPE_EVENT => {
            let receive_s = c.f64()?;
            Record::Event {
                receive_s,
                json: serde_json::from_slice(c.bytes).map_err(json_err)?,
            }
        }
        TYPE_END => {
            let receive_s = c.f64()?;
            if !c.bytes.is_empty() {
                return Err(PayloadError::Trailing(kind));
            }
            Record::End { receive_s }
        }
        other => return Ok(Decoded::Unknown(other)),
    };
    Ok(Decoded::Record(Box::new(record)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_crc32_ieee() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn header_bytes() {
        assert_eq!(
            crate::device::hex::format(&header()),
            "5457435245430d0a0100000000000000"
        );
    }

    #[test]
    fn end_record_frame_by_hand() {
        // payload = 05 + f64 1.5 (3ff8000000000000 LE = 000000000000f83f)
        let frame = encode_frame(&Record::End { receive_s: 1.5 });
        let payload = crate::device::hex::parse("05 000000000000f83f").unwrap();
        assert_eq!(&frame[0..4], &9u32.to_le_bytes());
        assert_eq!(&frame[4..8], &crc32(&payload).to_le_bytes());
        assert_eq!(&frame[8..], payload.as_slice());
    }

    #[test]
    fn unknown_types_are_skippable_and_bad_bodies_are_errors() {
        assert_eq!(decode_payload(&[200, 1, 2, 3]), Ok(Decoded::Unknown(200)));
        assert_eq!(decode_payload(&[]), Err(PayloadError::Empty));
        assert_eq!(decode_payload(&[TYPE_END, 0, 0]), Err(PayloadError::Short(TYPE_END)));
        assert!(matches!(
            decode_payload(&[TYPE_METADATA, b'{']),
            Err(PayloadError::Json { .. })
        ));
    }
}
