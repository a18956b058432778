//! BROAD accuracy of the causal filter, scored with our own metric
//! (`orientation::accuracy`), on the 8 development trials in `shared/data/broad`:
//!
//! - the mean total RMSE of causal 9D and 6D is within 2 % of the reference VQF's
//!   (`reference_dev.json`: vqf9d 3.07°, vqf6d 2.98°);
//! - our metric agrees with `score.py` per trial (our estimates equal the reference VQF's to
//!   1e-9°, so the scores must agree to rounding).
//!
//! The data live outside the repository (`../shared/data/broad`, or set
//! `TWISTCOACH_BROAD_DIR`). Where they are missing the tests say so on stderr and pass, so
//! that `cargo test --release` works on a fresh machine; set `TWISTCOACH_REQUIRE_BROAD=1`
//! to make a missing data set a failure (CI on the development machine does).
//! Run alone: `cargo test --release --test broad_accuracy -- --nocapture`.

mod common;

use common::{broad_dir, load};

use twistcoach::orientation::accuracy::{Rmse, rmse};
use twistcoach::orientation::{Settings, estimate_causal};

/// Causal mean total RMSE may exceed the reference VQF's by at most this fraction.
const TOLERANCE: f64 = 0.02;
/// Per-trial agreement of our metric with score.py's numbers, degrees.
const METRIC_AGREEMENT_DEG: f64 = 1e-6;

fn reference_rmse(v: &serde_json::Value) -> Rmse {
    Rmse {
        total_deg: v["total_rmse_deg"].as_f64().unwrap(),
        heading_deg: v["heading_rmse_deg"].as_f64().unwrap(),
        inclination_deg: v["inclination_rmse_deg"].as_f64().unwrap(),
    }
}

#[test]
fn causal_9d_and_6d_match_reference_vqf_on_broad() {
    let Some(dir) = broad_dir() else { return };
    let (reference, trials) = load(&dir);
    assert_eq!(trials.len(), 8);
    for (use_mag, method) in [(true, "vqf9d"), (false, "vqf6d")] {
        let settings = Settings {
            use_mag,
            ..Settings::default()
        };
        let mut sum_total = 0.0;
        let mut worst_metric_diff_deg: f64 = 0.0;
        for trial in &trials {
            let q = estimate_causal(&trial.samples, settings);
            let ours = rmse(&q, &trial.truth, !use_mag);
            let theirs = reference_rmse(&reference["methods"][method]["trials"][&trial.name]);
            eprintln!("{method} {:<45} ours {ours}  reference {theirs}", trial.name);
            for (a, b, what) in [
                (ours.total_deg, theirs.total_deg, "total"),
                (ours.heading_deg, theirs.heading_deg, "heading"),
                (ours.inclination_deg, theirs.inclination_deg, "inclination"),
            ] {
                worst_metric_diff_deg = worst_metric_diff_deg.max((a - b).abs());
                assert!(
                    (a - b).abs() < METRIC_AGREEMENT_DEG,
                    "{method} {}: {what} RMSE {a} vs score.py {b}",
                    trial.name
                );
            }
            sum_total += ours.total_deg;
        }
        let mean = sum_total / trials.len() as f64;
        let theirs = reference["methods"][method]["scores"]["all_trials"]["total_rmse_deg"]
            .as_f64()
            .unwrap();
        eprintln!(
            "{method}: mean total RMSE ours {mean:.4} deg, reference {theirs:.4} deg; \
             largest per-trial difference from score.py {worst_metric_diff_deg:.1e} deg"
        );
        assert!(
            mean <= theirs * (1.0 + TOLERANCE),
            "{method}: mean total RMSE {mean} deg is more than {TOLERANCE} above the reference {theirs} deg"
        );
    }
}
