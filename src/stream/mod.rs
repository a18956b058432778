//! Reading input streams from files and writing orientation streams.
//!
//! This is an edge: it touches the file system and gzip, then hands bytes to the pure
//! parsers in `csv`. A path ending in `.gz` is read and written as gzip (multi-member
//! gzip included).

pub mod broad;
pub mod csv;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::error::{BadInput, Error, Problem};
use crate::frames::Quat;

pub use self::csv::{ImuSample, OrientationSample, Samples, Stream, parse_stream};

/// Whether a path names a gzip file (by its ending, as the spec says).
pub fn is_gzip_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Read a file's bytes, gunzipping a `.gz` path. Every failure is bad input.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, BadInput> {
    let mut file = File::open(path).map_err(|e| BadInput::file(path, Problem::Missing(e.to_string())))?;
    let mut raw = Vec::new();
    file.read_to_end(&mut raw)
        .map_err(|e| BadInput::file(path, Problem::Missing(e.to_string())))?;
    if !is_gzip_path(path) {
        return Ok(raw);
    }
    if raw.is_empty() {
        return Err(BadInput::file(path, Problem::Empty));
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|e| BadInput::file(path, Problem::BadGzip(e.to_string())))?;
    Ok(out)
}

/// Read and parse one generic CSV stream (raw IMU or orientation).
pub fn read_stream(path: &Path) -> Result<Stream, BadInput> {
    let bytes = read_bytes(path)?;
    parse_stream(path, &bytes)
}

/// Write `t,qw,qx,qy,qz` with each row's time text exactly as given. Quaternions are
/// written in shortest round-trip form (`zmij`, exponent form for tiny values such as
/// `3.1e-5`): full f64 precision, never fewer than 7 significant digits of the stored value.
pub fn write_orientation_csv(path: &Path, t_text: &[Box<str>], q_world_from_sensor: &[Quat]) -> Result<(), Error> {
    let io_err = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    let text = format_orientation_rows(t_text, q_world_from_sensor);
    let file = File::create(path).map_err(io_err)?;
    if is_gzip_path(path) {
        let mut gz = GzEncoder::new(BufWriter::with_capacity(1 << 16, file), Compression::default());
        gz.write_all(&text).map_err(io_err)?;
        gz.finish().map_err(io_err)?.flush().map_err(io_err)?;
    } else {
        let mut file = file;
        file.write_all(&text).map_err(io_err)?;
    }
    Ok(())
}

/// The whole `t,qw,qx,qy,qz` text in memory (one allocation, no `fmt` machinery: this is
/// the hot part of writing).
fn format_orientation_rows(t_text: &[Box<str>], q: &[Quat]) -> Vec<u8> {
    const ROW_GUESS: usize = 16 + 4 * 24;
    let mut out = Vec::with_capacity(crate::error::ORIENTATION_HEADER.len() + 1 + q.len() * ROW_GUESS);
    out.extend_from_slice(crate::error::ORIENTATION_HEADER.as_bytes());
    out.push(b'\n');
    let mut buf = zmij::Buffer::new();
    for (t, q) in t_text.iter().zip(q) {
        out.extend_from_slice(t.as_bytes());
        for v in [q.w, q.x, q.y, q.z] {
            out.push(b',');
            out.extend_from_slice(buf.format(v).as_bytes());
        }
        out.push(b'\n');
    }
    out
}
