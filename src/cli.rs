//! Every subcommand and flag, in one place (clap derive). `main.rs` parses these and
//! hands them to `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "twistcoach",
    version,
    about = "Coach spinal-twist stretches with a wearable motion sensor",
    long_about = "twistcoach measures trunk rotation and hold time from an IMU (or a phone) worn on the \
                  chest and/or pelvis, and tells you when you twist too far, hold too briefly or move too fast.\n\n\
                  Start with `twistcoach demo`.",
    after_help = "Exit codes: 0 success, 2 bad input (the message names the file, line and problem), 1 other failures."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the built-in demo: no set-up, no sensor needed.
    Demo(DemoArgs),
    /// Estimate orientation (q_world_from_sensor) from a raw IMU CSV with VQF.
    ///
    /// Input: `t,ax,ay,az,gx,gy,gz[,mx,my,mz]` (s, m/s², rad/s, any magnetometer unit),
    /// optionally gzip-compressed (`.gz`). Output: `t,qw,qx,qy,qz` for every input row, `t`
    /// exactly as read. With a magnetometer the world frame is ENU (x east, y north, z up);
    /// without one (or with --no-mag) it is z-up with an arbitrary, fixed heading.
    ///
    /// Example: twistcoach orientation walk.imu.csv.gz -o walk.orientation.csv
    Orientation(OrientationArgs),
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

#[derive(Debug, clap::Args)]
pub struct OrientationArgs {
    /// Raw IMU CSV (`.gz` is read as gzip).
    pub imu_csv: PathBuf,
    /// Output orientation CSV (`.gz` is written as gzip).
    #[arg(short = 'o', long = "output", value_name = "OUT_CSV")]
    pub output: PathBuf,
    /// Ignore magnetometer columns (6D): heading is then arbitrary but fixed.
    #[arg(long)]
    pub no_mag: bool,
    /// Use the whole recording (non-causal smoothing); more accurate, not for live use.
    #[arg(long)]
    pub offline: bool,
}
