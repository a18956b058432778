//! `twistcoach orientation IMU_CSV -o OUT_CSV [--no-mag] [--offline]` (spec §6).

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::OrientationArgs;
use crate::error::{BadInput, Problem, Result};
use crate::frames::Quat;
use crate::orientation::{self, OrientationFilter, Settings};
use crate::stream::{self, Samples};

/// Streams longer than this get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_SAMPLES: usize = 200_000;

pub fn run(args: &OrientationArgs) -> Result<()> {
    let settings = Settings {
        use_mag: !args.no_mag,
        ..Settings::default()
    };
    if !args.offline {
        let bytes = stream::read_bytes(&args.imu_csv)?;
        return match pipelined(&bytes, settings, &args.imu_csv, &args.output)? {
            Pipelined::Done => Ok(()),
            Pipelined::NotApplicable => {
                let stream = stream::parse_stream(&args.imu_csv, &bytes)?;
                run_on_stream(args, &stream, settings)
            }
        };
    }
    let stream = stream::read_stream(&args.imu_csv)?;
    run_on_stream(args, &stream, settings)
}

/// The command on a stream that has been read and checked as a whole.
fn run_on_stream(args: &OrientationArgs, stream: &stream::Stream, settings: Settings) -> Result<()> {
    let Samples::Imu(samples) = &stream.samples else {
        return Err(BadInput::file(
            &args.imu_csv,
            Problem::Other(
                "this is an orientation stream (t,qw,qx,qy,qz); `orientation` needs a raw IMU stream \
                 (t,ax,ay,az,gx,gy,gz[,mx,my,mz])"
                    .into(),
            ),
        )
        .into());
    };
    if args.offline {
        let quats = orientation::offline::estimate_offline(samples, settings);
        return stream::write_orientation_csv(&args.output, &stream.t_text, &quats);
    }
    causal_to_csv(samples, &stream.t_text, settings, &args.imu_csv, &args.output)
}

/// Bytes of input per block handed from the strict parser to the filter.
const PARSE_BLOCK_BYTES: usize = 1 << 16;

enum Pipelined {
    Done,
    /// Not a raw IMU stream the quick time scan understands (an orientation stream, a
    /// stream with an unparsable time, …): run the plain path, which reports the problem.
    NotApplicable,
}

/// Messages to the writer thread.
enum ToWriter {
    /// The next quaternions, in row order.
    Rows(Vec<Quat>),
    /// The whole input passed the strict parse: create the output and write.
    InputValid,
}

/// The causal filter as a pipeline over both cores, with the result of the plain path
/// (strict parse of the whole file, then filter, then write) to the bit:
///
/// 1. A quick scan of the rows' times (`csv::scan_imu_times`) gives the nominal sample
///    time, which the filter needs before its first sample.
/// 2. Meanwhile a second thread parses strictly, block by block, and hands each block's
///    samples to the filter (this thread) as soon as it is parsed.
/// 3. A third thread formats the filtered rows. It creates the output file only once the
///    strict parse has accepted the whole file and found exactly the scanned times (so the
///    nominal sample time is the plain path's); an invalid input leaves no output, as before.
///
/// If the strict parse finds the same rows but the times differ from the scan (they cannot
/// on a valid file, as both split lines the same way), the result is `NotApplicable`.
fn pipelined(bytes: &[u8], settings: Settings, input: &Path, output: &Path) -> Result<Pipelined> {
    use std::sync::OnceLock;
    use std::sync::mpsc;
    let scan_cell: OnceLock<Option<stream::csv::TimeScan>> = OnceLock::new();
    let outcome = std::thread::scope(|scope| -> Result<Pipelined> {
        let (sample_tx, sample_rx) = mpsc::channel::<Vec<stream::ImuSample>>();
        let (writer_tx, writer_rx) = mpsc::channel::<ToWriter>();
        let valid_tx = writer_tx.clone();
        let scan_cell = &scan_cell;
        let parsing = scope.spawn(move || -> std::result::Result<bool, BadInput> {
            let mut t_s = Vec::new();
            let summary = stream::csv::parse_imu_in_blocks(input, bytes, PARSE_BLOCK_BYTES, |samples| {
                t_s.extend(samples.iter().map(|s| s.t_s));
                let _ = sample_tx.send(samples);
            })?;
            drop(sample_tx);
            let agrees = summary.imu
                && scan_cell.wait().as_ref().is_some_and(|scan| {
                    scan.t_s.len() == t_s.len() && scan.t_s.iter().zip(&t_s).all(|(a, b)| a.to_bits() == b.to_bits())
                });
            if agrees {
                let _ = valid_tx.send(ToWriter::InputValid);
            }
            Ok(agrees)
        });
        let scan = scan_cell.get_or_init(|| stream::csv::scan_imu_times(bytes));
        let Some(scan) = scan else {
            drop(sample_rx);
            drop(writer_tx);
            // Any strict-parse error wins over the fallback, as in the plain path.
            parsing.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            return Ok(Pipelined::NotApplicable);
        };
        let writing = scope.spawn(move || write_when_valid(writer_rx, &scan.t_text, output));
        let bar = progress_bar(scan.t_s.len(), input);
        let dt_s = orientation::nominal_sample_time_s(scan.t_s.iter().copied());
        let mut filter = OrientationFilter::new(dt_s, settings);
        let mut done = 0;
        for samples in sample_rx {
            let quats: Vec<Quat> = samples.iter().map(|s| filter.update(s)).collect();
            done += quats.len();
            if writer_tx.send(ToWriter::Rows(quats)).is_err() {
                break; // the writer failed; its error is returned below
            }
            if let Some(b) = &bar {
                b.set_position(done as u64);
            }
        }
        drop(writer_tx);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        let parsed = parsing.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let written = writing.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let agrees = parsed?;
        let wrote = written?;
        Ok(if agrees && wrote {
            Pipelined::Done
        } else {
            Pipelined::NotApplicable
        })
    })?;
    Ok(outcome)
}

/// The writer thread of [`pipelined`]: formats rows as they come, and creates and writes
/// the output only after `InputValid`. Returns whether it wrote the output.
fn write_when_valid(rx: std::sync::mpsc::Receiver<ToWriter>, t_text: &[&[u8]], output: &Path) -> Result<bool> {
    let mut pending = Vec::new();
    let mut writer: Option<stream::OrientationCsvWriter> = None;
    let mut done = 0;
    for msg in rx {
        match msg {
            ToWriter::Rows(quats) => {
                // More rows than scanned times: the input is not what the scan saw and the
                // result will be discarded (never written: `InputValid` needs equal counts).
                let Some(times) = t_text.get(done..done + quats.len()) else {
                    continue;
                };
                stream::format_orientation_rows(&mut pending, times, &quats);
                done += quats.len();
            }
            ToWriter::InputValid => writer = Some(stream::OrientationCsvWriter::create(output)?),
        }
        if let Some(w) = &mut writer {
            w.write_formatted(&pending)?;
            pending.clear();
        }
    }
    match writer {
        Some(w) if done == t_text.len() => {
            w.finish()?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Rows handed from the filter to the writer thread at a time.
const WRITE_CHUNK_SAMPLES: usize = 4096;

/// Run the causal filter in this thread while a second one formats and writes the rows it
/// has finished, so that writing overlaps filtering when a second core is free.
fn causal_to_csv(
    samples: &[stream::ImuSample],
    t_text: &[Box<str>],
    settings: Settings,
    input: &Path,
    output: &Path,
) -> Result<()> {
    let bar = progress_bar(samples.len(), input);
    let dt_s = orientation::nominal_sample_time_s(samples.iter().map(|s| s.t_s));
    let mut filter = OrientationFilter::new(dt_s, settings);
    let mut writer = stream::OrientationCsvWriter::create(output)?;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<Quat>)>(16);
        let writing = scope.spawn(move || -> Result<()> {
            for (start, quats) in rx {
                writer.write_rows(&t_text[start..start + quats.len()], &quats)?;
            }
            writer.finish()
        });
        let mut start = 0;
        for chunk in samples.chunks(WRITE_CHUNK_SAMPLES) {
            let quats: Vec<Quat> = chunk.iter().map(|s| filter.update(s)).collect();
            if tx.send((start, quats)).is_err() {
                break; // the writer failed; its error is returned below
            }
            start += chunk.len();
            if let Some(b) = &bar {
                b.set_position(start as u64);
            }
        }
        drop(tx);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        writing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn progress_bar(samples: usize, path: &Path) -> Option<ProgressBar> {
    (samples >= PROGRESS_MIN_SAMPLES && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(samples as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} samples ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{}", path.display()));
        bar
    })
}
