//! The SQLite store: open (with migrations), save one session per transaction, read back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::schema;
use super::symptoms::Symptom;
use super::time::LocalTime;
use super::{HistoryError, SessionRecord, SessionSummary, SourceInfo, StoredSession, UserNotes};
use crate::session::report::{Rep, Report, SessionFlag, Targets};

/// How to open the database.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// How long to wait for another writer before giving up with `HistoryError::Locked`.
    pub busy_timeout_s: f64,
    /// Run SQLite's `quick_check` on open, so damage is found before anything is written.
    pub integrity_check: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            busy_timeout_s: 5.0,
            integrity_check: true,
        }
    }
}

/// Whether `save` added a session or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveOutcome {
    Inserted {
        id: i64,
    },
    /// Same content hash as session `id`; user notes, if any, were merged into it.
    Duplicate {
        id: i64,
        notes_updated: bool,
    },
}

impl SaveOutcome {
    pub fn id(self) -> i64 {
        match self {
            SaveOutcome::Inserted { id } | SaveOutcome::Duplicate { id, .. } => id,
        }
    }
}

/// An open history database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    options: OpenOptions,
}

/// A value's spec name (`"left"`, `"short_hold"`, `"seated"`) via its serde form.
fn spec_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn from_spec_name<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

fn join_names<T: Serialize>(items: &[T]) -> String {
    items.iter().map(spec_name).collect::<Vec<_>>().join(",")
}

fn split_names<T: DeserializeOwned>(text: &str) -> Vec<T> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .filter_map(from_spec_name)
        .collect()
}

/// A rep holds on target when it reaches the hold target's minimum.
pub fn hold_on_target(rep: &Rep, targets: &Targets) -> bool {
    rep.hold_s >= targets.hold_min_s
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Store, HistoryError> {
        Store::open_with(path, OpenOptions::default())
    }

    pub fn open_with(path: &Path, options: OpenOptions) -> Result<Store, HistoryError> {
        let err = |e: rusqlite::Error| HistoryError::from_sqlite(path, e, options.busy_timeout_s);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HistoryError::CannotOpen {
                path: path.to_path_buf(),
                detail: format!("cannot create folder {}: {e}", dir.display()),
            })?;
        }
        if path.is_dir() {
            return Err(HistoryError::CannotOpen {
                path: path.to_path_buf(),
                detail: "it is a folder; give a file name such as history.sqlite".into(),
            });
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs_f64(options.busy_timeout_s))
            .map_err(err)?;
        // Reading the header first: a file that is not SQLite fails here, before anything
        // could be written to it.
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
        if options.integrity_check && version > 0 {
            let verdict: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(err)?;
            if verdict != "ok" {
                return Err(HistoryError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!("SQLite integrity check: {verdict}"),
                });
            }
        }
        if version > schema::LATEST {
            return Err(HistoryError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known: schema::LATEST,
            });
        }
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            options,
        };
        store.migrate_to(schema::LATEST)?;
        // WAL: readers never block the writer and the writer never blocks readers.
        let _mode: String = store
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err)?;
        store
            .conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(err)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> HistoryError {
        HistoryError::from_sqlite(&self.path, e, self.options.busy_timeout_s)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, HistoryError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Apply migrations up to `target` (one transaction; safe when two processes race).
    fn migrate_to(&mut self, target: i64) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let timeout = self.options.busy_timeout_s;
        let err = |e: rusqlite::Error| HistoryError::from_sqlite(&path, e, timeout);
        // Up to date: no write lock needed (readers open while a writer is busy).
        let current: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if current >= target {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        // Re-read under the lock: another process may have migrated meanwhile.
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
        if current == 0 {
            // Version 0 with tables: some other program's database; leave it alone.
            let tables: i64 = tx
                .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| {
                    r.get(0)
                })
                .map_err(err)?;
            if tables > 0 {
                return Err(HistoryError::Foreign { path: path.clone() });
            }
        }
        for version in current..target {
            let sql = schema::MIGRATIONS[version as usize];
            tx.execute_batch(sql).map_err(err)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Create a database at `path` with only the first `version` migrations (for tests of
    /// upgrades from older releases).
    #[doc(hidden)]
    pub fn create_at_version(path: &Path, version: i64) -> Result<(), HistoryError> {
        let err = |e: rusqlite::Error| HistoryError::from_sqlite(path, e, 0.0);
        let conn = Connection::open(path).map_err(err)?;
        for (i, sql) in schema::MIGRATIONS.iter().take(version as usize).enumerate() {
            conn.execute_batch(sql).map_err(err)?;
            conn.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .map_err(err)?;
        }
        Ok(())
    }

    /// Save one session in one transaction. The same content (hash) saved twice is not
    /// duplicated; user notes given the second time are merged into the first.
    pub fn save(&mut self, record: &SessionRecord) -> Result<SaveOutcome, HistoryError> {
        let path = self.path.clone();
        let timeout = self.options.busy_timeout_s;
        let err = |e: rusqlite::Error| HistoryError::from_sqlite(&path, e, timeout);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM session WHERE content_sha256 = ?1",
                [&record.source.content_sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if let Some(id) = existing {
            let notes_updated = !record.user.is_empty();
            if notes_updated {
                let old = read_user_notes(&tx, id).map_err(err)?;
                write_user_notes(&tx, id, &old.merged_with(&record.user)).map_err(err)?;
            }
            tx.commit().map_err(err)?;
            return Ok(SaveOutcome::Duplicate { id, notes_updated });
        }
        let report = &record.report;
        let now = LocalTime::now().to_string();
        tx.execute(
            "INSERT INTO session (content_sha256, started_at, started_unix_s, utc_offset_s, variation, caution,
                 sensors, hold_min_s, hold_max_s, over_rotation_deg, too_fast_dps, protocol, program_version,
                 source_kind, source_path, imported_at, imported_by, report_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            params![
                record.source.content_sha256,
                record.started.to_string(),
                record.started.unix_s,
                record.started.utc_offset_s,
                spec_name(&report.variation),
                report.caution,
                join_names(&report.sensors),
                report.targets.hold_min_s,
                report.targets.hold_max_s,
                report.targets.over_rotation_deg,
                report.targets.too_fast_dps,
                record.source.protocol,
                record.source.program_version,
                record.source.kind,
                record.source.path,
                now,
                env!("CARGO_PKG_VERSION"),
                record.report_json.to_string(),
            ],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        {
            let mut insert_rep = tx
                .prepare(
                    "INSERT INTO rep (session_id, idx, side, start_s, hold_start_s, hold_end_s, end_s, hold_s,
                         peak_deg, hold_mean_deg, flags, notes, cues)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(err)?;
            for (idx, rep) in report.reps.iter().enumerate() {
                insert_rep
                    .execute(params![
                        id,
                        idx as i64,
                        spec_name(&rep.side),
                        rep.start_s,
                        rep.hold_start_s,
                        rep.hold_end_s,
                        rep.end_s,
                        rep.hold_s,
                        rep.peak_deg,
                        rep.hold_mean_deg,
                        join_names(&rep.flags),
                        serde_json::to_string(&rep.notes).unwrap_or_else(|_| "[]".into()),
                        serde_json::to_string(&rep.cues).unwrap_or_else(|_| "[]".into()),
                    ])
                    .map_err(err)?;
            }
            let mut insert_message = tx
                .prepare("INSERT INTO session_message (session_id, kind, idx, text) VALUES (?1, ?2, ?3, ?4)")
                .map_err(err)?;
            let flags: Vec<String> = report.flags.iter().map(spec_name).collect();
            for (kind, texts) in [("flag", &flags), ("note", &report.notes), ("warning", &report.warnings)] {
                for (idx, text) in texts.iter().enumerate() {
                    insert_message
                        .execute(params![id, kind, idx as i64, text])
                        .map_err(err)?;
                }
            }
        }
        if !record.user.is_empty() {
            write_user_notes(&tx, id, &record.user).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(SaveOutcome::Inserted { id })
    }

    /// Set or merge the user's notes on session `id`.
    pub fn update_user_notes(&mut self, id: i64, update: &UserNotes) -> Result<UserNotes, HistoryError> {
        let path = self.path.clone();
        let timeout = self.options.busy_timeout_s;
        let err = |e: rusqlite::Error| HistoryError::from_sqlite(&path, e, timeout);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let exists: Option<i64> = tx
            .query_row("SELECT id FROM session WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if exists.is_none() {
            return Err(HistoryError::NoSuchSession { path, id });
        }
        let merged = read_user_notes(&tx, id).map_err(err)?.merged_with(update);
        write_user_notes(&tx, id, &merged).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(merged)
    }

    /// Number of sessions.
    pub fn count(&self) -> Result<i64, HistoryError> {
        self.conn
            .query_row("SELECT count(*) FROM session", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Every session with its reps and notes, oldest first (one read transaction, so a
    /// concurrent writer never shows half a session).
    pub fn sessions(&mut self) -> Result<Vec<StoredSession>, HistoryError> {
        self.sessions_where(None)
    }

    /// One session.
    pub fn session(&mut self, id: i64) -> Result<StoredSession, HistoryError> {
        self.sessions_where(Some(id))?
            .pop()
            .ok_or_else(|| HistoryError::NoSuchSession {
                path: self.path.clone(),
                id,
            })
    }

    fn sessions_where(&mut self, only: Option<i64>) -> Result<Vec<StoredSession>, HistoryError> {
        let path = self.path.clone();
        let timeout = self.options.busy_timeout_s;
        let err = |e: rusqlite::Error| HistoryError::from_sqlite(&path, e, timeout);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(err)?;
        let filter = if only.is_some() {
            "WHERE id = ?1"
        } else {
            "WHERE ?1 IS NULL"
        };
        let mut sessions: Vec<StoredSession> = Vec::new();
        {
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT id, content_sha256, started_unix_s, utc_offset_s, variation, caution, sensors,
                        hold_min_s, hold_max_s, over_rotation_deg, too_fast_dps, protocol, program_version,
                        source_kind, source_path, imported_at, imported_by, report_json
                     FROM session {filter} ORDER BY started_unix_s, id"
                ))
                .map_err(err)?;
            let rows = stmt
                .query_map([only], |r| {
                    let variation: String = r.get(4)?;
                    let report_json: String = r.get(17)?;
                    Ok((
                        StoredSession {
                            id: r.get(0)?,
                            record: SessionRecord {
                                started: LocalTime {
                                    unix_s: r.get(2)?,
                                    utc_offset_s: r.get(3)?,
                                },
                                report: Report {
                                    schema: crate::session::report::REPORT_SCHEMA.to_string(),
                                    // Replaced below if the name is unknown (a newer program).
                                    variation: from_spec_name(&variation).unwrap_or(crate::body::Variation::Seated),
                                    caution: r.get(5)?,
                                    sensors: split_names(&r.get::<_, String>(6)?),
                                    targets: Targets {
                                        hold_min_s: r.get(7)?,
                                        hold_max_s: r.get(8)?,
                                        over_rotation_deg: r.get(9)?,
                                        too_fast_dps: r.get(10)?,
                                    },
                                    reps: Vec::new(),
                                    flags: Vec::new(),
                                    notes: Vec::new(),
                                    warnings: Vec::new(),
                                },
                                report_json: serde_json::from_str(&report_json).unwrap_or(serde_json::Value::Null),
                                source: SourceInfo {
                                    kind: r.get(13)?,
                                    path: r.get(14)?,
                                    content_sha256: r.get(1)?,
                                    protocol: r.get(11)?,
                                    program_version: r.get(12)?,
                                },
                                user: UserNotes::default(),
                            },
                            imported_at: r.get(15)?,
                            imported_by: r.get(16)?,
                        },
                        variation,
                    ))
                })
                .map_err(err)?;
            for row in rows {
                let (session, variation) = row.map_err(err)?;
                if from_spec_name::<crate::body::Variation>(&variation).is_none() {
                    // A variation this version does not know: skip rather than mislabel.
                    continue;
                }
                sessions.push(session);
            }
        }
        let index: std::collections::HashMap<i64, usize> =
            sessions.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        let child_filter = filter.replace("id", "session_id");
        // Rows of a child table (first column: session_id) go to their session.
        let for_each_row = |sql: &str, f: &mut dyn FnMut(usize, &rusqlite::Row) -> rusqlite::Result<()>| {
            let mut stmt = tx.prepare(sql)?;
            let mut rows = stmt.query([only])?;
            while let Some(r) = rows.next()? {
                if let Some(&i) = index.get(&r.get::<_, i64>(0)?) {
                    f(i, r)?;
                }
            }
            Ok(())
        };
        for_each_row(
            &format!(
                "SELECT session_id, side, start_s, hold_start_s, hold_end_s, end_s, hold_s, peak_deg,
                    hold_mean_deg, flags, notes, cues
                 FROM rep {child_filter} ORDER BY session_id, idx"
            ),
            &mut |i, r| {
                let Some(side) = from_spec_name(&r.get::<_, String>(1)?) else {
                    return Ok(());
                };
                let notes: String = r.get(10)?;
                let cues: String = r.get(11)?;
                sessions[i].record.report.reps.push(Rep {
                    side,
                    start_s: r.get(2)?,
                    hold_start_s: r.get(3)?,
                    hold_end_s: r.get(4)?,
                    end_s: r.get(5)?,
                    hold_s: r.get(6)?,
                    peak_deg: r.get(7)?,
                    hold_mean_deg: r.get(8)?,
                    flags: split_names(&r.get::<_, String>(9)?),
                    notes: serde_json::from_str(&notes).unwrap_or_default(),
                    cues: serde_json::from_str(&cues).unwrap_or_default(),
                });
                Ok(())
            },
        )
        .map_err(err)?;
        for_each_row(
            &format!(
                "SELECT session_id, kind, text FROM session_message {child_filter} ORDER BY session_id, kind, idx"
            ),
            &mut |i, r| {
                let (kind, text): (String, String) = (r.get(1)?, r.get(2)?);
                let report = &mut sessions[i].record.report;
                match kind.as_str() {
                    "flag" => report.flags.extend(from_spec_name::<SessionFlag>(&text)),
                    "note" => report.notes.push(text),
                    _ => report.warnings.push(text),
                }
                Ok(())
            },
        )
        .map_err(err)?;
        for_each_row(
            &format!("SELECT session_id, pain_before, pain_after, note FROM user_note {child_filter}"),
            &mut |i, r| {
                let user = &mut sessions[i].record.user;
                user.pain_before = r.get(1)?;
                user.pain_after = r.get(2)?;
                user.note = r.get(3)?;
                Ok(())
            },
        )
        .map_err(err)?;
        for_each_row(
            &format!("SELECT session_id, tag FROM session_symptom {child_filter} ORDER BY session_id, tag"),
            &mut |i, r| {
                if let Some(s) = Symptom::parse(&r.get::<_, String>(1)?) {
                    sessions[i].record.user.symptoms.push(s);
                }
                Ok(())
            },
        )
        .map_err(err)?;
        for s in &mut sessions {
            s.record.user.symptoms.sort();
        }
        tx.commit().map_err(err)?;
        Ok(sessions)
    }

    /// One summary per session, oldest first.
    pub fn summaries(&mut self) -> Result<Vec<SessionSummary>, HistoryError> {
        Ok(self.sessions()?.iter().map(summarize).collect())
    }
}

/// The one-line summary of a stored session.
pub fn summarize(s: &StoredSession) -> SessionSummary {
    let report = &s.record.report;
    let best = |side: crate::session::report::Side| {
        report
            .reps
            .iter()
            .filter(|r| r.side == side)
            .map(|r| r.hold_mean_deg)
            .fold(None, |best: Option<f64>, v| Some(best.map_or(v, |b| b.max(v))))
    };
    SessionSummary {
        id: s.id,
        started: s.record.started,
        variation: spec_name(&report.variation),
        caution: report.caution.clone(),
        sensors: join_names(&report.sensors),
        reps: report.reps.len(),
        best_left_deg: best(crate::session::report::Side::Left),
        best_right_deg: best(crate::session::report::Side::Right),
        holds_on_target: report
            .reps
            .iter()
            .filter(|r| hold_on_target(r, &report.targets))
            .count(),
        rep_flags: report.reps.iter().map(|r| r.flags.len()).sum(),
        session_flags: report.flags.len(),
        pain_before: s.record.user.pain_before,
        pain_after: s.record.user.pain_after,
        symptoms: s.record.user.symptoms.clone(),
    }
}

fn read_user_notes(conn: &Connection, id: i64) -> rusqlite::Result<UserNotes> {
    let mut notes = conn
        .query_row(
            "SELECT pain_before, pain_after, note FROM user_note WHERE session_id = ?1",
            [id],
            |r| {
                Ok(UserNotes {
                    pain_before: r.get(0)?,
                    pain_after: r.get(1)?,
                    symptoms: Vec::new(),
                    note: r.get(2)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default();
    let mut stmt = conn.prepare("SELECT tag FROM session_symptom WHERE session_id = ?1 ORDER BY tag")?;
    let tags = stmt.query_map([id], |r| r.get::<_, String>(0))?;
    for tag in tags {
        if let Some(s) = Symptom::parse(&tag?) {
            notes.symptoms.push(s);
        }
    }
    notes.symptoms.sort();
    Ok(notes)
}

fn write_user_notes(conn: &Connection, id: i64, notes: &UserNotes) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO user_note (session_id, pain_before, pain_after, note, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(session_id) DO UPDATE SET pain_before = excluded.pain_before,
             pain_after = excluded.pain_after, note = excluded.note, updated_at = excluded.updated_at",
        params![
            id,
            notes.pain_before,
            notes.pain_after,
            notes.note,
            LocalTime::now().to_string()
        ],
    )?;
    conn.execute("DELETE FROM session_symptom WHERE session_id = ?1", [id])?;
    for s in &notes.symptoms {
        conn.execute(
            "INSERT INTO session_symptom (session_id, tag) VALUES (?1, ?2)",
            params![id, s.tag()],
        )?;
    }
    Ok(())
}
