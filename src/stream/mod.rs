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

/// Read a file in chunks of `chunk_bytes` (the last one shorter), gunzipping a `.gz` path,
/// and hand each chunk to `send`, which returns `false` to stop. A failure is sent as a
/// last `Err` chunk, with the problem [`read_bytes`] reports (a missing or unreadable file,
/// an empty `.gz` file, a corrupt gzip stream), so that a parser over the chunks
/// (`csv::parse_imu_in_blocks`) gives what [`read_bytes`] then [`parse_stream`] would give.
/// A `.gz` file is read whole (it is the smaller one) and decompressed chunk by chunk.
pub fn read_chunks(path: &Path, chunk_bytes: usize, mut send: impl FnMut(Result<Vec<u8>, BadInput>) -> bool) {
    let missing = |e: std::io::Error| BadInput::file(path, Problem::Missing(e.to_string()));
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            send(Err(missing(e)));
            return;
        }
    };
    if !is_gzip_path(path) {
        send_chunks(file, chunk_bytes, missing, send);
        return;
    }
    let mut raw = Vec::new();
    match file.read_to_end(&mut raw) {
        Ok(_) => gunzip_chunks(path, &raw, chunk_bytes, send),
        Err(e) => {
            send(Err(missing(e)));
        }
    }
}

/// Gunzip `raw` (a whole `.gz` file, multi-member) and hand the text to `send` in chunks,
/// as [`read_chunks`] does; an empty file and a corrupt stream are sent as the last `Err`.
fn gunzip_chunks(path: &Path, raw: &[u8], chunk_bytes: usize, mut send: impl FnMut(Result<Vec<u8>, BadInput>) -> bool) {
    if raw.is_empty() {
        send(Err(BadInput::file(path, Problem::Empty)));
        return;
    }
    let bad_gzip = |e: std::io::Error| BadInput::file(path, Problem::BadGzip(e.to_string()));
    send_chunks(MultiGzDecoder::new(raw), chunk_bytes, bad_gzip, send);
}

/// Hand everything `source` yields to `send` in chunks of `chunk_bytes` (the last one
/// shorter) until `send` returns `false`; a read error is sent as the last `Err` chunk, as
/// `problem` words it.
fn send_chunks(
    mut source: impl Read,
    chunk_bytes: usize,
    problem: impl Fn(std::io::Error) -> BadInput,
    mut send: impl FnMut(Result<Vec<u8>, BadInput>) -> bool,
) {
    let chunk_bytes = chunk_bytes.max(1);
    loop {
        // Filled by plain `read`s: `read_to_end` on the decoder zeroes its buffer again on
        // each of its smaller reads.
        let mut chunk = vec![0u8; chunk_bytes];
        let mut filled = 0;
        let result = loop {
            match source.read(&mut chunk[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == chunk_bytes {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        chunk.truncate(filled);
        match result {
            Ok(()) if filled == 0 => return,
            Ok(()) => {
                if !send(Ok(chunk)) {
                    return; // the parser has stopped listening
                }
            }
            Err(e) => {
                send(Err(problem(e)));
                return;
            }
        }
    }
}

/// Bytes per chunk handed from the decompressing thread to the parser.
const GZIP_CHUNK_BYTES: usize = 1 << 18;

/// Read and parse one generic CSV stream (raw IMU or orientation).
pub fn read_stream(path: &Path) -> Result<Stream, BadInput> {
    if !is_gzip_path(path) {
        let bytes = read_bytes(path)?;
        return parse_stream(path, &bytes);
    }
    let mut raw = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut raw))
        .map_err(|e| BadInput::file(path, Problem::Missing(e.to_string())))?;
    parse_gzip(path, &raw, GZIP_CHUNK_BYTES)
}

/// Parse a gzip-compressed stream held in memory: the same result as gunzipping it
/// (`read_bytes`) and then [`parse_stream`], but a second thread decompresses while this
/// one parses the chunks of `chunk_bytes` it sends (`csv::parse_chunks`), so that the two
/// overlap when a second core is free (on the shared 2-vCPU development machine this showed
/// no gain; `docs/accuracy.md` §4). `path` only names the file in errors.
pub fn parse_gzip(path: &Path, raw: &[u8], chunk_bytes: usize) -> Result<Stream, BadInput> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<u8>, BadInput>>(8);
        scope.spawn(move || gunzip_chunks(path, raw, chunk_bytes, |chunk| tx.send(chunk).is_ok()));
        csv::parse_chunks(path, rx)
    })
}

/// Write `t,qw,qx,qy,qz` with each row's time text exactly as given (see
/// [`OrientationCsvWriter`] for the number format).
pub fn write_orientation_csv<T: TimeText>(
    path: &Path,
    t_text: &[T],
    q_world_from_sensor: &[Quat],
) -> Result<(), Error> {
    let mut w = OrientationCsvWriter::create(path)?;
    w.write_rows(t_text, q_world_from_sensor)?;
    w.finish()
}

/// Writes an orientation CSV (`t,qw,qx,qy,qz`) in pieces, so that a caller can format and
/// write rows in one thread while the filter produces the next ones in another. Each row's
/// time is written exactly as given; quaternion components with 10 significant digits
/// (`push_quat_component`; shortest round-trip form for 0, ±1 and |v| < 1e-4, e.g.
/// `0.000031`), never fewer than the spec's 7. A `.gz` path is written as gzip.
pub struct OrientationCsvWriter {
    path: std::path::PathBuf,
    sink: Sink,
    text: Vec<u8>,
}

enum Sink {
    Plain(File),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

impl OrientationCsvWriter {
    pub fn create(path: &Path) -> Result<Self, Error> {
        let file = File::create(path).map_err(|source| Error::Output {
            path: path.to_path_buf(),
            source,
        })?;
        let sink = if is_gzip_path(path) {
            Sink::Gzip(Box::new(GzEncoder::new(
                BufWriter::with_capacity(1 << 16, file),
                Compression::default(),
            )))
        } else {
            Sink::Plain(file)
        };
        let mut text = Vec::with_capacity(1 << 16);
        text.extend_from_slice(crate::error::ORIENTATION_HEADER.as_bytes());
        text.push(b'\n');
        Ok(OrientationCsvWriter {
            path: path.to_path_buf(),
            sink,
            text,
        })
    }

    /// Format rows into memory (one buffer, no `fmt` machinery: this is the hot part of
    /// writing) and write them.
    pub fn write_rows<T: TimeText>(&mut self, t_text: &[T], q_world_from_sensor: &[Quat]) -> Result<(), Error> {
        format_orientation_rows(&mut self.text, t_text, q_world_from_sensor);
        self.write_pending()
    }

    /// Write rows already formatted by [`format_orientation_rows`].
    pub fn write_formatted(&mut self, rows: &[u8]) -> Result<(), Error> {
        self.write_pending()?; // the header, the first time
        let written = match &mut self.sink {
            Sink::Plain(f) => f.write_all(rows),
            Sink::Gzip(g) => g.write_all(rows),
        };
        written.map_err(|source| self.output_error(source))
    }

    fn write_pending(&mut self) -> Result<(), Error> {
        let written = match &mut self.sink {
            Sink::Plain(f) => f.write_all(&self.text),
            Sink::Gzip(g) => g.write_all(&self.text),
        };
        self.text.clear();
        written.map_err(|source| self.output_error(source))
    }

    /// Write what is pending and close the file (and the gzip stream).
    pub fn finish(mut self) -> Result<(), Error> {
        self.write_pending()?;
        let done = match self.sink {
            Sink::Plain(ref mut f) => f.flush(),
            Sink::Gzip(g) => g.finish().and_then(|mut w| w.flush()),
        };
        done.map_err(|source| Error::Output {
            path: self.path,
            source,
        })
    }

    fn output_error(&self, source: std::io::Error) -> Error {
        Error::Output {
            path: self.path.clone(),
            source,
        }
    }
}

/// A row's time exactly as it was read: a parsed stream's `Box<str>`, or a slice of the
/// input bytes.
pub trait TimeText {
    fn time_bytes(&self) -> &[u8];
}

impl TimeText for Box<str> {
    fn time_bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl TimeText for &[u8] {
    fn time_bytes(&self) -> &[u8] {
        self
    }
}

/// Append orientation rows (`t,qw,qx,qy,qz`, one per quaternion, time text as given) to
/// `text`; see [`OrientationCsvWriter`] for the number format. Pure.
pub fn format_orientation_rows<T: TimeText>(text: &mut Vec<u8>, t_text: &[T], q_world_from_sensor: &[Quat]) {
    const ROW_GUESS: usize = 16 + 4 * 24;
    text.reserve(q_world_from_sensor.len() * ROW_GUESS);
    let mut buf = zmij::Buffer::new();
    for (t, q) in t_text.iter().zip(q_world_from_sensor) {
        text.extend_from_slice(t.time_bytes());
        for v in [q.w, q.x, q.y, q.z] {
            text.push(b',');
            push_quat_component(text, v, &mut buf);
        }
        text.push(b'\n');
    }
}

/// Significant digits of a quaternion component in the output (the spec asks for 7).
pub const QUAT_SIGNIFICANT_DIGITS: u32 = 10;

/// Append `v` with [`QUAT_SIGNIFICANT_DIGITS`] significant digits, trailing zeros dropped
/// (`0.7071067812`, `-0.000123456789`, `0.5`), by integer arithmetic two digits at a time:
/// a little faster than the shortest round-trip `zmij`, and a quarter less output. Values
/// outside 1e-4 ≤ |v| < 1 (0, ±1, non-finite) are written shortest round-trip by `zmij`.
fn push_quat_component(text: &mut Vec<u8>, v: f64, fallback: &mut zmij::Buffer) {
    const POW10: [f64; 14] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13];
    const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let a = v.abs();
    if !(1e-4..1.0).contains(&a) {
        text.extend_from_slice(fallback.format(v).as_bytes());
        return;
    }
    // Leading zeros after the point: 0 for [0.1, 1), … 3 for [1e-4, 1e-3).
    let zeros = usize::from(a < 0.1) + usize::from(a < 0.01) + usize::from(a < 0.001);
    let decimals = QUAT_SIGNIFICANT_DIGITS as usize + zeros;
    // Below 10^13 + 1 < 2^53: exact as an integer; the product is within an ulp of the
    // value, and adding one half then truncating rounds to the nearest.
    let m = (a * POW10[decimals] + 0.5) as u64;
    // m < 10^14: its 14 digits, zero-padded, two at a time.
    let mut d = [0u8; 14];
    let hi = (m / 100_000_000) as u32;
    let lo = (m % 100_000_000) as u32;
    let pair =
        |d: &mut [u8; 14], at: usize, x: u32| d[at..at + 2].copy_from_slice(&PAIRS[2 * x as usize..2 * x as usize + 2]);
    let (lo_hi, lo_lo) = (lo / 10_000, lo % 10_000);
    pair(&mut d, 6, lo_hi / 100);
    pair(&mut d, 8, lo_hi % 100);
    pair(&mut d, 10, lo_lo / 100);
    pair(&mut d, 12, lo_lo % 100);
    pair(&mut d, 0, hi / 10_000);
    pair(&mut d, 2, (hi / 100) % 100);
    pair(&mut d, 4, hi % 100);
    let mut buf = [0u8; 16];
    let mut len = 0;
    if v < 0.0 {
        buf[0] = b'-';
        len = 1;
    }
    // The integer digit: 1 when the value rounded up to 1, and the decimals then are 0.
    buf[len] = d[13 - decimals];
    buf[len + 1] = b'.';
    len += 2;
    buf[len..len + decimals].copy_from_slice(&d[14 - decimals..]);
    len += decimals;
    while buf[len - 1] == b'0' {
        len -= 1;
    }
    if buf[len - 1] == b'.' {
        len -= 1;
    }
    // A fixed-size copy (no call to `memcpy`), then the unused tail is cut.
    let at = text.len();
    text.extend_from_slice(&buf);
    text.truncate(at + len);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(v: f64) -> String {
        let mut text = Vec::new();
        push_quat_component(&mut text, v, &mut zmij::Buffer::new());
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn quat_components_have_ten_significant_digits() {
        assert_eq!(component(0.5), "0.5");
        assert_eq!(component(-std::f64::consts::FRAC_1_SQRT_2), "-0.7071067812");
        assert_eq!(component(0.000123456789012), "0.000123456789");
        assert_eq!(component(-0.0123456789987), "-0.012345679");
        assert_eq!(component(0.99999999999), "1");
        assert_eq!(component(1.0), "1.0");
        assert_eq!(component(-3.1e-5), "-0.000031");
        assert_eq!(component(0.0), "0.0");
    }

    mod formatting {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Reading back gives the value to 10 significant digits (and so the spec's 7).
            #[test]
            fn quat_component_reads_back_within_half_a_unit_of_the_10th_digit(v in -1.0f64..=1.0) {
                let text = component(v);
                let back: f64 = text.parse().unwrap();
                let tolerance = if v.abs() >= 1e-4 { 5.01e-10 * v.abs() } else { 0.0 };
                prop_assert!((back - v).abs() <= tolerance, "{v} -> {text}");
            }
        }
    }

    #[test]
    fn gzip_path_equals_gunzip_then_parse_for_any_chunk_size() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vqf_parity/input.imu.csv.gz");
        let raw = std::fs::read(&path).unwrap();
        let whole = parse_stream(&path, &read_bytes(&path).unwrap()).unwrap();
        for chunk_bytes in [1, 7, 4096, GZIP_CHUNK_BYTES] {
            assert_eq!(parse_gzip(&path, &raw, chunk_bytes).unwrap(), whole);
        }
        let cut = parse_gzip(&path, &raw[..raw.len() / 2], 4096).unwrap_err();
        assert!(matches!(cut.problem, Problem::BadGzip(_)), "{cut}");
        let empty = parse_gzip(&path, &[], 4096).unwrap_err();
        assert!(matches!(empty.problem, Problem::Empty), "{empty}");
    }
}
