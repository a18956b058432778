//! The committed simulated sessions (fixtures/sessions/): each one's truth is what the
//! simulator computes today, its streams are valid spec §5 input, and our analysis still
//! produces its golden report. Regenerate with `cargo run --release --example make_fixtures`
//! (golden reports only: `... -- golden`) after an intended change, and review the diff.

use std::path::{Path, PathBuf};

use twistcoach::body::Placement;
use twistcoach::session::report::Report;
use twistcoach::simulate::{self, eval, fixtures};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sessions")
        .join(name)
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reports agree: same reps, sides, flags; times and angles within `tol`.
fn assert_reports_close(name: &str, a: &Report, b: &Report, tol: f64) {
    assert_eq!(a.reps.len(), b.reps.len(), "{name}: rep count");
    assert_eq!(a.flags, b.flags, "{name}: session flags");
    assert_eq!(a.sensors, b.sensors, "{name}: sensors");
    for (i, (x, y)) in a.reps.iter().zip(&b.reps).enumerate() {
        assert_eq!(x.side, y.side, "{name} rep {i}: side");
        assert_eq!(x.flags, y.flags, "{name} rep {i}: flags");
        for (what, u, v) in [
            ("start_s", x.start_s, y.start_s),
            ("hold_start_s", x.hold_start_s, y.hold_start_s),
            ("hold_end_s", x.hold_end_s, y.hold_end_s),
            ("end_s", x.end_s, y.end_s),
            ("peak_deg", x.peak_deg, y.peak_deg),
            ("hold_mean_deg", x.hold_mean_deg, y.hold_mean_deg),
        ] {
            assert!((u - v).abs() <= tol, "{name} rep {i}: {what} {u} vs {v}");
        }
    }
}

fn read_streams(name: &str, truth: &serde_json::Value) -> Vec<(Placement, twistcoach::stream::Stream)> {
    let command = truth["command"].as_str().expect("truth.json has the command");
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "--sensor")
        .map(|w| {
            let (p, f) = w[1].split_once('=').expect("PLACEMENT=PATH");
            let p = Placement::parse(p).expect("known placement");
            let s = twistcoach::stream::read_stream(&dir(name).join(f)).unwrap_or_else(|e| panic!("{e}"));
            (p, s)
        })
        .collect()
}

#[test]
fn fixtures_match_the_simulator_and_parse_as_input() {
    for (name, settings) in fixtures::all() {
        let truth_json = read_json(&dir(name).join("truth.json"));
        let committed: Report = serde_json::from_value(truth_json.clone()).expect("truth.json is a report");
        assert_eq!(committed.schema, "twistcoach.report/1");
        assert_eq!(truth_json["command"], simulate::analyze_command(&settings).as_str());
        let session = simulate::simulate(&settings).expect("fixture settings are valid");
        assert!(session.ambiguities.is_empty(), "{name}: {:?}", session.ambiguities);
        assert_reports_close(name, &committed, &session.truth.report, 2e-3);
        let streams = read_streams(name, &truth_json);
        assert_eq!(streams.len(), settings.sensors.len());
        assert!(streams.iter().all(|(_, s)| s.len() > 500), "{name}: streams too short");
    }
}

#[test]
fn our_analysis_still_produces_the_golden_reports() {
    for (name, settings) in fixtures::all() {
        let truth_json = read_json(&dir(name).join("truth.json"));
        let golden: Report = serde_json::from_value(read_json(&dir(name).join("golden.json"))).expect("golden report");
        let streams = read_streams(name, &truth_json);
        let ours = eval::analyze_streams(settings.variation, &streams).expect("analysis runs");
        assert_reports_close(name, &golden, &ours, 0.01);
    }
}
