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

/// What the filter hands to the writer, in row order.
enum Filtered {
    /// Rows the filter thread formatted itself (it was waiting for input anyway).
    Text(Vec<u8>),
    /// Rows (for their time texts) and their quaternions, for the writer to format.
    Rows(ImuBlock, Vec<Quat>),
}

/// The causal filter in two threads, one per core, with the result of reading, strictly
/// parsing the whole file, then filtering, then writing:
///
/// 1. an input thread reads the file (gunzipping a `.gz` one) chunk by chunk
///    (`stream::read_chunks`), parses each chunk strictly as it comes and hands on its rows
///    (`csv::parse_imu_in_blocks`, errors and their precedence those of `parse_stream`);
///    between chunks it writes the rows filtered so far to a temporary file beside the
///    output, renamed onto the output once everything has passed and been written
///    (`OrientationCsvWriter::create_staged`): an invalid input leaves no output file, and
///    an existing output is replaced only whole;
/// 2. this thread filters the rows as they come, once the start-up window that gives the
///    nominal sample time has arrived (`orientation::startup_sample_time_s`: the first 257
///    rows, within the first block).
///
/// Formatting goes to whichever thread has time: the filter formats a block itself when no
/// parsed block is waiting for it (reading and parsing are the slower side), and leaves it
/// to the writer when one is (the filter is the slower side) or when the input thread has
/// finished parsing. Two threads for two cores: a third one for gunzip was slower
/// (`docs/accuracy.md` §4.4).
fn streaming(settings: Settings, input: &Path, output: &Path) -> Result<()> {
    use std::sync::mpsc::{self, TryRecvError};
    let window_rows = orientation::STARTUP_WINDOW_INTERVALS + 1;
    std::thread::scope(|scope| -> Result<()> {
        let (block_tx, block_rx) = mpsc::channel::<ImuBlock>();
        let (filtered_tx, filtered_rx) = mpsc::channel::<Filtered>();
        let io = std::thread::Builder::new()
            .name("read-parse-write".into())
            .spawn_scoped(scope, move || -> Result<()> {
                // Rows are written to a temporary file beside the output as they come
                // (renamed onto it at the end, removed on failure), so the formatted rows
                // do not pile up in memory until the input has passed; an output that is
                // not a regular file is written in place once the input has passed.
                let (mut writer, mut output_error) = match stream::OrientationCsvWriter::create_staged(output) {
                    Some(Ok(w)) => (Some(w), None),
                    Some(Err(e)) => (None, Some(e)),
                    None => (None, None),
                };
                let mut text = Vec::new();
                let chunks = stream::read_chunks(input, READ_CHUNK_BYTES);
                let summary = stream::csv::parse_imu_in_blocks(input, chunks, |block| {
                    let _ = block_tx.send(block);
                    if let (Some(w), None) = (&mut writer, &output_error) {
                        while let Ok(filtered) = filtered_rx.try_recv() {
                            if let Err(e) = write_filtered(w, filtered, &mut text) {
                                output_error = Some(e);
                                break;
                            }
                        }
                    }
                })?;
                drop(block_tx);
                // An invalid input wins over a failed output, as when the input was read first.
                if !summary.imu {
                    return Err(not_imu(input).into());
                }
                if let Some(e) = output_error {
                    return Err(e);
                }
                let mut writer = match writer {
                    Some(w) => w,
                    None => stream::OrientationCsvWriter::create(output)?,
                };
                for filtered in filtered_rx {
                    write_filtered(&mut writer, filtered, &mut text)?;
                }
                writer.finish()
            })
            .map_err(|e| crate::error::Error::Failed(format!("cannot start a thread: {e}")))?;

        let mut filter: Option<OrientationFilter> = None;
        let mut window: Vec<ImuBlock> = Vec::new();
        let mut bar: Option<ProgressBar> = None;
        let mut done = 0;
        // A block taken from the input while deciding who formats the previous one.
        let mut next: Option<ImuBlock> = None;
        let mut input_open = true;
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
            let mut sent = true;
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
                let filtered = if input_open && next.is_none() {
                    let mut text = Vec::new();
                    stream::format_orientation_rows(&mut text, &block.time_texts(), &quats);
                    Filtered::Text(text)
                } else {
                    Filtered::Rows(block, quats)
                };
                // A failed send: the input was invalid or the output failed; its error is
                // returned below.
                sent &= filtered_tx.send(filtered).is_ok();
            }
            if !sent {
                break;
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
                let _ = filtered_tx.send(Filtered::Rows(block, quats));
            }
        }
        drop(filtered_tx);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        io.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Write filtered rows, formatting them first if the filter did not (`text` is scratch).
fn write_filtered(writer: &mut stream::OrientationCsvWriter, filtered: Filtered, text: &mut Vec<u8>) -> Result<()> {
    match filtered {
        Filtered::Text(formatted) => writer.write_formatted(&formatted),
        Filtered::Rows(block, quats) => {
            text.clear();
            stream::format_orientation_rows(text, &block.time_texts(), &quats);
            writer.write_formatted(text)
        }
    }
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
