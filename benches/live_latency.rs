//! Latency of the live pipeline: from one BLE notification arriving to the cue (and the
//! whole snapshot) being updated, i.e. one `Pipeline::update` call, in a calibrated
//! two-sensor session at 100 Hz each (open IMU on the chest: decode + VQF; MetaMotion on
//! the pelvis: decode + its quaternion). The time per element is the latency per
//! notification.
//!
//! `cargo bench --bench live_latency -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use twistcoach::body::mount::parse_mount_arg;
use twistcoach::body::{Placement, Variation};
use twistcoach::device::DeviceKind;
use twistcoach::live::{Output, Pipeline, SensorSetup, Settings};
use twistcoach::source::BackoffSettings;
use twistcoach::source::sim::{SimSession, SimSettings};

const SENSORS: [(Placement, DeviceKind); 2] = [
    (Placement::Chest, DeviceKind::OpenImu),
    (Placement::Pelvis, DeviceKind::MetaMotion),
];

fn session() -> SimSession {
    SimSession::build(&SimSettings {
        variation: Variation::Seated,
        sensors: SENSORS
            .iter()
            .enumerate()
            .map(|(i, (p, k))| (i as u16, *p, *k))
            .collect(),
        two_sensors: true,
        seed: 4,
        reps: Some(6),
        max_duration_s: None,
        outages: Vec::new(),
        backoff: BackoffSettings::default(),
    })
}

fn pipeline() -> Pipeline {
    let setups = SENSORS
        .iter()
        .map(|(p, k)| SensorSetup {
            placement: *p,
            kind: *k,
            mount: parse_mount_arg(&format!("{}={}", p.name(), k.info().mount)).unwrap().1,
            rate_hz: k.info().default_rate_hz,
        })
        .collect();
    Pipeline::new(setups, Settings::new(Variation::Seated)).unwrap()
}

/// A pipeline fed the first `warm_s` seconds (calibrated), and the index of the next event.
fn warmed(s: &SimSession, warm_s: f64) -> (Pipeline, usize) {
    let mut p = pipeline();
    let mut out = Output::default();
    let t0 = s.events[0].receive_s();
    let mut i = 0;
    while i < s.events.len() && s.events[i].receive_s() < t0 + warm_s {
        p.update(&s.events[i], &mut out);
        out.events.clear();
        out.samples.clear();
        i += 1;
    }
    assert!(p.is_calibrated());
    (p, i)
}

fn latency(c: &mut Criterion) {
    let s = session();
    let mut group = c.benchmark_group("live");
    group.throughput(Throughput::Elements(1));
    group.bench_function("notification_to_cue_two_sensors_100hz", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let (mut p, mut i) = warmed(&s, 10.0);
                let mut out = Output::default();
                while done < iters && i < s.events.len() {
                    let e = &s.events[i];
                    let start = Instant::now();
                    p.update(black_box(e), &mut out);
                    black_box(&p.snapshot().cue);
                    total += start.elapsed();
                    out.events.clear();
                    out.samples.clear();
                    i += 1;
                    done += 1;
                }
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, latency);
criterion_main!(benches);
