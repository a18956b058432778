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
    ///
    /// Simulates a seated twist session (chest and pelvis sensors, raw IMU), plays it
    /// through the live pipeline printing each cue when it would appear, and ends with the
    /// session's report next to the simulation's ground truth.
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
    /// Analyze a recorded session: reps, holds, flags and cues (spec §6, §7).
    ///
    /// Example: twistcoach analyze --variation seated --sensor chest=chest.csv.gz --json
    Analyze(AnalyzeArgs),
    /// Simulate a session with ground truth: sensor streams plus the true report.
    ///
    /// Writes DIR/<placement>.csv.gz (spec §5 CSV), DIR/truth.json (the twistcoach.report/1
    /// report of the true motion, plus `command` to analyse it and the `scenario`), and
    /// DIR/truth_angles.csv.gz (t, true primary angle, compensation, chest flexion; 50 Hz).
    ///
    /// Example: twistcoach simulate --variation seated --sensors chest,pelvis --seed 7 --out sim7
    Simulate(SimulateArgs),
    /// Progress over weeks: list, show, add, import and export your sessions.
    ///
    /// Sessions live in a local SQLite file (default: the platform's data folder, e.g.
    /// ~/.local/share/twistcoach/history.sqlite; --db FILE to choose). Without a
    /// subcommand, lists the sessions, one line each.
    ///
    /// Example: twistcoach history add report.json --pain-before 4 --pain-after 2
    History(HistoryArgs),
    /// Plot progress over weeks from the history: range of motion per side, asymmetry,
    /// holds on target, flags, adherence and pain. PNG or SVG by the output's extension.
    ///
    /// Example: twistcoach plot --weeks 12 -o progress.png
    Plot(PlotArgs),
    /// Show the session on a local web page readable from the floor, with spoken cues.
    ///
    /// Prints the page's URL (http://127.0.0.1:PORT/). With --lan it listens on the local
    /// network too (for a phone or a tablet), prints that URL with a random access token
    /// and a QR code, and refuses every request without the token. Nothing leaves the
    /// machine. See docs/web.md.
    ///
    /// Example: twistcoach serve --variation seated --db history.sqlite
    Serve(ServeArgs),
    /// List nearby supported sensors (Bluetooth LE): kind, address, name, signal, battery.
    ///
    /// Exit 2 with a one-line reason when Bluetooth is not usable (no adapter, no BlueZ,
    /// no system D-Bus).
    Scan(ScanArgs),
    /// Coach a session live from one or two sensors: twist gauge, hold countdown, cues.
    ///
    /// DEVICE is a Bluetooth address, an advertised name, or sim:KIND for a simulated
    /// peripheral that sends KIND's real notifications (movella-dot, witmotion, thingy52,
    /// metamotion, open-imu, phone). A real phone connects through `twistcoach serve` instead.
    /// Press q to end the session.
    ///
    /// Example: twistcoach live --variation seated --sensor chest=sim:witmotion --record s.twrec
    Live(LiveArgs),
    /// Replay a recording through the live pipeline (same report as the live session).
    ///
    /// Example: twistcoach replay s.twrec --json
    Replay(ReplayArgs),
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// How long to listen for advertisements, s.
    #[arg(long, default_value_t = 5.0, value_name = "S")]
    pub seconds: f64,
}

#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// supine, seated or standing.
    #[arg(long)]
    pub variation: String,
    /// PLACEMENT=DEVICE (once or twice), e.g. chest=sim:witmotion or pelvis=D4:22:CD:00:11:22.
    #[arg(long = "sensor", value_name = "PLACEMENT=DEVICE", required = true)]
    pub sensors: Vec<String>,
    /// Save a crash-safe recording (raw notifications + decoded samples) to FILE.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Print events as lines instead of the full-screen view.
    #[arg(long)]
    pub plain: bool,
    /// Print only the final report (twistcoach.report/1 JSON) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Override a device's mounting: PLACEMENT=SPEC, e.g. chest=+x:head,+z:out.
    #[arg(long = "mount", value_name = "PLACEMENT=SPEC")]
    pub mounts: Vec<String>,
    /// A caution profile: disc-herniation, spondylolisthesis, severe-osteoarthritis or pregnancy.
    #[arg(long)]
    pub caution: Option<String>,
    /// A TOML protocol file overriding the default targets.
    #[arg(long, value_name = "FILE")]
    pub protocol: Option<PathBuf>,
    /// Ignore magnetometers (6D orientation).
    #[arg(long)]
    pub no_mag: bool,
    /// Simulated sensors: speed relative to real time (0 = as fast as possible).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub sim_speed: f64,
    /// Simulated sensors: seed of the simulated session.
    #[arg(long, default_value_t = 1)]
    pub sim_seed: u64,
    /// Simulated sensors: number of reps (default: drawn).
    #[arg(long, value_name = "N")]
    pub sim_reps: Option<usize>,
    /// Simulated sensors: stop adding reps after about this many seconds.
    #[arg(long, value_name = "S")]
    pub sim_duration: Option<f64>,
    /// Simulated sensors: an outage, [PLACEMENT@]AT+DURATION in s (repeatable), e.g. chest@30+4.
    #[arg(long = "sim-disconnect", value_name = "[PLACEMENT@]AT+DUR")]
    pub sim_disconnects: Vec<String>,
    /// Do not save the session to the history database.
    #[arg(long)]
    pub no_save: bool,
    /// History database (default: the platform's data folder).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A recording made with `twistcoach live --record`.
    pub file: PathBuf,
    /// Speed relative to real time (default 1).
    #[arg(long, value_name = "X", conflicts_with = "fast")]
    pub speed: Option<f64>,
    /// As fast as possible.
    #[arg(long)]
    pub fast: bool,
    /// Print only the report (twistcoach.report/1 JSON), as the live session produced it.
    #[arg(long)]
    pub json: bool,
    /// Print events as lines instead of the full-screen view.
    #[arg(long)]
    pub plain: bool,
    /// Do not save the session to the history database (a recording already there is not
    /// stored twice).
    #[arg(long)]
    pub no_save: bool,
    /// History database (default: the platform's data folder).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// A twistcoach recording (`.twrec`, from `live --record`): variation, placements,
    /// mounting, protocol and caution come from it (flags given here override them).
    #[arg(
        value_name = "RECORDING",
        required_unless_present = "sensors",
        conflicts_with = "sensors"
    )]
    pub recording: Option<PathBuf>,
    /// The variation: supine, seated or standing (required with --sensor).
    #[arg(long, value_name = "V", required_unless_present = "recording")]
    pub variation: Option<String>,
    /// A sensor stream: PLACEMENT=PATH (chest, pelvis, upper-back, sacrum); once or twice.
    #[arg(long = "sensor", value_name = "PLACEMENT=PATH")]
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
    /// Never use magnetometer columns of raw streams (by default they are used only to
    /// bridge dropouts: heading drift is removed from the rests between reps).
    #[arg(long, conflicts_with = "mag")]
    pub no_mag: bool,
    /// Always use magnetometer columns of raw streams (9D heading).
    #[arg(long)]
    pub mag: bool,
    /// Estimate orientation causally (as live) instead of from the whole recording.
    #[arg(long)]
    pub causal: bool,
    /// Also save the session to the history database.
    #[arg(long)]
    pub save: bool,
    /// History database for --save (default: the platform's data folder).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Seed of the simulated session (the same seed gives the same session).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Play the session in real time (the cues appear when they would live) instead of
    /// as fast as possible.
    #[arg(long)]
    pub realtime: bool,
    /// Instead: orientation accuracy on a bundled slice of a real IMU recording with optical
    /// ground truth (BROAD).
    #[arg(long)]
    pub orientation: bool,
    /// Fill a history database with N weeks of simulated sessions (simulated sensors,
    /// analysed by the real analysis; --seed picks the programme) instead.
    #[arg(long, value_name = "N")]
    pub weeks: Option<u32>,
    /// History database for --weeks (default: the platform's data folder).
    #[arg(long, value_name = "FILE", requires = "weeks")]
    pub db: Option<PathBuf>,
}

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

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// History database file (default: the platform's data folder).
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
}

/// A pain rating 0–10.
fn pain(text: &str) -> Result<u8, String> {
    match text.trim().parse::<u8>() {
        Ok(v) if v <= 10 => Ok(v),
        _ => Err(format!(
            "`{text}` is not a pain rating; use a whole number from 0 (none) to 10 (worst)"
        )),
    }
}

/// What the user says about a session.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NoteArgs {
    /// Pain before the session, 0 (none) to 10 (worst imaginable).
    #[arg(long, value_name = "0-10", value_parser = pain)]
    pub pain_before: Option<u8>,
    /// Pain after the session, 0 to 10.
    #[arg(long, value_name = "0-10", value_parser = pain)]
    pub pain_after: Option<u8>,
    /// A symptom (repeatable): leg-pain, weakness, numbness, bladder, worsening,
    /// sharp-pain, stiffness. Red-flag symptoms print what to do every time.
    #[arg(long = "symptom", value_name = "TAG", value_parser = crate::history::symptoms::parse_tag)]
    pub symptoms: Vec<crate::history::Symptom>,
    /// A free-text note.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoPipeline {
    Simulated,
    Direct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// Everything stored about one session (reps, flags, notes, pain, symptoms).
    Show {
        /// Session id (first column of `twistcoach history`).
        id: i64,
    },
    /// Add one session report (twistcoach.report/1 JSON) with optional pain and symptoms.
    Add {
        report: PathBuf,
        /// When the session started (RFC 3339, e.g. 2026-03-02T07:30:00+01:00); default:
        /// the report's `started_at`, else the file's modification time.
        #[arg(long, value_name = "TIME")]
        started_at: Option<String>,
        #[command(flatten)]
        notes: NoteArgs,
    },
    /// Add or change pain ratings, symptoms or the note of a stored session.
    Note {
        id: i64,
        #[command(flatten)]
        notes: NoteArgs,
    },
    /// Import sessions: report JSON files, recordings (analysed on import), or folders
    /// (searched recursively). A session already in the history is not added twice.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Export every session: CSV (one row per rep) or JSON (re-importable).
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file (default: stdout).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Fill the history with a realistic simulated programme (for trying plots).
    DemoData {
        /// Weeks of twice-daily sessions, ending today.
        #[arg(long, default_value_t = 8)]
        weeks: u32,
        /// Random seed (the same seed gives the same programme).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write each report as JSON into this folder.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// simulated: simulate each session's sensors and run the real analysis (about
        /// 0.2 s a session); direct: write reports straight from the plan (instant).
        #[arg(long, value_enum, default_value_t = DemoPipeline::Simulated)]
        pipeline: DemoPipeline,
    },
}

#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// History database file (default: the platform's data folder).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Only the last N weeks (default: everything).
    #[arg(long, value_name = "N")]
    pub weeks: Option<u32>,
    /// Only this variation (supine, seated, standing).
    #[arg(long, value_name = "V", value_parser = parse_variation)]
    pub variation: Option<crate::body::Variation>,
    /// Output image: .png or .svg.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Listen on the local network too (0.0.0.0), with a random access token.
    #[arg(long)]
    pub lan: bool,
    /// TCP port (0: any free port).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// The history database whose plots the page shows (default: the platform's one).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// The variation the page starts with: supine, seated or standing.
    #[arg(long, default_value = "seated", value_parser = parse_variation)]
    pub variation: crate::body::Variation,
    /// A caution profile: disc-herniation, spondylolisthesis, severe-osteoarthritis or pregnancy.
    #[arg(long, value_name = "NAME")]
    pub caution: Option<String>,
    /// A sensor, PLACEMENT=sim:KIND (simulated) or PLACEMENT=phone (a phone on the LAN:
    /// the /phone page or Sensor Logger's HTTP push), once or twice; default: chest and
    /// pelvis `sim:open-imu`. Bluetooth sensors: use `twistcoach live`.
    #[arg(long = "sensor", value_name = "PLACEMENT=DEVICE")]
    pub sensors: Vec<String>,
    /// Replay this recording (from `live --record`) instead of simulating.
    #[arg(long, value_name = "FILE", conflicts_with = "sensors")]
    pub replay: Option<PathBuf>,
    /// Playback speed of simulated sensors and replays (1 = real time).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,
    /// Simulated sensors: seed of the first session (each new start takes the next).
    #[arg(long, default_value_t = 1)]
    pub sim_seed: u64,
    /// Simulated sensors: number of reps (default: drawn).
    #[arg(long, value_name = "N")]
    pub sim_reps: Option<usize>,
    /// Simulated sensors: an outage, [PLACEMENT@]AT+DURATION in s (repeatable), e.g. chest@30+4.
    #[arg(long = "sim-disconnect", value_name = "[PLACEMENT@]AT+DUR")]
    pub sim_disconnects: Vec<String>,
    /// Start a session at once instead of waiting for the page's Start button.
    #[arg(long)]
    pub autostart: bool,
    /// Serve https with a self-signed certificate made at start (phones give their motion
    /// sensors only to secure pages); the browser asks once to accept it (see docs/web.md).
    #[arg(long)]
    pub tls: bool,
    /// Do not draw the QR code of the LAN URL.
    #[arg(long)]
    pub no_qr: bool,
    /// Phone sessions: write each session's recording (replayable) into DIR.
    #[arg(long, value_name = "DIR")]
    pub record_dir: Option<PathBuf>,
    /// Phone sessions: do not save the report to the history database.
    #[arg(long)]
    pub no_save: bool,
}
