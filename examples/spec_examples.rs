//! Read the spec's example sessions (../shared/spec/examples or the folder given as the
//! first argument) with the simulator's baseline reading and its §7 oracle, and compare
//! with each example's expected report. A check of our conventions (frames, sign, side,
//! primary angle, hold definition), not a benchmark.
//!
//! cargo run --release --example spec_examples -- ../shared/spec/examples

use std::path::PathBuf;

use twistcoach::body::{Placement, Variation};
use twistcoach::simulate::baseline;

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/spec/examples".into()),
    );
    let Ok(dirs) = std::fs::read_dir(&root) else {
        eprintln!("no examples at {}", root.display());
        return;
    };
    let mut dirs: Vec<_> = dirs.flatten().map(|d| d.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(text) = std::fs::read_to_string(dir.join("expected.json")) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let cmd = v["command"].as_str().unwrap_or_default().to_string();
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let mut variation = None;
        let mut streams = Vec::new();
        for w in words.windows(2) {
            if w[0] == "--variation" {
                variation = Variation::parse(w[1]);
            }
            if w[0] == "--sensor"
                && let Some((p, f)) = w[1].split_once('=')
                && let Some(p) = Placement::parse(p)
            {
                match twistcoach::stream::read_stream(&dir.join(f)) {
                    Ok(s) => streams.push((p, s)),
                    Err(e) => eprintln!("{e}"),
                }
            }
        }
        let Some(variation) = variation else { continue };
        let ours = baseline::analyze(variation, &streams);
        let expected: twistcoach::session::report::Report = match serde_json::from_value(v["expected"].clone()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                continue;
            }
        };
        println!("== {} ({cmd})", dir.display());
        println!(
            "   reps: expected {}, ours {}; session flags expected {:?}, ours {:?}",
            expected.reps.len(),
            ours.reps.len(),
            expected.flags,
            ours.flags
        );
        for (i, e) in expected.reps.iter().enumerate() {
            let o = ours.reps.iter().find(|o| o.start_s < e.end_s && e.start_s < o.end_s);
            match o {
                Some(o) => println!(
                    "   rep {i}: side {:?}/{:?} peak {:.1}/{:.1} hold {:.2}/{:.2} s  mean {:.1}/{:.1}  start {:.2}/{:.2} end {:.2}/{:.2}  flags {:?} / {:?}",
                    e.side,
                    o.side,
                    e.peak_deg,
                    o.peak_deg,
                    e.hold_s,
                    o.hold_s,
                    e.hold_mean_deg,
                    o.hold_mean_deg,
                    e.start_s,
                    o.start_s,
                    e.end_s,
                    o.end_s,
                    e.flags,
                    o.flags
                ),
                None => println!("   rep {i}: expected {:?} at {:.1} s, not found", e.side, e.start_s),
            }
        }
    }
}
