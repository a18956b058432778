//! Reading sessions from files. Each file kind has a `SessionReader`; `readers()` lists
//! them: report JSON files (`twistcoach.report/1`, also the side files written when the
//! database could not be, and `history export --format json`), and recordings
//! (`twistcoach.recording/1`, analysed on import).
//!
//! Report JSON extensions understood here (all optional; the spec allows extra fields):
//! `started_at` (RFC 3339 with offset; else the file's modification time), `protocol`,
//! `program_version`, and `user_notes` = `{pain_before, pain_after, symptoms, note}`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::symptoms::Symptom;
use super::time::LocalTime;
use super::{SessionRecord, SourceInfo, UserNotes};
use crate::error::{BadInput, Problem};
use crate::session::report::{REPORT_SCHEMA, Report};

/// Turns one file into a session.
pub trait SessionReader {
    /// Short name stored as the session's `source_kind`.
    fn kind(&self) -> &'static str;
    /// Whether this reader handles `path` (by name and the first bytes of its content).
    fn accepts(&self, path: &Path, head: &[u8]) -> bool;
    /// Read the file's sessions (one, or several for an export). `Err` names the file
    /// (and line) and what is wrong.
    fn read(&self, path: &Path) -> Result<Vec<SessionRecord>, BadInput>;
}

/// Every reader, tried in order.
pub fn readers() -> Vec<Box<dyn SessionReader>> {
    vec![Box::new(ReportJsonReader), Box::new(RecordingReader)]
}

/// Recordings (`twistcoach.recording/1`, docs/recording-format.md): read the streams and
/// run the analysis on the whole recording (the refined analysis the spec asks history
/// to keep), with the recording's variation, caution, protocol and mounts.
pub struct RecordingReader;

impl SessionReader for RecordingReader {
    fn kind(&self) -> &'static str {
        "recording"
    }

    fn accepts(&self, _path: &Path, head: &[u8]) -> bool {
        head.starts_with(&crate::record::format::header()[..8])
    }

    fn read(&self, path: &Path) -> Result<Vec<SessionRecord>, BadInput> {
        let bytes = std::fs::read(path).map_err(|e| BadInput::file(path, Problem::Missing(e.to_string())))?;
        let recording = crate::record::reader::read_file(path)?;
        let meta = recording
            .metadata()
            .ok_or_else(|| {
                bad(
                    path,
                    None,
                    "the recording has no metadata (cut short before the session started)".into(),
                )
            })?
            .clone();
        let recorded = crate::record::streams::to_streams(&recording).map_err(|e| bad(path, None, e.to_string()))?;
        let mut config = crate::analysis::Config::new(meta.variation);
        if let Some(name) = &meta.caution {
            config.caution = Some(
                crate::session::protocol::Caution::parse(name)
                    .ok_or_else(|| bad(path, None, format!("unknown caution profile `{name}` in the metadata")))?,
            );
        }
        if let Some(toml) = &meta.protocol_toml {
            config.protocol = crate::session::protocol::Protocol::from_toml(path, toml)?;
        }
        let mut streams = Vec::new();
        let mut input_warnings: Vec<String> = recording.warning().into_iter().collect();
        for r in recorded {
            input_warnings.extend(r.warnings);
            let mount = if r.info.mount.trim().is_empty() {
                crate::body::mount::Mount::default()
            } else {
                crate::body::mount::parse_mount_arg(&format!("{}={}", r.info.placement.name(), r.info.mount))
                    .map_err(|e| {
                        bad(
                            path,
                            None,
                            format!("stream {}: mount `{}`: {e}", r.info.id, r.info.mount),
                        )
                    })?
                    .1
            };
            streams.push(crate::analysis::SensorStream {
                placement: r.info.placement,
                path: PathBuf::from(format!("{}#{}", path.display(), r.info.placement.name())),
                stream: r.stream,
                mount,
            });
        }
        let mut report = crate::analysis::analyze(&streams, &config)?;
        report.warnings.extend(input_warnings);
        let started = match &meta.started_utc {
            Some(text) => {
                let utc = LocalTime::parse(text).map_err(|e| bad(path, None, format!("`started_utc`: {e}")))?;
                // Shown in the local time zone of this machine (the recording stores UTC).
                LocalTime::from_system(jiff::Timestamp::from_second(utc.unix_s).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
            }
            None => std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(LocalTime::from_file_time)
                .unwrap_or_else(LocalTime::now),
        };
        let mut value = serde_json::to_value(&report).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = value.as_object_mut() {
            obj.insert("started_at".into(), serde_json::Value::String(started.to_string()));
            obj.insert(
                "program_version".into(),
                serde_json::Value::String(meta.program_version.clone()),
            );
        }
        let digest = Sha256::digest(&bytes);
        Ok(vec![SessionRecord {
            started,
            report,
            report_json: value,
            source: SourceInfo {
                kind: self.kind().into(),
                path: Some(path.display().to_string()),
                // The recording's bytes: the same recording imported twice is one session.
                content_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
                protocol: meta.protocol_toml.as_ref().map(|t| {
                    let d = Sha256::digest(t.as_bytes());
                    format!(
                        "toml sha256 {}",
                        d.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>()
                    )
                }),
                program_version: Some(meta.program_version.clone()),
            },
            user: UserNotes::default(),
        }])
    }
}

/// `twistcoach.report/1` JSON files.
pub struct ReportJsonReader;

/// The key of the user's notes in a report JSON (side files and `history export`).
pub const USER_NOTES_KEY: &str = "user_notes";
/// The session id that `history export --format json` adds (dropped on import).
pub const EXPORT_ID_KEY: &str = "history_id";

#[derive(Debug, Default, Serialize, Deserialize)]
struct UserNotesJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pain_before: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pain_after: Option<u8>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    symptoms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl SessionReader for ReportJsonReader {
    fn kind(&self) -> &'static str {
        "report-json"
    }

    fn accepts(&self, path: &Path, head: &[u8]) -> bool {
        let is_json = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let text = String::from_utf8_lossy(head);
        let start = text.trim_start_matches('\u{feff}').trim_start();
        is_json && (start.starts_with('{') || start.starts_with('['))
    }

    fn read(&self, path: &Path) -> Result<Vec<SessionRecord>, BadInput> {
        let bytes = std::fs::read(path).map_err(|e| BadInput::file(path, Problem::Missing(e.to_string())))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| BadInput::file(path, Problem::Other("not UTF-8 text; expected a JSON report".into())))?;
        let text = text.trim_start_matches('\u{feff}');
        let mtime = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(LocalTime::from_file_time);
        let mut records = if text.trim_start().starts_with('[') {
            // `history export --format json`: an array of reports.
            let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
                bad(
                    path,
                    Some(e.line()),
                    format!("not valid JSON ({e}); expected a report or an array of reports"),
                )
            })?;
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    parse_report_value(path, item, mtime).map_err(|mut e| {
                        e.problem = Problem::Other(format!("item {}: {}", i + 1, e.problem));
                        e
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            vec![parse_report_json(path, text, mtime)?]
        };
        for record in &mut records {
            record.source.kind = self.kind().to_string();
            record.source.path = Some(path.display().to_string());
        }
        Ok(records)
    }
}

fn bad(path: &Path, line: Option<usize>, message: String) -> BadInput {
    match line {
        Some(l) => BadInput::at_line(path, l, Problem::Other(message)),
        None => BadInput::file(path, Problem::Other(message)),
    }
}

/// Parse a report JSON (with the extensions above) into a session record. `fallback_start`
/// is used when the report has no `started_at`.
pub fn parse_report_json(
    path: &Path,
    text: &str,
    fallback_start: Option<LocalTime>,
) -> Result<SessionRecord, BadInput> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(
            path,
            Some(e.line()),
            format!("not valid JSON ({e}); expected a twistcoach.report/1 report"),
        )
    })?;
    parse_report_value(path, value, fallback_start)
}

/// As `parse_report_json`, from parsed JSON.
pub fn parse_report_value(
    path: &Path,
    mut value: serde_json::Value,
    fallback_start: Option<LocalTime>,
) -> Result<SessionRecord, BadInput> {
    let obj = value.as_object_mut().ok_or_else(|| {
        bad(
            path,
            None,
            "expected a JSON object (a twistcoach.report/1 report)".into(),
        )
    })?;
    match obj.get("schema").and_then(|s| s.as_str()) {
        Some(REPORT_SCHEMA) => {}
        Some(other) => {
            return Err(bad(
                path,
                None,
                format!("schema `{other}` is not `{REPORT_SCHEMA}`; this version cannot import it"),
            ));
        }
        None => {
            return Err(bad(
                path,
                None,
                format!("no `schema` field; expected `{REPORT_SCHEMA}`"),
            ));
        }
    }
    let user_json = obj.remove(USER_NOTES_KEY);
    obj.remove(EXPORT_ID_KEY);
    let started_at = obj.get("started_at").and_then(|v| v.as_str()).map(str::to_string);
    let protocol = obj.get("protocol").and_then(|v| v.as_str()).map(str::to_string);
    let program_version = obj.get("program_version").and_then(|v| v.as_str()).map(str::to_string);

    let report: Report = serde_json::from_value(value.clone())
        .map_err(|e| bad(path, None, format!("not a valid {REPORT_SCHEMA} report: {e}")))?;
    check_report(path, &report)?;
    let started = match (started_at, fallback_start) {
        (Some(text), _) => LocalTime::parse(&text).map_err(|e| bad(path, None, format!("`started_at`: {e}")))?,
        (None, Some(t)) => t,
        (None, None) => LocalTime::now(),
    };
    let user = match user_json {
        None | Some(serde_json::Value::Null) => UserNotes::default(),
        Some(v) => {
            let raw: UserNotesJson =
                serde_json::from_value(v).map_err(|e| bad(path, None, format!("`{USER_NOTES_KEY}`: {e}")))?;
            user_notes_from_json(path, raw)?
        }
    };
    Ok(SessionRecord {
        started,
        source: SourceInfo {
            kind: "report-json".into(),
            path: None,
            content_sha256: content_sha256(&value, started),
            protocol,
            program_version,
        },
        report,
        report_json: value,
        user,
    })
}

fn user_notes_from_json(path: &Path, raw: UserNotesJson) -> Result<UserNotes, BadInput> {
    for (name, v) in [("pain_before", raw.pain_before), ("pain_after", raw.pain_after)] {
        if v.is_some_and(|v| v > 10) {
            return Err(bad(path, None, format!("`{USER_NOTES_KEY}.{name}` must be 0–10")));
        }
    }
    let mut symptoms = Vec::new();
    for tag in &raw.symptoms {
        symptoms.push(super::symptoms::parse_tag(tag).map_err(|e| bad(path, None, e))?);
    }
    symptoms.sort();
    symptoms.dedup();
    Ok(UserNotes {
        pain_before: raw.pain_before,
        pain_after: raw.pain_after,
        symptoms,
        note: raw.note,
    })
}

/// The report's numbers must be usable: finite, non-negative where the spec says so.
fn check_report(path: &Path, report: &Report) -> Result<(), BadInput> {
    let t = &report.targets;
    for (name, v) in [
        ("targets.hold_min_s", t.hold_min_s),
        ("targets.hold_max_s", t.hold_max_s),
        ("targets.over_rotation_deg", t.over_rotation_deg),
        ("targets.too_fast_dps", t.too_fast_dps),
    ] {
        if !v.is_finite() {
            return Err(bad(path, None, format!("`{name}` is not a finite number")));
        }
    }
    for (i, rep) in report.reps.iter().enumerate() {
        for (name, v) in [
            ("start_s", rep.start_s),
            ("hold_start_s", rep.hold_start_s),
            ("hold_end_s", rep.hold_end_s),
            ("end_s", rep.end_s),
            ("hold_s", rep.hold_s),
            ("peak_deg", rep.peak_deg),
            ("hold_mean_deg", rep.hold_mean_deg),
        ] {
            if !v.is_finite() {
                return Err(bad(path, None, format!("reps[{i}].{name} is not a finite number")));
            }
        }
        if rep.peak_deg < 0.0 || rep.hold_mean_deg < 0.0 || rep.hold_s < 0.0 {
            return Err(bad(
                path,
                None,
                format!("reps[{i}]: peak_deg, hold_mean_deg and hold_s must be ≥ 0"),
            ));
        }
    }
    Ok(())
}

/// SHA-256 of the report's canonical JSON (keys sorted, no whitespace), with its start
/// time and without the user's notes: the same report pretty-printed differently, or
/// with notes added, is the same session; two identical reports (say, no reps) at
/// different times are not.
pub fn content_sha256(report_json: &serde_json::Value, started: LocalTime) -> String {
    let mut canonical = report_json.clone();
    if let Some(obj) = canonical.as_object_mut() {
        obj.remove(USER_NOTES_KEY);
        obj.insert("started_at".into(), serde_json::Value::String(started.to_string()));
    }
    // serde_json's Map is a BTreeMap (no `preserve_order`): keys serialize sorted.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The report JSON of a record with `started_at` and the user's notes added: what the
/// side file and `history export --format json` contain, and what `import` reads back.
pub fn record_to_json(record: &SessionRecord) -> serde_json::Value {
    let mut value = record.report_json.clone();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "started_at".into(),
            serde_json::Value::String(record.started.to_string()),
        );
        if !record.user.is_empty() {
            let notes = UserNotesJson {
                pain_before: record.user.pain_before,
                pain_after: record.user.pain_after,
                symptoms: record.user.symptoms.iter().map(|s| s.tag().to_string()).collect(),
                note: record.user.note.clone(),
            };
            obj.insert(
                USER_NOTES_KEY.into(),
                serde_json::to_value(notes).unwrap_or(serde_json::Value::Null),
            );
        }
    }
    value
}

/// Build a record from a report made in this process (demo data, later a live session).
pub fn record_from_report(report: &Report, started: LocalTime, kind: &str, user: UserNotes) -> SessionRecord {
    let mut value = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("started_at".into(), serde_json::Value::String(started.to_string()));
        obj.insert(
            "program_version".into(),
            serde_json::Value::String(env!("CARGO_PKG_VERSION").into()),
        );
    }
    SessionRecord {
        started,
        report: report.clone(),
        source: SourceInfo {
            kind: kind.to_string(),
            path: None,
            content_sha256: content_sha256(&value, started),
            protocol: None,
            program_version: Some(env!("CARGO_PKG_VERSION").into()),
        },
        report_json: value,
        user,
    }
}

/// Files found for import: (file, index of the reader that accepts it).
pub type FoundFiles = Vec<(PathBuf, usize)>;

/// Files to import from the given paths: files as given, folders walked recursively
/// (sorted, hidden entries skipped). Returns (file, reader index) pairs and the files in
/// folders that no reader accepts (skipped). An explicitly named file that no reader
/// accepts is an error.
pub fn collect_files(
    paths: &[PathBuf],
    readers: &[Box<dyn SessionReader>],
) -> Result<(FoundFiles, Vec<PathBuf>), BadInput> {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| BadInput::file(path, Problem::Missing(e.to_string())))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files).map_err(|e| BadInput::file(path, Problem::Missing(e.to_string())))?;
            files.sort();
            for file in files {
                match pick_reader(&file, readers) {
                    Some(i) => found.push((file, i)),
                    None => skipped.push(file),
                }
            }
        } else {
            let i = pick_reader(path, readers).ok_or_else(|| {
                bad(
                    path,
                    None,
                    format!(
                        "not a file history can import (supported: {}); expected a twistcoach.report/1 JSON file",
                        readers.iter().map(|r| r.kind()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            found.push((path.clone(), i));
        }
    }
    Ok((found, skipped))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn pick_reader(path: &Path, readers: &[Box<dyn SessionReader>]) -> Option<usize> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).ok()?;
    readers.iter().position(|r| r.accepts(path, &head[..n]))
}

/// Write `record` next to the database as a side file (when the database cannot be
/// written): `<db>.pending/<started>-<hash>.json`, importable with `history import`.
pub fn write_side_file(db_path: &Path, record: &SessionRecord) -> std::io::Result<PathBuf> {
    let mut dir = db_path.as_os_str().to_owned();
    dir.push(".pending");
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir)?;
    let c = record.started.civil();
    let name = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}-{}.json",
        c.year(),
        c.month(),
        c.day(),
        c.hour(),
        c.minute(),
        c.second(),
        &record.source.content_sha256[..12.min(record.source.content_sha256.len())]
    );
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(&record_to_json(record)).map_err(std::io::Error::other)?;
    // Write then rename, so a crash never leaves half a file under the final name.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Parse `--symptom` values into tags.
pub fn parse_symptoms(tags: &[String]) -> Result<Vec<Symptom>, String> {
    let mut out = Vec::new();
    for tag in tags {
        for part in tag.split(',').filter(|p| !p.trim().is_empty()) {
            out.push(super::symptoms::parse_tag(part)?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
