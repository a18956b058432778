//! `--offline` on irregular sampling: dropping samples (irregular intervals, gaps of up to
//! 0.1 s) from a moving recording must change the estimate at the remaining samples by
//! little. Input: the 45 s synthetic recording of the parity fixture (100 Hz, motion,
//! bias, a magnetic disturbance).

use twistcoach::frames::Quat;
use twistcoach::orientation::Settings;
use twistcoach::orientation::offline::estimate_offline;
use twistcoach::stream::{self, ImuSample, Samples};

fn input() -> Vec<ImuSample> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/offline_vqf_parity/input.imu.csv.gz");
    let Samples::Imu(s) = stream::read_stream(&path).unwrap().samples else {
        panic!("not IMU")
    };
    s
}

/// Keep a deterministic, irregular subset: drop ~30 % of the samples, in runs of 1–9.
fn thinned(samples: &[ImuSample]) -> (Vec<usize>, Vec<ImuSample>) {
    let mut keep = vec![];
    let mut state: u64 = 12345;
    let mut i = 0;
    while i < samples.len() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (state >> 33) % 100;
        if r < 8 && i > 0 {
            i += 1 + (r as usize); // drop a run of 1–8 samples
        } else {
            keep.push(i);
            i += 1;
        }
    }
    let kept = keep.iter().map(|&k| samples[k]).collect();
    (keep, kept)
}

fn worst_angle_deg(a: &[Quat], b: &[Quat]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.angle_to_rad(*y).to_degrees())
        .fold(0.0, f64::max)
}

#[test]
fn dropped_samples_barely_change_the_offline_estimate() {
    let full = input();
    let (keep, part) = thinned(&full);
    let dropped = 1.0 - part.len() as f64 / full.len() as f64;
    let longest_gap_s = part.windows(2).map(|w| w[1].t_s - w[0].t_s).fold(0.0, f64::max);
    assert!(dropped > 0.15 && longest_gap_s > 0.05, "{dropped} {longest_gap_s}");
    for use_mag in [true, false] {
        let settings = Settings {
            use_mag,
            ..Settings::default()
        };
        let q_full = estimate_offline(&full, settings);
        let q_part = estimate_offline(&part, settings);
        let q_full_at_kept: Vec<Quat> = keep.iter().map(|&k| q_full[k]).collect();
        let worst = worst_angle_deg(&q_full_at_kept, &q_part);
        eprintln!(
            "use_mag {use_mag}: dropped {:.0} %, longest gap {longest_gap_s:.2} s, worst difference {worst:.3}°",
            dropped * 100.0
        );
        // The 6D heading is arbitrary only up to the start; both runs start at the same sample.
        assert!(worst < 1.0, "use_mag {use_mag}: {worst}°");
    }
}
