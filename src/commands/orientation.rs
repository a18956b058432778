//! `twistcoach orientation IMU_CSV -o OUT_CSV [--no-mag] [--offline]` (spec §6).

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::OrientationArgs;
use crate::error::{BadInput, Problem, Result};
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

/// The output side, shared by the two threads of [`streaming`] under a lock: the filtered
/// rows waiting to be written, in row order, and the writer once there is one.
#[derive(Default)]
struct OutputSide {
    writer: Option<stream::OrientationCsvWriter>,
    /// Filtered rows (for their time texts) and their quaternions, in row order.
    waiting: std::collections::VecDeque<(ImuBlock, Vec<Quat>)>,
    /// The filter has handed over its last rows.
    filter_done: bool,
    /// Writing failed (or the staged output could not be created): the writer is gone, and
    /// this is the command's error unless the input is invalid.
    error: Option<crate::error::Error>,
}

impl OutputSide {
    /// Format and write every waiting block, in order, if this side has the writer (`text`
    /// is scratch).
    fn write_waiting(&mut self, text: &mut Vec<u8>) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        while let Some((block, quats)) = self.waiting.pop_front() {
            if let Err(e) = write_rows(writer, &block, &quats, text) {
                self.error = Some(e);
                self.writer = None;
                self.waiting.clear();
                return;
            }
        }
    }
}

/// Format and write filtered rows (`text` is scratch).
fn write_rows(
    writer: &mut stream::OrientationCsvWriter,
    block: &ImuBlock,
    quats: &[Quat],
    text: &mut Vec<u8>,
) -> Result<()> {
    text.clear();
    stream::format_orientation_rows(text, &block.time_texts(), quats);
    writer.write_formatted(text)
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
/// block is waiting for it (reading and parsing are the slower side), the input thread once
/// it has parsed everything (then the filter was the slower side). Two threads for two
/// cores: a third one for gunzip was slower (`docs/accuracy.md` §4.4).
fn streaming(settings: Settings, input: &Path, output: &Path) -> Result<()> {
    use std::sync::mpsc::{self, TryRecvError};
    use std::sync::{Condvar, Mutex, PoisonError};
    let window_rows = orientation::STARTUP_WINDOW_INTERVALS + 1;
    let side = Mutex::new(OutputSide::default());
    let changed = Condvar::new();
    let lock = || side.lock().unwrap_or_else(PoisonError::into_inner);
    match stream::OrientationCsvWriter::create_staged(output) {
        Some(Ok(w)) => lock().writer = Some(w),
        Some(Err(e)) => lock().error = Some(e),
        None => {} // written in place once the input has passed
    }
    std::thread::scope(|scope| -> Result<()> {
        let (block_tx, block_rx) = mpsc::channel::<ImuBlock>();
        let io = std::thread::Builder::new()
            .name("read-parse-write".into())
            .spawn_scoped(scope, || -> Result<()> {
                let chunks = stream::read_chunks(input, READ_CHUNK_BYTES);
                let summary = stream::csv::parse_imu_in_blocks(input, chunks, |block| {
                    let _ = block_tx.send(block);
                })?;
                drop(block_tx);
                // An invalid input wins over a failed output, as when the input was read first.
                if !summary.imu {
                    return Err(not_imu(input).into());
                }
                // From here on this thread writes everything (the filter thread then only
                // hands over): it takes the writer, and the waiting rows a batch at a time,
                // and formats and writes them outside the lock.
                let (writer, error) = {
                    let mut side = lock();
                    (side.writer.take(), side.error.take())
                };
                let mut writer = match (writer, error) {
                    (_, Some(e)) => return Err(e),
                    (Some(w), None) => w,
                    (None, None) => stream::OrientationCsvWriter::create(output)?,
                };
                let mut text = Vec::new();
                loop {
                    let batch = {
                        let mut side = lock();
                        while side.waiting.is_empty() && !side.filter_done {
                            side = changed.wait(side).unwrap_or_else(PoisonError::into_inner);
                        }
                        if side.waiting.is_empty() {
                            break;
                        }
                        std::mem::take(&mut side.waiting)
                    };
                    for (block, quats) in batch {
                        write_rows(&mut writer, &block, &quats, &mut text)?;
                    }
                }
                writer.finish()
            })
            .map_err(|e| crate::error::Error::Failed(format!("cannot start a thread: {e}")))?;

        let mut filter: Option<OrientationFilter> = None;
        let mut window: Vec<ImuBlock> = Vec::new();
        let mut bar: Option<ProgressBar> = None;
        let mut done = 0;
        let mut text = Vec::new();
        // A block taken from the input while deciding who writes the previous one.
        let mut next: Option<ImuBlock> = None;
        let mut input_open = true;
        // Hand a filtered block to the output side; write what waits if this thread has
        // time. False once writing has failed.
        let mut hand_over = |block: ImuBlock, quats: Vec<Quat>, has_time: bool| -> bool {
            let mut side = lock();
            side.waiting.push_back((block, quats));
            if has_time && side.writer.is_some() {
                side.write_waiting(&mut text);
            } else {
                // The input thread writes (it has taken the writer, or will once the input
                // has passed).
                changed.notify_one();
            }
            side.error.is_none()
        };
        loop {
            let block = match next.take() {
                Some(b) => b,
                None => match block_rx.recv() {
                    Ok(b) => b,
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
                let quats: Vec<Quat> = block.samples.iter().map(|s| f.update(s)).collect();
                done += quats.len();
                if input_open && next.is_none() {
                    match block_rx.try_recv() {
                        Ok(b) => next = Some(b),
                        Err(TryRecvError::Disconnected) => input_open = false,
                        Err(TryRecvError::Empty) => {}
                    }
                }
                writing &= hand_over(block, quats, input_open && next.is_none());
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
                let quats: Vec<Quat> = block.samples.iter().map(|s| f.update(s)).collect();
                hand_over(block, quats, false);
            }
        }
        lock().filter_done = true;
        changed.notify_one();
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
