//! `twistcoach history [--db FILE] [show|add|note|import|export|demo-data]`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{DemoPipeline, ExportFormat, HistoryAction, HistoryArgs, NoteArgs};
use crate::error::{Error, Result};
use crate::history::demo::{self, DirectReports, ProgrammeSettings, SessionPipeline};
use crate::history::import::{self, SessionReader};
use crate::history::symptoms::advice_for;
use crate::history::{
    self, HistoryError, LocalTime, OpenOptions, SaveOutcome, SessionSummary, Store, Symptom, UserNotes, export,
};

/// The database path: `--db`, else the platform default.
pub fn db_path(db: &Option<PathBuf>) -> Result<PathBuf> {
    match db {
        Some(p) => Ok(p.clone()),
        None => history::default_db_path().ok_or_else(|| HistoryError::NoDefaultPath.into()),
    }
}

pub fn run(args: &HistoryArgs) -> Result<()> {
    let db = db_path(&args.db)?;
    match &args.action {
        None => list(&db),
        Some(HistoryAction::Show { id }) => show(&db, *id),
        Some(HistoryAction::Add {
            report,
            started_at,
            notes,
        }) => add(&db, report, started_at.as_deref(), notes),
        Some(HistoryAction::Note { id, notes }) => note(&db, *id, notes),
        Some(HistoryAction::Import { paths }) => import_paths(&db, paths),
        Some(HistoryAction::Export { format, output }) => export_to(&db, *format, output.as_deref()),
        Some(HistoryAction::DemoData {
            weeks,
            seed,
            out_dir,
            pipeline,
        }) => demo_data(&db, *weeks, *seed, out_dir.as_deref(), *pipeline),
    }
}

fn user_notes(args: &NoteArgs) -> UserNotes {
    let mut symptoms = args.symptoms.clone();
    symptoms.sort();
    symptoms.dedup();
    UserNotes {
        pain_before: args.pain_before,
        pain_after: args.pain_after,
        symptoms,
        note: args.note.clone(),
    }
}

/// Say plainly what to do about each recorded symptom. Called every time symptoms are
/// recorded, never suppressed.
fn print_advice(symptoms: &[Symptom]) {
    let advice = advice_for(symptoms);
    if advice.is_empty() {
        return;
    }
    // stderr: it must be seen even when stdout goes to a file or a pipe.
    let mut err = std::io::stderr().lock();
    for (symptom, text) in advice {
        let _ = writeln!(err, "\n!! {symptom}: {text}");
    }
    let _ = writeln!(err);
}

/// After pain ratings are recorded: say so if pain has been rising despite regular
/// stretching (checked on the whole history up to the newest session).
fn check_pain_trend(db: &Path) {
    let Ok(mut store) = Store::open(db) else { return };
    let Ok(sessions) = store.sessions() else { return };
    let days: Vec<(i64, Option<u8>)> = sessions
        .iter()
        .map(|s| (s.record.started.local_day(), s.record.user.pain_before))
        .collect();
    let Some(today) = days.iter().map(|d| d.0).max() else {
        return;
    };
    if let Some(w) = crate::history::symptoms::pain_worsening(&days, today) {
        eprintln!("\n!! pain rising: {}\n", w.message());
    }
}

fn deg(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.0}"))
}

fn pain_text(before: Option<u8>, after: Option<u8>) -> String {
    match (before, after) {
        (None, None) => String::new(),
        (b, a) => format!(
            "{}→{}",
            b.map_or("?".into(), |v| v.to_string()),
            a.map_or("?".into(), |v| v.to_string())
        ),
    }
}

/// One line per session.
pub fn format_table(rows: &[SessionSummary]) -> String {
    let mut out = String::new();
    out.push_str("   ID  started (local)   variation  reps  best L/R°  on target  flags  pain   symptoms\n");
    for r in rows {
        let best = format!("{}/{}", deg(r.best_left_deg), deg(r.best_right_deg));
        let on_target = if r.reps == 0 {
            "–".to_string()
        } else {
            format!("{}/{}", r.holds_on_target, r.reps)
        };
        let caution = r.caution.as_ref().map(|c| format!(" ({c})")).unwrap_or_default();
        out.push_str(&format!(
            "{:>5}  {}  {:<9}  {:>4}  {:>9}  {:>9}  {:>5}  {:<5}  {}{}\n",
            r.id,
            r.started.short(),
            r.variation,
            r.reps,
            best,
            on_target,
            r.rep_flags + r.session_flags,
            pain_text(r.pain_before, r.pain_after),
            r.symptoms.iter().map(|s| s.tag()).collect::<Vec<_>>().join(","),
            caution,
        ));
    }
    out
}

fn list(db: &Path) -> Result<()> {
    let mut store = Store::open(db)?;
    let rows = store.summaries()?;
    if rows.is_empty() {
        println!(
            "No sessions in {} yet. Add one with `twistcoach history add REPORT.json`, import a folder with \
             `twistcoach history import DIR`, or try `twistcoach history demo-data --weeks 8`.",
            db.display()
        );
        return Ok(());
    }
    let text = format!(
        "{}{} sessions in {}. Details: `twistcoach history show ID`; plot: `twistcoach plot -o progress.png`.\n",
        format_table(&rows),
        rows.len(),
        db.display()
    );
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // `twistcoach history | head` closes the pipe early: not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
            path: PathBuf::from("<stdout>"),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn show(db: &Path, id: i64) -> Result<()> {
    let mut store = Store::open(db)?;
    let s = store.session(id)?;
    let r = &s.record.report;
    println!("Session {} — {} ({})", s.id, s.record.started.short(), s.record.started);
    println!(
        "  variation {}, sensors {}, caution {}",
        r.variation.name(),
        r.sensors.iter().map(|p| p.name()).collect::<Vec<_>>().join(" + "),
        r.caution.as_deref().unwrap_or("none")
    );
    println!(
        "  targets: hold {:.0}–{:.0} s, over-rotation above {:.0}°, too fast above {:.0}°/s",
        r.targets.hold_min_s, r.targets.hold_max_s, r.targets.over_rotation_deg, r.targets.too_fast_dps
    );
    println!(
        "  source: {}{}; imported {} by twistcoach {}{}{}",
        s.record.source.kind,
        s.record
            .source
            .path
            .as_ref()
            .map(|p| format!(" {p}"))
            .unwrap_or_default(),
        s.imported_at,
        s.imported_by,
        s.record
            .source
            .program_version
            .as_ref()
            .map(|v| format!(", report by twistcoach {v}"))
            .unwrap_or_default(),
        s.record
            .source
            .protocol
            .as_ref()
            .map(|p| format!(", protocol {p}"))
            .unwrap_or_default(),
    );
    println!("  content sha256 {}", s.record.source.content_sha256);
    if r.reps.is_empty() {
        println!("  no reps");
    } else {
        println!("\n  rep  side   start s  hold s  peak°  hold mean°  flags / notes");
        for (i, rep) in r.reps.iter().enumerate() {
            let mut tags: Vec<String> = rep.flags.iter().map(|f| f.spec_name()).collect();
            tags.extend(rep.notes.iter().cloned());
            tags.extend(rep.cues.iter().map(|c| format!("“{c}”")));
            println!(
                "  {:>3}  {:<5}  {:>7.1}  {:>6.1}  {:>5.1}  {:>10.1}  {}",
                i + 1,
                rep.side.spec_name(),
                rep.start_s,
                rep.hold_s,
                rep.peak_deg,
                rep.hold_mean_deg,
                tags.join(", ")
            );
        }
    }
    for f in &r.flags {
        println!("  session flag: {}", f.spec_name());
    }
    for n in &r.notes {
        println!("  note: {n}");
    }
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    let u = &s.record.user;
    if !u.is_empty() {
        println!();
        if u.pain_before.is_some() || u.pain_after.is_some() {
            println!("  pain (0–10): {}", pain_text(u.pain_before, u.pain_after));
        }
        if !u.symptoms.is_empty() {
            println!(
                "  symptoms: {}",
                u.symptoms.iter().map(|s| s.tag()).collect::<Vec<_>>().join(", ")
            );
        }
        if let Some(note) = &u.note {
            println!("  your note: {note}");
        }
        print_advice(&u.symptoms);
    }
    Ok(())
}

/// Spec names of report enums, for printing.
mod erased {
    pub trait Name {
        fn spec_name(&self) -> String;
    }
    impl<T: serde::Serialize> Name for T {
        fn spec_name(&self) -> String {
            match serde_json::to_value(self) {
                Ok(serde_json::Value::String(s)) => s,
                _ => String::new(),
            }
        }
    }
}
use erased::Name as _;

fn describe(outcome: SaveOutcome, started: LocalTime) -> String {
    match outcome {
        SaveOutcome::Inserted { id } => format!("saved as session {id} ({})", started.short()),
        SaveOutcome::Duplicate {
            id,
            notes_updated: true,
        } => {
            format!("already in the history as session {id}; your notes were added to it")
        }
        SaveOutcome::Duplicate {
            id,
            notes_updated: false,
        } => {
            format!("already in the history as session {id}; nothing added")
        }
    }
}

fn add(db: &Path, report: &Path, started_at: Option<&str>, notes: &NoteArgs) -> Result<()> {
    let mut records = import::ReportJsonReader.read(report)?;
    if records.len() != 1 {
        return Err(Error::Failed(format!(
            "{}: holds {} sessions; `history add` takes one report (use `history import` for several)",
            report.display(),
            records.len()
        )));
    }
    let mut record = records.remove(0);
    if let Some(text) = started_at {
        record.started = LocalTime::parse(text).map_err(|e| Error::Failed(format!("--started-at: {e}")))?;
        record.source.content_sha256 = import::content_sha256(&record.report_json, record.started);
    }
    record.user = record.user.merged_with(&user_notes(notes));
    // Advice first: it must be seen even if saving fails.
    print_advice(&record.user.symptoms);
    let outcome = history::save_or_side_file(db, &record, OpenOptions::default())?;
    println!("{}: {}", report.display(), describe(outcome, record.started));
    if record.user.pain_before.is_some() {
        check_pain_trend(db);
    }
    Ok(())
}

fn note(db: &Path, id: i64, notes: &NoteArgs) -> Result<()> {
    let update = user_notes(notes);
    if update.is_empty() {
        return Err(Error::Failed(
            "nothing to record: give --pain-before, --pain-after, --symptom or --note".into(),
        ));
    }
    print_advice(&update.symptoms);
    let mut store = Store::open(db)?;
    let merged = store.update_user_notes(id, &update)?;
    println!(
        "session {id}: pain {}, symptoms [{}]{}",
        if merged.pain_before.is_none() && merged.pain_after.is_none() {
            "not rated".to_string()
        } else {
            pain_text(merged.pain_before, merged.pain_after)
        },
        merged.symptoms.iter().map(|s| s.tag()).collect::<Vec<_>>().join(", "),
        merged.note.map(|n| format!(", note: {n}")).unwrap_or_default()
    );
    if update.pain_before.is_some() {
        check_pain_trend(db);
    }
    Ok(())
}

fn progress_bar(len: usize, what: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() || len < 2 {
        return None;
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(&format!("{what} {{bar:40}} {{pos}}/{{len}} {{eta}}")) {
        bar.set_style(style);
    }
    Some(bar)
}

fn import_paths(db: &Path, paths: &[PathBuf]) -> Result<()> {
    let readers = import::readers();
    let (files, skipped) = import::collect_files(paths, &readers)?;
    let mut store = Store::open(db)?;
    let bar = progress_bar(files.len(), "importing");
    let (mut added, mut duplicates, mut updated) = (0usize, 0usize, 0usize);
    let mut failures: Vec<crate::error::BadInput> = Vec::new();
    for (file, reader) in &files {
        match readers[*reader].read(file) {
            Ok(records) => {
                for record in records {
                    if !record.user.symptoms.is_empty() {
                        if let Some(bar) = &bar {
                            bar.suspend(|| print_advice(&record.user.symptoms));
                        } else {
                            print_advice(&record.user.symptoms);
                        }
                    }
                    match store.save(&record)? {
                        SaveOutcome::Inserted { .. } => added += 1,
                        SaveOutcome::Duplicate { notes_updated, .. } => {
                            duplicates += 1;
                            updated += usize::from(notes_updated);
                        }
                    }
                }
            }
            Err(e) => {
                let line = format!("twistcoach: skipped: {e}");
                match &bar {
                    Some(bar) => bar.suspend(|| eprintln!("{line}")),
                    None => eprintln!("{line}"),
                }
                failures.push(e);
            }
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    println!(
        "{added} sessions added, {duplicates} already there{}, {} files could not be read, {} other files ignored; \
         {} sessions in {}",
        if updated > 0 {
            format!(" ({updated} with notes updated)")
        } else {
            String::new()
        },
        failures.len(),
        skipped.len(),
        store.count()?,
        db.display()
    );
    if added > 0 {
        check_pain_trend(db);
    }
    match failures.into_iter().next() {
        // Bad input: exit 2, after importing everything that could be read.
        Some(first) => Err(first.into()),
        None => Ok(()),
    }
}

fn export_to(db: &Path, format: ExportFormat, output: Option<&Path>) -> Result<()> {
    let mut store = Store::open(db)?;
    let sessions = store.sessions()?;
    let text = match format {
        ExportFormat::Csv => export::to_csv(&sessions),
        ExportFormat::Json => export::to_json(&sessions),
    };
    match output {
        Some(path) => {
            std::fs::write(path, text).map_err(|source| Error::Output {
                path: path.to_path_buf(),
                source,
            })?;
            eprintln!("exported {} sessions to {}", sessions.len(), path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).map_err(|source| Error::Output {
                path: PathBuf::from("<stdout>"),
                source,
            })?;
        }
    }
    Ok(())
}

/// Settings for a programme of `weeks` ending today (local time).
pub fn demo_settings(weeks: u32, seed: u64) -> ProgrammeSettings {
    let now = LocalTime::now();
    ProgrammeSettings {
        weeks,
        first_day: now.local_day() - i64::from(weeks) * 7 + 1,
        utc_offset_s: now.utc_offset_s,
        seed,
    }
}

/// Plan a programme, run each session through `pipeline`, save each session (one
/// transaction each). Returns (added, already there).
pub fn fill_with_programme(
    store: &mut Store,
    settings: &ProgrammeSettings,
    pipeline: &mut dyn SessionPipeline,
    out_dir: Option<&Path>,
) -> Result<(usize, usize)> {
    let plans = demo::plan_programme(settings);
    let bar = progress_bar(plans.len(), "simulating");
    let (mut added, mut duplicates) = (0, 0);
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(dir).map_err(|source| Error::Output {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    for plan in &plans {
        let report = pipeline.run(plan)?;
        let record = import::record_from_report(&report, plan.started, pipeline.kind(), plan.user.clone());
        if let Some(dir) = out_dir {
            let c = plan.started.civil();
            let path = dir.join(format!(
                "{:04}{:02}{:02}-{:02}{:02}-{}.json",
                c.year(),
                c.month(),
                c.day(),
                c.hour(),
                c.minute(),
                plan.variation.name()
            ));
            let text = serde_json::to_string_pretty(&import::record_to_json(&record))
                .map_err(|e| Error::Failed(e.to_string()))?;
            std::fs::write(&path, text).map_err(|source| Error::Output { path, source })?;
        }
        match store.save(&record)? {
            SaveOutcome::Inserted { .. } => added += 1,
            SaveOutcome::Duplicate { .. } => duplicates += 1,
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok((added, duplicates))
}

/// `history demo-data` and `demo --weeks N --db FILE`.
pub fn demo_data(db: &Path, weeks: u32, seed: u64, out_dir: Option<&Path>, pipeline: DemoPipeline) -> Result<()> {
    if weeks == 0 || weeks > 520 {
        return Err(Error::Failed("--weeks must be 1 to 520".into()));
    }
    let mut store = Store::open(db)?;
    let settings = demo_settings(weeks, seed);
    let started = std::time::Instant::now();
    let (added, duplicates, how) = match pipeline {
        DemoPipeline::Direct => {
            let mut p = DirectReports::new(seed);
            let (a, d) = fill_with_programme(&mut store, &settings, &mut p, out_dir)?;
            (
                a,
                d,
                "written directly from the simulated programme (no signal processing)",
            )
        }
        DemoPipeline::Simulated => {
            let mut p = crate::history::demo_sim::SimulatedAnalysis::new(seed);
            let (a, d) = fill_with_programme(&mut store, &settings, &mut p, out_dir)?;
            (a, d, "simulated sensors (raw IMU, 60 Hz) analysed by the real analysis")
        }
    };
    println!(
        "{added} simulated sessions added ({duplicates} already there) over {weeks} weeks to {} in {:.1} s.\n\
         Reports: {how}.\n\
         Next: `twistcoach history --db {0}` or `twistcoach plot --db {0} -o progress.png`.",
        db.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Save a finished session to the history (live, replay, `analyze --save`): from its
/// recording when there is one (analysed on the whole recording, and never stored twice,
/// however often it is replayed or imported), else the report as it is. A session that
/// cannot be saved goes to a side file; either way the outcome is one line on stderr, and
/// the command that produced the session still succeeds.
pub fn autosave(db: &Option<PathBuf>, report: &crate::session::report::Report, recording: Option<&Path>, kind: &str) {
    let db = match db_path(db) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("twistcoach: warning: not saved to the history: {e}");
            return;
        }
    };
    let record = match recording {
        Some(path) => match import::RecordingReader.read(path) {
            Ok(mut records) if !records.is_empty() => records.remove(0),
            Ok(_) => import::record_from_report(report, LocalTime::now(), kind, Default::default()),
            Err(e) => {
                eprintln!("twistcoach: warning: {e}; saving the session's own report instead");
                import::record_from_report(report, LocalTime::now(), kind, Default::default())
            }
        },
        None => import::record_from_report(report, LocalTime::now(), kind, Default::default()),
    };
    match history::save_or_side_file(&db, &record, OpenOptions::default()) {
        Ok(outcome) => eprintln!("history ({}): {}", db.display(), describe(outcome, record.started)),
        Err(e) => eprintln!("twistcoach: warning: {e}"),
    }
}
