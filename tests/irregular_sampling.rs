//! Irregular sampling on real data (75 s of BROAD trial 02, committed in `fixtures/broad`):
//! dropped samples and 1 s gaps, with the truth on the same times. Our filter (each
//! sample's own interval, restart after gaps) against plain VQF with a fixed sample time on
//! the same samples. The full study on all 8 trials is `scripts/irregular_eval.py`
//! (`docs/accuracy.md` §3).

use std::path::Path;

use twistcoach::frames::Quat;
use twistcoach::orientation::accuracy::{TruthSample, rmse};
use twistcoach::orientation::{Settings, estimate_causal};
use twistcoach::stream::{self, ImuSample, Samples};

/// Every 5th sample of the 285.7 Hz recording: 57.1 Hz.
const DECIMATION: usize = 5;

fn load() -> (Vec<ImuSample>, Vec<TruthSample>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/broad");
    let imu = stream::read_stream(&dir.join("02_slow_rotation_first75s.imu.csv.gz")).unwrap();
    let Samples::Imu(samples) = imu.samples else {
        panic!("not an IMU stream")
    };
    let truth_path = dir.join("02_slow_rotation_first75s.truth.csv.gz");
    let bytes = stream::read_bytes(&truth_path).unwrap();
    let (_, truth) = stream::broad::parse_truth(&truth_path, &bytes).unwrap();
    assert_eq!(samples.len(), truth.len());
    (samples, truth)
}

/// Indices kept: every DECIMATION-th sample, minus a deterministic pseudo-random 10 % (if
/// `drops`) and minus 1 s every 10 s (if `gaps`).
fn pick(samples: &[ImuSample], drops: bool, gaps: bool) -> Vec<usize> {
    let mut lcg: u64 = 12345;
    (0..samples.len())
        .step_by(DECIMATION)
        .filter(|&i| {
            lcg = lcg.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let dropped = drops && i > 0 && (lcg >> 33).is_multiple_of(10);
            let t = samples[i].t_s;
            let in_gap = gaps && t > 5.0 && t % 10.0 >= 9.0;
            !dropped && !in_gap
        })
        .collect()
}

/// Total RMSE (deg, 9D) of ours (with `settings`) and of fixed-sample-time VQF on the
/// picked samples.
fn score(samples: &[ImuSample], truth: &[TruthSample], idx: &[usize], settings: Settings) -> (f64, f64) {
    let picked: Vec<ImuSample> = idx.iter().map(|&i| samples[i]).collect();
    let picked_truth: Vec<TruthSample> = idx.iter().map(|&i| truth[i]).collect();
    let ours = estimate_causal(&picked, settings);
    let ts_s = DECIMATION as f64 * 0.0035;
    let mut fixed = vqf_rs::VQF::new(ts_s, None, None, None);
    let plain: Vec<Quat> = picked
        .iter()
        .map(|s| {
            fixed.update(s.gyr_sensor_rps, s.acc_sensor_mps2, s.mag_sensor);
            let q = fixed.quat_9d();
            Quat::new(q.0, q.1, q.2, q.3)
        })
        .collect();
    (
        rmse(&ours, &picked_truth, false).total_deg,
        rmse(&plain, &picked_truth, false).total_deg,
    )
}

#[test]
fn dropped_samples_and_gaps_cost_little_with_per_sample_intervals() {
    let (samples, truth) = load();
    let ours = Settings::default();
    let (regular, regular_fixed) = score(&samples, &truth, &pick(&samples, false, false), ours);
    let (drops, drops_fixed) = score(&samples, &truth, &pick(&samples, true, false), ours);
    let (gaps, gaps_fixed) = score(&samples, &truth, &pick(&samples, false, true), ours);
    let no_restart = Settings {
        reconverge_after_gap_s: f64::INFINITY,
        ..ours
    };
    let (gaps_no_restart, _) = score(&samples, &truth, &pick(&samples, false, true), no_restart);
    eprintln!("total RMSE, deg: regular {regular:.2} (fixed Ts {regular_fixed:.2})");
    eprintln!("10 % dropped: {drops:.2} (fixed Ts {drops_fixed:.2})");
    eprintln!("1 s gaps: {gaps:.2} (fixed Ts {gaps_fixed:.2}, without the restart {gaps_no_restart:.2})");
    // Evenly sampled: the same filter.
    assert!((regular - regular_fixed).abs() < 1e-6);
    // Measured: regular 1.18, drops 2.39 (fixed Ts 10.67), gaps 2.34 (fixed Ts 28.99).
    assert!(drops < regular + 2.0, "{drops}");
    assert!(drops_fixed > 3.0 * drops, "{drops_fixed} vs {drops}");
    assert!(gaps < regular + 2.0, "{gaps}");
    assert!(gaps_fixed > 5.0 * gaps, "{gaps_fixed} vs {gaps}");
    assert!(gaps_no_restart > gaps + 1.0, "{gaps_no_restart} vs {gaps}");
}
