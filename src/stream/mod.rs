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

/// A file's bytes in chunks of `chunk_bytes` (the last one shorter), gunzipping a `.gz`
/// path. A failure is the last item, an `Err` with the problem [`read_bytes`] reports (a
/// missing or unreadable file, an empty `.gz` file, a corrupt gzip stream), so that a
/// parser over the chunks (`csv::parse_imu_in_blocks`, or `orientation`'s pieces) gives
/// what [`read_bytes`] then [`parse_stream`] would give. A `.gz` file is read and
/// decompressed as the chunks are taken (reading it whole first cost 1.5–3 ms before the
/// first chunk, mostly page faults).
pub fn read_chunks(path: &Path, chunk_bytes: usize) -> Chunks<Box<dyn Read + Send>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return Chunks::failed(path, Problem::Missing(e.to_string())),
    };
    if !is_gzip_path(path) {
        return Chunks::new(path, Box::new(file), chunk_bytes, ReadProblem::Missing);
    }
    let file = FileReads(file);
    gunzip_chunks(path, std::io::BufReader::with_capacity(1 << 16, file), chunk_bytes).boxed()
}

/// A file under the gzip decoder, whose read errors are marked as the file's
/// ([`FileError`]), so that they are reported as such and not as corrupt gzip data.
struct FileReads(File);

impl Read for FileReads {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), FileError(e.to_string())))
    }
}

/// A read error of the file itself (see [`FileReads`]).
#[derive(Debug)]
struct FileError(String);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileError {}

/// Gunzip `raw` (a whole `.gz` file, multi-member) in chunks, as [`read_chunks`] does; an
/// empty file and a corrupt stream are the last item, an `Err`.
fn gunzip_chunks<R: std::io::BufRead>(path: &Path, mut raw: R, chunk_bytes: usize) -> Chunks<MultiGzDecoder<R>> {
    match raw.fill_buf() {
        Ok([]) => Chunks::failed(path, Problem::Empty),
        Ok(_) => Chunks::new(path, MultiGzDecoder::new(raw), chunk_bytes, ReadProblem::BadGzip),
        Err(e) => Chunks::failed(path, Problem::Missing(e.to_string())),
    }
}

/// How a read error of a [`Chunks`] source is reported.
#[derive(Debug, Clone, Copy)]
enum ReadProblem {
    /// The file could not be read ([`Problem::Missing`]).
    Missing,
    /// The gzip stream is corrupt or cut short ([`Problem::BadGzip`]), unless the error is
    /// the file's own ([`FileError`], [`Problem::Missing`]).
    BadGzip,
}

impl ReadProblem {
    fn of(self, e: std::io::Error) -> Problem {
        let the_files = e.get_ref().is_some_and(|inner| inner.is::<FileError>());
        match self {
            ReadProblem::BadGzip if !the_files => Problem::BadGzip(e.to_string()),
            _ => Problem::Missing(e.to_string()),
        }
    }
}

/// The bytes of a source in chunks: see [`read_chunks`].
pub struct Chunks<R> {
    path: std::path::PathBuf,
    source: Option<R>,
    chunk_bytes: usize,
    read_problem: ReadProblem,
    /// A failure found before the first chunk, given as the first (and last) item.
    failure: Option<BadInput>,
}

impl<R: Read> Chunks<R> {
    fn new(path: &Path, source: R, chunk_bytes: usize, read_problem: ReadProblem) -> Self {
        Chunks {
            path: path.to_path_buf(),
            source: Some(source),
            chunk_bytes: chunk_bytes.max(1),
            read_problem,
            failure: None,
        }
    }

    fn boxed(self) -> Chunks<Box<dyn Read + Send>>
    where
        R: Send + 'static,
    {
        Chunks {
            path: self.path,
            source: self.source.map(|r| Box::new(r) as Box<dyn Read + Send>),
            chunk_bytes: self.chunk_bytes,
            read_problem: self.read_problem,
            failure: self.failure,
        }
    }

    fn failed(path: &Path, problem: Problem) -> Self {
        Chunks {
            path: path.to_path_buf(),
            source: None,
            chunk_bytes: 1,
            read_problem: ReadProblem::Missing,
            failure: Some(BadInput::file(path, problem)),
        }
    }
}

impl<R: Read> Iterator for Chunks<R> {
    type Item = Result<Vec<u8>, BadInput>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(failure) = self.failure.take() {
            return Some(Err(failure));
        }
        let source = self.source.as_mut()?;
        // Filled by plain `read`s: `read_to_end` on the decoder zeroes its buffer again on
        // each of its smaller reads.
        let mut chunk = vec![0u8; self.chunk_bytes];
        let mut filled = 0;
        let result = loop {
            match source.read(&mut chunk[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == chunk.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        chunk.truncate(filled);
        match result {
            Ok(()) if filled == 0 => {
                self.source = None;
                None
            }
            Ok(()) => Some(Ok(chunk)),
            Err(e) => {
                self.source = None;
                Some(Err(BadInput::file(&self.path, self.read_problem.of(e))))
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
        scope.spawn(move || {
            for chunk in gunzip_chunks(path, raw, chunk_bytes) {
                if tx.send(chunk).is_err() {
                    break; // the parser has stopped listening
                }
            }
        });
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
    /// The temporary file written instead of `path` by a staged writer
    /// ([`OrientationCsvWriter::create_staged`]), renamed onto `path` by `finish` and
    /// removed if the writer is dropped before.
    staged: Option<std::path::PathBuf>,
}

enum Sink {
    Plain(File),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

impl OrientationCsvWriter {
    pub fn create(path: &Path) -> Result<Self, Error> {
        Self::create_at(path, path)
    }

    /// A writer whose rows go to a temporary file beside `path` (`.NAME.PID.partial`),
    /// which `finish` renames onto `path`: `path` appears (or is replaced) only whole, and
    /// only if `finish` is reached; a writer dropped before removes its temporary file. So
    /// rows can be written while the input is still being checked. `None` when `path`
    /// exists and is not a regular file (a device, a pipe, a symbolic link), which must be
    /// written in place, or has no file name.
    pub fn create_staged(path: &Path) -> Option<Result<Self, Error>> {
        let in_place = std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file());
        let name = path.file_name().filter(|_| !in_place)?;
        let mut staged_name = std::ffi::OsString::from(".");
        staged_name.push(name);
        staged_name.push(format!(".{}.partial", std::process::id()));
        let staged = path.with_file_name(staged_name);
        Some(Self::create_at(path, &staged).map(|mut w| {
            w.staged = Some(staged);
            w
        }))
    }

    /// A writer for `path` (which names it in errors and chooses gzip) writing to `file_path`.
    fn create_at(path: &Path, file_path: &Path) -> Result<Self, Error> {
        let file = File::create(file_path).map_err(|source| Error::Output {
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
            staged: None,
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

    /// Write what is pending and close the file (and the gzip stream); a staged writer's
    /// file is then renamed onto the output path.
    pub fn finish(mut self) -> Result<(), Error> {
        self.write_pending()?;
        let done = match &mut self.sink {
            Sink::Plain(f) => f.flush(),
            Sink::Gzip(g) => g.try_finish().and_then(|()| g.get_mut().flush()),
        };
        done.map_err(|source| self.output_error(source))?;
        if let Some(staged) = self.staged.take() {
            replace_with(&self.path, &staged).map_err(|source| {
                let _ = std::fs::remove_file(&staged);
                self.output_error(source)
            })?;
        }
        Ok(())
    }

    fn output_error(&self, source: std::io::Error) -> Error {
        Error::Output {
            path: self.path.clone(),
            source,
        }
    }
}

/// Put the finished file `staged` at `path`, replacing an existing regular file. An existing
/// file is first moved aside (to `staged` with `.old` added) and removed after: renaming onto
/// an existing file makes ext4 (`auto_da_alloc`) start writing the new file's data to disk
/// at once, which took 4–6 ms of a 4 MB output here, as much as a fifth of the whole
/// command, while nothing else waits for the disk. So for a moment between the two renames
/// `path` does not exist; it never holds a partly written file.
fn replace_with(path: &Path, staged: &Path) -> std::io::Result<()> {
    let mut aside = staged.as_os_str().to_owned();
    aside.push(".old");
    let aside = std::path::PathBuf::from(aside);
    let moved_aside = std::fs::rename(path, &aside).is_ok();
    match std::fs::rename(staged, path) {
        Ok(()) => {
            if moved_aside {
                let _ = std::fs::remove_file(&aside);
            }
            Ok(())
        }
        Err(e) => {
            if moved_aside {
                let _ = std::fs::rename(&aside, path);
            }
            Err(e)
        }
    }
}

impl Drop for OrientationCsvWriter {
    /// A staged writer that did not finish leaves no file behind.
    fn drop(&mut self) {
        if let Some(staged) = self.staged.take() {
            let _ = std::fs::remove_file(staged);
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
    const ROW_GUESS: usize = 16 + 4 * 16;
    text.reserve(q_world_from_sensor.len() * ROW_GUESS);
    let mut fallback = zmij::Buffer::new();
    // Each row is assembled in a fixed buffer by fixed-size stores, then appended at once.
    let mut row = [0u8; ROW_BYTES];
    for (t, q) in t_text.iter().zip(q_world_from_sensor) {
        let t = t.time_bytes();
        if t.len() > ROW_BYTES - 4 * MAX_COMPONENT_BYTES - 1 {
            // An unusually long time text: the same format, piece by piece.
            text.extend_from_slice(t);
            for v in [q.w, q.x, q.y, q.z] {
                let len = write_quat_component(&mut row, 0, v, &mut fallback);
                text.push(b',');
                text.extend_from_slice(&row[..len]);
            }
            text.push(b'\n');
            continue;
        }
        row[..t.len()].copy_from_slice(t);
        let mut len = t.len();
        for v in [q.w, q.x, q.y, q.z] {
            row[len] = b',';
            len = write_quat_component(&mut row, len + 1, v, &mut fallback);
        }
        row[len] = b'\n';
        text.extend_from_slice(&row[..len + 1]);
    }
}

/// Bytes of the row buffer of [`format_orientation_rows`].
const ROW_BYTES: usize = 256;

/// Longest component [`write_quat_component`] writes, plus the slack of its fixed-size store.
const MAX_COMPONENT_BYTES: usize = 32;

/// Significant digits of a quaternion component in the output (the spec asks for 7).
pub const QUAT_SIGNIFICANT_DIGITS: u32 = 10;

/// Write `v` into `out` from `at` with [`QUAT_SIGNIFICANT_DIGITS`] significant digits,
/// trailing zeros dropped (`0.7071067812`, `-0.000123456789`, `0.5`), and return the end;
/// `out` must have [`MAX_COMPONENT_BYTES`] bytes from `at`. Values outside 1e-4 ≤ |v| < 1
/// (0, ±1, non-finite) are written shortest round-trip by `zmij`.
///
/// The digits come from integer arithmetic on eight digits at a time ([`eight_digits`]),
/// without division instructions or per-digit branches; this is the hot part of writing.
#[inline]
fn write_quat_component(out: &mut [u8], at: usize, v: f64, fallback: &mut zmij::Buffer) -> usize {
    const POW10: [f64; 14] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13];
    const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;
    let out = &mut out[at..at + MAX_COMPONENT_BYTES];
    let a = v.abs();
    if !(1e-4..1.0).contains(&a) {
        let s = fallback.format(v).as_bytes();
        out[..s.len()].copy_from_slice(s);
        return at + s.len();
    }
    // Leading zeros after the point: 0 for [0.1, 1), … 3 for [1e-4, 1e-3).
    let zeros = usize::from(a < 0.1) + usize::from(a < 0.01) + usize::from(a < 0.001);
    let decimals = QUAT_SIGNIFICANT_DIGITS as usize + zeros;
    // Below 10^13 + 1 < 2^53: exact as an integer; the product is within an ulp of the
    // value, and adding one half then truncating rounds to the nearest. m ≤ 10^decimals.
    let m = (a * POW10[decimals] + 0.5) as u64;
    // m's 16 digits, zero-padded: the first eight in `high`, the last eight in `low`.
    let high = eight_digits((m / 100_000_000) as u32);
    let low = eight_digits((m % 100_000_000) as u32);
    // Trailing zero digits are the most significant zero bytes of the digit words.
    let trailing_zeros = if low == 0 {
        8 + (high.leading_zeros() / 8) as usize
    } else {
        (low.leading_zeros() / 8) as usize
    };
    let kept = decimals.saturating_sub(trailing_zeros);
    let negative = usize::from(v < 0.0);
    out[0] = b'-';
    // The integer digit is digit 15 − decimals (in `high`, as decimals ≥ 10): 1 when the
    // value rounded up to 1, and the decimals then are 0.
    let high = high | ASCII_ZEROS;
    out[negative] = (high >> (8 * (15 - decimals))) as u8;
    out[negative + 1] = b'.';
    // The decimals by two fixed-size stores (the first decimals − 8 from `high`, then
    // `low`); what lies past the kept ones is overwritten by what follows.
    let first = negative + 2;
    out[first..first + 8].copy_from_slice(&(high >> (8 * (16 - decimals))).to_le_bytes());
    out[first + decimals - 8..first + decimals].copy_from_slice(&(low | ASCII_ZEROS).to_le_bytes());
    let len = if kept == 0 { negative + 1 } else { negative + 2 + kept };
    at + len
}

/// The eight decimal digits of `x` < 10^8, zero-padded, as the bytes of a `u64` (values 0–9,
/// the most significant digit in the lowest byte, so `to_le_bytes` gives them in reading
/// order). Splits into halves of 10^4, quarters of 100 and single digits in parallel lanes,
/// dividing by 100 and 10 with multiply-and-shift: exact below 10^4 (`x·5243 >> 19`) and
/// below 100 (`x·103 >> 10`); checked for every `x` below 10^8 by a test.
#[inline(always)]
fn eight_digits(x: u32) -> u64 {
    let x = u64::from(x);
    // Two 32-bit lanes: x / 10^4 (first digits) and x % 10^4.
    let v = (x / 10_000) | ((x % 10_000) << 32);
    let hundreds = ((v * 5243) >> 19) & 0x0000_007F_0000_007F;
    // Four 16-bit lanes of two digits each.
    let v = hundreds | ((v - hundreds * 100) << 16);
    let tens = ((v * 103) >> 10) & 0x000F_000F_000F_000F;
    // Eight 8-bit lanes of one digit each.
    tens | ((v - tens * 10) << 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(v: f64) -> String {
        let mut out = [0u8; MAX_COMPONENT_BYTES];
        let len = write_quat_component(&mut out, 0, v, &mut zmij::Buffer::new());
        String::from_utf8(out[..len].to_vec()).unwrap()
    }

    /// The format of [`write_quat_component`] by the plain route: round to 10 significant
    /// digits the same way (`a·10^d + 0.5`, truncated), write with `format!`, drop trailing
    /// zeros.
    fn component_by_format(v: f64) -> String {
        let a = v.abs();
        if !(1e-4..1.0).contains(&a) {
            return zmij::Buffer::new().format(v).to_string();
        }
        let zeros = usize::from(a < 0.1) + usize::from(a < 0.01) + usize::from(a < 0.001);
        let decimals = QUAT_SIGNIFICANT_DIGITS as usize + zeros;
        let m = (a * 10f64.powi(decimals as i32) + 0.5) as u64;
        let digits = format!("{m:0>width$}", width = decimals + 1);
        let (int, frac) = digits.split_at(digits.len() - decimals);
        let frac = frac.trim_end_matches('0');
        let sign = if v < 0.0 { "-" } else { "" };
        if frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }
    }

    #[test]
    fn eight_digits_for_every_value_below_10_to_the_8() {
        for x in 0..100_000_000u32 {
            let d = eight_digits(x).to_le_bytes();
            let back = d.iter().fold(0u32, |n, &b| {
                assert!(b < 10, "{x}: {d:?}");
                n * 10 + u32::from(b)
            });
            assert_eq!(back, x);
        }
    }

    #[test]
    fn rows_have_the_time_text_and_four_components() {
        let q = [
            Quat::new(0.5, -0.000123456789012, 0.99999999999, -1.0),
            Quat::new(1.0, 0.0, -3.1e-5, 0.25),
        ];
        let long_t = "1".repeat(300);
        let mut text = Vec::new();
        format_orientation_rows(&mut text, &["12.5".as_bytes(), long_t.as_bytes()], &q);
        let expected = format!("12.5,0.5,-0.000123456789,1,-1.0\n{long_t},1.0,0.0,-0.000031,0.25\n");
        assert_eq!(String::from_utf8(text).unwrap(), expected);
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
            fn quat_component_is_the_rounded_value_written_plainly(v in -1.0f64..=1.0, scale in 0i32..6) {
                let v = v * 10f64.powi(-scale);
                prop_assert_eq!(component(v), component_by_format(v));
            }

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
    fn gzip_errors_are_the_files_only_when_the_file_failed() {
        let file_failed = std::io::Error::other(FileError("Input/output error".into()));
        assert!(matches!(ReadProblem::BadGzip.of(file_failed), Problem::Missing(_)));
        for kind in [
            std::io::ErrorKind::InvalidInput,
            std::io::ErrorKind::UnexpectedEof,
            std::io::ErrorKind::Other,
        ] {
            let decoder_failed = std::io::Error::new(kind, "corrupt deflate stream");
            assert!(matches!(ReadProblem::BadGzip.of(decoder_failed), Problem::BadGzip(_)));
        }
        let plain_failed = std::io::Error::other("Input/output error");
        assert!(matches!(ReadProblem::Missing.of(plain_failed), Problem::Missing(_)));
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
