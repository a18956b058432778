//! `twistcoach demo` (the README's first command): runs with zero set-up, prints the live
//! pipeline's cues as `live --plain` would, and ends with the report next to the
//! simulation's ground truth.

use std::process::Command;

fn demo(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twistcoach"))
        .arg("demo")
        .args(args)
        .output()
        .expect("run twistcoach");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn demo_coaches_a_simulated_seated_session_and_finds_every_rep() {
    let (ok, text) = demo(&[]);
    assert!(ok, "{text}");
    // The live pipeline's `--plain` lines.
    for line in [
        "cue: stay still 2 s to calibrate",
        "calibrated neutral from",
        "cue: turn slowly left",
        "cue: hold…",
        "hold complete (",
        "cue: return to centre",
        "cue: now the other side: turn slowly ",
        "rep left: held",
        "rep right: held",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    // Live and the whole-recording report find exactly the true reps, on their sides.
    let line = text
        .lines()
        .find(|l| l.starts_with("Ground truth of the simulation"))
        .unwrap_or_else(|| panic!("no truth comparison in:\n{text}"));
    let numbers: Vec<&str> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(numbers.len(), 3, "{line}");
    assert!(numbers.iter().all(|n| *n == numbers[0]), "{line}");
    assert!(!text.contains("not found") && !text.contains("side!"), "{text}");
}

#[test]
fn demo_orientation_scores_the_bundled_broad_slice() {
    let (ok, text) = demo(&["--orientation"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("VQF 9D causal") && text.contains("VQF 6D offline"),
        "{text}"
    );
}
