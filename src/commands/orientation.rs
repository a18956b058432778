//! `twistcoach orientation IMU_CSV -o OUT_CSV [--no-mag] [--offline]` (spec §6).

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::OrientationArgs;
use crate::error::{BadInput, Error, Problem, Result};
use crate::frames::Quat;
use crate::orientation::{self, OrientationFilter, Settings};
use crate::stream::csv::ImuBlock;
use crate::stream::{self, Samples};

/// A progress bar appears (when stderr is a terminal) once this many samples are done.
const PROGRESS_MIN_SAMPLES: usize = 200_000;

pub fn run(args: &OrientationArgs) -> Result<()> {
    let settings = Settings {
        use_mag: !args.no_mag,
        ..Settings::default()
    };
    if args.offline {
        let stream = stream::read_stream(&args.imu_csv)?;
        let Samples::Imu(samples) = &stream.samples else {
            return Err(not_imu(&args.imu_csv).into());
        };
        let quats = orientation::offline::estimate_offline(samples, settings);
        return stream::write_orientation_csv(&args.output, &stream.t_text, &quats);
    }
    streaming(settings, &args.imu_csv, &args.output)
}

fn not_imu(path: &Path) -> BadInput {
    BadInput::file(
        path,
        Problem::Other(
            "this is an orientation stream (t,qw,qx,qy,qz); `orientation` needs a raw IMU stream \
             (t,ax,ay,az,gx,gy,gz[,mx,my,mz])"
                .into(),
        ),
    )
}

/// Bytes per chunk read (or gunzipped) and handed to the strict parser, which parses
/// and hands on the rows of each chunk.
const READ_CHUNK_BYTES: usize = 1 << 16;

/// Parsed blocks the input thread may be ahead of the filter: then it waits.
const BLOCKS_AHEAD: usize = 8;

/// With this many parsed blocks queued for the filter, the input thread writes filtered
/// rows before it parses on. Blocks are written soon after they are filtered and come
/// back to be parsed into again: fresh memory costs a page fault per 4 KiB, and with every
/// block in fresh memory that was about a sixth of the command's CPU time.
const WRITE_WHEN_QUEUED: usize = 2;

/// Filtered rows (for their time texts) and their quaternions.
type Filtered = (ImuBlock, Vec<Quat>);

/// The output side, shared by the two threads of [`streaming`].
struct Output {
    side: Mutex<OutputSide>,
    /// Signalled when rows are handed over, the writer is put back or the filter is done.
    changed: Condvar,
    /// Written blocks and quaternions on their way back to the threads that fill them.
    spare_blocks: mpsc::Sender<ImuBlock>,
    spare_quats: mpsc::Sender<Vec<Quat>>,
}

#[derive(Default)]
struct OutputSide {
    /// The writer when no thread has it (and there is one): a thread takes it with the
    /// rows waiting, writes them outside the lock and puts it back.
    writer: Option<stream::OrientationCsvWriter>,
    /// A thread has the writer.
    writer_out: bool,
    /// Filtered rows waiting to be written, in row order.
    waiting: VecDeque<Filtered>,
    /// The filter has handed over its last rows.
    filter_done: bool,
    /// Writing failed (or the staged output could not be created): the writer is gone, and
    /// this is the command's error unless the input is invalid.
    error: Option<Error>,
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, OutputSide> {
        self.side.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue filtered rows to be written; false once writing has failed.
    fn hand_over(&self, rows: Filtered) -> bool {
        let mut side = self.lock();
        side.waiting.push_back(rows);
        self.changed.notify_all();
        side.error.is_none()
    }

    /// If the writer is free and rows are waiting: take both, format and write the rows
    /// outside the lock (`text` is scratch), give their memory back and put the writer back.
    /// False if there was nothing to do.
    fn write_waiting(&self, text: &mut Vec<u8>) -> bool {
        let (mut writer, batch) = {
            let mut side = self.lock();
            if side.waiting.is_empty() {
                return false;
            }
            let Some(writer) = side.writer.take() else {
                return false;
            };
            side.writer_out = true;
            (writer, std::mem::take(&mut side.waiting))
        };
        let mut written = Ok(());
        for (block, quats) in batch {
            if written.is_ok() {
                text.clear();
                stream::format_orientation_rows(text, &block.time_texts(), &quats);
                written = writer.write_formatted(text);
            }
            // A receiving thread that is done with them has dropped its end: then they go.
            let _ = self.spare_blocks.send(block);
            let _ = self.spare_quats.send(quats);
        }
        let mut side = self.lock();
        side.writer_out = false;
        match written {
            Ok(()) => side.writer = Some(writer),
            Err(e) => {
                side.error = Some(e);
                side.waiting.clear();
            }
        }
        self.changed.notify_all();
        true
    }

    /// Once the input has passed (input thread): write everything the filter hands over,
    /// then finish the output.
    fn write_to_end(&self, output: &Path, text: &mut Vec<u8>) -> Result<()> {
        {
            let mut side = self.lock();
            if let Some(e) = side.error.take() {
                return Err(e);
            }
            if side.writer.is_none() && !side.writer_out {
                // Not staged (not a regular file): written in place from now on.
                side.writer = Some(stream::OrientationCsvWriter::create(output)?);
            }
        }
        loop {
            if self.write_waiting(text) {
                continue;
            }
            let mut side = self.lock();
            loop {
                if let Some(e) = side.error.take() {
                    return Err(e);
                }
                if !side.writer_out {
                    if !side.waiting.is_empty() {
                        break;
                    }
                    if side.filter_done {
                        let writer = side.writer.take();
                        drop(side);
                        return writer.map_or(Ok(()), stream::OrientationCsvWriter::finish);
                    }
                }
                side = self.changed.wait(side).unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

/// The causal filter in two threads, one per core, with the result of reading, strictly
/// parsing the whole file, then filtering, then writing:
///
/// 1. an input thread reads the file (gunzipping a `.gz` one) chunk by chunk
///    (`stream::read_chunks`), parses each chunk strictly as it comes and hands on its rows
///    (`csv::parse_imu_in_blocks`, errors and their precedence those of `parse_stream`);
/// 2. this thread filters the rows as they come, once the start-up window that gives the
///    nominal sample time has arrived (`orientation::startup_sample_time_s`: the first 257
///    rows, within the first block).
///
/// Rows are written as soon as they are filtered, to a temporary file beside the output
/// that is renamed onto it once the whole input has passed and everything is written
/// (`OrientationCsvWriter::create_staged`): an invalid input leaves no output file, an
/// existing output is replaced only whole, and the formatted rows do not pile up in memory.
/// (An output that is not a regular file is written in place once the input has passed.)
/// Formatting and writing go to whichever thread has time: the filter thread when no parsed
/// block is waiting for it, the input thread when it is [`BLOCKS_AHEAD`] blocks ahead of
/// the filter and once it has parsed everything. Two threads for two cores: a third one for
/// gunzip was slower (`docs/accuracy.md` §4.4).
fn streaming(settings: Settings, input: &Path, output: &Path) -> Result<()> {
    let window_rows = orientation::STARTUP_WINDOW_INTERVALS + 1;
    let (spare_blocks_tx, spare_blocks) = mpsc::channel();
    let (spare_quats_tx, spare_quats) = mpsc::channel();
    let out = Output {
        side: Mutex::new(OutputSide::default()),
        changed: Condvar::new(),
        spare_blocks: spare_blocks_tx,
        spare_quats: spare_quats_tx,
    };
    match stream::OrientationCsvWriter::create_staged(output) {
        Some(Ok(w)) => out.lock().writer = Some(w),
        Some(Err(e)) => out.lock().error = Some(e),
        None => {} // written in place once the input has passed
    }
    // Parsed blocks not yet taken by the filter thread.
    let queued = AtomicUsize::new(0);
    std::thread::scope(|scope| -> Result<()> {
        let (block_tx, block_rx) = mpsc::sync_channel::<ImuBlock>(BLOCKS_AHEAD);
        let queued = &queued;
        let out = &out;
        let io = std::thread::Builder::new()
            .name("read-parse-write".into())
            .spawn_scoped(scope, move || -> Result<()> {
                let mut text = Vec::new();
                let chunks = stream::read_chunks(input, READ_CHUNK_BYTES);
                let summary = stream::csv::parse_imu_in_blocks(input, chunks, |block| {
                    queued.fetch_add(1, Ordering::Relaxed);
                    let _ = block_tx.send(block);
                    // The filter has enough to do: write what it has filtered.
                    while queued.load(Ordering::Relaxed) >= WRITE_WHEN_QUEUED && out.write_waiting(&mut text) {}
                    spare_blocks.try_recv().ok()
                })?;
                drop(block_tx);
                // An invalid input wins over a failed output, as when the input was read first.
                if !summary.imu {
                    return Err(not_imu(input).into());
                }
                out.write_to_end(output, &mut text)
            })
            .map_err(|e| Error::Failed(format!("cannot start a thread: {e}")))?;

        let mut filter: Option<OrientationFilter> = None;
        let mut window: Vec<ImuBlock> = Vec::new();
        let mut bar: Option<ProgressBar> = None;
        let mut done = 0;
        let mut text = Vec::new();
        // A block taken from the input while deciding whether this thread has time to write.
        let mut next: Option<ImuBlock> = None;
        let mut input_open = true;
        let filter_block = |f: &mut OrientationFilter, block: &ImuBlock| {
            let mut quats = spare_quats.try_recv().unwrap_or_default();
            quats.clear();
            quats.extend(block.samples.iter().map(|s| f.update(s)));
            quats
        };
        loop {
            let block = match next.take() {
                Some(b) => b,
                None => match block_rx.recv() {
                    Ok(b) => {
                        queued.fetch_sub(1, Ordering::Relaxed);
                        b
                    }
                    Err(_) => break,
                },
            };
            window.push(block);
            if filter.is_none() && window.iter().map(|b| b.samples.len()).sum::<usize>() < window_rows {
                continue;
            }
            let f = filter.get_or_insert_with(|| start_filter(&window, settings));
            let mut writing = true;
            for block in std::mem::take(&mut window) {
                let quats = filter_block(f, &block);
                done += quats.len();
                writing &= out.hand_over((block, quats));
                if input_open && next.is_none() {
                    match block_rx.try_recv() {
                        Ok(b) => {
                            queued.fetch_sub(1, Ordering::Relaxed);
                            next = Some(b);
                        }
                        Err(TryRecvError::Disconnected) => input_open = false,
                        Err(TryRecvError::Empty) => {}
                    }
                }
                if input_open && next.is_none() {
                    // No parsed block waits: time to write.
                    out.write_waiting(&mut text);
                }
            }
            if !writing {
                break; // the output failed: its error is returned below
            }
            if done >= PROGRESS_MIN_SAMPLES && bar.is_none() {
                bar = progress_bar(input);
            }
            if let Some(b) = &bar {
                b.set_position(done as u64);
            }
        }
        drop(block_rx);
        if !window.is_empty() {
            // A stream shorter than the start-up window.
            let mut f = start_filter(&window, settings);
            for block in std::mem::take(&mut window) {
                let quats = filter_block(&mut f, &block);
                out.hand_over((block, quats));
            }
        }
        out.lock().filter_done = true;
        out.changed.notify_all();
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        io.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// The causal filter for a stream whose first rows (at least the start-up window, or the
/// whole stream) are in `window`.
fn start_filter(window: &[ImuBlock], settings: Settings) -> OrientationFilter {
    let t_s = window.iter().flat_map(|b| b.samples.iter().map(|s| s.t_s));
    OrientationFilter::new(orientation::startup_sample_time_s(t_s), settings)
}

/// A progress bar on a terminal: the length of a stream is not known before its end.
fn progress_bar(path: &Path) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::no_length();
        bar.set_style(
            ProgressStyle::with_template("{msg} {pos} samples ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{}", path.display()));
        bar
    })
}
