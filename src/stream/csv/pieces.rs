//! The strict parser of a raw IMU stream in three parts, so that two threads can share the
//! parsing: a [`Splitter`] cuts the chunks of a stream (as read or gunzipped) into
//! [`Piece`]s of whole lines; any thread parses a piece on its own ([`parse_piece`]) once
//! the layout is known from the pieces before; a [`Stitcher`] takes the parsed pieces in
//! stream order and does what crosses pieces: line numbers, time increasing from one piece
//! to the next, which problem is reported. Together: exactly the checks, errors and
//! precedence of [`parse_stream`](super::parse_stream) over the concatenated chunks
//! (`blocks_equal_whole` and the `parse_blocks` fuzz target compare them).

use std::path::Path;

use super::{BlockSummary, Blocks, ImuBlock, Layout, LineParser, first_problem};
use crate::error::{BadInput, Problem};

/// Whole lines of a stream: `head` (the line a chunk boundary cut, completed), then
/// `body[from..to]`; or, for the last piece, `head` alone: the rest of the stream after its
/// last '\n' (maybe empty).
#[derive(Debug)]
pub struct Piece {
    pub(super) head: Vec<u8>,
    pub(super) body: Vec<u8>,
    pub(super) from: usize,
    pub(super) to: usize,
    /// The stream's first piece (where a byte-order mark is skipped).
    first: bool,
    /// The stream's last piece.
    pub(super) last: bool,
}

/// Cuts a stream's chunks into pieces of whole lines: the piece a chunk completes ends at
/// its last '\n' and holds the chunk itself, with only the line cut by the previous chunk
/// boundary copied.
#[derive(Debug, Default)]
pub struct Splitter {
    /// The start of a line cut by a chunk boundary.
    pending: Vec<u8>,
    any_bytes: bool,
    pieces: usize,
}

impl Splitter {
    /// The piece of whole lines `chunk` completes, if it holds a '\n'.
    pub fn push(&mut self, chunk: Vec<u8>) -> Option<Piece> {
        self.any_bytes |= !chunk.is_empty();
        let Some(cut) = memchr::memrchr(b'\n', &chunk) else {
            self.pending.extend_from_slice(&chunk);
            return None;
        };
        let mut from = 0;
        if !self.pending.is_empty() {
            let end = memchr::memchr(b'\n', &chunk).unwrap_or(cut);
            self.pending.extend_from_slice(&chunk[..=end]);
            from = end + 1;
        }
        let head = std::mem::replace(&mut self.pending, chunk[cut + 1..].to_vec());
        Some(self.piece(head, chunk, from, cut + 1, false))
    }

    /// The last piece (the rest after the last '\n'), or `None` if the stream had no bytes:
    /// it is empty.
    pub fn finish(mut self) -> Option<Piece> {
        let rest = std::mem::take(&mut self.pending);
        self.any_bytes.then(|| self.piece(rest, Vec::new(), 0, 0, true))
    }

    fn piece(&mut self, head: Vec<u8>, body: Vec<u8>, from: usize, to: usize, last: bool) -> Piece {
        self.pieces += 1;
        Piece {
            head,
            body,
            from,
            to,
            first: self.pieces == 1,
            last,
        }
    }
}

/// What [`parse_piece`] found in a piece; line numbers count from 1 at the piece's start.
#[derive(Debug)]
pub struct ParsedPiece {
    /// The rows of an IMU stream (none for an orientation stream).
    pub block: ImuBlock,
    /// The layout after the piece (from its header line, or as given).
    pub layout: Option<Layout>,
    /// Line breaks in the piece.
    lines: usize,
    /// Data rows.
    rows: usize,
    /// The first row's line and time, and the last row's time.
    first_row: Option<(usize, f64)>,
    last_t: f64,
    utf8_error_line: Option<usize>,
    nul_line: Option<usize>,
    line_error: Option<BadInput>,
}

/// Parse a piece on its own: its rows go into `into` (emptied first, its allocations kept).
/// `layout` is the one found in the pieces before (`None` until the header has been seen).
pub fn parse_piece(path: &Path, layout: Option<Layout>, piece: &Piece, mut into: ImuBlock) -> ParsedPiece {
    into.clear();
    let mut parser = LineParser::new(path);
    parser.layout = layout;
    parser.packed_t_text = true;
    (parser.imu, parser.t_packed, parser.t_end) = (into.samples, into.t_text, into.t_end);
    let mut blocks = Blocks::new(parser, piece.first);
    blocks.take_piece(piece);
    let p = blocks.parser;
    ParsedPiece {
        block: ImuBlock {
            samples: p.imu,
            t_text: p.t_packed,
            t_end: p.t_end,
        },
        layout: p.layout,
        lines: blocks.lines_before,
        rows: p.rows,
        first_row: p.first_row,
        last_t: p.previous_t,
        utf8_error_line: blocks.utf8_error_line,
        nul_line: blocks.nul_line,
        line_error: blocks.line_error,
    }
}

/// Takes parsed pieces in stream order: see the module's description.
pub struct Stitcher<'p> {
    path: &'p Path,
    lines_before: usize,
    previous_t: f64,
    rows: usize,
    layout: Option<Layout>,
    utf8_error_line: Option<usize>,
    nul_line: Option<usize>,
    line_error: Option<BadInput>,
}

impl<'p> Stitcher<'p> {
    pub fn new(path: &'p Path) -> Self {
        Stitcher {
            path,
            lines_before: 0,
            previous_t: f64::NEG_INFINITY,
            rows: 0,
            layout: None,
            utf8_error_line: None,
            nul_line: None,
            line_error: None,
        }
    }

    /// The next piece in stream order: `Ok` with its rows while no problem has been seen
    /// (they are good to use, given that the whole stream passes in the end), else `Err`
    /// with the block, to fill again.
    pub fn take(&mut self, piece: ParsedPiece) -> Result<ImuBlock, ImuBlock> {
        // Invalid UTF-8 wins over everything, and nothing after it is looked at.
        if self.utf8_error_line.is_some() {
            return Err(piece.block);
        }
        let offset = self.lines_before;
        if let Some(line) = piece.utf8_error_line {
            self.utf8_error_line = Some(offset + line);
            return Err(piece.block);
        }
        if self.nul_line.is_none() {
            self.nul_line = piece.nul_line.map(|line| offset + line);
        }
        self.lines_before += piece.lines;
        self.layout = piece.layout;
        if self.nul_line.is_some() || self.line_error.is_some() {
            return Err(piece.block);
        }
        if let Some((line, first_t)) = piece.first_row {
            if first_t <= self.previous_t {
                self.line_error = Some(BadInput::at_line(
                    self.path,
                    offset + line,
                    Problem::TimeNotIncreasing {
                        previous: self.previous_t,
                        now: first_t,
                    },
                ));
                return Err(piece.block);
            }
            self.previous_t = piece.last_t;
        }
        if let Some(mut e) = piece.line_error {
            e.line = e.line.map(|line| offset + line);
            self.line_error = Some(e);
            return Err(piece.block);
        }
        self.rows += piece.rows;
        Ok(piece.block)
    }

    /// After the last piece: the problem to report, by `parse_stream`'s precedence (invalid
    /// UTF-8 anywhere, then a NUL anywhere, then the first problem on a line, then the
    /// whole-stream checks), or what the stream holds.
    pub fn finish(self) -> Result<BlockSummary, BadInput> {
        first_problem(self.path, self.utf8_error_line, self.nul_line, self.line_error)?;
        let Some(layout) = self.layout else {
            return Err(BadInput::file(self.path, Problem::Empty));
        };
        if self.rows == 0 {
            return Err(BadInput::file(self.path, Problem::TooShort { samples: 0 }));
        }
        Ok(BlockSummary {
            rows: self.rows,
            imu: layout != Layout::Orientation,
        })
    }
}
