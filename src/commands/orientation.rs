//! `twistcoach orientation IMU_CSV -o OUT_CSV [--no-mag] [--offline]` (spec §6).

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::OrientationArgs;
use crate::error::{BadInput, Problem, Result};
use crate::frames::Quat;
use crate::orientation::{self, Settings};
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
    let quats = estimate(samples, settings, args.offline, &args.imu_csv);
    stream::write_orientation_csv(&args.output, &stream.t_text, &quats)
}

fn estimate(samples: &[stream::ImuSample], settings: Settings, offline: bool, path: &Path) -> Vec<Quat> {
    if offline {
        return orientation::offline::estimate_offline(samples, settings);
    }
    let bar = (samples.len() >= PROGRESS_MIN_SAMPLES && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(samples.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} samples ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{}", path.display()));
        bar
    });
    let quats = orientation::estimate_causal_with_progress(samples, settings, &mut |done| {
        if let Some(b) = &bar {
            b.set_position(done as u64);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    quats
}
