//! Where the time of `twistcoach orientation` goes: each stage of the command alone, in
//! memory, on one core, on the longest BROAD trial (the minimum of `--runs` runs, default
//! 30): gunzip, strict parse, the causal filter 9D and 6D, formatting the output rows, and
//! writing them to a file. The command runs these on two threads (reading and gunzip on
//! one; filtering on the other; parsing, formatting and writing on whichever has time;
//! `docs/accuracy.md` §4.5).
//!
//! `cargo run --release --example orientation_stages [-- --runs N] [-- TRIAL.imu.csv.gz]`

use std::path::PathBuf;
use std::time::Instant;

use twistcoach::error::BadInput;
use twistcoach::orientation::{Settings, estimate_causal};
use twistcoach::stream::{self, Samples};

/// The minimum wall time of `runs` calls of `f`, in ms.
fn min_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut runs = 30;
    let mut trial = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/broad/24_disturbed_tapping_A.imu.csv.gz"
    ));
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            path => trial = PathBuf::from(path),
        }
    }
    let text = stream::read_bytes(&trial).unwrap_or_else(|e| panic!("{e}"));
    let parsed = stream::parse_stream(&trial, &text).unwrap_or_else(|e| panic!("{e}"));
    let Samples::Imu(samples) = &parsed.samples else {
        panic!("{}: not a raw IMU stream", trial.display())
    };
    let chunks: Vec<&[u8]> = text.chunks(1 << 16).collect();
    let quats = estimate_causal(samples, Settings::default());
    let mut formatted = Vec::new();
    stream::format_orientation_rows(&mut formatted, &parsed.t_text, &quats);
    let out = std::env::temp_dir().join(format!("twistcoach-stages-{}.csv", std::process::id()));

    println!(
        "{}: {} rows, {:.1} MB of text; minimum of {runs} runs, one core, in memory",
        trial.display(),
        samples.len(),
        text.len() as f64 / 1e6
    );
    println!("| stage | ms |\n|---|---|");
    let row = |name: &str, ms: f64| println!("| {name} | {ms:.2} |");
    if stream::is_gzip_path(&trial) {
        row("read + gunzip", min_ms(runs, || stream::read_bytes(&trial)));
    }
    row(
        "strict parse (64 KB chunks, as the command)",
        min_ms(runs, || {
            let mut rows = 0;
            let chunks = chunks.iter().map(|c| Ok::<_, BadInput>(*c));
            stream::csv::parse_imu_in_blocks(&trial, chunks, |b| {
                // Given back to be filled again, as the command does once the blocks have been
                // written.
                rows += b.samples.len();
                Some(b)
            })
            .map(|_| rows)
        }),
    );
    for (name, use_mag) in [("causal filter 9D", true), ("causal filter 6D", false)] {
        let settings = Settings {
            use_mag,
            ..Settings::default()
        };
        row(name, min_ms(runs, || estimate_causal(samples, settings)));
    }
    let mut text_out = Vec::with_capacity(formatted.len());
    row(
        "format rows",
        min_ms(runs, || {
            text_out.clear();
            stream::format_orientation_rows(&mut text_out, &parsed.t_text, &quats);
            text_out.len()
        }),
    );
    row("write file", min_ms(runs, || std::fs::write(&out, &formatted)));
    let _ = std::fs::remove_file(&out);
}
