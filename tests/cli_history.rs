//! Drives the real binary: `history` (list, add, show, note, import, export, demo-data)
//! and `plot` (PNG decoded to check its size, SVG parsed), safety messages for red-flag
//! symptoms, two processes writing one database, damaged and locked databases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use twistcoach::history::Store;
use twistcoach::history::demo::{DirectReports, ProgrammeSettings, SessionPipeline, plan_programme};
use twistcoach::history::import;
use twistcoach::plot;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twistcoach"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

const REPORT: &str = r#"{
  "schema": "twistcoach.report/1", "variation": "standing", "caution": "pregnancy",
  "sensors": ["chest"],
  "targets": {"hold_min_s": 10, "hold_max_s": 20, "over_rotation_deg": 30, "too_fast_dps": 60},
  "reps": [
    {"side": "left", "start_s": 1.0, "hold_start_s": 2.5, "hold_end_s": 14.0, "end_s": 15.5,
     "hold_s": 11.5, "peak_deg": 28.0, "hold_mean_deg": 26.0, "flags": []},
    {"side": "right", "start_s": 20.0, "hold_start_s": 21.5, "hold_end_s": 27.0, "end_s": 28.5,
     "hold_s": 5.5, "peak_deg": 31.0, "hold_mean_deg": 29.0, "flags": ["short_hold", "over_rotation"]}
  ],
  "flags": [],
  "started_at": "2026-05-04T18:45:00+02:00"
}"#;

/// Write `weeks` of demo reports as JSON files into `dir`.
fn write_demo_reports(dir: &Path, weeks: u32, seed: u64) -> usize {
    std::fs::create_dir_all(dir).unwrap();
    let settings = ProgrammeSettings {
        weeks,
        first_day: 20_600,
        utc_offset_s: 3600,
        seed,
    };
    let mut pipeline = DirectReports::new(seed);
    let plans = plan_programme(&settings);
    for (i, plan) in plans.iter().enumerate() {
        let report = pipeline.run(plan).unwrap();
        let record = import::record_from_report(&report, plan.started, "demo", plan.user.clone());
        let json = serde_json::to_string_pretty(&import::record_to_json(&record)).unwrap();
        std::fs::write(dir.join(format!("r{seed}-{i:04}.json")), json).unwrap();
    }
    plans.len()
}

#[test]
fn add_list_show_note_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let report = dir.path().join("report.json");
    std::fs::write(&report, REPORT).unwrap();

    let (stdout, _) = text(&run(&["history", "--db", p(&db)]));
    assert!(stdout.contains("No sessions"), "{stdout}");

    let out = run(&[
        "history",
        "--db",
        p(&db),
        "add",
        p(&report),
        "--pain-before",
        "3",
        "--pain-after",
        "2",
        "--note",
        "ok",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains("saved as session 1"), "{:?}", text(&out));
    let again = run(&["history", "--db", p(&db), "add", p(&report)]);
    assert!(
        text(&again).0.contains("already in the history as session 1"),
        "{:?}",
        text(&again)
    );

    let (stdout, _) = text(&run(&["history", "--db", p(&db)]));
    let lines: Vec<&str> = stdout.lines().collect();
    // Header, one session line, footer.
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[1].contains("2026-05-04 18:45") && lines[1].contains("standing"),
        "{stdout}"
    );
    assert!(
        lines[1].contains("26/29") && lines[1].contains("1/2") && lines[1].contains("3→2"),
        "{stdout}"
    );
    assert!(lines[1].contains("(pregnancy)"), "{stdout}");

    let (stdout, _) = text(&run(&["history", "--db", p(&db), "show", "1"]));
    assert!(
        stdout.contains("over_rotation") && stdout.contains("your note: ok"),
        "{stdout}"
    );
    let missing = run(&["history", "--db", p(&db), "show", "7"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing).1.contains("no session with id 7"));

    let out = run(&["history", "--db", p(&db), "note", "1", "--pain-after", "11"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses a pain rating over 10");
    assert!(text(&out).1.contains("0 (none) to 10"), "{:?}", text(&out));

    let csv = dir.path().join("out.csv");
    assert!(
        run(&["history", "--db", p(&db), "export", "--format", "csv", "-o", p(&csv)])
            .status
            .success()
    );
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = csv_text.lines().collect();
    assert_eq!(rows.len(), 3, "header + one row per rep: {csv_text}");
    assert_eq!(rows[0], twistcoach::history::export::CSV_HEADER);
    assert!(rows[2].contains("short_hold over_rotation"), "{}", rows[2]);

    let (json, _) = text(&run(&["history", "--db", p(&db), "export", "--format", "json"]));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value[0]["user_notes"]["pain_before"], 3);
    assert_eq!(value[0]["reps"][1]["peak_deg"], 31.0);
    // The JSON export imports into a new database unchanged and without duplicates.
    let exported = dir.path().join("export.json");
    std::fs::write(&exported, &json).unwrap();
    let db2 = dir.path().join("h2.sqlite");
    for _ in 0..2 {
        assert!(
            run(&["history", "--db", p(&db2), "import", p(&exported)])
                .status
                .success()
        );
    }
    let mut s1 = Store::open(&db).unwrap().sessions().unwrap();
    let mut s2 = Store::open(&db2).unwrap().sessions().unwrap();
    assert_eq!(s2.len(), 1);
    let (a, b) = (s1.remove(0).record, s2.remove(0).record);
    assert_eq!(a.report, b.report);
    assert_eq!(a.user, b.user);
    assert_eq!(a.source.content_sha256, b.source.content_sha256);
}

#[test]
fn red_flag_symptoms_print_advice_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let report = dir.path().join("report.json");
    std::fs::write(&report, REPORT).unwrap();
    for _ in 0..2 {
        let out = run(&["history", "--db", p(&db), "add", p(&report), "--symptom", "leg-pain"]);
        assert!(out.status.success());
        let (_, stderr) = text(&out);
        assert!(
            stderr.contains("leg-pain") && stderr.contains("see a clinician"),
            "{stderr}"
        );
    }
    let out = run(&[
        "history",
        "--db",
        p(&db),
        "note",
        "1",
        "--symptom",
        "sharp-pain",
        "--symptom",
        "bladder",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("stop that stretch"), "{stderr}");
    assert!(stderr.contains("emergency"), "{stderr}");
    // Most urgent first.
    assert!(
        stderr.find("bladder").unwrap() < stderr.find("sharp-pain").unwrap(),
        "{stderr}"
    );
    assert!(stdout.contains("leg-pain, bladder, sharp-pain"), "{stdout}");
    // Stiffness is recorded without alarm.
    let out = run(&["history", "--db", p(&db), "note", "1", "--symptom", "stiffness"]);
    assert!(!text(&out).1.contains("!!"), "{:?}", text(&out));
    let bad = run(&["history", "--db", p(&db), "note", "1", "--symptom", "backache"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).1.contains("leg-pain"), "the error lists the valid tags");
}

#[test]
fn import_a_folder_twice_adds_each_session_once_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let reports = dir.path().join("reports");
    let n = write_demo_reports(&reports, 1, 5);
    std::fs::write(reports.join("notes.txt"), "not a report").unwrap();
    let out = run(&["history", "--db", p(&db), "import", p(&reports)]);
    let (stdout, _) = text(&out);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(stdout.contains(&format!("{n} sessions added")), "{stdout}");
    assert!(stdout.contains("1 other files ignored"), "{stdout}");
    let out = run(&["history", "--db", p(&db), "import", p(&reports)]);
    assert!(
        text(&out).0.contains(&format!("0 sessions added, {n} already there")),
        "{:?}",
        text(&out)
    );
    assert_eq!(Store::open(&db).unwrap().count().unwrap() as usize, n);

    // A broken report: the rest is imported, the bad one named, exit 2.
    std::fs::write(
        reports.join("zz-broken.json"),
        "{\"schema\": \"twistcoach.report/1\", \"reps\": [}",
    )
    .unwrap();
    let out = run(&["history", "--db", p(&db), "import", p(&reports)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("zz-broken.json"), "{:?}", text(&out));
}

#[test]
fn two_processes_import_into_one_database_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let n = write_demo_reports(&a, 2, 1) + write_demo_reports(&b, 2, 2);
    // Both start before either finishes: real overlap on one file.
    let mut c1 = bin()
        .args(["history", "--db", p(&db), "import", p(&a)])
        .spawn()
        .unwrap();
    let mut c2 = bin()
        .args(["history", "--db", p(&db), "import", p(&b)])
        .spawn()
        .unwrap();
    assert!(c1.wait().unwrap().success());
    assert!(c2.wait().unwrap().success());
    assert_eq!(Store::open(&db).unwrap().count().unwrap() as usize, n);
}

#[test]
fn a_damaged_database_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    std::fs::write(
        &db,
        b"this is not sqlite at all, just some text that someone saved here\n".repeat(40),
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    let report = dir.path().join("report.json");
    std::fs::write(&report, REPORT).unwrap();
    let out = run(&["history", "--db", p(&db), "add", p(&report), "--pain-before", "6"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(p(&db)) && stderr.contains("untouched"), "{stderr}");
    assert!(stderr.contains("Nothing was lost"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // The side file holds the report and the pain rating.
    let pending = dir.path().join("h.sqlite.pending");
    let side: Vec<PathBuf> = std::fs::read_dir(&pending)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(side.len(), 1);
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&side[0]).unwrap()).unwrap();
    assert_eq!(value["user_notes"]["pain_before"], 6);
    // Plotting from it fails with the same clear message.
    let out = run(&["plot", "--db", p(&db), "-o", p(&dir.path().join("x.png"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("untouched"));
}

fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    // Not a blank image: some pixels differ from the background.
    assert!(buf.iter().any(|&b| b != 255), "image is blank");
    (info.width, info.height)
}

#[test]
fn plot_png_and_svg_from_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let out = run(&[
        "history",
        "--db",
        p(&db),
        "demo-data",
        "--weeks",
        "6",
        "--pipeline",
        "direct",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));

    let png_path = dir.path().join("progress.png");
    let out = run(&["plot", "--db", p(&db), "-o", p(&png_path)]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("Seated:") && stdout.contains("Supine:"), "{stdout}");
    // The expected size: two variations and the calendar.
    let mut store = Store::open(&db).unwrap();
    let records: Vec<_> = store.sessions().unwrap().into_iter().map(|s| s.record).collect();
    let refs: Vec<_> = records.iter().collect();
    let progress = plot::progress(&refs, None);
    assert_eq!(progress.variations.len(), 2);
    assert!(
        progress
            .variations
            .iter()
            .all(|v| !v.left.is_empty() && !v.right.is_empty() && !v.weeks.is_empty())
    );
    assert_eq!(png_size(&png_path), plot::figure_size(&progress));

    let svg_path = dir.path().join("progress.svg");
    let out = run(&["plot", "--db", p(&db), "--variation", "seated", "-o", p(&svg_path)]);
    assert!(out.status.success(), "{:?}", text(&out));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("Seated:") && !svg.contains("Supine:"));
    assert!(svg.matches("<polyline").count() >= 3, "trend lines drawn");
    assert!(svg.matches("<circle").count() >= 20, "session points drawn");

    let bad = run(&["plot", "--db", p(&db), "-o", p(&dir.path().join("x.jpg"))]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).1.contains(".png or .svg"));
}

#[test]
fn plot_empty_and_single_session_histories() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.sqlite");
    let out_png = dir.path().join("empty.png");
    let out = run(&["plot", "--db", p(&db), "-o", p(&out_png)]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(png_size(&out_png), (plot::WIDTH_PX, 300));

    let report = dir.path().join("report.json");
    std::fs::write(&report, REPORT).unwrap();
    assert!(run(&["history", "--db", p(&db), "add", p(&report)]).status.success());
    let one = dir.path().join("one.png");
    let out = run(&["plot", "--db", p(&db), "-o", p(&one)]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains("too short a history"), "{:?}", text(&out));
    let (w, h) = png_size(&one);
    assert_eq!(w, plot::WIDTH_PX);
    assert!(h > 600, "{h}");
}

#[test]
fn rising_pain_despite_daily_sessions_is_called_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    for day in 1..=28 {
        let pain = if day <= 14 { 2 } else { 5 };
        let text = REPORT
            .replace("2026-05-04T18:45:00+02:00", &format!("2026-06-{day:02}T08:00:00+02:00"))
            .replace(
                "\"flags\": [],\n  \"started_at\"",
                &format!("\"flags\": [], \"user_notes\": {{\"pain_before\": {pain}}},\n  \"started_at\""),
            );
        std::fs::write(reports.join(format!("{day:02}.json")), text).unwrap();
    }
    let out = run(&["history", "--db", p(&db), "import", p(&reports)]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("28 sessions added"), "{stdout}");
    assert!(
        stderr.contains("pain rising") && stderr.contains("2.0 to 5.0"),
        "{stderr}"
    );
    assert!(stderr.contains("clinician"), "{stderr}");
}

#[test]
fn demo_weeks_fills_a_database_through_simulation_and_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = run(&["demo", "--weeks", "1", "--db", p(&db)]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("analysed by the real analysis"), "{stdout}");
    let mut store = Store::open(&db).unwrap();
    let sessions = store.sessions().unwrap();
    assert!(sessions.len() >= 7, "{}", sessions.len());
    for s in &sessions {
        assert_eq!(s.record.source.kind, "simulated+analyzed");
        assert!(!s.record.report.reps.is_empty());
    }
}
