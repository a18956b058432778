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

/// The causal filter in two threads, one per core, with the result of reading, strictly
/// parsing the whole file, then filtering, then writing:
///
/// 1. an input thread reads the file (gunzipping a `.gz` one) chunk by chunk
///    (`stream::read_chunks`), parses each chunk strictly as it comes and hands on its rows
///    (`csv::parse_imu_in_blocks`, errors and their precedence those of `parse_stream`);
///    once the whole input has passed, it creates the output and writes the formatted rows
///    as they come: an invalid input leaves no output file;
/// 2. this thread filters the rows as they come, once the start-up window that gives the
///    nominal sample time has arrived (`orientation::startup_sample_time_s`: the first 257
///    rows, within the first block), and formats them.
///
/// The filter is the longest stage; everything else (reading, gunzip, parsing, writing)
/// fits on the other core in less time, so the filter runs on a core of its own. More
/// threads than cores only added switching (`docs/accuracy.md` §4.3).
fn streaming(settings: Settings, input: &Path, output: &Path) -> Result<()> {
    use std::sync::mpsc;
    let window_rows = orientation::STARTUP_WINDOW_INTERVALS + 1;
    std::thread::scope(|scope| -> Result<()> {
        let (block_tx, block_rx) = mpsc::channel::<ImuBlock>();
        let (text_tx, text_rx) = mpsc::channel::<Vec<u8>>();
        let io = std::thread::Builder::new()
            .name("read-parse-write".into())
            .spawn_scoped(scope, move || -> Result<()> {
                let chunks = stream::read_chunks(input, READ_CHUNK_BYTES);
                let summary = stream::csv::parse_imu_in_blocks(input, chunks, |block| {
                    let _ = block_tx.send(block);
                })?;
                drop(block_tx);
                if !summary.imu {
                    return Err(not_imu(input).into());
                }
                let mut writer = stream::OrientationCsvWriter::create(output)?;
                for text in text_rx {
                    writer.write_formatted(&text)?;
                }
                writer.finish()
            })
            .map_err(|e| crate::error::Error::Failed(format!("cannot start a thread: {e}")))?;

        let mut filter: Option<OrientationFilter> = None;
        let mut window: Vec<ImuBlock> = Vec::new();
        let mut bar: Option<ProgressBar> = None;
        let mut done = 0;
        let mut filter_blocks = |blocks: Vec<ImuBlock>, filter: &mut OrientationFilter| -> bool {
            for block in blocks {
                let quats: Vec<Quat> = block.samples.iter().map(|s| filter.update(s)).collect();
                done += quats.len();
                let mut text = Vec::new();
                stream::format_orientation_rows(&mut text, &block.time_texts(), &quats);
                if text_tx.send(text).is_err() {
                    return false; // the input was invalid or the output failed: its error is returned below
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
        drop(text_tx);
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
