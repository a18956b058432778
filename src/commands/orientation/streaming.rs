//! The causal `orientation` command on two threads, each kept on its own CPU
//! ([`super::cpus`]), with the result of reading, strictly parsing the whole file, then
//! filtering, then writing.
//!
//! The work comes in pieces of about [`READ_CHUNK_BYTES`] (whole lines), and each piece
//! goes through five jobs: read (gunzipping a `.gz` file), parse, stitch (what crosses
//! pieces: line numbers, time increasing, which problem is reported; `csv::Stitcher`),
//! filter, format and write. Reading is the input thread's, stitching and filtering the
//! filter thread's (this one, in row order); parsing and writing go to whichever thread
//! has time, each taking the next job by the priorities of [`Shared::input_job`] and
//! [`Shared::filter_job`]. The filter starts once the start-up window that gives the
//! nominal sample time has arrived (`orientation::startup_sample_time_s`: the first 257
//! rows, within the first piece).
//!
//! Rows are written as soon as they are filtered, to a temporary file beside the output
//! that is renamed onto it once the whole input has passed and everything is written
//! (`OrientationCsvWriter::create_staged`): an invalid input leaves no output file, an
//! existing output is replaced only whole, and the formatted rows do not pile up in
//! memory. (An output that is not a regular file is written in place once the input has
//! passed.) Memory is used again: parsed blocks, quaternions and read buffers go back to be
//! filled again once done with (fresh memory costs a page fault per 4 KiB, and with every
//! block in fresh memory that was about a sixth of the command's CPU time).

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use indicatif::ProgressBar;

use super::cpus::Placement;
use super::{PROGRESS_MIN_SAMPLES, not_imu, progress_bar, start_filter};
use crate::error::{BadInput, Error, Problem, Result};
use crate::frames::Quat;
use crate::orientation::{self, OrientationFilter, Settings};
use crate::stream::csv::{ImuBlock, Layout, ParsedPiece, Piece, Splitter, Stitcher, parse_piece};
use crate::stream::{self, OrientationCsvWriter};

/// Bytes per chunk read (or gunzipped): a piece is the whole lines it completes.
const READ_CHUNK_BYTES: usize = 1 << 16;

/// Pieces read ahead of the parsing, so that either thread finds one to parse.
const READ_AHEAD: usize = 4;

/// Pieces parsed ahead of the filter before the input thread turns to writing.
const AHEAD: usize = 2;

/// Filtered blocks waiting to be written before the filter thread writes one first: the
/// input thread has more than its share, and would leave a tail of writing at the end.
const WRITE_BACKLOG: usize = 3;

/// Most pieces read or parsed ahead: beyond, the input thread waits.
const MOST_AHEAD: usize = 8;

/// Filtered rows (for their time texts) and their quaternions.
type Filtered = (ImuBlock, Vec<Quat>);

/// What the two threads share, under one lock.
#[derive(Default)]
struct Shared {
    /// Pieces read, in order, waiting to be parsed (once the layout is known; until then
    /// the input thread parses each as it comes).
    unparsed: VecDeque<(usize, Piece)>,
    /// Parsed pieces waiting for the filter thread, by position in the stream.
    parsed: BTreeMap<usize, ParsedPiece>,
    /// Pieces cut from the stream so far.
    pieces: usize,
    /// The layout, once the input thread has seen the header.
    layout: Option<Layout>,
    /// The last piece has been cut, or reading failed.
    input_ended: bool,
    /// Reading (or gunzipping) failed: the command's error, whatever else was found.
    read_error: Option<BadInput>,
    /// Blocks to parse into again, and quaternions to filter into again.
    spare_blocks: Vec<ImuBlock>,
    spare_quats: Vec<Vec<Quat>>,
    /// Filtered rows waiting to be written, in row order.
    waiting: VecDeque<Filtered>,
    /// The writer when no thread is writing with it (and once there is one).
    writer: Option<OrientationCsvWriter>,
    /// A thread is writing with the writer, outside the lock.
    writer_out: bool,
    /// Writing failed (or the staged output could not be created): the writer is gone, and
    /// this is the command's error unless the input is invalid.
    output_error: Option<Error>,
    /// Everything is done (or failed, or a thread panicked): the threads stop.
    stop: bool,
}

/// A job for a thread, taken under the lock and done outside it.
enum Job {
    Read,
    Parse(usize, Piece, ImuBlock, Option<Layout>),
    Write(OrientationCsvWriter, VecDeque<Filtered>),
    /// The next parsed piece in order (filter thread).
    Stitch(ParsedPiece),
    /// Every piece has been stitched, or reading failed (filter thread).
    InputDone,
    Stop,
}

struct Pipeline<'a> {
    path: &'a Path,
    shared: Mutex<Shared>,
    /// Signalled whenever a job may have appeared.
    changed: Condvar,
}

impl Pipeline<'_> {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'g>(&self, guard: MutexGuard<'g, Shared>) -> MutexGuard<'g, Shared> {
        self.changed.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }

    /// The input thread's next job: keep a few pieces read ahead, then a few parsed ahead of
    /// the filter, then write, then read and parse further ahead; wait if none.
    fn input_job(&self) -> Job {
        let mut s = self.lock();
        loop {
            if s.stop {
                return Job::Stop;
            }
            let can_read = !s.input_ended;
            if can_read && s.unparsed.len() < READ_AHEAD {
                return Job::Read;
            }
            if s.parsed.len() < AHEAD
                && let Some(job) = s.parse_job()
            {
                return job;
            }
            if let Some(job) = s.write_job(1) {
                return job;
            }
            if s.parsed.len() < MOST_AHEAD
                && let Some(job) = s.parse_job()
            {
                return job;
            }
            if can_read && s.unparsed.len() < MOST_AHEAD {
                return Job::Read;
            }
            s = self.wait(s);
        }
    }

    /// The filter thread's next job: the next piece in order, else parse, else write; wait
    /// if none.
    fn filter_job(&self, next: usize) -> Job {
        let mut s = self.lock();
        loop {
            if s.waiting.len() >= WRITE_BACKLOG
                && let Some(job) = s.write_job(1)
            {
                return job;
            }
            if let Some(piece) = s.parsed.remove(&next) {
                return Job::Stitch(piece);
            }
            if s.read_error.is_some() || s.stop || (s.input_ended && next == s.pieces) {
                return Job::InputDone;
            }
            if let Some(job) = s.parse_job().or_else(|| s.write_job(1)) {
                return job;
            }
            s = self.wait(s);
        }
    }

    /// Read the next chunk (input thread): a piece it completes is parsed here while the
    /// layout is not known, else queued for either thread.
    fn read(&self, chunks: &mut impl Iterator<Item = std::result::Result<Vec<u8>, BadInput>>, splitter: &mut Splitter) {
        let piece = match chunks.next() {
            Some(Ok(chunk)) => match splitter.push(chunk) {
                Some(piece) => piece,
                None => return,
            },
            Some(Err(e)) => {
                let mut s = self.lock();
                s.read_error = Some(e);
                s.input_ended = true;
                self.changed.notify_all();
                return;
            }
            None => {
                let last = std::mem::take(splitter).finish();
                let mut s = self.lock();
                s.input_ended = true;
                match last {
                    Some(piece) => s.queue(piece),
                    None => s.read_error = Some(BadInput::file(self.path, Problem::Empty)),
                }
                self.changed.notify_all();
                return;
            }
        };
        let (layout, seq, spare) = {
            let mut s = self.lock();
            if s.layout.is_some() {
                s.queue(piece);
                self.changed.notify_all();
                return;
            }
            s.pieces += 1;
            (s.layout, s.pieces - 1, s.spare_blocks.pop().unwrap_or_default())
        };
        // Before the header has been seen, pieces are parsed in order, here.
        self.parse(seq, piece, spare, layout);
    }

    fn parse(&self, seq: usize, piece: Piece, into: ImuBlock, layout: Option<Layout>) {
        let parsed = parse_piece(self.path, layout, &piece, into);
        let mut s = self.lock();
        if s.layout.is_none() {
            s.layout = parsed.layout;
        }
        s.parsed.insert(seq, parsed);
        self.changed.notify_all();
    }

    /// Format and write rows outside the lock, then put the writer back.
    fn write(&self, mut writer: OrientationCsvWriter, batch: VecDeque<Filtered>, text: &mut Vec<u8>) {
        let mut written = Ok(());
        let mut done = Vec::with_capacity(batch.len());
        for (block, quats) in batch {
            if written.is_ok() {
                text.clear();
                stream::format_orientation_rows(text, &block.time_texts(), &quats);
                written = writer.write_formatted(text);
            }
            done.push((block, quats));
        }
        let mut s = self.lock();
        s.writer_out = false;
        match written {
            Ok(()) => s.writer = Some(writer),
            Err(e) => {
                s.output_error = Some(e);
                s.waiting.clear();
            }
        }
        for (block, quats) in done {
            s.spare_blocks.push(block);
            s.spare_quats.push(quats);
        }
        self.changed.notify_all();
    }
}

impl Shared {
    /// Queue a piece to be parsed by either thread.
    fn queue(&mut self, piece: Piece) {
        self.unparsed.push_back((self.pieces, piece));
        self.pieces += 1;
    }

    fn parse_job(&mut self) -> Option<Job> {
        let (seq, piece) = self.unparsed.pop_front()?;
        let into = self.spare_blocks.pop().unwrap_or_default();
        Some(Job::Parse(seq, piece, into, self.layout))
    }

    /// Take the writer and up to `most` blocks of waiting rows, if both are there.
    fn write_job(&mut self, most: usize) -> Option<Job> {
        if self.waiting.is_empty() || self.writer.is_none() {
            return None;
        }
        let writer = self.writer.take()?;
        self.writer_out = true;
        let batch = if self.waiting.len() <= most {
            std::mem::take(&mut self.waiting)
        } else {
            self.waiting.drain(..most).collect()
        };
        Some(Job::Write(writer, batch))
    }
}

/// Tells the other thread to stop when dropped: at the end, or when a thread panics (the
/// other would otherwise wait for it forever).
struct StopOnDrop<'a, 'p>(&'a Pipeline<'p>);

impl Drop for StopOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.lock().stop = true;
        self.0.changed.notify_all();
    }
}

/// Run the command: see the module's description.
pub(super) fn streaming(settings: Settings, input: &Path, output: &Path) -> Result<()> {
    let pipeline = Pipeline {
        path: input,
        shared: Mutex::new(Shared::default()),
        changed: Condvar::new(),
    };
    let pipeline = &pipeline;
    let placement = Placement::plan();
    let placement = placement.as_ref();
    let result = std::thread::scope(|scope| -> Result<()> {
        let io = std::thread::Builder::new()
            .name("read-parse-write".into())
            .spawn_scoped(scope, move || {
                let _stop = StopOnDrop(pipeline);
                if let Some(p) = placement {
                    p.pin_input_thread();
                }
                let mut chunks = stream::read_chunks(input, READ_CHUNK_BYTES);
                let mut splitter = Splitter::default();
                let mut text = Vec::new();
                loop {
                    match pipeline.input_job() {
                        Job::Read => pipeline.read(&mut chunks, &mut splitter),
                        Job::Parse(seq, piece, into, layout) => pipeline.parse(seq, piece, into, layout),
                        Job::Write(writer, batch) => pipeline.write(writer, batch, &mut text),
                        _ => break,
                    }
                }
            })
            .map_err(|e| Error::Failed(format!("cannot start a thread: {e}")))?;
        if let Some(p) = placement {
            p.pin_filter_thread();
        }
        // Created while the input thread reads the first piece (the filter has nothing to
        // do until it is parsed); needed only once rows are filtered.
        match OrientationCsvWriter::create_staged(output) {
            Some(Ok(w)) => pipeline.lock().writer = Some(w),
            Some(Err(e)) => pipeline.lock().output_error = Some(e),
            None => {} // written in place once the input has passed
        }
        let stop = StopOnDrop(pipeline);
        let result = filter_and_finish(pipeline, settings, output);
        drop(stop);
        io.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        result
    });
    if let Some(p) = placement {
        p.restore_filter_thread();
    }
    result
}

/// The filter thread: stitch and filter the pieces in order (parsing and writing when it
/// has time), then, once the whole input has passed, help write everything and finish the
/// output.
fn filter_and_finish(pipeline: &Pipeline, settings: Settings, output: &Path) -> Result<()> {
    let window_rows = orientation::STARTUP_WINDOW_INTERVALS + 1;
    let mut stitcher = Stitcher::new(pipeline.path);
    let mut next = 0;
    let mut filter: Option<OrientationFilter> = None;
    let mut window: Vec<ImuBlock> = Vec::new();
    let mut bar: Option<ProgressBar> = None;
    let mut done = 0;
    let mut text = Vec::new();
    // Hand filtered rows over to be written; once writing has failed, give their memory
    // back to parse into and return false (the filter then only checks the rest of the
    // input, whose problems come first).
    let hand_over = |block: ImuBlock, quats: Vec<Quat>| {
        let mut s = pipeline.lock();
        let writing = s.output_error.is_none();
        if writing {
            s.waiting.push_back((block, quats));
        } else {
            s.spare_blocks.push(block);
            s.spare_quats.push(quats);
        }
        pipeline.changed.notify_all();
        writing
    };
    let mut output_failed = false;
    let filter_block = |f: &mut OrientationFilter, block: &ImuBlock| {
        let mut quats = pipeline.lock().spare_quats.pop().unwrap_or_default();
        quats.clear();
        quats.extend(block.samples.iter().map(|s| f.update(s)));
        quats
    };
    loop {
        let block = match pipeline.filter_job(next) {
            Job::Stitch(piece) => {
                next += 1;
                match stitcher.take(piece) {
                    Ok(block) if !block.samples.is_empty() && !output_failed => block,
                    Ok(block) | Err(block) => {
                        pipeline.lock().spare_blocks.push(block);
                        continue;
                    }
                }
            }
            Job::Parse(seq, piece, into, layout) => {
                pipeline.parse(seq, piece, into, layout);
                continue;
            }
            Job::Write(writer, batch) => {
                pipeline.write(writer, batch, &mut text);
                continue;
            }
            _ => break,
        };
        window.push(block);
        if filter.is_none() && window.iter().map(|b| b.samples.len()).sum::<usize>() < window_rows {
            continue;
        }
        let f = filter.get_or_insert_with(|| start_filter(&window, settings));
        for block in std::mem::take(&mut window) {
            let quats = filter_block(f, &block);
            done += quats.len();
            output_failed |= !hand_over(block, quats);
        }
        if done >= PROGRESS_MIN_SAMPLES && bar.is_none() {
            bar = progress_bar(pipeline.path);
        }
        if let Some(b) = &bar {
            b.set_position(done as u64);
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // Whether the input passed: a read error, then a problem in it, then not an IMU stream;
    // an invalid input wins over a failed output, as when the input was read first.
    if let Some(e) = pipeline.lock().read_error.take() {
        return Err(e.into());
    }
    if !stitcher.finish()?.imu {
        return Err(not_imu(pipeline.path).into());
    }
    if !window.is_empty() {
        // A stream shorter than the start-up window.
        let mut f = start_filter(&window, settings);
        for block in std::mem::take(&mut window) {
            let quats = filter_block(&mut f, &block);
            hand_over(block, quats);
        }
    }
    write_to_end(pipeline, output, &mut text)
}

/// Once the input has passed (filter thread): write everything, with the input thread's
/// help, then finish the output.
fn write_to_end(pipeline: &Pipeline, output: &Path, text: &mut Vec<u8>) -> Result<()> {
    let mut s = pipeline.lock();
    if s.writer.is_none() && !s.writer_out && s.output_error.is_none() {
        // Not staged (not a regular file): written in place from now on.
        match OrientationCsvWriter::create(output) {
            Ok(w) => s.writer = Some(w),
            Err(e) => s.output_error = Some(e),
        }
    }
    pipeline.changed.notify_all();
    loop {
        if let Some(e) = s.output_error.take() {
            return Err(e);
        }
        if let Some(Job::Write(writer, batch)) = s.write_job(usize::MAX) {
            drop(s);
            pipeline.write(writer, batch, text);
            s = pipeline.lock();
            continue;
        }
        if s.waiting.is_empty() && !s.writer_out {
            // Nothing is left for the input thread: let it end while the output is
            // finished (renamed into place), not after.
            s.stop = true;
            pipeline.changed.notify_all();
            let writer = s.writer.take();
            drop(s);
            return writer.map_or(Ok(()), OrientationCsvWriter::finish);
        }
        s = pipeline.wait(s);
    }
}
