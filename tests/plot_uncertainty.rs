//! Where the plots' uncertainty band comes from: the analysis' error on each rep's hold
//! angle (`hold_mean_deg`, what the plots show) and peak, over the simulator's batch of
//! sessions with ground truth. Slow (~20 s): run with
//! `cargo test --release --test plot_uncertainty -- --ignored --nocapture`.

use twistcoach::plot::series::ANGLE_UNCERTAINTY_P90_DEG;
use twistcoach::simulate::eval;

#[test]
#[ignore = "slow: simulates and analyses ~70 sessions"]
fn plot_band_covers_the_measured_p90_of_hold_angle_error() {
    let cases = eval::batch_cases(4, 3);
    let results = eval::run_batch(&cases, eval::analysis_of);
    let (mut hold_normal, mut hold_all, mut peak_all) = (Vec::new(), Vec::new(), Vec::new());
    for r in &results {
        let Some(ours) = &r.analyzed else { continue };
        let hard = r.case.group != "normal";
        for (i, j) in eval::match_reps(&r.truth.reps, &ours.reps) {
            let (t, o) = (&r.truth.reps[i], &ours.reps[j]);
            let e = (o.hold_mean_deg - t.hold_mean_deg).abs();
            hold_all.push(e);
            peak_all.push((o.peak_deg - t.peak_deg).abs());
            if !hard {
                hold_normal.push(e);
            }
        }
    }
    let q = |v: &[f64], p: f64| eval::quantile(v, p);
    println!(
        "sessions {}, matched reps {} ({} in normal sessions)\n\
         hold_mean_deg abs error: normal median {:.2}° p90 {:.2}°; all median {:.2}° p90 {:.2}°\n\
         peak_deg abs error: all median {:.2}° p90 {:.2}°\n\
         ANGLE_UNCERTAINTY_P90_DEG = {ANGLE_UNCERTAINTY_P90_DEG}",
        results.len(),
        hold_all.len(),
        hold_normal.len(),
        q(&hold_normal, 0.5),
        q(&hold_normal, 0.9),
        q(&hold_all, 0.5),
        q(&hold_all, 0.9),
        q(&peak_all, 0.5),
        q(&peak_all, 0.9),
    );
    assert!(hold_normal.len() > 100);
    assert!(
        q(&hold_all, 0.9) <= ANGLE_UNCERTAINTY_P90_DEG,
        "the band (±{ANGLE_UNCERTAINTY_P90_DEG}°) is narrower than the measured p90: update the constant"
    );
}
