//! `twistcoach orientation IMU_CSV -o OUT_CSV [--no-mag] [--offline]` (spec §6).

mod cpus;
mod streaming;

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::OrientationArgs;
use crate::error::{BadInput, Problem, Result};
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
    streaming::streaming(settings, &args.imu_csv, &args.output)
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
