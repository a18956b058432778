//! Drives the real `twistcoach analyze` binary: the five spec examples (sides, flags,
//! peaks, holds), the JSON contract (one document, schema, targets), the summary, and
//! bad inputs (exit 2, empty stdout, a message naming the file and the problem).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twistcoach"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/examples")
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twistcoach-analyze-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

/// Run an example's own command; return (expected, got).
fn run_example(name: &str, extra: &[&str]) -> (Value, Value) {
    let dir = examples().join(name);
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let command = spec["command"].as_str().unwrap();
    let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
    args.extend_from_slice(extra);
    let out = run_in(&dir, &args);
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    (spec["expected"].clone(), got)
}

fn check_example(name: &str) {
    let (exp, got) = run_example(name, &[]);
    assert_eq!(got["schema"], "twistcoach.report/1");
    for key in ["variation", "caution", "sensors", "flags"] {
        assert_eq!(got[key], exp[key], "{name}: {key}");
    }
    // Numbers may be integers or floats.
    for key in ["hold_min_s", "hold_max_s", "over_rotation_deg", "too_fast_dps"] {
        assert_eq!(
            got["targets"][key].as_f64(),
            exp["targets"][key].as_f64(),
            "{name}: targets.{key}"
        );
    }
    let (er, gr) = (exp["reps"].as_array().unwrap(), got["reps"].as_array().unwrap());
    assert_eq!(gr.len(), er.len(), "{name}: rep count");
    for (i, (e, g)) in er.iter().zip(gr).enumerate() {
        assert_eq!(g["side"], e["side"], "{name} rep {i}");
        assert_eq!(g["flags"], e["flags"], "{name} rep {i}");
        for (k, tol) in [
            ("peak_deg", 2.5),
            ("hold_mean_deg", 2.5),
            ("hold_start_s", 0.6),
            ("hold_end_s", 0.6),
            ("start_s", 1.0),
            ("end_s", 1.0),
        ] {
            let d = (g[k].as_f64().unwrap() - e[k].as_f64().unwrap()).abs();
            assert!(d <= tol, "{name} rep {i}: {k} off by {d:.3}");
        }
    }
}

#[test]
fn example_seated_001() {
    check_example("seated_001");
}
#[test]
fn example_standing_000() {
    check_example("standing_000");
}
#[test]
fn example_standing_002() {
    check_example("standing_002");
}
#[test]
fn example_supine_001() {
    check_example("supine_001");
}
#[test]
fn example_supine_002() {
    check_example("supine_002");
}

#[test]
fn caution_lowers_the_limit_and_is_reported() {
    let (_, got) = run_example("standing_002", &["--caution", "pregnancy"]);
    assert_eq!(got["caution"], "pregnancy");
    assert_eq!(got["targets"]["over_rotation_deg"].as_f64(), Some(30.0));
    // The first rep peaks near 39°: over the cautious limit now.
    assert!(
        got["reps"][0]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "over_rotation")
    );
}

#[test]
fn protocol_file_overrides_targets() {
    let dir = tmp_dir("protocol");
    let p = dir.join("p.toml");
    std::fs::write(&p, "[standing]\nhold_min_s = 5\nover_rotation_deg = 70\n").unwrap();
    let (_, got) = run_example("standing_002", &["--protocol", p.to_str().unwrap()]);
    assert_eq!(got["targets"]["hold_min_s"].as_f64(), Some(5.0));
    let flags = got["reps"][1]["flags"].as_array().unwrap();
    assert!(
        !flags.iter().any(|f| f == "short_hold" || f == "over_rotation"),
        "{flags:?}"
    );
}

#[test]
fn summary_without_json_has_cues() {
    let dir = examples().join("supine_001");
    let out = run_in(
        &dir,
        &["analyze", "--variation", "supine", "--sensor", "pelvis=pelvis.csv.gz"],
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("2 reps"), "{text}");
    assert!(text.contains("ease off"), "{text}");
    assert!(text.contains("hold 15 s longer"), "{text}");
}

fn write_gz(path: &Path, text: &str) {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    std::fs::write(path, e.finish().unwrap()).unwrap();
}

/// A still orientation stream (chest upright: sensor y up) from `t0` for `dur` s at 50 Hz.
fn still_orientation(t0: f64, dur: f64) -> String {
    // q rotates sensor +y onto world +z: 90° about x.
    let (w, x) = (std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::FRAC_1_SQRT_2);
    let mut s = String::from("t,qw,qx,qy,qz\n");
    let n = (dur * 50.0) as usize;
    for i in 0..n {
        s.push_str(&format!("{:.3},{w:.7},{x:.7},0,0\n", t0 + i as f64 / 50.0));
    }
    s
}

fn assert_bad(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty(), "stdout must be empty on bad input");
    for n in needles {
        assert!(err.contains(n), "stderr should mention `{n}`: {err}");
    }
}

#[test]
fn bad_inputs_exit_2_naming_the_problem() {
    let dir = tmp_dir("bad");
    write_gz(&dir.join("chest.csv.gz"), &still_orientation(100.0, 10.0));
    write_gz(&dir.join("pelvis.csv.gz"), &still_orientation(108.9, 10.0));
    write_gz(&dir.join("short.csv.gz"), &still_orientation(0.0, 1.5));
    std::fs::write(dir.join("trunc.csv"), "t,qw,qx,qy,qz\n0.0,1,0,0,0\n0.02,1,0").unwrap();
    std::fs::write(dir.join("bad.toml"), "[seated]\nhold_minimum = 3\n").unwrap();
    // Each case: the arguments after `analyze` (split at spaces), what stderr must name.
    let cases: &[(&str, &[&str])] = &[
        ("--variation seated --sensor chest=missing.csv", &["missing.csv"]),
        (
            "--variation sitting --sensor chest=chest.csv.gz",
            &["unknown variation `sitting`"],
        ),
        (
            "--variation seated --sensor belly=chest.csv.gz",
            &["unknown placement `belly`"],
        ),
        ("--variation seated --sensor chest.csv.gz", &["PLACEMENT=PATH"]),
        (
            "--variation seated --sensor pelvis=pelvis.csv.gz",
            &["pelvis.csv.gz", "chest or upper-back"],
        ),
        (
            "--variation supine --sensor chest=chest.csv.gz",
            &["chest.csv.gz", "pelvis or sacrum"],
        ),
        (
            "--variation seated --sensor chest=chest.csv.gz --sensor upper-back=pelvis.csv.gz",
            &["same segment"],
        ),
        (
            "--variation seated --sensor chest=chest.csv.gz --sensor pelvis=pelvis.csv.gz",
            &["chest.csv.gz", "pelvis.csv.gz", "overlap"],
        ),
        (
            "--variation seated --sensor chest=short.csv.gz",
            &["short.csv.gz", "2 s"],
        ),
        ("--variation seated --sensor chest=trunc.csv", &["trunc.csv", "line 3"]),
        (
            "--variation seated --sensor chest=chest.csv.gz --mount chest=+x:head,+y:feet",
            &["perpendicular"],
        ),
        (
            "--variation seated --sensor chest=chest.csv.gz --mount pelvis=+x:head,+z:out",
            &["no --sensor is on that placement"],
        ),
        (
            "--variation seated --sensor chest=chest.csv.gz --caution knees",
            &["knees"],
        ),
        (
            "--variation seated --sensor chest=chest.csv.gz --protocol bad.toml",
            &["bad.toml", "hold_minimum"],
        ),
        (
            "--variation seated --sensor chest=chest.csv.gz --protocol nope.toml",
            &["nope.toml"],
        ),
    ];
    for (args, needles) in cases {
        let argv: Vec<&str> = std::iter::once("analyze").chain(args.split(' ')).collect();
        assert_bad(&run_in(&dir, &argv), needles);
    }
}

#[test]
fn no_still_moment_is_bad_input() {
    let dir = tmp_dir("moving");
    // Rotating steadily at 20°/s about the vertical for 40 s.
    let mut s = String::from("t,qw,qx,qy,qz\n");
    for i in 0..2000 {
        let t = i as f64 / 50.0;
        let yaw = (20.0 * t).to_radians();
        // q = yaw about z ⊗ 90° about x.
        let (cy, sy) = ((yaw / 2.0).cos(), (yaw / 2.0).sin());
        let h = std::f64::consts::FRAC_1_SQRT_2;
        s.push_str(&format!(
            "{t:.3},{:.7},{:.7},{:.7},{:.7}\n",
            cy * h,
            cy * h,
            sy * h,
            sy * h
        ));
    }
    std::fs::write(dir.join("chest.csv"), s).unwrap();
    let out = run_in(
        &dir,
        &["analyze", "--variation", "standing", "--sensor", "chest=chest.csv"],
    );
    assert_bad(&out, &["chest.csv", "still"]);
}

#[test]
fn still_session_has_no_reps_and_exits_0() {
    let dir = tmp_dir("still");
    write_gz(&dir.join("chest.csv.gz"), &still_orientation(5.0, 20.0));
    let out = run_in(
        &dir,
        &[
            "analyze",
            "--variation",
            "seated",
            "--sensor",
            "chest=chest.csv.gz",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["reps"].as_array().unwrap().len(), 0);
    assert_eq!(got["flags"].as_array().unwrap().len(), 0);
}
