//! The BROAD development trials (`../shared/data/broad`, or `TWISTCOACH_BROAD_DIR`), shared
//! by the accuracy tests. Where the data are missing the tests say so and pass, unless
//! `TWISTCOACH_REQUIRE_BROAD` is set (CI sets it).

use std::path::{Path, PathBuf};

use twistcoach::orientation::accuracy::TruthSample;
use twistcoach::stream::{self, ImuSample, Samples};

pub fn broad_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TWISTCOACH_BROAD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/broad"));
    if dir.join("reference_dev.json").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("TWISTCOACH_REQUIRE_BROAD").is_none(),
        "BROAD data not found in {}",
        dir.display()
    );
    eprintln!(
        "skipped: BROAD data not found in {} (set TWISTCOACH_BROAD_DIR)",
        dir.display()
    );
    None
}

pub struct Trial {
    pub name: String,
    pub samples: Vec<ImuSample>,
    pub truth: Vec<TruthSample>,
}

/// The reference scores and the 8 trials, IMU and truth on the same time grid.
pub fn load(dir: &Path) -> (serde_json::Value, Vec<Trial>) {
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference_dev.json")).unwrap()).unwrap();
    let trials = reference["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| {
            let name = name.as_str().unwrap().to_string();
            let imu = stream::read_stream(&dir.join(format!("{name}.imu.csv.gz"))).unwrap();
            let Samples::Imu(samples) = imu.samples else {
                panic!("{name}: not an IMU stream")
            };
            let truth_path = dir.join(format!("{name}.truth.csv.gz"));
            let bytes = stream::read_bytes(&truth_path).unwrap();
            let (t_truth, truth) = stream::broad::parse_truth(&truth_path, &bytes).unwrap();
            assert_eq!(t_truth.len(), samples.len(), "{name}: truth and imu grids differ");
            assert!(t_truth.iter().zip(&samples).all(|(t, s)| (t - s.t_s).abs() < 1e-9));
            Trial { name, samples, truth }
        })
        .collect();
    (reference, trials)
}
