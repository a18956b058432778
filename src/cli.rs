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
    /// Simulate a session with ground truth: sensor streams plus the true report.
    ///
    /// Writes DIR/<placement>.csv.gz (spec §5 CSV), DIR/truth.json (the twistcoach.report/1
    /// report of the true motion, plus `command` to analyse it and the `scenario`), and
    /// DIR/truth_angles.csv.gz (t, true primary angle, compensation, chest flexion; 50 Hz).
    ///
    /// Example: twistcoach simulate --variation seated --sensors chest,pelvis --seed 7 --out sim7
    Simulate(SimulateArgs),
    /// Analyze a recorded session: reps, holds, flags and cues (spec §6, §7).
    ///
    /// Example: twistcoach analyze --variation seated --sensor chest=chest.csv.gz --json
    Analyze(AnalyzeArgs),
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The variation: supine, seated or standing.
    #[arg(long, value_name = "V")]
    pub variation: String,
    /// A sensor stream: PLACEMENT=PATH (chest, pelvis, upper-back, sacrum); once or twice.
    #[arg(long = "sensor", value_name = "PLACEMENT=PATH", required = true)]
    pub sensors: Vec<String>,
    /// How a sensor's axes sit on the body, e.g. "chest=+x:head,+z:out" (default: +y toward
    /// the head, +z out of the body surface).
    #[arg(long = "mount", value_name = "PLACEMENT=SPEC")]
    pub mounts: Vec<String>,
    /// A caution profile: disc-herniation, spondylolisthesis, severe-osteoarthritis or pregnancy.
    #[arg(long, value_name = "NAME")]
    pub caution: Option<String>,
    /// A TOML protocol file overriding the default targets (see docs/protocol.example.toml).
    #[arg(long, value_name = "FILE")]
    pub protocol: Option<PathBuf>,
    /// Print exactly one JSON report (schema twistcoach.report/1) to stdout.
    #[arg(long)]
    pub json: bool,
    /// Keep the heading drift (do not use the rests between reps to remove it).
    #[arg(long, hide = true)]
    pub no_drift_correction: bool,
    /// Write the body signals (t, primary angle, compensation, flexion; degrees) to this CSV.
    #[arg(long, hide = true, value_name = "CSV")]
    pub dump_signals: Option<PathBuf>,
    /// Ignore magnetometer columns of raw streams.
    #[arg(long)]
    pub no_mag: bool,
    /// Estimate orientation causally (as live) instead of from the whole recording.
    #[arg(long)]
    pub causal: bool,
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

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// supine, seated or standing.
    #[arg(long, value_parser = parse_variation)]
    pub variation: crate::body::Variation,
    /// Comma-separated placements (chest, pelvis, upper-back, sacrum), in command-line order.
    #[arg(long, value_delimiter = ',', value_parser = parse_placement)]
    pub sensors: Option<Vec<crate::body::Placement>>,
    /// Seed of the scenario and the sensor errors (same seed, same session).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// raw (IMU: accelerometer, gyroscope[, magnetometer]) or orientation (on-board fusion).
    #[arg(long, default_value = "raw", value_parser = ["raw", "orientation"])]
    pub format: String,
    /// Sample rate of every stream, Hz (default: drawn per stream, 50–200 raw, 30–100 orientation).
    #[arg(long, value_name = "HZ")]
    pub rate: Option<f64>,
    /// Raw streams: force a magnetometer on (true) or off (false).
    #[arg(long)]
    pub mag: Option<bool>,
    /// Hard cases, comma-separated: bias-steps, scale-errors, mag-disturbance, low-rate, dropouts,
    /// heading-jumps, skin-motion.
    #[arg(long, value_delimiter = ',')]
    pub hard: Vec<String>,
    /// A long session: 10–14 reps over several minutes.
    #[arg(long)]
    pub long: bool,
    /// Only 2.05–2.3 s still at the start (the minimum the spec allows), the first rep right after.
    #[arg(long)]
    pub short_still: bool,
    /// Number of reps (default: drawn).
    #[arg(long)]
    pub reps: Option<usize>,
    /// Stop adding reps after about this many seconds.
    #[arg(long, value_name = "S")]
    pub max_duration: Option<f64>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

fn parse_variation(s: &str) -> Result<crate::body::Variation, String> {
    crate::body::Variation::parse(s)
        .ok_or_else(|| format!("unknown variation `{s}`; expected supine, seated or standing"))
}

fn parse_placement(s: &str) -> Result<crate::body::Placement, String> {
    crate::body::Placement::parse(s)
        .ok_or_else(|| format!("unknown placement `{s}`; expected chest, pelvis, upper-back or sacrum"))
}
