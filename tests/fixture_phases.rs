//! Phase-asserted fixtures: named reps of committed simulated sessions, with their true
//! side, hold, peak and flags written out (from the session's truth.json), and our
//! analysis of the committed streams held to them: hold ± 0.5 s, peak ± 2°, start and
//! end ± 0.5 s, the same side and flags.

use std::path::{Path, PathBuf};

use twistcoach::body::Placement;
use twistcoach::session::report::{Rep, RepFlag, Report, Side};
use twistcoach::simulate::{eval, fixtures};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sessions")
        .join(name)
}

fn truth(name: &str) -> Report {
    let text = std::fs::read_to_string(dir(name).join("truth.json")).expect("truth.json");
    serde_json::from_str(&text).expect("truth.json is a report")
}

fn analyse(name: &str) -> Report {
    let (_, settings) = fixtures::all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .expect("known fixture");
    let streams: Vec<(Placement, twistcoach::stream::Stream)> = settings
        .sensors
        .iter()
        .map(|p| {
            let path = dir(name).join(twistcoach::simulate::stream_file_name(*p));
            (*p, twistcoach::stream::read_stream(&path).expect("fixture stream"))
        })
        .collect();
    eval::analyze_streams(settings.variation, &streams).expect("analysis runs")
}

/// One expected rep: index, side, true hold (s), true peak (deg), flags.
struct Expect {
    index: usize,
    side: Side,
    hold_s: f64,
    peak_deg: f64,
    flags: &'static [RepFlag],
}

fn check(name: &str, rep_count: usize, expects: &[Expect]) {
    let t = truth(name);
    let ours = analyse(name);
    assert_eq!(t.reps.len(), rep_count, "{name}: truth rep count");
    assert_eq!(ours.reps.len(), rep_count, "{name}: analysed rep count");
    for e in expects {
        let (tr, or): (&Rep, &Rep) = (&t.reps[e.index], &ours.reps[e.index]);
        // The fixture is what this test says it is.
        assert_eq!(tr.side, e.side, "{name} rep {}: true side", e.index);
        assert!(
            (tr.hold_s - e.hold_s).abs() < 0.05,
            "{name} rep {}: true hold {}",
            e.index,
            tr.hold_s
        );
        assert!(
            (tr.peak_deg - e.peak_deg).abs() < 0.05,
            "{name} rep {}: true peak {}",
            e.index,
            tr.peak_deg
        );
        assert_eq!(tr.flags, e.flags, "{name} rep {}: true flags", e.index);
        // Our analysis recovers it.
        assert_eq!(or.side, e.side, "{name} rep {}: side", e.index);
        assert!(
            (or.hold_s - e.hold_s).abs() <= 0.5,
            "{name} rep {}: hold {} vs {}",
            e.index,
            or.hold_s,
            e.hold_s
        );
        assert!(
            (or.peak_deg - e.peak_deg).abs() <= 2.0,
            "{name} rep {}: peak {} vs {}",
            e.index,
            or.peak_deg,
            e.peak_deg
        );
        assert!(
            (or.start_s - tr.start_s).abs() <= 0.5,
            "{name} rep {}: start {} vs {}",
            e.index,
            or.start_s,
            tr.start_s
        );
        assert!(
            (or.end_s - tr.end_s).abs() <= 0.5,
            "{name} rep {}: end {} vs {}",
            e.index,
            or.end_s,
            tr.end_s
        );
        assert_eq!(or.flags, e.flags, "{name} rep {}: flags", e.index);
    }
    assert_eq!(ours.flags, t.flags, "{name}: session flags");
}

#[test]
fn supine_pelvis_orientation_fast_quick_and_held_reps() {
    use RepFlag::*;
    check(
        "supine_pelvis_orientation",
        4,
        &[
            // Right, turned in too fast and straight back: 1.8 s hold, 59.6°.
            Expect {
                index: 0,
                side: Side::Right,
                hold_s: 1.837,
                peak_deg: 59.609,
                flags: &[ShortHold, TooFast],
            },
            // Right, held 27.5 s, peak 68.9°: within the 20–30 s target.
            Expect {
                index: 1,
                side: Side::Right,
                hold_s: 27.490,
                peak_deg: 68.903,
                flags: &[],
            },
            // Left, quick out-and-back to 40.6°.
            Expect {
                index: 2,
                side: Side::Left,
                hold_s: 1.549,
                peak_deg: 40.630,
                flags: &[ShortHold],
            },
        ],
    );
}

#[test]
fn seated_chest_raw_over_rotation_and_slouch() {
    use RepFlag::*;
    check(
        "seated_chest_raw",
        4,
        &[
            // Left, held 22.4 s, peak 70.5° (> 60°): over-rotation.
            Expect {
                index: 0,
                side: Side::Left,
                hold_s: 22.418,
                peak_deg: 70.524,
                flags: &[OverRotation],
            },
            // Right, held 34.2 s at 40°, chest flexed past 20°: slouch.
            Expect {
                index: 1,
                side: Side::Right,
                hold_s: 34.148,
                peak_deg: 39.585,
                flags: &[Slouch],
            },
            Expect {
                index: 3,
                side: Side::Right,
                hold_s: 38.198,
                peak_deg: 35.210,
                flags: &[],
            },
        ],
    );
}

#[test]
fn standing_two_low_rate_orientation_streams_hips_not_square() {
    use RepFlag::*;
    check(
        "standing_chest_pelvis_orientation_lowrate",
        4,
        &[
            Expect {
                index: 0,
                side: Side::Left,
                hold_s: 19.304,
                peak_deg: 28.051,
                flags: &[],
            },
            // Right, held 14.2 s, pelvis turned past 10° with the chest.
            Expect {
                index: 1,
                side: Side::Right,
                hold_s: 14.206,
                peak_deg: 26.128,
                flags: &[HipsNotSquare],
            },
            // Right, held only 6.1 s (< 10 s).
            Expect {
                index: 3,
                side: Side::Right,
                hold_s: 6.056,
                peak_deg: 35.825,
                flags: &[ShortHold],
            },
        ],
    );
}

#[test]
fn supine_pelvis_and_chest_raw_held_reps() {
    check(
        "supine_pelvis_chest_raw",
        2,
        &[Expect {
            index: 0,
            side: Side::Right,
            hold_s: 27.937,
            peak_deg: 38.266,
            flags: &[],
        }],
    );
}
