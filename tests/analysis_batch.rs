//! Batch evaluation: 66 seeded simulated sessions (every variation, one and two sensors,
//! raw and orientation input, hard cases) through the analysis, compared with the truth.
//! Prints the metrics table (see docs/analysis-accuracy.md; `--nocapture` to see it) and
//! asserts what the analysis meets today. The full table with per-case lines:
//! `cargo run --release --example eval_batch`.

use twistcoach::simulate::eval;

#[test]
fn analysis_recovers_the_truth_of_simulated_sessions() {
    let cases = eval::batch_cases(4, 3);
    assert!(cases.len() >= 60);
    let results = eval::run_batch(&cases, eval::analysis_of);
    println!("{}", eval::table(&results));
    println!("{}", eval::case_lines(&results));
    let groups = eval::grouped(&results);
    let overall = &groups[0].1;
    assert_eq!(overall.sessions, cases.len());
    assert_eq!(overall.panics, 0, "the analysis panicked");
    assert_eq!(overall.failures, 0, "the analysis refused a simulated session");
    // The analysis (`analysis::analyze`) meets every target of the issue over the whole
    // batch, hard cases included, and on each normal group.
    assert!(
        eval::misses(overall, &eval::TARGETS).is_empty(),
        "{:?}",
        eval::misses(overall, &eval::TARGETS)
    );
    for (name, m) in &groups {
        if name.contains("(normal)") {
            assert!(
                eval::misses(m, &eval::TARGETS).is_empty(),
                "{name}: {:?}",
                eval::misses(m, &eval::TARGETS)
            );
        }
    }
}
