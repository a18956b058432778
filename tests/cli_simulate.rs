//! Drives the real binary: `simulate` writes a session folder whose truth.json carries the
//! command that analyses it; running that command there gives the true reps.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twistcoach"))
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twistcoach-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn simulate_then_analyze_with_the_printed_command() {
    let out = tmp_dir("roundtrip");
    let o = bin()
        .args([
            "simulate",
            "--variation",
            "standing",
            "--sensors",
            "chest,pelvis",
            "--seed",
            "9",
        ])
        .args(["--format", "orientation", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["chest.csv.gz", "pelvis.csv.gz", "truth.json", "truth_angles.csv.gz"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap();
    let command = truth["command"].as_str().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), command);
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[0], "twistcoach");
    let a = bin().args(&words[1..]).current_dir(&out).output().unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let report: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let (t, r) = (truth["reps"].as_array().unwrap(), report["reps"].as_array().unwrap());
    assert!(t.len() >= 2);
    assert_eq!(t.len(), r.len());
    for (x, y) in t.iter().zip(r) {
        assert_eq!(x["side"], y["side"]);
        assert!((x["peak_deg"].as_f64().unwrap() - y["peak_deg"].as_f64().unwrap()).abs() < 3.0);
    }
    // Same seed, same session.
    let again = tmp_dir("again");
    let o = bin()
        .args([
            "simulate",
            "--variation",
            "standing",
            "--sensors",
            "chest,pelvis",
            "--seed",
            "9",
        ])
        .args(["--format", "orientation", "--out"])
        .arg(&again)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(out.join("truth.json")).unwrap(),
        std::fs::read(again.join("truth.json")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&again);
}

#[test]
fn impossible_sensor_sets_and_unknown_names_exit_2() {
    let out = tmp_dir("bad");
    for args in [
        vec!["--variation", "supine", "--sensors", "chest"],
        vec!["--variation", "sideways"],
        vec!["--variation", "seated", "--sensors", "chest,knee"],
        vec!["--variation", "seated", "--hard", "earthquake"],
    ] {
        let o = bin()
            .arg("simulate")
            .args(&args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.stdout.is_empty());
        assert!(!o.stderr.is_empty());
    }
    assert!(!out.exists(), "nothing is written for bad arguments");
}
