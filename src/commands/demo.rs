//! `twistcoach demo`: zero set-up. A simulated seated session from two simulated
//! peripherals (chest and pelvis, each sending its device's real notification bytes) goes
//! through the live pipeline exactly as `twistcoach live --plain` would run it (decode,
//! causal orientation, calibration, the rep state machine, the live cues), printed at their
//! session time; then the report of the whole recording (as `analyze` of the recording
//! gives it) next to the live report and the simulation's ground truth.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::body::{Placement, Variation};
use crate::cli::DemoArgs;
use crate::device::DeviceKind;
use crate::error::{Error, Result};
use crate::live::accuracy::{self, Case};
use crate::session::report::{Report, Side};
use crate::simulate::eval::match_reps;
use crate::ui::side_word;

use super::analyze::summary;

/// The demo's sensors: raw 6-axis IMUs at 100 Hz (our open GATT profile), so the whole
/// path runs, orientation filter included.
const DEMO_KIND: DeviceKind = DeviceKind::OpenImu;

fn stdout_error(source: std::io::Error) -> Error {
    Error::Output {
        path: "<stdout>".into(),
        source,
    }
}

pub fn run(args: &DemoArgs) -> Result<()> {
    if let Some(weeks) = args.weeks {
        let db = super::history::db_path(&args.db)?;
        return super::history::demo_data(&db, weeks, args.seed, None, crate::cli::DemoPipeline::Simulated);
    }
    if args.orientation {
        return super::demo_orientation::run();
    }
    let case = Case::new(
        Variation::Seated,
        vec![(Placement::Chest, DEMO_KIND), (Placement::Pelvis, DEMO_KIND)],
        args.seed,
    );
    let mut out = std::io::stdout().lock();
    let mut say = |line: &str| -> std::io::Result<()> { writeln!(out, "{line}").and_then(|_| out.flush()) };
    say(&format!(
        "twistcoach demo: a simulated seated twist, {} reps, from two simulated `{}` sensors (chest and pelvis: raw 6-axis IMU, {:.0} Hz, gyro bias and noise) through the live pipeline{}",
        case.reps,
        DEMO_KIND.name(),
        DEMO_KIND.info().default_rate_hz,
        if args.realtime { ", in real time" } else { "" }
    ))
    .map_err(stdout_error)?;
    say("Sit tall and still to calibrate...").map_err(stdout_error)?;
    let wall0 = Instant::now();
    let mut t0 = None;
    let mut written = Ok(());
    let result = accuracy::run_case_with(&case, |receive_s, events| {
        if written.is_err() {
            return;
        }
        let t0 = *t0.get_or_insert(receive_s);
        if args.realtime {
            let due = Duration::from_secs_f64((receive_s - t0).max(0.0));
            std::thread::sleep(due.saturating_sub(wall0.elapsed()));
        }
        for e in events {
            if let Some(line) = crate::ui::plain_line(e) {
                written = say(&format!("  {line}"));
            }
        }
    });
    written.map_err(stdout_error)?;
    let live = result
        .live
        .map_err(|e| Error::Failed(format!("the demo's live session gave no report: {e}")))?;
    let whole = result
        .offline
        .map_err(|e| Error::Failed(format!("the demo's recording could not be analysed: {e}")))?;
    let left = live.reps.iter().filter(|r| r.side == Side::Left).count();
    let text = format!(
        "Session over after {:.0} s: {left} left and {} right reps.\n\n\
         Report of the whole recording (what `twistcoach analyze` of the recording gives and the history keeps):\n{}\n{}\n\
         Next: `twistcoach live --variation seated --sensor chest=sim:witmotion` runs a live session with the full-screen view;\n\
         `twistcoach simulate --variation seated --out s1` writes a session to files for `twistcoach analyze`.",
        result.duration_s,
        live.reps.len() - left,
        summary(&whole),
        truth_comparison(&result.truth, &live, &whole)
    );
    say(&text).map_err(stdout_error)?;
    Ok(())
}

/// The live and whole-recording reports against the simulation's ground truth, rep by
/// rep (matched one to one by overlap, as the accuracy batches do).
fn truth_comparison(truth: &Report, live: &Report, whole: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "Ground truth of the simulation: {} reps; live found {}, the whole-recording analysis {}.\n",
        truth.reps.len(),
        live.reps.len(),
        whole.reps.len()
    );
    let live_m = match_reps(&truth.reps, &live.reps);
    let whole_m = match_reps(&truth.reps, &whole.reps);
    let cell = |found: &Report, m: &[(usize, usize)], i: usize| -> String {
        match m.iter().find(|(t, _)| *t == i).map(|(_, j)| &found.reps[*j]) {
            Some(f) if f.side == truth.reps[i].side => format!("{:>5.1}° {:>5.1} s", f.peak_deg, f.hold_s),
            Some(f) => format!("{:<5} side!   ", side_word(f.side)),
            None => "not found     ".to_string(),
        }
    };
    let _ = writeln!(s, "       side   true peak, hold | live           | whole recording");
    for (i, t) in truth.reps.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {:>2}.  {:<5}  {:>5.1}° {:>5.1} s | {} | {}",
            i + 1,
            side_word(t.side),
            t.peak_deg,
            t.hold_s,
            cell(live, &live_m, i),
            cell(whole, &whole_m, i)
        );
    }
    let extra = |found: &Report, m: &[(usize, usize)]| found.reps.len() - m.len();
    let (el, ew) = (extra(live, &live_m), extra(whole, &whole_m));
    if el + ew > 0 {
        let _ = writeln!(s, "  not in the truth: {el} live, {ew} whole recording");
    }
    s
}
