//! `twistcoach demo --orientation`: estimates orientation on a bundled slice of the BROAD
//! benchmark (75 s of a real IMU with optical ground truth) and prints how close each
//! estimate is to the truth.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use flate2::read::MultiGzDecoder;

use crate::error::{BadInput, Problem, Result};
use crate::orientation::{self, Settings, accuracy};
use crate::stream::{self, Samples};

const IMU_GZ: &[u8] = include_bytes!("../../fixtures/broad/02_slow_rotation_first75s.imu.csv.gz");
const TRUTH_GZ: &[u8] = include_bytes!("../../fixtures/broad/02_slow_rotation_first75s.truth.csv.gz");
const IMU_NAME: &str = "fixtures/broad/02_slow_rotation_first75s.imu.csv.gz";
const TRUTH_NAME: &str = "fixtures/broad/02_slow_rotation_first75s.truth.csv.gz";

fn gunzip(name: &str, gz: &[u8]) -> Result<Vec<u8>, BadInput> {
    let mut out = Vec::new();
    MultiGzDecoder::new(gz)
        .read_to_end(&mut out)
        .map_err(|e| BadInput::file(name, Problem::BadGzip(e.to_string())))?;
    Ok(out)
}

pub fn run() -> Result<()> {
    let imu = stream::parse_stream(Path::new(IMU_NAME), &gunzip(IMU_NAME, IMU_GZ)?)?;
    let (_, truth) = stream::broad::parse_truth(Path::new(TRUTH_NAME), &gunzip(TRUTH_NAME, TRUTH_GZ)?)?;
    let Samples::Imu(samples) = &imu.samples else {
        return Err(BadInput::file(IMU_NAME, Problem::Other("expected a raw IMU stream".into())).into());
    };
    let duration_s = samples.last().map_or(0.0, |s| s.t_s) - samples.first().map_or(0.0, |s| s.t_s);
    println!("twistcoach demo: orientation from a real IMU recording with optical ground truth");
    println!(
        "  {} samples, {:.0} s at {:.1} Hz (BROAD trial 02, CC-BY 4.0, Laidig et al. 2021)",
        samples.len(),
        duration_s,
        1.0 / orientation::nominal_sample_time_s(samples.iter().map(|s| s.t_s))
    );
    println!("\n  estimate            RMSE total / heading / inclination (deg)   time");
    for (label, use_mag, offline) in [
        ("VQF 9D causal", true, false),
        ("VQF 6D causal", false, false),
        ("VQF 9D offline", true, true),
        ("VQF 6D offline", false, true),
    ] {
        let settings = Settings {
            use_mag,
            ..Settings::default()
        };
        let start = Instant::now();
        let q = if offline {
            orientation::offline::estimate_offline(samples, settings)
        } else {
            orientation::estimate_causal(samples, settings)
        };
        let elapsed = start.elapsed();
        let score = accuracy::rmse(&q, &truth, !use_mag);
        println!(
            "  {label:<18}  {:<41}  {:.1} ms",
            score.to_string(),
            elapsed.as_secs_f64() * 1e3
        );
    }
    println!("\n  6D rows are scored after removing the constant heading offset (no magnetometer, no north).");
    println!("  Next: `twistcoach orientation YOUR.imu.csv -o out.csv` (see --help).");
    Ok(())
}
