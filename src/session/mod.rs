//! From the primary angle and compensation signals to reps, holds, flags and the report.

pub mod report;
