//! twistcoach: coach spinal-twist stretches with a wearable IMU.
//!
//! The crate is laid out along the data flow: `stream` (read inputs) → `orientation`
//! (IMU → q_world_from_sensor) → … The core is pure (no I/O, no clock); `commands` is the
//! edge that reads files, calls the core and writes results.

pub mod analysis;
pub mod body;
pub mod cli;
pub mod commands;
pub mod device;
pub mod error;
pub mod frames;
pub mod history;
pub mod live;
pub mod orientation;
pub mod plot;
pub mod record;
pub mod session;
pub mod simulate;
pub mod source;
pub mod stream;
pub mod ui;

pub use error::{BadInput, Error, Problem, Result};
