//! Batch evaluation: 81 seeded simulated sessions (every variation, one and two sensors,
//! raw and orientation input, hard cases, sensors worn on the back) through
//! `analysis::analyze`, compared with the simulator's truth. Prints the metrics table (`-- --nocapture` to see it) and asserts
//! the targets of the issue where the analysis meets them today; what it misses is listed
//! in docs/analysis-accuracy.md. Full table with per-case lines:
//! `cargo run --release --example eval_batch`.

use twistcoach::simulate::eval::{self, Metrics, TARGETS};

fn group<'a>(groups: &'a [(String, Metrics)], name: &str) -> &'a Metrics {
    &groups
        .iter()
        .find(|g| g.0 == name)
        .unwrap_or_else(|| panic!("no group {name}"))
        .1
}

#[test]
fn analysis_recovers_the_truth_of_simulated_sessions() {
    let cases = eval::batch_cases(4, 3);
    assert!(cases.len() >= 60);
    let results = eval::run_batch(&cases, eval::analysis_of);
    println!("{}", eval::table(&results));
    println!("{}", eval::case_lines(&results));
    let groups = eval::grouped(&results);
    let overall = group(&groups, "overall");
    assert_eq!(overall.sessions, cases.len());
    assert_eq!(overall.panics, 0, "the analysis panicked");
    assert_eq!(overall.failures, 0, "the analysis refused a simulated session");

    // Every target, in every group of normal sessions.
    for name in [
        "supine (normal)",
        "seated (normal)",
        "standing (normal)",
        "one sensor (normal)",
        "two sensors (normal)",
        "raw (normal)",
        "orientation (normal)",
        "placement: posterior",
    ] {
        let miss = eval::misses(group(&groups, name), &TARGETS);
        assert!(miss.is_empty(), "{name}: {miss:?}");
    }
    // Overall (hard cases included): detection, sides, flags and the medians.
    assert!(overall.rep_f1() >= TARGETS.rep_f1, "rep F1 {:.3}", overall.rep_f1());
    assert!(overall.side_accuracy() >= TARGETS.side_accuracy);
    assert!(eval::quantile(&overall.peak_abs_err_deg, 0.5) <= TARGETS.peak_median_deg);
    assert!(eval::quantile(&overall.peak_abs_err_deg, 0.9) <= TARGETS.peak_p90_deg);
    assert!(eval::quantile(&overall.hold_abs_err_s, 0.5) <= TARGETS.hold_median_s);
    assert!(eval::quantile(&overall.hold_abs_err_s, 0.9) <= TARGETS.hold_p90_s);
    let (p, r) = overall.worst_flag();
    assert!(
        p >= TARGETS.flag_pr && r >= TARGETS.flag_pr,
        "worst flag P {p:.2} R {r:.2}"
    );
    // Hard cases: reps, sides and the hold median meet the targets in each; their peak,
    // hold p90 and flag numbers are reported, not asserted (docs/analysis-accuracy.md
    // lists the misses).
    for (name, m) in groups.iter().filter(|g| g.0.starts_with("hard:")) {
        assert!(m.rep_f1() >= TARGETS.rep_f1, "{name}: rep F1 {:.3}", m.rep_f1());
        assert!(m.side_accuracy() >= TARGETS.side_accuracy, "{name}: side");
        let hold_median = eval::quantile(&m.hold_abs_err_s, 0.5);
        assert!(
            hold_median <= TARGETS.hold_median_s,
            "{name}: hold median {hold_median:.2} s"
        );
    }
}
