//! `twistcoach demo` (the README's first command): runs with zero set-up, prints live cues
//! as a session would, and ends with the report next to the simulation's ground truth.

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
    for cue in [
        "calibrated: turn slowly",
        "hold… breathe steadily",
        "s to go",
        "hold complete",
        "rep: held",
    ] {
        assert!(text.contains(cue), "no `{cue}` in:\n{text}");
    }
    // The whole-recording report finds exactly the true reps.
    let line = text
        .lines()
        .find(|l| l.starts_with("Ground truth of the simulation"))
        .unwrap_or_else(|| panic!("no truth comparison in:\n{text}"));
    let numbers: Vec<&str> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(numbers.len(), 2, "{line}");
    assert_eq!(numbers[0], numbers[1], "{line}");
    assert!(!text.contains("missed"), "{text}");
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
