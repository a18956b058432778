//! The history database's schema, as a list of migrations. `PRAGMA user_version` is the
//! number of migrations applied. Never edit a released migration: append a new one.

/// Migration `i` (0-based) takes the database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1_SESSIONS, V2_USER_NOTES, V3_REP_CUES];

/// The schema version this program writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// v1: sessions, their reps and their flags/notes/warnings.
const V1_SESSIONS: &str = "
CREATE TABLE session (
    id                INTEGER PRIMARY KEY,
    -- SHA-256 of the source's content: importing the same session twice is a no-op.
    content_sha256    TEXT NOT NULL UNIQUE,
    started_at        TEXT NOT NULL,       -- RFC 3339 with the local offset
    started_unix_s    INTEGER NOT NULL,
    utc_offset_s      INTEGER NOT NULL,
    variation         TEXT NOT NULL,
    caution           TEXT,
    sensors           TEXT NOT NULL,       -- placements in command-line order, comma-separated
    hold_min_s        REAL NOT NULL,
    hold_max_s        REAL NOT NULL,
    over_rotation_deg REAL NOT NULL,
    too_fast_dps      REAL NOT NULL,
    protocol          TEXT,                -- protocol name or file hash, when the report says
    program_version   TEXT,                -- version that produced the report, when it says
    source_kind       TEXT NOT NULL,       -- which reader imported it (report-json, ...)
    source_path       TEXT,                -- where it was read from (a recording or a report)
    imported_at       TEXT NOT NULL,
    imported_by       TEXT NOT NULL,       -- twistcoach version that imported it
    report_json       TEXT NOT NULL        -- the report exactly as read, every field
);
CREATE INDEX session_by_time ON session(started_unix_s);

CREATE TABLE rep (
    session_id    INTEGER NOT NULL REFERENCES session(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    side          TEXT NOT NULL CHECK (side IN ('left', 'right')),
    start_s       REAL NOT NULL,
    hold_start_s  REAL NOT NULL,
    hold_end_s    REAL NOT NULL,
    end_s         REAL NOT NULL,
    hold_s        REAL NOT NULL,
    peak_deg      REAL NOT NULL,
    hold_mean_deg REAL NOT NULL,
    flags         TEXT NOT NULL,   -- spec names, comma-separated, spec order
    notes         TEXT NOT NULL,   -- JSON array of strings
    PRIMARY KEY (session_id, idx)
);

CREATE TABLE session_message (
    session_id INTEGER NOT NULL REFERENCES session(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('flag', 'note', 'warning')),
    idx        INTEGER NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (session_id, kind, idx)
);
";

/// v2: what the user says about a session: pain before/after (0–10), symptoms, a note.
const V2_USER_NOTES: &str = "
CREATE TABLE user_note (
    session_id  INTEGER PRIMARY KEY REFERENCES session(id) ON DELETE CASCADE,
    pain_before INTEGER CHECK (pain_before BETWEEN 0 AND 10),
    pain_after  INTEGER CHECK (pain_after BETWEEN 0 AND 10),
    note        TEXT,
    updated_at  TEXT NOT NULL
);
CREATE TABLE session_symptom (
    session_id INTEGER NOT NULL REFERENCES session(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (session_id, tag)
);
";

/// v3: a rep's `cues` (plain-language advice for its flags; an additional report field).
const V3_REP_CUES: &str = "
ALTER TABLE rep ADD COLUMN cues TEXT NOT NULL DEFAULT '[]';  -- JSON array of strings
";
