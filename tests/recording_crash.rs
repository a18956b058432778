//! Crash safety of recordings with a real kill -9: a child process (this test binary,
//! running the ignored `crash_child` test) writes a recording as fast as it can and
//! reports on stdout how many records it has flushed; the parent kills it with SIGKILL
//! at an arbitrary moment and reads the file. Every record reported as flushed must be
//! there, in order, followed by nothing broken. No timing assertions: the parent reacts
//! to what the child reports.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use twistcoach::body::{Placement, Variation};
use twistcoach::device::{DeviceSample, Uuid};
use twistcoach::record::{self, Metadata, Record, RecordWriter, StreamInfo, WriterSettings};

const FILE_ENV: &str = "TWISTCOACH_CRASH_TEST_FILE";

fn metadata() -> Metadata {
    Metadata {
        schema: record::METADATA_SCHEMA.to_string(),
        program_version: env!("CARGO_PKG_VERSION").to_string(),
        started_utc: None,
        variation: Variation::Standing,
        protocol_toml: None,
        caution: None,
        streams: vec![StreamInfo {
            id: 0,
            placement: Placement::Chest,
            device_kind: "sim:open-imu".to_string(),
            device_address: None,
            device_name: None,
            mount: "+y:head,+z:out".to_string(),
            protocol: Some("IMU 6D, 100 Hz".to_string()),
            rate_hz: Some(100.0),
            calibration: None,
        }],
        extra: Default::default(),
    }
}

#[test]
#[ignore = "child process of killed_writer_leaves_every_flushed_record_readable"]
fn crash_child() {
    let Ok(path) = std::env::var(FILE_ENV) else {
        return;
    };
    let file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    let mut w = RecordWriter::new(file, WriterSettings::default(), &metadata()).unwrap();
    // A synthetic clock: 100 Hz samples, one notification + one sample each.
    // Report after every flush how many records are on disk (nothing is buffered then).
    let report = |w: &RecordWriter<std::fs::File>, flushes_before: u64| {
        if w.flushes() != flushes_before && w.is_buffer_empty() {
            println!("flushed {}", w.records());
        }
    };
    for i in 0..200_000u64 {
        let t = i as f64 * 0.01;
        let flushes = w.flushes();
        w.append(
            &Record::Notification {
                stream: 0,
                receive_s: t,
                characteristic: Uuid(0x4f70_0002_656e_494d_5500_7477_6973_7463),
                bytes: vec![1, 2, (i & 0xff) as u8, (i >> 8) as u8, 0, 0, 0, 0],
            },
            t,
        )
        .unwrap();
        report(&w, flushes);
        let flushes = w.flushes();
        w.append(
            &Record::Sample {
                stream: 0,
                receive_s: t,
                sample: DeviceSample {
                    sequence: Some(i),
                    acc_sensor_mps2: Some([0.0, 0.0, 9.81]),
                    gyro_sensor_radps: Some([0.0; 3]),
                    ..DeviceSample::default()
                },
            },
            t,
        )
        .unwrap();
        report(&w, flushes);
    }
    // Not reached when the parent kills us; exiting lets the parent fail clearly.
}

#[test]
fn killed_writer_leaves_every_flushed_record_readable() {
    let dir = std::env::temp_dir().join(format!("twistcoach-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("crash.twrec");
    let _ = std::fs::remove_file(&path);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(FILE_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut flushed = 0u64;
    let mut reports = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("flushed ") {
            flushed = n.trim().parse().unwrap();
            reports += 1;
            // Kill somewhere in the middle of a stream of writes.
            if reports == 40 {
                child.kill().unwrap(); // SIGKILL on Unix
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(reports, 40, "the child stopped reporting before it was killed");

    let rec = record::read_file(&path).unwrap();
    eprintln!(
        "killed after {flushed} records reported flushed; read {} records; tail: {:?}",
        rec.records.len(),
        rec.tail
    );
    assert!(
        rec.records.len() as u64 >= flushed,
        "{} records read, {flushed} reported flushed",
        rec.records.len()
    );
    assert_eq!(rec.metadata(), Some(&metadata()));
    assert!(!rec.ended_cleanly());
    assert!(rec.warning().is_some(), "a killed recording must warn");
    // The records are the writer's sequence, without holes.
    let mut expected = 0u64;
    for r in &rec.records[1..] {
        match r {
            Record::Notification { bytes, .. } => {
                assert_eq!(u64::from(bytes[2]) | (u64::from(bytes[3]) << 8), expected & 0xffff)
            }
            Record::Sample { sample, .. } => {
                assert_eq!(sample.sequence, Some(expected));
                expected += 1;
            }
            other => panic!("unexpected record {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
