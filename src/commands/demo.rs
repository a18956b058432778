//! `twistcoach demo`: zero set-up. Simulates a seated twist session, plays it through the
//! pipeline as a live session would see it (causal orientation, calibration, the rep
//! state machine, the coach's cues, printed at their session time), then prints the
//! report of the whole recording next to the simulation's ground truth.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::analysis::live_drift::{self, LiveDrift};
use crate::analysis::{self, Config, OrientationMode, SensorStream};
use crate::body::mount::Mount;
use crate::body::{Placement, Variation};
use crate::cli::DemoArgs;
use crate::error::{BadInput, Error, Problem, Result};
use crate::session::coach::{self, Coach, CueKind};
use crate::session::extract::{Event, State};
use crate::session::report::Report;
use crate::simulate::{self, Format};

use super::analyze::summary;

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
    let variation = Variation::Seated;
    let mut settings = simulate::Settings::new(
        variation,
        vec![Placement::Chest, Placement::Pelvis],
        args.seed,
        Format::Raw,
    );
    settings.rate_hz = Some(100.0);
    settings.with_mag = Some(false);
    settings.reps = Some(4);
    let session = simulate::simulate(&settings)
        .map_err(|e| BadInput::file("<demo>", Problem::Other(format!("simulation failed: {e}"))))?;
    let streams: Vec<SensorStream> = session
        .parsed_streams()?
        .into_iter()
        .map(|(placement, stream)| SensorStream {
            placement,
            path: simulate::stream_file_name(placement).into(),
            stream,
            mount: Mount::default(),
        })
        .collect();

    // As live: causal orientation; heading drift removed at the rests seen so far.
    let mut live = Config::new(variation);
    live.orientation = OrientationMode::Causal;
    live.drift_correction = false;
    let (_, signals) = analysis::analyze_detailed(&streams, &live)?;
    let duration_s = signals.t_s.last().zip(signals.t_s.first()).map_or(0.0, |(b, a)| b - a);

    let mut out = std::io::stdout().lock();
    let mut say =
        |line: String| -> Result<()> { writeln!(out, "{line}").and_then(|_| out.flush()).map_err(stdout_error) };
    say(format!(
        "twistcoach demo: a simulated seated twist, {duration_s:.0} s, chest and pelvis sensors (raw IMU, 100 Hz, gyro bias and noise){}",
        if args.realtime { ", in real time" } else { "" }
    ))?;
    say("Sit tall and still to calibrate...".to_string())?;
    let targets = live.protocol.targets(variation, live.caution);
    let mut extractor = State::new(live.extract);
    let mut coach = Coach::new(coach::Settings::new(variation, targets));
    let mut drift = LiveDrift::new(live_drift::Settings::default());
    let mut at_neutral = true;
    let (mut events, mut cues) = (Vec::new(), Vec::new());
    let t0 = signals.t_s.first().copied().unwrap_or(0.0);
    let wall0 = Instant::now();
    for mut sample in signals.samples() {
        events.clear();
        cues.clear();
        let whereabouts = if at_neutral {
            live_drift::Whereabouts::Neutral
        } else {
            live_drift::Whereabouts::Away
        };
        sample.angle_deg = drift.update(sample.t_s, sample.angle_deg, whereabouts);
        extractor.update(sample, &mut events);
        for e in &events {
            match e {
                Event::Neutral { .. } => at_neutral = true,
                Event::Turning { .. } => at_neutral = false,
                _ => {}
            }
        }
        coach.update(&sample, &events, &mut cues);
        for cue in &cues {
            if args.realtime {
                let due = Duration::from_secs_f64((cue.t_s - t0).max(0.0));
                std::thread::sleep(due.saturating_sub(wall0.elapsed()));
            }
            let bell = if cue.kind == CueKind::HoldComplete {
                " [bell]"
            } else {
                ""
            };
            say(format!("  [{:>6.1} s] {}{bell}", cue.t_s, cue.text))?;
        }
    }
    events.clear();
    extractor.finish(&mut events);
    let (left, right) = coach.reps_per_side();
    say(format!("Session over: {left} left and {right} right reps.\n"))?;

    // The report of the whole recording (what `analyze` and the history keep).
    let report = analysis::analyze(&streams, &Config::new(variation))?;
    say("Report (whole recording):".to_string())?;
    say(summary(&report))?;
    say(truth_comparison(&report, session.report()))?;
    say(
        "Next: `twistcoach simulate --variation seated --out s1` writes a session like this to files;\n\
         `twistcoach analyze --variation seated --sensor chest=s1/chest.csv.gz --json` analyses them."
            .to_string(),
    )?;
    Ok(())
}

/// How the report compares with the simulation's ground truth, rep by rep.
fn truth_comparison(found: &Report, truth: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "Ground truth of the simulation: {} reps; the analysis found {}.\n",
        truth.reps.len(),
        found.reps.len()
    );
    for (i, t) in truth.reps.iter().enumerate() {
        let matched = found
            .reps
            .iter()
            .find(|f| f.side == t.side && f.start_s < t.end_s && t.start_s < f.end_s);
        match matched {
            Some(f) => {
                let _ = writeln!(
                    s,
                    "  {:>2}. {:<5} true peak {:>5.1}° hold {:>5.1} s | measured {:>5.1}° {:>5.1} s | flags {}",
                    i + 1,
                    format!("{:?}", t.side).to_lowercase(),
                    t.peak_deg,
                    t.hold_s,
                    f.peak_deg,
                    f.hold_s,
                    if f.flags == t.flags { "as true" } else { "differ" }
                );
            }
            None => {
                let _ = writeln!(s, "  {:>2}. missed (true start {:.1} s)", i + 1, t.start_s);
            }
        }
    }
    s
}
