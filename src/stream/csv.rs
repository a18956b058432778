//! Generic CSV streams (spec §5): raw IMU (`t,ax,ay,az,gx,gy,gz[,mx,my,mz]`) and
//! orientation (`t,qw,qx,qy,qz`).
//!
//! Parsing is pure (`parse_stream` over bytes); reading a file and gunzipping it sits in
//! `stream::read_file`. Validation is strict: anything malformed is refused with the line
//! and the problem, nothing is guessed.

use std::path::Path;

mod pieces;

pub use pieces::{ParsedPiece, Piece, Splitter, Stitcher, parse_piece};

use crate::error::{BadInput, IMU_HEADER_6D, IMU_HEADER_9D, ORIENTATION_HEADER, Problem};
use crate::frames::{Quat, Vec3};

/// One raw IMU sample in the sensor frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImuSample {
    pub t_s: f64,
    pub acc_sensor_mps2: Vec3,
    pub gyr_sensor_rps: Vec3,
    /// Magnetic field in any consistent unit (µT usual); `None` for 6-axis streams.
    pub mag_sensor: Option<Vec3>,
}

/// One orientation sample, `q_world_from_sensor` (z-up world).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrientationSample {
    pub t_s: f64,
    pub q_world_from_sensor: Quat,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    Imu(Vec<ImuSample>),
    Orientation(Vec<OrientationSample>),
}

/// A parsed stream. `t_text` keeps each row's time exactly as written, so that outputs
/// can repeat it to the letter.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub samples: Samples,
    pub t_text: Vec<Box<str>>,
}

impl Stream {
    pub fn len(&self) -> usize {
        self.t_text.len()
    }
    pub fn is_empty(&self) -> bool {
        self.t_text.is_empty()
    }
    pub fn has_mag(&self) -> bool {
        matches!(&self.samples, Samples::Imu(s) if s.first().is_some_and(|s| s.mag_sensor.is_some()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layout {
    Imu6,
    Imu9,
    Orientation,
}

impl Layout {
    fn from_header(h: &str) -> Option<Layout> {
        match h {
            IMU_HEADER_6D => Some(Layout::Imu6),
            IMU_HEADER_9D => Some(Layout::Imu9),
            ORIENTATION_HEADER => Some(Layout::Orientation),
            _ => None,
        }
    }
    fn columns(self) -> &'static [&'static str] {
        const NAMES: [&str; 10] = ["t", "ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz"];
        const Q: [&str; 5] = ["t", "qw", "qx", "qy", "qz"];
        match self {
            Layout::Imu6 => &NAMES[..7],
            Layout::Imu9 => &NAMES[..],
            Layout::Orientation => &Q,
        }
    }
}

/// Largest accepted deviation of an orientation quaternion's length from 1 before the row
/// is refused; within it the quaternion is normalised (sensors quantise their output).
const QUAT_NORM_TOLERANCE: f64 = 0.1;

/// Parse a whole CSV stream held in memory. `path` only names the file in errors.
pub fn parse_stream(path: &Path, bytes: &[u8]) -> Result<Stream, BadInput> {
    if bytes.is_empty() {
        return Err(BadInput::file(path, Problem::Empty));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t,
        Ok(t) => {
            let at = t.find('\0').unwrap_or(0);
            return Err(BadInput::at_line(path, line_of_offset(bytes, at), Problem::BinaryData));
        }
        Err(e) => {
            return Err(BadInput::at_line(
                path,
                line_of_offset(bytes, e.valid_up_to()),
                Problem::BinaryData,
            ));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ends_with_newline = text.ends_with('\n');

    let mut parser = LineParser::new(path);
    let mut lines = split_bytewise(text, b'\n').enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        // Only a last line without a final newline can be "truncated".
        let maybe_truncated = lines.peek().is_none() && !ends_with_newline;
        parser.line(i + 1, raw, maybe_truncated)?;
    }
    parser.finish()
}

/// Parse a stream that arrives in chunks of bytes (cut anywhere), such as the output of a
/// decompressor running in another thread, so that parsing overlaps the decompression.
/// The result, errors included, is exactly that of [`parse_stream`] over the concatenated
/// chunks (the `chunked_equals_whole` property test checks this). A chunk that is an `Err`
/// (a corrupt gzip file) is the result, as it would have been had the file been
/// decompressed before parsing.
pub fn parse_chunks(
    path: &Path,
    chunks: impl IntoIterator<Item = Result<Vec<u8>, BadInput>>,
) -> Result<Stream, BadInput> {
    let mut blocks = Blocks::new(LineParser::new(path), true);
    let mut splitter = Splitter::default();
    for chunk in chunks {
        if let Some(piece) = splitter.push(chunk?) {
            blocks.take_piece(&piece);
        }
    }
    let last = splitter.finish().ok_or_else(|| BadInput::file(path, Problem::Empty))?;
    blocks.take_piece(&last);
    first_problem(path, blocks.utf8_error_line, blocks.nul_line, blocks.line_error)?;
    blocks.parser.finish()
}

/// The problem to report, by `parse_stream`'s precedence: invalid UTF-8 anywhere, then a
/// NUL anywhere, then the first problem on a line (the whole-stream checks come after).
fn first_problem(
    path: &Path,
    utf8_error_line: Option<usize>,
    nul_line: Option<usize>,
    line_error: Option<BadInput>,
) -> Result<(), BadInput> {
    if let Some(line) = utf8_error_line.or(nul_line) {
        return Err(BadInput::at_line(path, line, Problem::BinaryData));
    }
    line_error.map_or(Ok(()), Err)
}

/// What [`parse_imu_in_blocks`] found in a stream that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSummary {
    /// Data rows (samples).
    pub rows: usize,
    /// The stream is a raw IMU stream (not an orientation stream).
    pub imu: bool,
}

/// The rows of one block of a raw IMU stream, as [`parse_imu_in_blocks`] hands them out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImuBlock {
    pub samples: Vec<ImuSample>,
    /// Each row's time text exactly as read, concatenated: row `i`'s is
    /// `t_text[t_end[i - 1]..t_end[i]]` (from 0 for the first row); see [`ImuBlock::time_text`].
    pub t_text: Vec<u8>,
    pub t_end: Vec<usize>,
}

impl ImuBlock {
    /// Empty, keeping the allocations (for filling again).
    pub fn clear(&mut self) {
        self.samples.clear();
        self.t_text.clear();
        self.t_end.clear();
    }

    /// Row `i`'s time text, exactly as read.
    pub fn time_text(&self, i: usize) -> &[u8] {
        let from = if i == 0 { 0 } else { self.t_end[i - 1] };
        &self.t_text[from..self.t_end[i]]
    }

    /// Every row's time text, in order.
    pub fn time_texts(&self) -> Vec<&[u8]> {
        (0..self.t_end.len()).map(|i| self.time_text(i)).collect()
    }
}

/// Strictly parse a stream that arrives in chunks of bytes (cut anywhere, such as the
/// output of a decompressor), handing the IMU samples and time texts of each block of whole
/// lines to `emit` as soon as that block is parsed, so that a consumer in another thread
/// can start long before the whole file is read and checked. Checks and errors, and their
/// precedence, are exactly those of [`parse_stream`] over the concatenated chunks (an `Err`
/// chunk is the result, as in [`parse_chunks`]); once a problem has been seen no more rows
/// are emitted, so a consumer must wait for the `Ok` before using what it was given.
///
/// `emit` may give back a block it is done with, whose allocations the next block then
/// fills (fresh memory costs a page fault per 4 KiB; reused memory does not).
///
/// A block is the whole lines a chunk completes. This is, on one thread, what `orientation`
/// spreads over two ([`Splitter`], [`parse_piece`], [`Stitcher`]), so that the property tests
/// and the `parse_blocks` fuzz target check those parts against [`parse_stream`].
pub fn parse_imu_in_blocks<C: AsRef<[u8]>>(
    path: &Path,
    chunks: impl IntoIterator<Item = Result<C, BadInput>>,
    mut emit: impl FnMut(ImuBlock) -> Option<ImuBlock>,
) -> Result<BlockSummary, BadInput> {
    let mut splitter = Splitter::default();
    let mut stitcher = Stitcher::new(path);
    let mut layout = None;
    let mut spare = ImuBlock::default();
    let mut take = |piece: &Piece, spare: ImuBlock| {
        let parsed = parse_piece(path, layout, piece, spare);
        layout = parsed.layout;
        match stitcher.take(parsed) {
            Ok(block) if !block.samples.is_empty() => {
                // The next block is about as long: no regrowing from empty.
                let (rows, text) = (block.samples.capacity(), block.t_text.capacity());
                emit(block).unwrap_or_else(|| ImuBlock {
                    samples: Vec::with_capacity(rows),
                    t_text: Vec::with_capacity(text),
                    t_end: Vec::with_capacity(rows),
                })
            }
            Ok(block) | Err(block) => block,
        }
    };
    for chunk in chunks {
        if let Some(piece) = splitter.push(chunk?.as_ref().to_vec()) {
            spare = take(&piece, spare);
        }
    }
    let last = splitter.finish().ok_or_else(|| BadInput::file(path, Problem::Empty))?;
    take(&last, spare);
    stitcher.finish()
}

/// State of [`parse_chunks`] between blocks of whole lines (and of [`parse_piece`] within
/// a piece).
struct Blocks<'p> {
    parser: LineParser<'p>,
    /// Lines (newlines) in the blocks taken so far.
    lines_before: usize,
    at_start: bool,
    utf8_error_line: Option<usize>,
    nul_line: Option<usize>,
    line_error: Option<BadInput>,
}

impl<'p> Blocks<'p> {
    fn new(parser: LineParser<'p>, at_start: bool) -> Self {
        Blocks {
            parser,
            lines_before: 0,
            at_start,
            utf8_error_line: None,
            nul_line: None,
            line_error: None,
        }
    }

    /// The lines of a piece, in order.
    fn take_piece(&mut self, piece: &Piece) {
        if piece.last {
            self.take(&piece.head, true);
            return;
        }
        if !piece.head.is_empty() {
            self.take(&piece.head, false);
        }
        if piece.from < piece.to {
            self.take(&piece.body[piece.from..piece.to], false);
        }
    }

    /// `block` is whole lines, each ending with '\n' (`last == false`), or the rest of the
    /// file after its last '\n' (`last == true`, possibly empty).
    fn take(&mut self, block: &[u8], last: bool) {
        if self.utf8_error_line.is_some() {
            return;
        }
        // Blocks start and end at line breaks, and no UTF-8 sequence contains a '\n' byte,
        // so validating block by block finds the same first invalid byte as the whole file.
        let text = match std::str::from_utf8(block) {
            Ok(t) => t,
            Err(e) => {
                self.utf8_error_line = Some(self.lines_before + line_of_offset(block, e.valid_up_to()));
                return;
            }
        };
        if self.nul_line.is_none()
            && let Some(at) = memchr::memchr(0, block)
        {
            self.nul_line = Some(self.lines_before + line_of_offset(block, at));
        }
        let mut text = text;
        if self.at_start {
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
            self.at_start = false;
        }
        let skip = self.nul_line.is_some() || self.line_error.is_some();
        if last {
            if !skip && let Err(e) = self.parser.line(self.lines_before + 1, text, true) {
                self.line_error = Some(e);
            }
            return;
        }
        let body = text.strip_suffix('\n').unwrap_or(text);
        for raw in split_bytewise(body, b'\n') {
            self.lines_before += 1;
            if !skip
                && self.line_error.is_none()
                && let Err(e) = self.parser.line(self.lines_before, raw, false)
            {
                self.line_error = Some(e);
            }
        }
    }
}

/// The line-by-line state of the parser: everything after the whole-file checks.
struct LineParser<'p> {
    path: &'p Path,
    layout: Option<Layout>,
    t_text: Vec<Box<str>>,
    imu: Vec<ImuSample>,
    orient: Vec<OrientationSample>,
    fields: [f64; 10],
    previous_t: f64,
    /// Collect the rows' time texts packed into `t_packed`/`t_end` (for
    /// [`parse_imu_in_blocks`]) rather than one `Box<str>` each in `t_text`.
    packed_t_text: bool,
    t_packed: Vec<u8>,
    t_end: Vec<usize>,
    rows: usize,
    /// The first row's line and time.
    first_row: Option<(usize, f64)>,
}

impl<'p> LineParser<'p> {
    fn new(path: &'p Path) -> Self {
        LineParser {
            path,
            layout: None,
            t_text: Vec::new(),
            imu: Vec::new(),
            orient: Vec::new(),
            fields: [0.0; 10],
            previous_t: f64::NEG_INFINITY,
            packed_t_text: false,
            t_packed: Vec::new(),
            t_end: Vec::new(),
            rows: 0,
            first_row: None,
        }
    }

    /// One line (without its '\n'), numbered from 1. `maybe_truncated`: it is the last line
    /// and the file does not end with a newline.
    fn line(&mut self, line_no: usize, raw: &str, maybe_truncated: bool) -> Result<(), BadInput> {
        let path = self.path;
        let bad_line = |p: Problem| BadInput::at_line(path, line_no, p);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let Some(layout) = self.layout else {
            // Header: skip blank lines and `#` comments before it.
            if line.trim().is_empty() || line.starts_with('#') {
                return Ok(());
            }
            return match Layout::from_header(line) {
                Some(l) => {
                    self.layout = Some(l);
                    Ok(())
                }
                None => Err(bad_line(Problem::WrongHeader {
                    found: truncate_for_message(line),
                })),
            };
        };
        let columns = layout.columns();
        let n_cols = columns.len();
        let fields = &mut self.fields;
        // The common row, plain decimals only, in one pass (it starts with a digit or '-', so
        // it is neither blank nor a comment); anything else, and every error, takes the
        // general path, which gives the same values for such rows.
        let t_str = match plain_row(line.as_bytes(), &mut fields[..n_cols]) {
            Some(t_len) => &line[..t_len],
            None => match general_row(path, line_no, line, columns, &mut fields[..n_cols], maybe_truncated)? {
                Some(t_str) => t_str,
                None => return Ok(()), // a blank line
            },
        };
        let t_s = fields[0];
        if t_s <= self.previous_t {
            return Err(bad_line(Problem::TimeNotIncreasing {
                previous: self.previous_t,
                now: t_s,
            }));
        }
        match layout {
            Layout::Imu6 | Layout::Imu9 => self.imu.push(ImuSample {
                t_s,
                acc_sensor_mps2: [fields[1], fields[2], fields[3]],
                gyr_sensor_rps: [fields[4], fields[5], fields[6]],
                mag_sensor: (layout == Layout::Imu9).then_some([fields[7], fields[8], fields[9]]),
            }),
            Layout::Orientation => {
                let q = Quat::new(fields[1], fields[2], fields[3], fields[4]);
                let norm = q.norm();
                if (norm - 1.0).abs() > QUAT_NORM_TOLERANCE {
                    return Err(bad_line(Problem::BadQuaternion { norm }));
                }
                self.orient.push(OrientationSample {
                    t_s,
                    q_world_from_sensor: q.normalized(),
                });
            }
        }
        if self.rows == 0 {
            self.first_row = Some((line_no, t_s));
        }
        self.previous_t = t_s;
        self.rows += 1;
        if self.packed_t_text {
            self.t_packed.extend_from_slice(t_str.as_bytes());
            self.t_end.push(self.t_packed.len());
        } else {
            self.t_text.push(t_str.into());
        }
        Ok(())
    }

    fn finish(self) -> Result<Stream, BadInput> {
        let Some(layout) = self.layout else {
            return Err(BadInput::file(self.path, Problem::Empty));
        };
        if self.rows == 0 {
            return Err(BadInput::file(self.path, Problem::TooShort { samples: 0 }));
        }
        let samples = match layout {
            Layout::Orientation => Samples::Orientation(self.orient),
            _ => Samples::Imu(self.imu),
        };
        Ok(Stream {
            samples,
            t_text: self.t_text,
        })
    }
}

/// A data row the one-pass [`plain_row`] did not take, field by field into `fields` (one
/// per column), with every check and its message: `Ok(None)` for a blank line, else the
/// row's time text.
fn general_row<'l>(
    path: &Path,
    line_no: usize,
    line: &'l str,
    columns: &[&str],
    fields: &mut [f64],
    maybe_truncated: bool,
) -> Result<Option<&'l str>, BadInput> {
    let bad_line = |p: Problem| BadInput::at_line(path, line_no, p);
    if line.trim().is_empty() {
        return Ok(None);
    }
    if line.starts_with('#') {
        return Err(bad_line(Problem::CommentAfterHeader));
    }
    let n_cols = columns.len();
    let mut count = 0;
    let mut t_str = "";
    for (k, field) in split_bytewise(line, b',').enumerate() {
        count += 1;
        if k >= n_cols {
            continue;
        }
        let value: f64 = match parse_f64(field) {
            Ok(v) => v,
            Err(_) => {
                // Count the fields first: a short last line is "truncated", not "not a number".
                let found = split_bytewise(line, b',').count();
                if found != n_cols {
                    return Err(field_count_error(path, line_no, found, n_cols, maybe_truncated));
                }
                return Err(bad_line(Problem::NotNumeric {
                    column: columns[k].into(),
                    value: truncate_for_message(field),
                }));
            }
        };
        if !value.is_finite() {
            return Err(bad_line(Problem::NotFinite {
                column: columns[k].into(),
                value: truncate_for_message(field),
            }));
        }
        if k == 0 {
            t_str = field;
        }
        fields[k] = value;
    }
    if count != n_cols {
        return Err(field_count_error(path, line_no, count, n_cols, maybe_truncated));
    }
    Ok(Some(t_str))
}

/// `field.parse::<f64>()`, faster: plain decimals directly ([`parse_plain_decimal`]), the
/// rest with `fast-float2`, which accepts and rejects exactly what the standard library
/// does and rounds the same way (both are correctly rounded). The `parse_f64_agrees_with_std*`
/// property tests check both paths.
fn parse_f64(field: &str) -> Result<f64, ()> {
    parse_f64_bytes(field.as_bytes())
}

fn parse_f64_bytes(field: &[u8]) -> Result<f64, ()> {
    match parse_plain_decimal(field) {
        Some(v) => Ok(v),
        None => fast_float2::parse(field).map_err(|_| ()),
    }
}

/// The common case of [`parse_f64`], done directly: `-?[0-9]+(\.[0-9]+)?` with at most 19
/// digits whose integer value `m` is at most 2^53, and at most 22 decimals. Then `m` and
/// 10^decimals are exact doubles and one IEEE division rounds their quotient correctly
/// (Clinger's fast path): bit for bit what `str::parse` gives. Anything else is `None`
/// and goes through `fast-float2` (exponents, `+`, `1.`, `.5`, `inf`, long mantissas, …).
#[inline]
fn parse_plain_decimal(bytes: &[u8]) -> Option<f64> {
    match plain_decimal_prefix(bytes) {
        Some((v, len)) if len == bytes.len() => Some(v),
        _ => None,
    }
}

/// The value and length of the plain decimal ([`parse_plain_decimal`]) at the start of
/// `bytes`, which must end there or at a byte that is neither a digit nor a `.` for the
/// value to be that of the whole field; `None` if `bytes` does not start with one that
/// the fast path takes (`1.` and `.5` are not taken).
#[inline(always)]
fn plain_decimal_prefix(bytes: &[u8]) -> Option<(f64, usize)> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];
    let negative = bytes.first() == Some(&b'-');
    let int_start = usize::from(negative);
    let mut m: u64 = 0;
    let mut i = digits_at(bytes, int_start, &mut m);
    let integer_digits = i - int_start;
    if integer_digits == 0 {
        return None;
    }
    let mut decimals = 0;
    if bytes.get(i) == Some(&b'.') {
        let first = i + 1;
        i = digits_at(bytes, first, &mut m);
        decimals = i - first;
        if decimals == 0 {
            return None;
        }
    }
    // 19 digits cannot overflow u64, so `m` is the exact value of the digits.
    if integer_digits + decimals > 19 || m > 1 << 53 || decimals > 22 {
        return None;
    }
    let v = m as f64 / POW10[decimals];
    Some((if negative { -v } else { v }, i))
}

/// Append the ASCII digits of `bytes` from `i` on to `m` (`m = 10 m + digit`, wrapping:
/// callers bound the count) and return the index after them. Byte by byte: an eight-bytes-
/// at-a-time (SWAR) version was slower on BROAD's short fields (`docs/accuracy.md` §4.2).
#[inline(always)]
fn digits_at(bytes: &[u8], mut i: usize, m: &mut u64) -> usize {
    while let Some(&d) = bytes.get(i)
        && d.is_ascii_digit()
    {
        *m = m.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        i += 1;
    }
    i
}

/// A row of exactly `fields.len()` comma-separated plain decimals
/// ([`parse_plain_decimal`]), parsed in one pass into `fields`; returns the length of the
/// first field (the time text). `None` for any other row, which then takes the general
/// path: for the rows accepted here, that path gives the same values bit for bit
/// (`plain_row_agrees_with_the_general_path`).
#[inline]
fn plain_row(line: &[u8], fields: &mut [f64]) -> Option<usize> {
    let n = fields.len();
    let mut rest = line;
    let mut t_len = 0;
    for (k, field) in fields.iter_mut().enumerate() {
        let (v, len) = plain_decimal_prefix(rest)?;
        *field = v;
        if k == 0 {
            t_len = len;
        }
        rest = &rest[len..];
        if k + 1 < n {
            rest = rest.strip_prefix(b",")?;
        }
    }
    rest.is_empty().then_some(t_len)
}

/// `text.split(sep)` for an ASCII separator, as a plain byte scan: `split` with a `char`
/// pattern costs a third of the parse time on long streams.
fn split_bytewise(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    debug_assert!(sep.is_ascii());
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr(sep, r.as_bytes()) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

fn field_count_error(path: &Path, line: usize, found: usize, expected: usize, last_line: bool) -> BadInput {
    BadInput::at_line(
        path,
        line,
        Problem::FieldCount {
            found,
            expected,
            last_line,
        },
    )
}

fn line_of_offset(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count()
}

fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Stream, BadInput> {
        parse_stream(Path::new("x.csv"), s.as_bytes())
    }

    fn problem(s: &str) -> (Option<usize>, Problem) {
        let e = parse(s).unwrap_err();
        (e.line, e.problem)
    }

    #[test]
    fn reads_imu_9d_with_comments_crlf_bom_and_blank_lines() {
        let s = "\u{feff}# made by hand\r\n\r\nt,ax,ay,az,gx,gy,gz,mx,my,mz\r\n0.0,0,0,9.81,0,0,0,1,2,3\r\n\r\n0.01,0,0,9.8,0.1,0,0,1,2,3";
        let st = parse(s).unwrap();
        assert_eq!(st.len(), 2);
        assert!(st.has_mag());
        let Samples::Imu(v) = &st.samples else { panic!() };
        assert_eq!(v[1].gyr_sensor_rps, [0.1, 0.0, 0.0]);
        assert_eq!(&*st.t_text[1], "0.01");
    }

    #[test]
    fn reads_orientation_and_normalises_slightly_off_quaternions() {
        let st = parse("t,qw,qx,qy,qz\n1770.5,1.02,0,0,0\n").unwrap();
        let Samples::Orientation(v) = &st.samples else { panic!() };
        assert_eq!(v[0].q_world_from_sensor, Quat::IDENTITY);
        assert_eq!(v[0].t_s, 1770.5);
    }

    #[test]
    fn refuses_each_malformation_with_its_line() {
        let h = "# c\nt,ax,ay,az,gx,gy,gz\n";
        assert_eq!(problem(""), (None, Problem::Empty));
        assert_eq!(problem("# only a comment\n\n"), (None, Problem::Empty));
        assert!(matches!(
            problem("t, ax,ay,az,gx,gy,gz\n"),
            (Some(1), Problem::WrongHeader { .. })
        ));
        assert!(matches!(
            problem("T,ax,ay,az,gx,gy,gz\n"),
            (Some(1), Problem::WrongHeader { .. })
        ));
        assert!(matches!(
            problem("t,qw,qx,qy,qz,movement\n"),
            (Some(1), Problem::WrongHeader { .. })
        ));
        assert_eq!(problem(h), (None, Problem::TooShort { samples: 0 }));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,x\n")),
            (Some(3), Problem::NotNumeric { column, .. }) if column == "gz"
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,NaN,4,5,6\n")),
            (Some(3), Problem::NotFinite { .. })
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,inf,4,5,6\n")),
            (Some(3), Problem::NotFinite { .. })
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6,7\n")),
            (
                Some(3),
                Problem::FieldCount {
                    found: 8,
                    expected: 7,
                    ..
                }
            )
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6\n1,1,2,3,4,5\n2,1,2,3,4,5,6\n")),
            (
                Some(4),
                Problem::FieldCount {
                    found: 6,
                    last_line: false,
                    ..
                }
            )
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6\n1,1,2,3,4,5\n")),
            (Some(4), Problem::FieldCount { last_line: false, .. })
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6\n1,1,2,3,4")),
            (
                Some(4),
                Problem::FieldCount {
                    found: 5,
                    last_line: true,
                    ..
                }
            )
        ));
        assert!(matches!(
            problem(&format!("{h}0,1,2,3,4,5,6\n1,1,2,3,4,")),
            (
                Some(4),
                Problem::FieldCount {
                    found: 6,
                    last_line: true,
                    ..
                }
            )
        ));
        assert!(matches!(
            problem(&format!("{h}0.5,1,2,3,4,5,6\n0.5,1,2,3,4,5,6\n")),
            (Some(4), Problem::TimeNotIncreasing { .. })
        ));
        assert_eq!(
            problem(&format!("{h}0,1,2,3,4,5,6\n# late\n")),
            (Some(4), Problem::CommentAfterHeader)
        );
        assert!(matches!(
            problem("t,qw,qx,qy,qz\n0,0,0,0,0\n"),
            (Some(2), Problem::BadQuaternion { .. })
        ));
        let mut bin = h.as_bytes().to_vec();
        bin.extend_from_slice(&[0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe]);
        let e = parse_stream(Path::new("x.csv"), &bin).unwrap_err();
        assert_eq!((e.line, e.problem), (Some(3), Problem::BinaryData));
    }

    #[test]
    fn message_names_file_line_and_problem() {
        let e = parse("t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,abc\n").unwrap_err();
        assert_eq!(e.to_string(), "x.csv: line 2: field `gz` is not a number: `abc`");
    }

    #[test]
    fn keeps_time_text_exactly() {
        let st = parse("t,qw,qx,qy,qz\n1e-3,1,0,0,0\n0.0020000,1,0,0,0\n").unwrap();
        assert_eq!(
            st.t_text.iter().map(|s| &**s).collect::<Vec<_>>(),
            ["1e-3", "0.0020000"]
        );
    }

    #[test]
    fn parse_f64_accepts_and_rejects_what_std_does() {
        for field in [
            "inf",
            "+inf",
            "-Infinity",
            "infinity",
            "INF",
            "infinityx",
            "NaN",
            "nan",
            "+nan",
            "1.",
            "1.e5",
            ".5",
            "+.5",
            ".",
            "-.e1",
            "e5",
            "1e",
            "1e+",
            "+1",
            "++1",
            " 1",
            "1 ",
            "0x10",
            "1_0",
            "1d",
            "1f",
            "-0",
            "1E5",
            "\u{663}",
            "1.5e400",
            "1e-400",
            "",
            "0.0035000",
            "-41.3078",
            "9.905357",
            "9007199254740992",
            "9007199254740993",
            "900719925474099.3",
            "1234567890123456789",
            "12345678901234567890",
            "0.0000000000000000000001",
            "0.00000000000000000000001",
            "-0.0",
            "00001.5000",
            "-",
            "-.",
            "1.2.3",
            "1,5",
        ] {
            let ours = parse_f64(field).ok().map(f64::to_bits);
            assert_eq!(ours, field.parse::<f64>().ok().map(f64::to_bits), "{field:?}");
        }
    }

    #[test]
    fn chunked_parse_reports_gzip_errors_and_empty_input() {
        let p = Path::new("g.csv.gz");
        let gz_error = BadInput::file(p, Problem::BadGzip("corrupt deflate stream".into()));
        let chunks = vec![Ok(b"t,qw,qx,qy,qz\n0,1,0,0,0\n".to_vec()), Err(gz_error)];
        assert!(matches!(
            parse_chunks(p, chunks).unwrap_err().problem,
            Problem::BadGzip(_)
        ));
        assert_eq!(
            parse_chunks(p, vec![Ok(Vec::new())]).unwrap_err().problem,
            Problem::Empty
        );
        let st = parse_chunks(
            p,
            [
                b"t,qw,qx,".to_vec(),
                b"qy,qz\r\n0,1,0,0,0\n1,1".to_vec(),
                b",0,0,0".to_vec(),
            ]
            .map(Ok),
        )
        .unwrap();
        assert_eq!(st.len(), 2);
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        const VALID: &str =
            "# c\nt,ax,ay,az,gx,gy,gz,mx,my,mz\n0.0,0,0,9.81,0,0,0,1,2,3\n0.01,0.1,0,9.8,0.1,0,0,1,2,3\n";

        /// A stream for the chunking property tests: header, body lines, raw tail bytes and
        /// an optional final newline, and the byte ranges of its chunks cut at `cuts`.
        fn cut_stream(
            header: &str,
            body: &[String],
            raw_tail: &[u8],
            final_newline: bool,
            cuts: Vec<usize>,
        ) -> (Vec<u8>, Vec<std::ops::Range<usize>>) {
            let mut bytes = format!("{header}\n{}", body.join("\n")).into_bytes();
            bytes.extend_from_slice(raw_tail);
            if final_newline {
                bytes.push(b'\n');
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut from = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                pieces.push(from..c);
                from = c;
            }
            (bytes, pieces)
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = parse_stream(Path::new("r.csv"), &bytes);
            }

            #[test]
            fn on_mutated_valid_files(pos in 0usize..VALID.len(), cut in any::<bool>(), byte in any::<u8>()) {
                let mut b = VALID.as_bytes().to_vec();
                if cut { b.truncate(pos) } else { b[pos] = byte }
                match parse_stream(Path::new("m.csv"), &b) {
                    Ok(st) => prop_assert!(!st.is_empty()),
                    Err(e) => prop_assert!(e.to_string().starts_with("m.csv")),
                }
            }

            #[test]
            fn chunked_equals_whole(
                body in proptest::collection::vec(
                    prop_oneof![
                        Just("0.01,0.1,0,9.8,0.1,0,0,1,2,3".to_string()),
                        "[-0-9.,eEnaif#\r\u{feff}\u{0} ]{0,30}",
                        proptest::collection::vec(any::<u8>(), 0..8)
                            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
                    ],
                    0..12,
                ),
                header in prop_oneof![Just("t,ax,ay,az,gx,gy,gz,mx,my,mz"), Just("t,qw,qx,qy,qz"), Just("\u{feff}# c\r\nt,ax,ay,az,gx,gy,gz")],
                raw_tail in proptest::collection::vec(any::<u8>(), 0..4),
                final_newline in any::<bool>(),
                cuts in proptest::collection::vec(0usize..400, 0..6),
            ) {
                let (bytes, pieces) = cut_stream(header, &body, &raw_tail, final_newline, cuts);
                let chunks: Vec<Result<Vec<u8>, BadInput>> = pieces.iter().map(|r| Ok(bytes[r.clone()].to_vec())).collect();
                let whole = parse_stream(Path::new("c.csv"), &bytes);
                let chunked = parse_chunks(Path::new("c.csv"), chunks);
                match (whole, chunked) {
                    (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                    (Err(a), Err(b)) => prop_assert_eq!((a.line, a.problem), (b.line, b.problem)),
                    (a, b) => prop_assert!(false, "whole {:?} vs chunked {:?}", a.map(|s| s.len()), b.map(|s| s.len())),
                }
            }

            /// The streaming path of `orientation`: for any cuts, the block parser reports
            /// what `parse_stream` reports, and emits exactly its samples and time texts, in
            /// order.
            #[test]
            fn blocks_equal_whole(
                body in proptest::collection::vec(
                    prop_oneof![
                        Just("0.01,0.1,0,9.8,0.1,0,0,1,2,3".to_string()),
                        (0u32..100_000).prop_map(|i| format!("{}.5,0.1,0,9.8,0.1,0,0,1,2,3", i)),
                        "[-0-9.,eEnaif#\r\u{feff}\u{0}\u{b} ]{0,30}",
                        proptest::collection::vec(any::<u8>(), 0..8)
                            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
                    ],
                    0..12,
                ),
                header in prop_oneof![Just("t,ax,ay,az,gx,gy,gz,mx,my,mz"), Just("t,qw,qx,qy,qz"), Just("\u{feff}# c\r\n \r\nt,ax,ay,az,gx,gy,gz")],
                raw_tail in proptest::collection::vec(any::<u8>(), 0..4),
                final_newline in any::<bool>(),
                cuts in proptest::collection::vec(0usize..400, 0..6),
                give_back_first in any::<bool>(),
            ) {
                let (bytes, pieces) = cut_stream(header, &body, &raw_tail, final_newline, cuts);
                let chunks: Vec<Result<&[u8], BadInput>> = pieces.iter().map(|r| Ok(&bytes[r.clone()])).collect();
                let whole = parse_stream(Path::new("b.csv"), &bytes);
                let mut emitted = Vec::new();
                let mut times: Vec<Vec<u8>> = Vec::new();
                // Every other block is given back, full, to be filled again.
                let mut give_back = give_back_first;
                let blocks = parse_imu_in_blocks(Path::new("b.csv"), chunks, |b| {
                    times.extend(b.time_texts().into_iter().map(<[u8]>::to_vec));
                    emitted.extend(b.samples.iter().cloned());
                    give_back = !give_back;
                    (!give_back).then_some(b)
                });
                match (&whole, blocks) {
                    (Ok(st), Ok(summary)) => {
                        prop_assert_eq!(summary.rows, st.len());
                        prop_assert_eq!(summary.imu, matches!(st.samples, Samples::Imu(_)));
                        if let Samples::Imu(samples) = &st.samples {
                            prop_assert_eq!(&emitted, samples);
                            let strict: Vec<Vec<u8>> = st.t_text.iter().map(|t| t.as_bytes().to_vec()).collect();
                            prop_assert_eq!(times, strict);
                        }
                    }
                    (Err(a), Err(b)) => prop_assert_eq!((&a.line, &a.problem), (&b.line, &b.problem)),
                    (a, b) => prop_assert!(false, "whole {:?} vs blocks {:?}", a.as_ref().map(|s| s.len()), b),
                }
            }

            /// The one-pass row parser takes only rows that the general path reads the
            /// same: exactly that many fields, each a number `str::parse` reads to the same
            /// bits; and it takes the usual rows of plain decimals.
            #[test]
            fn plain_row_agrees_with_the_general_path(
                fields in proptest::collection::vec(
                    prop_oneof![
                        (any::<i32>(), 0u32..1_000_000, 0usize..7)
                            .prop_map(|(i, f, d)| if d == 0 { i.to_string() } else { format!("{i}.{:0d$}", f % 10u32.pow(d as u32)) }),
                        "[-+0-9.eE,]{0,12}",
                    ],
                    0..12,
                ),
                n in 1usize..11,
            ) {
                let line = fields.join(",");
                let mut values = [f64::NAN; 10];
                let plain = fields.iter().all(|f| {
                    let b = f.as_bytes();
                    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
                    !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit() || c == b'-' || c == b'.')
                        && !f.ends_with('.') && !f[1..].contains('-') && !f.starts_with("-.") && !f.starts_with('.')
                        && f.matches('.').count() <= 1 && (1..=15).contains(&digits)
                });
                match plain_row(line.as_bytes(), &mut values[..n]) {
                    Some(t_len) => {
                        let split: Vec<&str> = line.split(',').collect();
                        prop_assert_eq!(split.len(), n);
                        prop_assert_eq!(t_len, split[0].len());
                        for (v, f) in values[..n].iter().zip(&split) {
                            prop_assert_eq!(Some(v.to_bits()), f.parse::<f64>().ok().map(f64::to_bits), "{}", f);
                        }
                    }
                    None => prop_assert!(!(plain && fields.len() == n), "{:?} refused", line),
                }
            }

            #[test]
            fn parse_f64_agrees_with_std(field in "[-+0-9.eEnaifINAFty_x ]{0,24}") {
                let ours = parse_f64(&field).ok().map(f64::to_bits);
                let std = field.parse::<f64>().ok().map(f64::to_bits);
                prop_assert_eq!(ours, std, "field {:?}", field);
            }

            #[test]
            fn parse_f64_agrees_with_std_on_numbers(x in any::<f64>(), digits in 1usize..20) {
                for text in [format!("{x}"), format!("{x:e}"), format!("{x:.digits$}"), format!("{x:.digits$e}")] {
                    prop_assert_eq!(parse_f64(&text).ok().map(f64::to_bits), text.parse::<f64>().ok().map(f64::to_bits));
                }
            }

            #[test]
            fn parse_f64_agrees_with_std_on_plain_decimals(
                neg in any::<bool>(), int in "[0-9]{1,12}", frac in proptest::option::of("[0-9]{1,14}"),
            ) {
                let text = format!("{}{int}{}", if neg { "-" } else { "" }, frac.map(|f| format!(".{f}")).unwrap_or_default());
                prop_assert_eq!(parse_f64(&text).ok().map(f64::to_bits), text.parse::<f64>().ok().map(f64::to_bits), "{}", text);
            }

            #[test]
            fn on_random_text_rows(rows in proptest::collection::vec("[-0-9.,eEnaif+ ]{0,40}", 0..20)) {
                let text = format!("t,qw,qx,qy,qz\n{}", rows.join("\n"));
                let _ = parse_stream(Path::new("t.csv"), text.as_bytes());
            }
        }
    }
}
