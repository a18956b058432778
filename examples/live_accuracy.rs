//! Live accuracy on simulated sessions: every device kind (simulated peripherals sending
//! its real notification bytes), seated and standing on the chest and supine on the pelvis,
//! through the live pipeline and through `analyze`, against the simulator's truth.
//!
//! `cargo run --release --example live_accuracy [SEEDS]` (default 10 seeds per kind and
//! variation) prints the table of docs/live.md and the cases live gets wrong.

use twistcoach::live::accuracy;

fn main() {
    let seeds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let cases = accuracy::batch(seeds);
    let results = accuracy::run_cases(&cases);
    println!(
        "{} simulated sessions: seeds 1–{seeds} of every device kind and set-up\n",
        cases.len()
    );
    print!("{}", accuracy::table(&results));
    println!(
        "\ncases where live misses a rep, finds an extra one, gets a side wrong, reads a peak > 5° off, or shows a side against the rep:"
    );
    print!("{}", accuracy::case_lines(&results, 5.0));
}
