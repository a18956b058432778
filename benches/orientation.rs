//! Throughput of the causal orientation filter, one sensor: samples per second for 9D and
//! 6D on 75 s of real BROAD data (285.7 Hz, `fixtures/broad`), and of the input/output
//! phases of `twistcoach orientation` on the same data. Criterion reports the throughput as
//! elements (samples) per second.
//!
//! `cargo bench --bench orientation -- --warm-up-time 1 --measurement-time 3`
//!
//! `vqf_filter` compares the bare filters, our `orientation::Vqf` against `vqf-rs` 0.3.0 (the
//! oracle it equals bit for bit), on BROAD trial 24 (57,746 samples) when `../shared/data/broad`
//! is there, else on the committed 75 s fixture: gyroscope, accelerometer and (9D) magnetometer
//! update and the quaternion of every sample (the loops of `benches/common/vqf_drivers.rs`,
//! shared with `examples/vqf_speed.rs`).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use twistcoach::orientation::{Settings, estimate_causal, startup_sample_time_s};
use twistcoach::stream::{Samples, read_stream};

mod common {
    pub mod vqf_drivers;
}
use common::vqf_drivers::{run_filter_ours, run_filter_vqf_rs};

fn causal_filter(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/broad/02_slow_rotation_first75s.imu.csv.gz");
    let stream = read_stream(&path).expect("fixture parses");
    let Samples::Imu(samples) = stream.samples else {
        panic!("fixture is not an IMU stream")
    };
    let mut group = c.benchmark_group("orientation_causal");
    group.throughput(Throughput::Elements(samples.len() as u64));
    for (name, use_mag) in [("9d", true), ("6d", false)] {
        let settings = Settings {
            use_mag,
            ..Settings::default()
        };
        group.bench_function(name, |b| b.iter(|| estimate_causal(black_box(&samples), settings)));
    }
    group.finish();
}

/// Our VQF against vqf-rs, same samples, same sample time, quaternion of every sample.
fn vqf_filter(c: &mut Criterion) {
    let trial = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/broad/24_disturbed_tapping_A.imu.csv.gz");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/broad/02_slow_rotation_first75s.imu.csv.gz");
    let path = if trial.is_file() { trial } else { fixture };
    eprintln!("vqf_filter on {}", path.display());
    let Samples::Imu(samples) = read_stream(&path).expect("input parses").samples else {
        panic!("not an IMU stream")
    };
    let ts = startup_sample_time_s(samples.iter().map(|s| s.t_s));
    let mut group = c.benchmark_group("vqf_filter");
    group.throughput(Throughput::Elements(samples.len() as u64));
    for (dims, use_mag) in [("9d", true), ("6d", false)] {
        let mut out = Vec::with_capacity(samples.len());
        group.bench_function(format!("vqf_rs_{dims}"), |b| {
            b.iter(|| run_filter_vqf_rs(black_box(&samples), ts, use_mag, &mut out))
        });
        group.bench_function(format!("ours_{dims}"), |b| {
            b.iter(|| run_filter_ours(black_box(&samples), ts, use_mag, &mut out))
        });
    }
    group.finish();
}

/// The other phases of `twistcoach orientation`: gunzip, parse, the threaded gzip path that
/// overlaps them, and writing the output.
fn read_parse_write(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/broad/02_slow_rotation_first75s.imu.csv.gz");
    let stream = read_stream(&path).expect("fixture parses");
    let text = twistcoach::stream::read_bytes(&path).expect("fixture gunzips");
    let Samples::Imu(samples) = &stream.samples else {
        panic!("fixture is not an IMU stream")
    };
    let quats = estimate_causal(samples, Settings::default());
    let out = std::env::temp_dir().join(format!("twistcoach-bench-{}.csv", std::process::id()));
    let mut group = c.benchmark_group("io");
    group.throughput(Throughput::Elements(stream.len() as u64));
    group.bench_function("gunzip", |b| {
        b.iter(|| twistcoach::stream::read_bytes(black_box(&path)))
    });
    group.bench_function("parse", |b| {
        b.iter(|| twistcoach::stream::parse_stream(&path, black_box(&text)))
    });
    group.bench_function("read_stream_gzip_threaded", |b| {
        b.iter(|| read_stream(black_box(&path)))
    });
    group.bench_function("write_csv", |b| {
        b.iter(|| twistcoach::stream::write_orientation_csv(&out, &stream.t_text, black_box(&quats)))
    });
    group.finish();
    let _ = std::fs::remove_file(&out);
}

criterion_group!(benches, vqf_filter, causal_filter, read_parse_write);
criterion_main!(benches);
