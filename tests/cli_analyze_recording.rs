//! `twistcoach analyze RECORDING` (spec §6): a recording gives the variation, placements
//! and mounting; its report matches the analysis of the same samples as CSV files.

use std::process::Command;

use twistcoach::body::{Placement, Variation};
use twistcoach::device::DeviceSample;
use twistcoach::record::{self, Metadata, Record, RecordWriter, StreamInfo, WriterSettings};
use twistcoach::simulate::{self, Format};
use twistcoach::stream::Samples;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twistcoach"))
        .args(args)
        .output()
        .expect("run twistcoach");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A simulated two-sensor standing session (orientation streams) written both as CSV
/// files and as a recording whose sample records carry the same quaternions at the same
/// (receive) times.
fn session(dir: &std::path::Path) -> std::path::PathBuf {
    let settings = simulate::Settings::new(
        Variation::Standing,
        vec![Placement::Chest, Placement::Pelvis],
        11,
        Format::Orientation,
    );
    let sim = simulate::simulate(&settings).expect("simulate");
    let streams = sim.parsed_streams().expect("parse");
    let metadata = Metadata {
        schema: record::METADATA_SCHEMA.to_string(),
        program_version: env!("CARGO_PKG_VERSION").to_string(),
        started_utc: None,
        variation: Variation::Standing,
        protocol_toml: None,
        caution: None,
        streams: streams
            .iter()
            .enumerate()
            .map(|(i, (placement, _))| StreamInfo {
                id: i as u16,
                placement: *placement,
                device_kind: "sim:open-imu".to_string(),
                device_address: None,
                device_name: None,
                mount: "+y:head,+z:out".to_string(),
                protocol: Some("quaternion".to_string()),
                rate_hz: None,
                calibration: None,
            })
            .collect(),
        extra: Default::default(),
    };
    let path = dir.join("session.twrec");
    let file = std::fs::File::create(&path).expect("create");
    let mut w = RecordWriter::new(file, WriterSettings::default(), &metadata).expect("writer");
    // Interleave the two streams by time, as a live session would write them.
    let mut all: Vec<(f64, u16, twistcoach::frames::Quat)> = Vec::new();
    for (i, (placement, stream)) in streams.iter().enumerate() {
        let Samples::Orientation(samples) = &stream.samples else {
            panic!("{}: expected an orientation stream", placement.name())
        };
        all.extend(samples.iter().map(|s| (s.t_s, i as u16, s.q_world_from_sensor)));
        let csv = format!("t,qw,qx,qy,qz\n{}", {
            let mut text = String::new();
            for s in samples {
                let q = s.q_world_from_sensor;
                text.push_str(&format!("{},{},{},{},{}\n", s.t_s, q.w, q.x, q.y, q.z));
            }
            text
        });
        std::fs::write(dir.join(format!("{}.csv", placement.name())), csv).expect("write csv");
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, id, q) in all {
        let sample = DeviceSample {
            device_time_s: None,
            sequence: None,
            acc_sensor_mps2: None,
            gyro_sensor_radps: None,
            mag_sensor_ut: None,
            q_world_from_sensor: Some(q),
            free_acc_world_mps2: None,
        };
        w.append(
            &Record::Sample {
                stream: id,
                receive_s: t,
                sample,
            },
            t,
        )
        .expect("append");
    }
    w.flush().expect("flush");
    path
}

#[test]
fn a_recording_analyses_like_its_samples_as_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = session(dir.path());
    let (code, from_rec, err) = run(&["analyze", rec.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let chest = dir.path().join("chest.csv");
    let pelvis = dir.path().join("pelvis.csv");
    let (code, from_csv, err) = run(&[
        "analyze",
        "--variation",
        "standing",
        "--sensor",
        &format!("chest={}", chest.display()),
        "--sensor",
        &format!("pelvis={}", pelvis.display()),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let a: serde_json::Value = serde_json::from_str(&from_rec).expect("one JSON document");
    let b: serde_json::Value = serde_json::from_str(&from_csv).expect("one JSON document");
    assert_eq!(a["variation"], "standing");
    assert_eq!(a["sensors"], b["sensors"]);
    let (ra, rb) = (a["reps"].as_array().unwrap(), b["reps"].as_array().unwrap());
    assert!(!rb.is_empty());
    assert_eq!(ra.len(), rb.len(), "{from_rec}\n{from_csv}");
    for (x, y) in ra.iter().zip(rb) {
        assert_eq!(x["side"], y["side"]);
        assert_eq!(x["flags"], y["flags"]);
        let d = (x["peak_deg"].as_f64().unwrap() - y["peak_deg"].as_f64().unwrap()).abs();
        assert!(d < 1.0, "peak differs by {d}°: {x} vs {y}");
        let d = (x["hold_s"].as_f64().unwrap() - y["hold_s"].as_f64().unwrap()).abs();
        assert!(d < 0.5, "hold differs by {d} s: {x} vs {y}");
    }
}

#[test]
fn a_recording_and_sensor_flags_together_are_refused() {
    let (code, out, err) = run(&["analyze", "x.twrec", "--sensor", "chest=c.csv"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
}

#[test]
fn a_file_that_is_not_a_recording_is_bad_input_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.twrec");
    std::fs::write(&path, "hello\n").unwrap();
    let (code, out, err) = run(&["analyze", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("notes.twrec"), "{err}");
}

#[test]
fn analyze_save_stores_a_recording_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = session(dir.path());
    let db = dir.path().join("h.sqlite");
    for _ in 0..2 {
        let (code, out, err) = run(&[
            "analyze",
            rec.to_str().unwrap(),
            "--json",
            "--save",
            "--db",
            db.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).expect("stdout stays one JSON document");
    }
    let (code, out, err) = run(&["history", "--db", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().filter(|l| l.contains("standing")).count(), 1, "{out}");
}
