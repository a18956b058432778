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
    let stream = stream::read_stream(&args.imu_csv)?;
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
    let settings = Settings {
        use_mag: !args.no_mag,
        ..Settings::default()
    };
    if args.offline {
        let quats = orientation::offline::estimate_offline(samples, settings);
        return stream::write_orientation_csv(&args.output, &stream.t_text, &quats);
    }
    causal_to_csv(samples, &stream.t_text, settings, &args.imu_csv, &args.output)
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
