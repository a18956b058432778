//! The session behind the page until a real source is chosen: a simulated session
//! (`simulate`) through the same causal path as `twistcoach demo` (causal orientation,
//! calibration, live drift removal at rests, the rep/hold state machine, the coach's
//! cues), played at wall-clock pace (or faster), publishing a [`View`] per sample and a
//! [`WebEvent`] per cue into the [`Hub`].
//!
//! It owns pacing, the page's start/stop requests and an optional simulated sensor
//! outage (to show what the page does when a sensor drops out). It must not decide what
//! a rep or a cue is: that is `session::extract` and `session::coach`.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::view::{Control, Hub, SensorView, TargetsView, View, WebEvent};
use crate::analysis::live_drift::{self, LiveDrift};
use crate::analysis::{self, Config, OrientationMode, SensorStream};
use crate::body::mount::Mount;
use crate::body::{Placement, Variation};
use crate::session::coach::{self, Coach, CueKind};
use crate::session::extract::{Event, Sample, State};
use crate::session::protocol::Caution;
use crate::simulate::{self, Format};

/// How the simulated sessions are made and played.
#[derive(Debug, Clone)]
pub struct SimSettings {
    pub variation: Variation,
    pub caution: Option<Caution>,
    /// Seed of the first session; each new start uses the next seed.
    pub seed: u64,
    /// Playback speed (1 = real time).
    pub speed: f64,
    pub reps: usize,
    pub rate_hz: f64,
    /// A simulated outage of the primary sensor: (start after the session's start, s;
    /// duration, s).
    pub outage_s: Option<(f64, f64)>,
    /// Start a session at once (without waiting for the page's start button).
    pub autostart: bool,
}

impl SimSettings {
    pub fn new(variation: Variation) -> SimSettings {
        SimSettings {
            variation,
            caution: None,
            seed: 7,
            speed: 1.0,
            reps: 4,
            rate_hz: 50.0,
            outage_s: None,
            autostart: false,
        }
    }
}

/// The calibration window shown before the coaching starts, s.
const CALIBRATION_S: f64 = 2.0;
/// Views are published at most this often (the page redraws at this rate), s.
const VIEW_EVERY_S: f64 = 0.05;

fn side_name(sign: f64) -> String {
    if sign >= 0.0 { "left" } else { "right" }.to_string()
}

fn placements(v: Variation) -> Vec<Placement> {
    match v {
        Variation::Supine => vec![Placement::Pelvis, Placement::Chest],
        _ => vec![Placement::Chest, Placement::Pelvis],
    }
}

/// The idle view for a variation (targets shown before a session starts).
pub fn idle_view(s: &SimSettings) -> View {
    let config = Config::new(s.variation);
    let targets = config.protocol.targets(s.variation, s.caution);
    View {
        running: false,
        source: "simulated sessions (press Start)".into(),
        variation: s.variation.name().into(),
        caution: s.caution.map(|c| c.name().to_string()),
        targets: TargetsView::new(&targets, config.protocol.rep_min_deg),
        phase: "idle".into(),
        cue: "press Start".into(),
        ..View::default()
    }
}

fn cue_kind(kind: CueKind, text: &str) -> &'static str {
    match kind {
        CueKind::Turn if text.contains("other side") => "other_side",
        CueKind::Turn => "turn",
        CueKind::SlowDown => "slow_down",
        CueKind::EaseOff => "ease_off",
        CueKind::Hold => "hold",
        CueKind::Countdown => "countdown",
        CueKind::HoldComplete => "hold_complete",
        CueKind::Release => "release",
        CueKind::RepDone => "rep_done",
    }
}

/// Run forever: wait for a start, play a session, repeat.
pub async fn run(hub: Hub, mut control: mpsc::Receiver<Control>, mut settings: SimSettings) {
    let mut pending = settings.autostart.then_some(Control::Start {
        variation: None,
        caution: None,
    });
    loop {
        let c = match pending.take() {
            Some(c) => c,
            None => match control.recv().await {
                Some(c) => c,
                None => return,
            },
        };
        let Control::Start { variation, caution } = c else {
            continue;
        };
        if let Some(v) = variation.as_deref().and_then(Variation::parse) {
            settings.variation = v;
        }
        match caution.as_deref() {
            Some("") | Some("none") => settings.caution = None,
            Some(c) => settings.caution = Caution::parse(c).or(settings.caution),
            None => {}
        }
        pending = play(&hub, &mut control, &settings).await;
        settings.seed += 1;
    }
}

/// Play one session; returns a control request that interrupted it (a new start).
async fn play(hub: &Hub, control: &mut mpsc::Receiver<Control>, s: &SimSettings) -> Option<Control> {
    let mut view = idle_view(s);
    view.running = true;
    view.phase = "calibrating".into();
    view.cue = "preparing the simulated session…".into();
    view.source = format!(
        "simulated {} session, seed {}, {}× speed",
        s.variation.name(),
        s.seed,
        s.speed
    );
    hub.view.send_replace(view.clone());

    let prepared = {
        let s = s.clone();
        tokio::task::spawn_blocking(move || prepare(&s)).await
    };
    let (samples, config) = match prepared {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            hub.event(WebEvent::Warning { text: e });
            view.running = false;
            view.phase = "idle".into();
            hub.view.send_replace(view);
            return None;
        }
        Err(e) => {
            hub.event(WebEvent::Warning {
                text: format!("the simulation stopped: {e}"),
            });
            return None;
        }
    };
    let targets = config.protocol.targets(s.variation, s.caution);
    let mut sensors: Vec<SensorView> = placements(s.variation)
        .into_iter()
        .map(|p| SensorView {
            placement: p.name().into(),
            kind: "simulated raw IMU".into(),
            connection: "connected".into(),
            connected: true,
            rate_hz: s.rate_hz,
            samples: 0,
            battery_percent: None,
        })
        .collect();
    let mut extractor = State::new(config.extract);
    let mut coach = Coach::new(coach::Settings::new(s.variation, targets));
    let mut drift = LiveDrift::new(live_drift::Settings::default());
    let (mut events, mut cues) = (Vec::new(), Vec::new());
    let t0 = samples.first().map_or(0.0, |x| x.t_s);
    let wall0 = Instant::now();
    let speed = s.speed.max(0.01);
    let mut hold_since: Option<f64> = None;
    let mut side: Option<String> = None;
    let mut in_outage = false;
    let mut calibrated = false;
    let mut last_view_s = f64::NEG_INFINITY;
    view.cue = "calibrating: stay still".into();
    hub.event(WebEvent::Cue {
        t_s: Some(t0),
        kind: "calibrate".into(),
        text: "calibrating, stay still".into(),
    });

    for mut sample in samples {
        let due = wall0 + Duration::from_secs_f64((sample.t_s - t0) / speed);
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            c = control.recv() => {
                let interrupt = c.filter(|c| matches!(c, Control::Start { .. }));
                end(hub, &mut view, &coach, "stopped");
                return interrupt;
            }
        }
        let rel_s = sample.t_s - t0;
        view.t_s = Some(sample.t_s);
        let outage = s.outage_s.is_some_and(|(a, d)| rel_s >= a && rel_s < a + d);
        if outage != in_outage {
            in_outage = outage;
            let name = sensors[0].placement.clone();
            if outage {
                sensors[0].connection = "disconnected (simulated outage): reconnecting".into();
                sensors[0].connected = false;
                sensors[0].rate_hz = 0.0;
                view.cue = format!("{name} sensor lost: reconnecting, stay where you are");
                view.primary_deg = None;
                hub.event(WebEvent::Cue {
                    t_s: Some(sample.t_s),
                    kind: "sensor_lost".into(),
                    text: view.cue.clone(),
                });
            } else {
                sensors[0].connection = "connected".into();
                sensors[0].connected = true;
                sensors[0].rate_hz = s.rate_hz;
                hub.event(WebEvent::Cue {
                    t_s: Some(sample.t_s),
                    kind: "sensor_back".into(),
                    text: format!("{name} sensor back"),
                });
            }
        }
        if outage {
            sensors[1].samples += 1;
            view.sensors = sensors.clone();
            hub.view.send_replace(view.clone());
            continue;
        }
        for x in sensors.iter_mut() {
            x.samples += 1;
        }
        view.sensors = sensors.clone();
        if rel_s < CALIBRATION_S {
            view.phase = "calibrating".into();
            view.primary_deg = None;
        } else {
            if !calibrated {
                calibrated = true;
                view.phase = "neutral".into();
                hub.event(WebEvent::Calibrated { t_s: sample.t_s });
            }
            events.clear();
            cues.clear();
            sample.angle_deg = drift.update(sample.t_s, sample.angle_deg);
            extractor.update(sample, &mut events);
            coach.update(&sample, &events, &mut cues);
            view.primary_deg = Some(sample.angle_deg);
            view.compensation_deg = sample.compensation_deg;
            for e in &events {
                match e {
                    Event::Neutral { .. } => {
                        view.phase = "neutral".into();
                        side = None;
                        hold_since = None;
                    }
                    Event::Turning { sign, .. } => {
                        view.phase = "turning".into();
                        side = Some(side_name(*sign));
                    }
                    Event::Holding { t_s, .. } => {
                        view.phase = "holding".into();
                        hold_since = Some(*t_s);
                        hub.event(WebEvent::HoldStarted {
                            t_s: *t_s,
                            side: side.clone().unwrap_or_default(),
                        });
                    }
                    Event::Returning { .. } => {
                        view.phase = "returning".into();
                        hold_since = None;
                    }
                    Event::Rep(r) => hub.event(WebEvent::Rep {
                        side: side_name(r.sign),
                        hold_s: r.hold_s(),
                        peak_deg: r.peak_deg,
                        flags: Vec::new(),
                    }),
                }
            }
            for c in &cues {
                let kind = cue_kind(c.kind, &c.text);
                if c.kind == CueKind::HoldComplete {
                    hub.event(WebEvent::HoldComplete {
                        t_s: c.t_s,
                        side: side.clone().unwrap_or_default(),
                    });
                }
                view.cue = c.text.clone();
                hub.event(WebEvent::Cue {
                    t_s: Some(c.t_s),
                    kind: kind.into(),
                    text: c.text.clone(),
                });
            }
        }
        view.side = side.clone();
        view.held_s = hold_since.map_or(0.0, |h| sample.t_s - h);
        view.hold_to_go_s = coach.hold_to_go_s(sample.t_s);
        (view.reps_left, view.reps_right) = coach.reps_per_side();
        if sample.t_s - last_view_s >= VIEW_EVERY_S * speed {
            last_view_s = sample.t_s;
            hub.view.send_replace(view.clone());
        }
    }
    events.clear();
    extractor.finish(&mut events);
    end(hub, &mut view, &coach, "done");
    None
}

fn end(hub: &Hub, view: &mut View, coach: &Coach, phase: &str) {
    let (l, r) = coach.reps_per_side();
    view.running = false;
    view.phase = phase.into();
    view.side = None;
    view.hold_to_go_s = None;
    view.cue = format!("session over: {l} left and {r} right reps");
    for x in view.sensors.iter_mut() {
        x.connection = "session ended".into();
        x.connected = false;
        x.rate_hz = 0.0;
    }
    hub.event(WebEvent::SessionEnded { text: view.cue.clone() });
    hub.view.send_replace(view.clone());
}

/// Simulate the session and run it through causal orientation and calibration: the
/// body-angle samples a live pipeline would see, in order.
fn prepare(s: &SimSettings) -> Result<(Vec<Sample>, Config), String> {
    let mut sim = simulate::Settings::new(s.variation, placements(s.variation), s.seed, Format::Raw);
    sim.rate_hz = Some(s.rate_hz);
    sim.with_mag = Some(false);
    sim.reps = Some(s.reps);
    let session = simulate::simulate(&sim).map_err(|e| format!("the simulation failed: {e}"))?;
    let streams: Vec<SensorStream> = session
        .parsed_streams()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(placement, stream)| SensorStream {
            placement,
            path: simulate::stream_file_name(placement).into(),
            stream,
            mount: Mount::default(),
        })
        .collect();
    let mut config = Config::new(s.variation);
    config.caution = s.caution;
    config.orientation = OrientationMode::Causal;
    config.drift_correction = false;
    let (_, signals) = analysis::analyze_detailed(&streams, &config).map_err(|e| e.to_string())?;
    Ok((signals.samples(), config))
}
