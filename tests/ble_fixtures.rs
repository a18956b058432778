//! BLE notification fixtures: `fixtures/ble/<kind>/stream.hex` (receive time,
//! characteristic, notification bytes) and `expected.csv` (the decoded samples).
//!
//! The streams are made by the simulated peripherals (`device::simulate`) from a known
//! motion, with transport effects (split and merged WitMotion notifications, a lost
//! open-IMU packet, the Movella clock wrapping at 2³² µs). This test checks three ways:
//! 1. decoding each stream gives exactly `expected.csv`;
//! 2. the decoded samples match the known motion within the wire format's resolution;
//! 3. the first notification of each stream equals a vector computed independently
//!    (Python `struct`, see the constants) from the vendor's documented layout.
//!
//! Regenerate (after a deliberate format change) with
//! `cargo test --release --test ble_fixtures -- --ignored regenerate`.

use std::path::PathBuf;

use twistcoach::device::simulate::{Peripheral, Settings, TruthSample, TwistMotion};
use twistcoach::device::timing::{DeviceClockAligner, ReceiveTimeSmoother, SmootherSettings};
use twistcoach::device::{DeviceKind, DeviceSample, Uuid, capture, hex};
use twistcoach::frames::{norm, sub};

const MOTION: TwistMotion = TwistMotion {
    tilt_deg: 10.0,
    peak_deg: 40.0,
    period_s: 4.0,
};
const DURATION_S: f64 = 4.0;

fn rate_hz(kind: DeviceKind) -> f64 {
    match kind {
        DeviceKind::MovellaDot => 60.0,
        DeviceKind::WitMotion => 50.0,
        DeviceKind::Thingy52 => 50.0,
        DeviceKind::MetaMotion => 100.0,
        DeviceKind::OpenImu => 100.0,
        // Not a Bluetooth kind: no BLE fixture (its packets are tested in device::phone).
        DeviceKind::Phone => 60.0,
    }
}

fn settings(kind: DeviceKind) -> Settings {
    match kind {
        // Start 2 s before the 32-bit µs clock wraps.
        DeviceKind::MovellaDot => Settings {
            device_clock_at_zero_us: (1u64 << 32) - 2_000_000,
            first_sequence: 0,
        },
        // Start near the end of the u16 sequence range.
        DeviceKind::OpenImu => Settings {
            device_clock_at_zero_us: 5_000_000,
            first_sequence: 65_500,
        },
        _ => Settings::default(),
    }
}

fn dir(kind: DeviceKind) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/ble")
        .join(kind.name())
}

/// One line of `stream.hex`.
struct Notification {
    receive_s: f64,
    characteristic: Uuid,
    bytes: Vec<u8>,
}

/// The stream a device of `kind` sends for the motion, with its transport effects.
fn generate(kind: DeviceKind) -> (Vec<Notification>, Vec<TruthSample>) {
    let mut p = Peripheral::new(kind, settings(kind));
    let n = (DURATION_S * rate_hz(kind)).round() as usize;
    let mut out = Vec::new();
    let mut truth = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    // Notifications arrive at 15 ms connection events, a few ms after they were sent.
    // Several notifications in one event keep their order (receive times never decrease).
    let mut last_receive_s = f64::NEG_INFINITY;
    let mut receive = |t: f64, i: usize| {
        let r = ((t / 0.015).ceil() * 0.015 + 0.003 + (i % 7) as f64 * 1e-4).max(last_receive_s);
        last_receive_s = r;
        r
    };
    for i in 0..n {
        let s = MOTION.at(i as f64 / rate_hz(kind));
        if kind == DeviceKind::OpenImu && i == 150 {
            p.lose_one(); // this packet never arrives
            continue;
        }
        truth.push(s);
        for (characteristic, bytes) in p.notifications(&s) {
            let receive_s = receive(s.t_s, i);
            if kind == DeviceKind::WitMotion && i % 7 == 6 {
                pending = bytes; // merged with the next packet into one notification
                continue;
            }
            let mut bytes = std::mem::take(&mut pending)
                .into_iter()
                .chain(bytes)
                .collect::<Vec<_>>();
            if kind == DeviceKind::WitMotion && i % 5 == 3 {
                let tail = bytes.split_off(bytes.len() - 8); // split across two notifications
                out.push(Notification {
                    receive_s,
                    characteristic,
                    bytes,
                });
                bytes = tail;
            }
            out.push(Notification {
                receive_s,
                characteristic,
                bytes,
            });
        }
    }
    (out, truth)
}

fn stream_text(kind: DeviceKind, notifications: &[Notification]) -> String {
    let title = format!("twistcoach BLE fixture: {} notifications", kind.name());
    let motion = format!(
        "motion: tilt {}° about x, twist about sensor z to {}° and back every {} s; {} Hz",
        MOTION.tilt_deg,
        MOTION.peak_deg,
        MOTION.period_s,
        rate_hz(kind)
    );
    let rows: Vec<(f64, Uuid, &[u8])> = notifications
        .iter()
        .map(|n| (n.receive_s, n.characteristic, n.bytes.as_slice()))
        .collect();
    capture::format(
        &[&title, &motion, "columns: receive_s characteristic_uuid hex_bytes"],
        &rows,
    )
}

fn parse_stream(text: &str) -> Vec<(usize, Notification)> {
    capture::parse(text)
        .unwrap_or_else(|(line, problem)| panic!("line {line}: {problem}"))
        .into_iter()
        .map(|n| {
            (
                n.line,
                Notification {
                    receive_s: n.receive_s,
                    characteristic: n.characteristic,
                    bytes: n.bytes,
                },
            )
        })
        .collect()
}

const CSV_HEADER: &str = "line,device_time_s,sequence,ax,ay,az,gx,gy,gz,mx,my,mz,qw,qx,qy,qz,fax,fay,faz";

fn csv_row(line: usize, s: &DeviceSample) -> String {
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let v3 = |v: Option<[f64; 3]>| match v {
        Some(a) => a.map(|x| x.to_string()).join(","),
        None => ",,".to_string(),
    };
    let q = match s.q_world_from_sensor {
        Some(q) => q.to_array().map(|x| x.to_string()).join(","),
        None => ",,,".to_string(),
    };
    format!(
        "{line},{},{},{},{},{},{},{}",
        opt(s.device_time_s),
        s.sequence.map(|x| x.to_string()).unwrap_or_default(),
        v3(s.acc_sensor_mps2),
        v3(s.gyro_sensor_radps),
        v3(s.mag_sensor_ut),
        q,
        v3(s.free_acc_world_mps2)
    )
}

/// Decode a stream file's text with the kind's registry decoder.
fn decode_stream(kind: DeviceKind, text: &str) -> (Vec<(usize, f64, DeviceSample)>, Option<u64>) {
    let mut d = kind.decoder();
    let mut out = Vec::new();
    for (line, n) in parse_stream(text) {
        for s in d
            .push(n.characteristic, &n.bytes)
            .unwrap_or_else(|e| panic!("line {line}: {e}"))
        {
            out.push((line, n.receive_s, s));
        }
    }
    (out, d.dropped())
}

fn csv_text(samples: &[(usize, f64, DeviceSample)]) -> String {
    let mut s = String::from(CSV_HEADER);
    s.push('\n');
    for (line, _, sample) in samples {
        s.push_str(&csv_row(*line, sample));
        s.push('\n');
    }
    s
}

#[test]
#[ignore = "writes fixtures/ble; run deliberately after a format change"]
fn regenerate() {
    for kind in DeviceKind::ALL.into_iter().filter(|k| k.is_bluetooth()) {
        let (notifications, _) = generate(kind);
        let stream = stream_text(kind, &notifications);
        let (samples, _) = decode_stream(kind, &stream);
        std::fs::create_dir_all(dir(kind)).unwrap();
        std::fs::write(dir(kind).join("stream.hex"), &stream).unwrap();
        std::fs::write(dir(kind).join("expected.csv"), csv_text(&samples)).unwrap();
    }
}

#[test]
fn streams_decode_to_the_expected_samples_and_the_known_motion() {
    for kind in DeviceKind::ALL.into_iter().filter(|k| k.is_bluetooth()) {
        let stream = std::fs::read_to_string(dir(kind).join("stream.hex")).unwrap();
        let expected = std::fs::read_to_string(dir(kind).join("expected.csv")).unwrap();
        let (samples, dropped) = decode_stream(kind, &stream);
        assert_eq!(
            csv_text(&samples),
            expected,
            "{kind}: decoded stream differs from expected.csv"
        );

        // The committed stream is what the simulator makes today (no silent drift).
        let (notifications, truth) = generate(kind);
        assert_eq!(
            stream_text(kind, &notifications),
            stream,
            "{kind}: regenerate the fixture?"
        );

        // Samples against the known motion. Thingy sends two notifications per sample.
        let per_truth = if kind == DeviceKind::Thingy52 { 2 } else { 1 };
        assert_eq!(samples.len(), truth.len() * per_truth, "{kind}: sample count");
        let mut receive_prev = f64::NEG_INFINITY;
        for (k, (line, receive_s, s)) in samples.iter().enumerate() {
            let t = &truth[k / per_truth];
            assert!(
                *receive_s >= receive_prev && *receive_s >= t.t_s,
                "{kind} line {line}: receive time"
            );
            receive_prev = *receive_s;
            if let Some(q) = s.q_world_from_sensor {
                let tol = if kind == DeviceKind::WitMotion { 0.01 } else { 1e-3 };
                assert!(q.angle_to_rad(t.q_world_from_sensor) < tol, "{kind} line {line}: q");
            }
            if let Some(a) = s.acc_sensor_mps2 {
                assert!(norm(sub(a, t.acc_sensor_mps2)) < 0.01, "{kind} line {line}: acc");
            }
            if let Some(g) = s.gyro_sensor_radps {
                assert!(norm(sub(g, t.gyro_sensor_radps)) < 0.01, "{kind} line {line}: gyro");
            }
            if let Some(f) = s.free_acc_world_mps2 {
                assert!(norm(f) < 1e-4, "{kind} line {line}: free acc");
            }
            if let Some(td) = s.device_time_s {
                let t0 = settings(kind).device_clock_at_zero_us as f64 * 1e-6;
                assert!((td - t0 - t.t_s).abs() < 1e-6, "{kind} line {line}: device time {td}");
            }
        }
        if kind == DeviceKind::OpenImu {
            assert_eq!(dropped, Some(1), "the lost packet is detected");
        }

        // Host times from the receive times (device::timing): jitter of the 15 ms
        // connection events removed, up to a constant latency.
        let mut aligner = DeviceClockAligner::new();
        let mut smoother = ReceiveTimeSmoother::new(SmootherSettings::for_rate(rate_hz(kind)));
        let lag: Vec<f64> = samples
            .iter()
            .enumerate()
            .filter(|(k, _)| k % per_truth == per_truth - 1)
            .map(|(k, (_, receive_s, s))| {
                let host = match s.device_time_s {
                    Some(td) => aligner.update(td, *receive_s),
                    None => smoother.update(*receive_s),
                };
                host - truth[k / per_truth].t_s
            })
            .collect();
        let settled = &lag[lag.len() / 4..];
        let (lo, hi) = settled.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        });
        eprintln!("{kind}: host-time spread after warm-up {:.5} s", hi - lo);
        assert!(hi - lo < 0.003, "{kind}: host-time spread {:.4} s", hi - lo);
    }
}

/// First notification of each stream (t = 0: q = Rx(10°), acc = (0, g·sin 10°, g·cos 10°),
/// gyro = 0), computed independently with Python `struct.pack` from the documented layouts:
/// - movella-dot: `<I4f` timestamp 2³² − 2 000 000 µs, q (cos 5°, sin 5°, 0, 0);
/// - witmotion: `<BB9h` 0x55 0x61, acc counts round(a / 16 g · 32768), roll 10° → 1820;
/// - thingy52 (quaternion): `<4i` round(q · 2³⁰);
/// - metamotion: `<BB4f` 0x19 0x07, q;
/// - open-imu: `<BBHI6h` v1, kind 2, seq 65500, t 5 000 000 µs, acc counts · 2048 / g.
///
/// (The Movella free-acceleration floats are rounding noise and are checked by value.)
const FIRST_NOTIFICATIONS: [(&str, &str); 5] = [
    ("movella-dot", "807be1ff9e067f3fb67eb23d0000000000000000"),
    ("witmotion", "556100006401e1070000000000001c0700000000"),
    ("thingy52", "68a7c13faef593050000000000000000"),
    ("metamotion", "19079e067f3fb67eb23d0000000000000000"),
    ("open-imu", "0102dcff404b4c0000006401e107000000000000"),
];

#[test]
fn first_notifications_match_independent_vectors() {
    for (name, want) in FIRST_NOTIFICATIONS {
        let kind = DeviceKind::parse(name).unwrap();
        let stream = std::fs::read_to_string(dir(kind).join("stream.hex")).unwrap();
        let (_, first) = parse_stream(&stream).into_iter().next().unwrap();
        let got = hex::format(&first.bytes);
        assert!(got.starts_with(want), "{name}: {got} does not start with {want}");
    }
}
