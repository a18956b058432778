//! Throughput of the causal orientation filter, one sensor: samples per second for 9D and
//! 6D on 75 s of real BROAD data (285.7 Hz, `fixtures/broad`). Criterion reports the
//! throughput as elements (samples) per second.
//!
//! `cargo bench --bench orientation -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use twistcoach::orientation::{Settings, estimate_causal};
use twistcoach::stream::{Samples, read_stream};

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

fn read_parse(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/broad/02_slow_rotation_first75s.imu.csv.gz");
    let n = read_stream(&path).expect("fixture parses").len();
    let mut group = c.benchmark_group("read_stream");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("gzip_9d", |b| b.iter(|| read_stream(black_box(&path))));
    group.finish();
}

criterion_group!(benches, causal_filter, read_parse);
criterion_main!(benches);
