//! The bare causal filter on one recording, ours (`orientation::Vqf`) or `vqf-rs`, for
//! profiling (`perf record`, `valgrind --tool=callgrind --toggle-collect='*run_filter*'`);
//! the comparison with statistics is `cargo bench --bench orientation -- vqf_filter`.
//!
//! `cargo run --release --example vqf_speed -- ours|vqf-rs 9d|6d [REPEATS] [IMU_CSV]`
//! (default: 20 repeats of BROAD trial 24).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use twistcoach::orientation::startup_sample_time_s;
use twistcoach::stream::{Samples, read_stream};

#[path = "../benches/common/vqf_drivers.rs"]
mod vqf_drivers;
use vqf_drivers::{run_filter_ours, run_filter_vqf_rs};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("ours");
    let use_mag = args.get(1).map(String::as_str).unwrap_or("9d") == "9d";
    let repeats: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let path = args.get(3).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/broad/24_disturbed_tapping_A.imu.csv.gz")
    });
    let Samples::Imu(samples) = read_stream(&path).expect("input parses").samples else {
        panic!("{}: not an IMU stream", path.display())
    };
    let ts = startup_sample_time_s(samples.iter().map(|s| s.t_s));
    let run = match which {
        "ours" => run_filter_ours,
        "vqf-rs" => run_filter_vqf_rs,
        other => panic!("unknown filter {other}: ours or vqf-rs"),
    };
    let mut out = Vec::with_capacity(samples.len());
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = Instant::now();
        run(black_box(&samples), ts, use_mag, &mut out);
        best = best.min(start.elapsed().as_secs_f64());
        black_box(&out);
    }
    println!(
        "{which} {}: best of {repeats}: {:.2} ms, {:.1} ns/sample ({} samples)",
        if use_mag { "9D" } else { "6D" },
        best * 1e3,
        best * 1e9 / samples.len() as f64,
        samples.len()
    );
}
