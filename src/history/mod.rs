//! Session history: a local SQLite database of session reports and what the user said
//! about each session (pain, symptoms, a note).
//!
//! Owns: the database file, its schema and migrations (`schema`), reading sessions from
//! files (`import`), the symptom tags and their safety messages (`symptoms`), and demo
//! data (`demo`). It must not analyse recordings itself: readers hand it finished
//! reports (`import::SessionReader`).

pub mod demo;
pub mod demo_sim;
pub mod export;
pub mod import;
pub mod schema;
mod store;
pub mod symptoms;
pub mod time;

use std::path::{Path, PathBuf};

pub use store::{OpenOptions, SaveOutcome, Store, hold_on_target, summarize};
pub use symptoms::Symptom;
pub use time::LocalTime;

use crate::session::report::Report;

/// Where the history lives unless `--db` says otherwise: the platform's data folder.
/// Linux and other Unix: `$XDG_DATA_HOME/twistcoach/history.sqlite`, else
/// `~/.local/share/twistcoach/history.sqlite`; macOS: `~/Library/Application Support/...`;
/// Windows: `%APPDATA%\twistcoach\history.sqlite`.
pub fn default_db_path() -> Option<PathBuf> {
    let env_dir = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        env_dir("APPDATA")
    } else if cfg!(target_os = "macos") {
        env_dir("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        env_dir("XDG_DATA_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| env_dir("HOME").map(|h| h.join(".local").join("share")))
    }?;
    Some(base.join("twistcoach").join("history.sqlite"))
}

/// What the user reports about a session. All optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserNotes {
    /// Pain 0–10 before the session.
    pub pain_before: Option<u8>,
    /// Pain 0–10 after the session.
    pub pain_after: Option<u8>,
    pub symptoms: Vec<Symptom>,
    pub note: Option<String>,
}

impl UserNotes {
    pub fn is_empty(&self) -> bool {
        self.pain_before.is_none() && self.pain_after.is_none() && self.symptoms.is_empty() && self.note.is_none()
    }

    /// Fields set in `update` replace these; symptoms are added.
    pub fn merged_with(&self, update: &UserNotes) -> UserNotes {
        let mut symptoms = self.symptoms.clone();
        for s in &update.symptoms {
            if !symptoms.contains(s) {
                symptoms.push(*s);
            }
        }
        symptoms.sort();
        UserNotes {
            pain_before: update.pain_before.or(self.pain_before),
            pain_after: update.pain_after.or(self.pain_after),
            symptoms,
            note: update.note.clone().or_else(|| self.note.clone()),
        }
    }
}

/// Where a session came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// The reader that produced it (`report-json`, `demo`, later `recording`).
    pub kind: String,
    /// The file it was read from (a recording or a report), if any.
    pub path: Option<String>,
    /// SHA-256 (hex) identifying the session's content: the same session imported twice
    /// has the same hash.
    pub content_sha256: String,
    /// Protocol name or hash, if the report says.
    pub protocol: Option<String>,
    /// The twistcoach version that produced the report, if it says.
    pub program_version: Option<String>,
}

/// One session, ready to be saved.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub started: LocalTime,
    pub report: Report,
    /// The report exactly as read (every field, extensions included).
    pub report_json: serde_json::Value,
    pub source: SourceInfo,
    pub user: UserNotes,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub id: i64,
    pub record: SessionRecord,
    pub imported_at: String,
    pub imported_by: String,
}

/// Errors of the history database. Each names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "{}: the history database is busy (another twistcoach is writing to it) and stayed busy for {waited_s:.0} s; \
         try again when the other program has finished",
        path.display()
    )]
    Locked { path: PathBuf, waited_s: f64 },
    #[error(
        "{}: not a readable twistcoach history database ({detail}). The file was left untouched. \
         Move it aside (e.g. `mv {0} {0}.damaged`) to start a new history, restore it from a backup, \
         or choose another file with --db",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{}: this SQLite database belongs to another program (it has tables but no twistcoach schema); \
         it was left untouched. Choose another file with --db",
        path.display()
    )]
    Foreign { path: PathBuf },
    #[error(
        "{}: written by a newer twistcoach (schema version {found}; this program knows up to {known}). \
         Upgrade twistcoach, or choose another file with --db",
        path.display()
    )]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error(
        "{}: cannot open or write the history database ({detail}); check that its folder exists and is writable, \
         or choose another file with --db",
        path.display()
    )]
    CannotOpen { path: PathBuf, detail: String },
    #[error("{}: no session with id {id}; `twistcoach history --db {0}` lists them", path.display())]
    NoSuchSession { path: PathBuf, id: i64 },
    #[error("{}: database error: {detail}", path.display())]
    Other { path: PathBuf, detail: String },
    #[error(
        "{source}\nNothing was lost: the session was written to {} — import it later with \
         `twistcoach history import {0}`",
        side_file.display()
    )]
    SavedToSideFile {
        side_file: PathBuf,
        #[source]
        source: Box<HistoryError>,
    },
    #[error("no history database location: set --db FILE (neither XDG_DATA_HOME nor HOME is set)")]
    NoDefaultPath,
}

impl HistoryError {
    /// Classify a SQLite error on `path`: busy/locked, damaged, unwritable, other.
    pub(crate) fn from_sqlite(path: &Path, e: rusqlite::Error, busy_timeout_s: f64) -> HistoryError {
        use rusqlite::ErrorCode as C;
        let path = path.to_path_buf();
        match e.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => HistoryError::Locked {
                path,
                waited_s: busy_timeout_s,
            },
            Some(C::NotADatabase | C::DatabaseCorrupt) => HistoryError::Corrupt {
                path,
                detail: e.to_string(),
            },
            Some(C::CannotOpen | C::ReadOnly | C::PermissionDenied | C::DiskFull | C::SystemIoFailure) => {
                HistoryError::CannotOpen {
                    path,
                    detail: e.to_string(),
                }
            }
            _ => HistoryError::Other {
                path,
                detail: e.to_string(),
            },
        }
    }
}

/// Summary line of `twistcoach history`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    pub id: i64,
    pub started: LocalTime,
    pub variation: String,
    pub caution: Option<String>,
    pub sensors: String,
    pub reps: usize,
    pub best_left_deg: Option<f64>,
    pub best_right_deg: Option<f64>,
    pub holds_on_target: usize,
    pub rep_flags: usize,
    pub session_flags: usize,
    pub pain_before: Option<u8>,
    pub pain_after: Option<u8>,
    pub symptoms: Vec<Symptom>,
}

/// Save one session to the database at `db_path`; if the database cannot be opened or
/// written (locked, damaged, unwritable), write the session to a side file next to it
/// instead, so nothing is lost, and return an error that names both files.
pub fn save_or_side_file(
    db_path: &Path,
    record: &SessionRecord,
    options: OpenOptions,
) -> Result<SaveOutcome, HistoryError> {
    let result = Store::open_with(db_path, options).and_then(|mut store| store.save(record));
    match result {
        Ok(outcome) => Ok(outcome),
        Err(e) => match import::write_side_file(db_path, record) {
            Ok(side_file) => Err(HistoryError::SavedToSideFile {
                side_file,
                source: Box::new(e),
            }),
            Err(io) => Err(HistoryError::Other {
                path: db_path.to_path_buf(),
                detail: format!("{e}; and the side file could not be written either ({io}): keep the input files"),
            }),
        },
    }
}
