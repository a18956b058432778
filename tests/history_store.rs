//! The history database through the library API: migrations from an older schema,
//! duplicates, concurrent writers and readers, a locked database, damaged files, side
//! files when the database cannot be written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use twistcoach::history::demo::{DirectReports, ProgrammeSettings, SessionPipeline, plan_programme};
use twistcoach::history::import::{self, SessionReader};
use twistcoach::history::{
    self, HistoryError, LocalTime, OpenOptions, SaveOutcome, SessionRecord, Store, Symptom, UserNotes, schema,
};

const REPORT: &str = r#"{
  "schema": "twistcoach.report/1",
  "variation": "seated",
  "caution": null,
  "sensors": ["chest", "pelvis"],
  "targets": {"hold_min_s": 15, "hold_max_s": 30, "over_rotation_deg": 60, "too_fast_dps": 60},
  "reps": [
    {"side": "left", "start_s": 3.20, "hold_start_s": 6.05, "hold_end_s": 18.10, "end_s": 21.00,
     "hold_s": 12.05, "peak_deg": 41.3, "hold_mean_deg": 39.8, "flags": ["short_hold"],
     "cues": ["hold a little longer"]},
    {"side": "right", "start_s": 30.0, "hold_start_s": 33.0, "hold_end_s": 50.0, "end_s": 53.0,
     "hold_s": 17.0, "peak_deg": 38.0, "hold_mean_deg": 36.5, "flags": [], "notes": ["interrupted"]}
  ],
  "flags": ["unpaired_side"],
  "notes": ["a session note"],
  "warnings": ["short calibration window"],
  "started_at": "2026-03-02T07:30:00+01:00",
  "analysis_extra": {"kept": true}
}"#;

fn record(text: &str) -> SessionRecord {
    import::parse_report_json(Path::new("test.json"), text, None).unwrap()
}

fn demo_records(weeks: u32, seed: u64) -> Vec<SessionRecord> {
    let settings = ProgrammeSettings {
        weeks,
        first_day: 20_500,
        utc_offset_s: 0,
        seed,
    };
    let mut pipeline = DirectReports::new(seed);
    plan_programme(&settings)
        .iter()
        .map(|plan| {
            let report = pipeline.run(plan).unwrap();
            import::record_from_report(&report, plan.started, pipeline.kind(), plan.user.clone())
        })
        .collect()
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("history.sqlite")
}

#[test]
fn round_trip_keeps_every_report_field_and_the_raw_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db_in(&dir)).unwrap();
    let rec = record(REPORT);
    let id = store.save(&rec).unwrap().id();
    let back = store.session(id).unwrap();
    assert_eq!(back.record.report, rec.report);
    assert_eq!(
        back.record.started,
        LocalTime::parse("2026-03-02T07:30:00+01:00").unwrap()
    );
    assert_eq!(back.record.report_json["analysis_extra"]["kept"], true);
    assert_eq!(back.record.report.reps[1].notes, vec!["interrupted".to_string()]);
    assert_eq!(
        back.record.report.reps[0].cues,
        vec!["hold a little longer".to_string()]
    );
    assert_eq!(
        back.record.report.warnings,
        vec!["short calibration window".to_string()]
    );
}

#[test]
fn the_same_session_is_not_imported_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db_in(&dir)).unwrap();
    let first = store.save(&record(REPORT)).unwrap();
    assert!(matches!(first, SaveOutcome::Inserted { .. }));
    // Same content, different formatting (compact, keys reordered by the round trip).
    let compact = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(REPORT).unwrap()).unwrap();
    let again = store.save(&record(&compact)).unwrap();
    assert_eq!(
        again,
        SaveOutcome::Duplicate {
            id: first.id(),
            notes_updated: false
        }
    );
    // Adding notes to the same session merges them instead of duplicating.
    let mut with_notes = record(REPORT);
    with_notes.user = UserNotes {
        pain_before: Some(4),
        pain_after: Some(2),
        symptoms: vec![Symptom::Stiffness],
        note: Some("felt fine".into()),
    };
    let third = store.save(&with_notes).unwrap();
    assert_eq!(
        third,
        SaveOutcome::Duplicate {
            id: first.id(),
            notes_updated: true
        }
    );
    assert_eq!(store.count().unwrap(), 1);
    assert_eq!(store.session(first.id()).unwrap().record.user, with_notes.user);
    // A different start time is a different session.
    let other = REPORT.replace("07:30:00+01:00", "19:30:00+01:00");
    assert!(matches!(
        store.save(&record(&other)).unwrap(),
        SaveOutcome::Inserted { .. }
    ));
    assert_eq!(store.count().unwrap(), 2);
}

#[test]
fn a_version_1_database_is_migrated_and_keeps_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    Store::create_at_version(&path, 1).unwrap();
    // A v1 program wrote a session (no user_note table existed then).
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, 1);
        conn.execute(
            "INSERT INTO session (content_sha256, started_at, started_unix_s, utc_offset_s, variation, caution, sensors,
                hold_min_s, hold_max_s, over_rotation_deg, too_fast_dps, protocol, program_version, source_kind,
                source_path, imported_at, imported_by, report_json)
             VALUES ('abc', '2026-01-05T07:00:00+00:00', 1767596400, 0, 'standing', NULL, 'chest', 10, 20, 45, 60,
                NULL, '0.0.9', 'report-json', 'old.json', '2026-01-05T08:00:00+00:00', '0.0.9', '{}')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO rep VALUES (1, 0, 'left', 1, 2, 14, 15, 12, 31, 30, 'too_fast', '[]')",
            [],
        )
        .unwrap();
        let has_notes: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'user_note'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(has_notes, 0);
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), schema::LATEST);
    let s = store.session(1).unwrap();
    assert_eq!(s.record.report.variation.name(), "standing");
    assert_eq!(s.record.report.reps.len(), 1);
    assert_eq!(s.record.report.reps[0].hold_s, 12.0);
    // The v2 feature works on the migrated database.
    let notes = store
        .update_user_notes(
            1,
            &UserNotes {
                pain_before: Some(3),
                symptoms: vec![Symptom::LegPain],
                ..UserNotes::default()
            },
        )
        .unwrap();
    assert_eq!(notes.symptoms, vec![Symptom::LegPain]);
    // Opening again is a no-op.
    drop(store);
    assert_eq!(Store::open(&path).unwrap().count().unwrap(), 1);
}

#[test]
fn a_database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).err().expect("must refuse");
    assert!(matches!(err, HistoryError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("history.sqlite") && err.to_string().contains("Upgrade"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_corrupt_file_gives_a_clear_error_and_is_not_destroyed() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path).err().expect("must refuse");
    let text = err.to_string();
    assert!(matches!(err, HistoryError::Corrupt { .. }), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("untouched") && text.contains("--db"), "{text}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "the file must not be changed");
    assert!(!dir.path().join("history.sqlite-wal").exists());
}

#[test]
fn a_damaged_page_is_found_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    {
        let mut store = Store::open(&path).unwrap();
        for r in demo_records(2, 3) {
            store.save(&r).unwrap();
        }
    }
    // Checkpointed into the main file (the WAL is merged on close); now scribble over a
    // page in the middle (not the header).
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4 * 4096, "{}", bytes.len());
    for b in &mut bytes[2 * 4096..2 * 4096 + 600] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open(&path).err().expect("must refuse");
    assert!(matches!(err, HistoryError::Corrupt { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE contacts (name TEXT);")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).err().expect("must refuse");
    assert!(matches!(err, HistoryError::Foreign { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_locked_database_gives_a_clear_error_and_the_session_goes_to_a_side_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    drop(Store::open(&path).unwrap());
    // Another writer holds the write lock.
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE;").unwrap();
    let options = OpenOptions {
        busy_timeout_s: 0.2,
        ..OpenOptions::default()
    };
    let mut store = Store::open_with(&path, options).unwrap();
    let mut rec = record(REPORT);
    rec.user.pain_before = Some(5);
    let err = store.save(&rec).expect_err("locked");
    assert!(matches!(err, HistoryError::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("busy") && err.to_string().contains("try again"),
        "{err}"
    );
    drop(store);

    let err = history::save_or_side_file(&path, &rec, options).expect_err("locked");
    let HistoryError::SavedToSideFile { side_file, .. } = &err else {
        panic!("{err}")
    };
    assert!(err.to_string().contains("Nothing was lost"), "{err}");
    assert!(side_file.exists());
    other.execute_batch("ROLLBACK").unwrap();
    // The side file imports back with its notes; the session lands once.
    let back = import::ReportJsonReader.read(side_file).unwrap().remove(0);
    assert_eq!(back.source.content_sha256, rec.source.content_sha256);
    assert_eq!(back.user.pain_before, Some(5));
    let mut store = Store::open(&path).unwrap();
    assert!(matches!(store.save(&back).unwrap(), SaveOutcome::Inserted { .. }));
    assert!(matches!(store.save(&rec).unwrap(), SaveOutcome::Duplicate { .. }));
}

#[test]
fn a_writer_thread_saves_while_another_reads_consistent_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let records = demo_records(4, 11);
    let total = records.len();
    drop(Store::open(&path).unwrap());
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let mut store = Store::open(&writer_path).unwrap();
        for r in &records {
            store.save(r).unwrap();
        }
    });
    let mut reader = Store::open(&path).unwrap();
    let mut reads = 0;
    loop {
        let sessions = reader.sessions().unwrap();
        // Never half a session: every stored session has all its reps.
        for s in &sessions {
            let expected = s.record.report_json["reps"].as_array().map_or(0, |a| a.len());
            assert_eq!(s.record.report.reps.len(), expected);
        }
        reads += 1;
        if sessions.len() == total || writer.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    writer.join().unwrap();
    assert_eq!(reader.count().unwrap() as usize, total);
    assert!(reads >= 1);
}

#[test]
fn two_writer_threads_on_one_file_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let a = demo_records(2, 21);
    let b = demo_records(2, 22);
    let expected = a.len() + b.len();
    let handles: Vec<_> = [a, b]
        .into_iter()
        .map(|records| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                for r in &records {
                    store.save(r).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(Store::open(&path).unwrap().count().unwrap() as usize, expected);
}

#[test]
fn an_unwritable_location_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).err().expect("a folder is not a database");
    assert!(matches!(err, HistoryError::CannotOpen { .. }), "{err}");
    assert!(err.to_string().contains("--db"));
}

/// A recording made from a simulated session is imported through the analysis, once.
#[test]
fn a_recording_is_analysed_on_import_and_imported_once() {
    use twistcoach::body::{Placement, Variation};
    use twistcoach::device::DeviceSample;
    use twistcoach::record::{self, Record};
    use twistcoach::simulate::{self, Format};
    use twistcoach::stream::Samples;

    let dir = tempfile::tempdir().unwrap();
    let mut settings = simulate::Settings::new(Variation::Seated, vec![Placement::Chest], 5, Format::Raw);
    settings.rate_hz = Some(60.0);
    settings.with_mag = Some(false);
    settings.reps = Some(2);
    let session = simulate::simulate(&settings).unwrap();
    let streams = session.parsed_streams().unwrap();
    let Samples::Imu(samples) = &streams[0].1.samples else {
        panic!("raw stream expected")
    };
    let metadata: record::Metadata = serde_json::from_value(serde_json::json!({
        "schema": "twistcoach.recording/1", "program_version": "0.1.0",
        "started_utc": "2026-11-20T06:30:00Z", "variation": "seated",
        "protocol_toml": null, "caution": null,
        "streams": [{"id": 0, "placement": "chest", "device_kind": "open-imu",
                     "device_address": null, "device_name": null, "mount": "+y:head,+z:out",
                     "protocol": null, "rate_hz": 60.0, "calibration": null}]
    }))
    .unwrap();
    let path = dir.path().join("session.twrec");
    let mut writer = record::writer::create_file(&path, Default::default(), &metadata).unwrap();
    let t0 = samples[0].t_s;
    for s in samples {
        let sample = DeviceSample {
            device_time_s: None,
            sequence: None,
            acc_sensor_mps2: Some(s.acc_sensor_mps2),
            gyro_sensor_radps: Some(s.gyr_sensor_rps),
            mag_sensor_ut: None,
            q_world_from_sensor: None,
            free_acc_world_mps2: None,
        };
        let receive_s = s.t_s - t0;
        writer
            .append(
                &Record::Sample {
                    stream: 0,
                    receive_s,
                    sample,
                },
                receive_s,
            )
            .unwrap();
    }
    writer.finish(samples.last().unwrap().t_s - t0).unwrap();

    let db = db_in(&dir);
    let readers = import::readers();
    let (found, skipped) = import::collect_files(&[dir.path().to_path_buf()], &readers).unwrap();
    assert_eq!(found.len(), 1, "{found:?} {skipped:?}");
    assert_eq!(readers[found[0].1].kind(), "recording");
    let record = readers[found[0].1].read(&path).unwrap().remove(0);
    assert_eq!(record.report.reps.len(), session.report().reps.len());
    for (ours, truth) in record.report.reps.iter().zip(&session.report().reps) {
        assert_eq!(ours.side, truth.side);
        assert!((ours.hold_mean_deg - truth.hold_mean_deg).abs() < 3.0);
    }
    assert_eq!(
        record.started.unix_s,
        LocalTime::parse("2026-11-20T06:30:00Z").unwrap().unix_s
    );
    assert_eq!(record.source.path.as_deref(), Some(path.to_str().unwrap()));
    let mut store = Store::open(&db).unwrap();
    assert!(matches!(store.save(&record).unwrap(), SaveOutcome::Inserted { .. }));
    let again = readers[found[0].1].read(&path).unwrap().remove(0);
    assert!(matches!(store.save(&again).unwrap(), SaveOutcome::Duplicate { .. }));
}
