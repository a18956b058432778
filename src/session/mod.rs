//! From the primary angle and compensation signals to reps, holds, flags and the report.

pub mod extract;
pub mod flags;
pub mod protocol;
pub mod report;
