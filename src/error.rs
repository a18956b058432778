//! Typed errors. Each says which file (and line, or device) and what to do about it.
//!
//! Two families, because the command line maps them to different exit codes (spec §6):
//! bad input (exit 2) and everything else, such as an output that cannot be written (exit 1).

use std::fmt;
use std::path::PathBuf;

/// What is wrong with one input file. `line` is 1-based and counts comment and header lines.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {problem}", path.display(), line.map(|l| format!(": line {l}")).unwrap_or_default())]
pub struct BadInput {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub problem: Problem,
}

impl BadInput {
    pub fn file(path: impl Into<PathBuf>, problem: Problem) -> Self {
        BadInput {
            path: path.into(),
            line: None,
            problem,
        }
    }
    pub fn at_line(path: impl Into<PathBuf>, line: usize, problem: Problem) -> Self {
        BadInput {
            path: path.into(),
            line: Some(line),
            problem,
        }
    }
}

/// The closed list of things that make an input stream unusable (spec §5).
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Missing(String),
    Empty,
    BinaryData,
    BadGzip(String),
    WrongHeader {
        found: String,
    },
    FieldCount {
        found: usize,
        expected: usize,
        last_line: bool,
    },
    NotNumeric {
        column: String,
        value: String,
    },
    NotFinite {
        column: String,
        value: String,
    },
    TimeNotIncreasing {
        previous: f64,
        now: f64,
    },
    CommentAfterHeader,
    BadQuaternion {
        norm: f64,
    },
    TooShort {
        samples: usize,
    },
    Other(String),
}

pub const IMU_HEADER_6D: &str = "t,ax,ay,az,gx,gy,gz";
pub const IMU_HEADER_9D: &str = "t,ax,ay,az,gx,gy,gz,mx,my,mz";
pub const ORIENTATION_HEADER: &str = "t,qw,qx,qy,qz";

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing(why) => write!(f, "cannot open the file ({why}); check the path"),
            Problem::Empty => write!(
                f,
                "the file is empty; expected a header line such as `{IMU_HEADER_6D}` or `{ORIENTATION_HEADER}`"
            ),
            Problem::BinaryData => write!(
                f,
                "binary data, not a text CSV (a compressed file must have a name ending in .gz)"
            ),
            Problem::BadGzip(why) => {
                write!(
                    f,
                    "the gzip data is truncated or corrupt ({why}); re-export or re-copy the file"
                )
            }
            Problem::WrongHeader { found } => write!(
                f,
                "wrong header `{found}`; expected exactly `{IMU_HEADER_6D}`, `{IMU_HEADER_9D}` or `{ORIENTATION_HEADER}` \
                 (lower case, no spaces, no extra columns)"
            ),
            Problem::FieldCount {
                found,
                expected,
                last_line,
            } => {
                if *last_line && found < expected {
                    write!(
                        f,
                        "truncated last line: {found} fields, expected {expected} (was the file cut short?)"
                    )
                } else {
                    write!(f, "wrong number of fields: {found}, expected {expected}")
                }
            }
            Problem::NotNumeric { column, value } => {
                write!(f, "field `{column}` is not a number: `{value}`")
            }
            Problem::NotFinite { column, value } => {
                write!(f, "field `{column}` is not a finite number: `{value}`")
            }
            Problem::TimeNotIncreasing { previous, now } => write!(
                f,
                "time not strictly increasing: t = {now} after t = {previous}; sort the rows and remove duplicates"
            ),
            Problem::CommentAfterHeader => {
                write!(f, "`#` comment after the header; comments are only allowed before it")
            }
            Problem::BadQuaternion { norm } => write!(
                f,
                "quaternion length {norm} is not close to 1 (expected a unit quaternion qw,qx,qy,qz)"
            ),
            Problem::TooShort { samples } => {
                write!(f, "only {samples} data rows; at least 2 are needed")
            }
            Problem::Other(s) => f.write_str(s),
        }
    }
}

/// Any failure of a library operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is malformed or unusable: exit code 2.
    #[error(transparent)]
    BadInput(#[from] BadInput),
    /// An output could not be written: exit code 1.
    #[error("{}: cannot write: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The history database cannot be used (locked, damaged, newer, unwritable): exit code 1.
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    /// A device or system service needed for this command is not there (no Bluetooth
    /// adapter, BlueZ or system bus; a sensor not found): exit code 2, one line.
    #[error("{0}")]
    Unavailable(String),
    /// Any other failure, already worded for the user: exit code 1.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// Process exit code for this error (spec §6): 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput(_) | Error::Unavailable(_) => 2,
            Error::Output { .. } | Error::History(_) | Error::Failed(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
