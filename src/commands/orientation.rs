//! `twistcoach orientation IMU_CSV -o OUT_CSV [--no-mag] [--offline]` (spec §6).

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::OrientationArgs;
use crate::error::{BadInput, Problem, Result};
use crate::frames::Quat;
use crate::orientation::{self, OrientationFilter, Settings};
use crate::stream::csv::{BlockSummary, ImuBlock};
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

/// Messages to the writer thread.
enum ToWriter {
    /// The next rows (for their time texts) and their quaternions, in row order.
    Rows(ImuBlock, Vec<Quat>),
    /// The whole input passed the strict parse: create the output and write.
    InputValid,
}

/// The causal filter as a pipeline of four threads, with the result of reading, strictly
/// parsing the whole file, then filtering, then writing:
///
/// 1. a reader reads the file, gunzipping a `.gz` one, in chunks (`stream::read_chunks`);
/// 2. a parser parses them strictly as they come and hands on the rows of each block
///    (`csv::parse_imu_in_blocks`, errors and their precedence those of `parse_stream`);
/// 3. this thread filters the rows as they come, once the start-up window that gives the
///    nominal sample time has arrived (`orientation::startup_sample_time_s`: the first 257
///    rows, the first block);
/// 4. a writer formats the filtered rows, and creates and writes the output only once the
///    parser has accepted the whole input: an invalid input leaves no output file.
fn streaming(settings: Settings, input: &Path, output: &Path) -> Result<()> {
    use std::sync::mpsc;
    let window_rows = orientation::STARTUP_WINDOW_INTERVALS + 1;
    std::thread::scope(|scope| -> Result<()> {
        let (chunk_tx, chunk_rx) = mpsc::sync_channel::<std::result::Result<Vec<u8>, BadInput>>(16);
        let (block_tx, block_rx) = mpsc::channel::<ImuBlock>();
        let (writer_tx, writer_rx) = mpsc::channel::<ToWriter>();
        let valid_tx = writer_tx.clone();
        scope.spawn(move || stream::read_chunks(input, READ_CHUNK_BYTES, |chunk| chunk_tx.send(chunk).is_ok()));
        let parsing = scope.spawn(move || -> std::result::Result<BlockSummary, BadInput> {
            let summary = stream::csv::parse_imu_in_blocks(input, chunk_rx, |block| {
                let _ = block_tx.send(block);
            })?;
            if summary.imu {
                let _ = valid_tx.send(ToWriter::InputValid);
            }
            Ok(summary)
        });
        let writing = scope.spawn(move || write_when_valid(writer_rx, output));

        let mut filter: Option<OrientationFilter> = None;
        let mut window: Vec<ImuBlock> = Vec::new();
        let mut bar: Option<ProgressBar> = None;
        let mut done = 0;
        let mut filter_blocks = |blocks: Vec<ImuBlock>, filter: &mut OrientationFilter| -> bool {
            for block in blocks {
                let quats: Vec<Quat> = block.samples.iter().map(|s| filter.update(s)).collect();
                done += quats.len();
                if writer_tx.send(ToWriter::Rows(block, quats)).is_err() {
                    return false; // the writer failed; its error is returned below
                }
            }
            if done >= PROGRESS_MIN_SAMPLES && bar.is_none() {
                bar = progress_bar(input);
            }
            if let Some(b) = &bar {
                b.set_position(done as u64);
            }
            true
        };
        for block in &block_rx {
            window.push(block);
            if filter.is_none() && window.iter().map(|b| b.samples.len()).sum::<usize>() < window_rows {
                continue;
            }
            let f = filter.get_or_insert_with(|| start_filter(&window, settings));
            if !filter_blocks(std::mem::take(&mut window), f) {
                break;
            }
        }
        drop(block_rx);
        if !window.is_empty() {
            // A stream shorter than the start-up window.
            let mut f = start_filter(&window, settings);
            filter_blocks(std::mem::take(&mut window), &mut f);
        }
        drop(writer_tx);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        let parsed = parsing.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let written = writing.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        // An invalid input wins over a failed output, as when the input was read first.
        if !parsed?.imu {
            return Err(not_imu(input).into());
        }
        written
    })
}

/// The causal filter for a stream whose first rows (at least the start-up window, or the
/// whole stream) are in `window`.
fn start_filter(window: &[ImuBlock], settings: Settings) -> OrientationFilter {
    let t_s = window.iter().flat_map(|b| b.samples.iter().map(|s| s.t_s));
    OrientationFilter::new(orientation::startup_sample_time_s(t_s), settings)
}

/// The writer thread of [`streaming`]: formats rows as they come, and creates and writes
/// the output only after `InputValid`.
fn write_when_valid(rx: std::sync::mpsc::Receiver<ToWriter>, output: &Path) -> Result<()> {
    // Formatted blocks waiting for `InputValid`, one buffer each (no copying as they grow).
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut writer: Option<stream::OrientationCsvWriter> = None;
    for msg in rx {
        match msg {
            ToWriter::Rows(block, quats) => {
                let mut text = Vec::new();
                stream::format_orientation_rows(&mut text, &block.time_texts(), &quats);
                pending.push(text);
            }
            ToWriter::InputValid => writer = Some(stream::OrientationCsvWriter::create(output)?),
        }
        if let Some(w) = &mut writer {
            for text in pending.drain(..) {
                w.write_formatted(&text)?;
            }
        }
    }
    match writer {
        Some(w) => w.finish(),
        None => Ok(()), // the input was invalid: the parser's error is returned
    }
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
