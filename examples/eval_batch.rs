//! Print the full evaluation table: simulated sessions with ground truth through an
//! analysis, per variation, sensor count, format and hard case.
//!
//! cargo run --release --example eval_batch                 # the analysis (default)
//! cargo run --release --example eval_batch -- baseline     # the simulator's naive baseline
//! cargo run --release --example eval_batch -- analysis 8 5 # 8 seeds per combination, 5 per hard case
//! cargo run --release --example eval_batch -- causal       # the analysis with causal orientation (as live)

use twistcoach::simulate::{baseline, eval};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("analysis", String::as_str).to_string();
    let per_combo = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4);
    let per_hard = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let cases = eval::batch_cases(per_combo, per_hard);
    let start = std::time::Instant::now();
    let results = match which.as_str() {
        "baseline" => eval::run_batch(&cases, |s| {
            let streams = s.parsed_streams().map_err(|e| e.to_string())?;
            Ok(baseline::analyze(s.settings.variation, &streams))
        }),
        "causal" => eval::run_batch(&cases, |s| {
            let streams = s.parsed_streams().map_err(|e| e.to_string())?;
            let mut config = twistcoach::analysis::Config::new(s.settings.variation);
            config.orientation = twistcoach::analysis::OrientationMode::Causal;
            eval::analyze_streams_with(&streams, &config)
        }),
        _ => eval::run_batch(&cases, twistcoach_eval_analysis),
    };
    println!(
        "{} sessions through `{which}` in {:.1} s\n",
        results.len(),
        start.elapsed().as_secs_f64()
    );
    println!("{}", eval::table(&results));
    println!("cases missing a target:\n{}", eval::case_lines(&results));
}

fn twistcoach_eval_analysis(
    s: &twistcoach::simulate::SimSession,
) -> Result<twistcoach::session::report::Report, String> {
    eval::analysis_of(s)
}
