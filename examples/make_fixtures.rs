//! Regenerate fixtures/sessions/: a dozen small simulated sessions with their truth.json
//! (and golden.json = our analysis's report of each).
//!
//! cargo run --release --example make_fixtures            # streams, truth and golden
//! cargo run --release --example make_fixtures -- golden  # only golden.json

use std::path::Path;

use twistcoach::simulate::{self, eval, fixtures};

fn main() {
    let only_golden = std::env::args().nth(1).is_some_and(|a| a == "golden");
    let root = Path::new("fixtures/sessions");
    for (name, s) in fixtures::all() {
        let session = simulate::simulate(&s).expect("fixture settings are valid");
        let dir = root.join(name);
        if !only_golden {
            twistcoach::commands::simulate::write_session(&session, &dir, 10).expect("write fixture");
        }
        match eval::analysis_of(&session) {
            Ok(report) => {
                let json = serde_json::to_string_pretty(&report).expect("report serialises");
                std::fs::write(dir.join("golden.json"), format!("{json}\n")).expect("write golden");
            }
            Err(e) => eprintln!("{name}: analysis failed: {e}"),
        }
        let size: u64 = std::fs::read_dir(&dir)
            .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0);
        println!(
            "{name:<44} {:>3} reps, {:>4.0} s, {:>4} KB{}",
            session.truth.report.reps.len(),
            session.angles.t_s.last().unwrap_or(&0.0) - session.angles.t_s.first().unwrap_or(&0.0),
            size / 1024,
            if session.ambiguities.is_empty() {
                ""
            } else {
                "  (ambiguous truth!)"
            }
        );
    }
}
