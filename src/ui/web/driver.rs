//! The session behind the page: a source (simulated peripherals `sim:KIND`, a recording
//! replayed, or phones on the LAN) through the live [`Pipeline`], its [`Snapshot`]
//! turned into a [`View`] and its [`LiveEvent`]s into [`WebEvent`]s for the [`Hub`].
//! Phone sessions are also recorded (`live::recorder`) and saved to the history.
//!
//! It owns the page's start/stop requests and the translation to the page's JSON. It
//! must not analyse anything: reps, holds, cues and sensor states are the pipeline's.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::view::{Control, Hub, SensorView, TargetsView, View, WebEvent};
use crate::body::{Placement, Variation};
use crate::device::DeviceKind;
use crate::live::recorder;
use crate::live::{Cue, LiveEvent, Output, Phase, Pipeline, SensorSetup, Settings, Snapshot};
use crate::record::Recording;
use crate::record::StreamInfo;
use crate::session::protocol::Caution;
use crate::session::report::Side;
use crate::source::phone::{PhoneBus, PhoneSource, PhoneSourceSettings};
use crate::source::sim::{Outage, SimSession, SimSettings};
use crate::source::{BackoffSettings, ConnectionState, Source, SourceEvent};
use crate::ui::{connection_words, side_word};

/// Where the page's sessions come from.
#[derive(Debug, Clone)]
pub enum SessionSource {
    /// Simulated peripherals sending their device's real notifications.
    Sim {
        sensors: Vec<(Placement, DeviceKind)>,
        seed: u64,
        reps: Option<usize>,
        outages: Vec<Outage>,
    },
    /// A recording (`live --record`), replayed through the same pipeline.
    Replay { path: PathBuf, recording: Recording },
    /// Phones on the LAN (the `/phone` page or Sensor Logger), one per placement, in
    /// order (the first is the primary sensor). Recorded and saved to the history.
    Phone { placements: Vec<Placement> },
}

impl SessionSource {
    /// The page's sensor choice: `sim` (the simulated sensors given at start) or
    /// `PLACEMENT=phone[,PLACEMENT=phone]`.
    pub fn from_choice(choice: &str, sim: &SessionSource) -> Result<SessionSource, String> {
        if choice.trim() == "sim" {
            return Ok(sim.clone());
        }
        let mut placements = Vec::new();
        for part in choice.split(',') {
            let spec = crate::source::parse_sensor_spec(part)?;
            if spec.device != crate::source::DeviceSpec::Phone {
                return Err(format!("`{part}`: the page can choose `sim` or PLACEMENT=phone"));
            }
            if placements.contains(&spec.placement) {
                return Err(format!("placement `{}` is given twice", spec.placement.name()));
            }
            placements.push(spec.placement);
        }
        Ok(SessionSource::Phone { placements })
    }
}

/// How the sessions are made and played.
#[derive(Debug, Clone)]
pub struct DriverSettings {
    pub variation: Variation,
    pub caution: Option<Caution>,
    pub source: SessionSource,
    /// Playback speed (1 = real time).
    pub speed: f64,
    /// Start a session at once (without waiting for the page's Start button).
    pub autostart: bool,
    /// The web server's phone readings (for [`SessionSource::Phone`]).
    pub phones: PhoneBus,
    /// What the page's "simulated" choice plays.
    pub sim: SessionSource,
    /// Phone sessions: write a recording into this directory.
    pub record_dir: Option<PathBuf>,
    /// Phone sessions: save each report to this history database (None: do not save).
    pub history_db: Option<PathBuf>,
}

/// Views are published at most this often (wall clock): the page redraws at this rate.
const VIEW_EVERY: Duration = Duration::from_millis(50);

fn phase_words(p: Phase) -> (&'static str, Option<Side>) {
    match p {
        Phase::Calibrating => ("calibrating", None),
        Phase::Neutral => ("neutral", None),
        Phase::Turning(s) => ("turning", Some(s)),
        Phase::Holding(s) => ("holding", Some(s)),
        Phase::Returning(s) => ("returning", Some(s)),
    }
}

/// The page's view of a pipeline snapshot.
pub fn view_of(s: &Snapshot, rep_min_deg: f64, source: &str, caution: Option<Caution>, running: bool) -> View {
    let (phase, side) = phase_words(s.phase);
    View {
        running,
        source: source.to_string(),
        variation: s.variation.name().to_string(),
        caution: caution.map(|c| c.name().to_string()),
        targets: TargetsView::new(&s.targets, rep_min_deg),
        t_s: s.t_s,
        primary_deg: s.primary_deg,
        compensation_deg: s.compensation_deg,
        phase: phase.to_string(),
        side: side.map(|x| side_word(x).to_string()),
        held_s: s.held_s,
        hold_to_go_s: s.hold_to_go_s(),
        reps_left: s.reps_left,
        reps_right: s.reps_right,
        cue: s.cue.text(),
        sensors: s
            .sensors
            .iter()
            .map(|x| SensorView {
                placement: x.placement.name().to_string(),
                kind: x.kind.name().to_string(),
                connection: connection_words(&x.connection),
                connected: x.connection == ConnectionState::Connected,
                rate_hz: x.rate_hz,
                samples: x.samples,
                battery_percent: x.battery_percent,
            })
            .collect(),
        phone: None,
    }
}

/// What kind of cue, for the page's voice: see [`WebEvent::Cue`].
pub fn cue_kind(c: &Cue) -> &'static str {
    match c {
        Cue::Connecting { .. } => "connecting",
        Cue::Reconnecting { .. } => "sensor_lost",
        Cue::Calibrate => "calibrate",
        Cue::Turn { other_side: true, .. } => "other_side",
        Cue::Turn { .. } => "turn",
        Cue::Slower => "slow_down",
        Cue::EaseOff => "ease_off",
        Cue::Hold => "hold",
        Cue::ReturnToCentre => "release",
        Cue::Done => "done",
    }
}

/// The page's events for a pipeline event. `lost` remembers which sensors dropped out.
pub fn web_events(e: &LiveEvent, lost: &mut BTreeSet<&'static str>) -> Vec<WebEvent> {
    match e {
        LiveEvent::Connection { placement, state } => {
            let name = placement.name();
            match state {
                ConnectionState::Disconnected { .. } | ConnectionState::Ended { .. } if lost.insert(name) => {
                    vec![WebEvent::Warning {
                        text: format!("{name} sensor: {}", connection_words(state)),
                    }]
                }
                ConnectionState::Connected if lost.remove(name) => vec![WebEvent::Cue {
                    t_s: None,
                    kind: "sensor_back".into(),
                    text: format!("{name} sensor back"),
                }],
                _ => Vec::new(),
            }
        }
        LiveEvent::Calibrated { t_s, warning, .. } => {
            let mut v = vec![WebEvent::Calibrated { t_s: *t_s }];
            if let Some(w) = warning {
                v.push(WebEvent::Warning { text: w.clone() });
            }
            v
        }
        LiveEvent::Cue { t_s, cue } => vec![WebEvent::Cue {
            t_s: *t_s,
            kind: cue_kind(cue).into(),
            text: cue.text(),
        }],
        LiveEvent::HoldStarted { t_s, side } => vec![WebEvent::HoldStarted {
            t_s: *t_s,
            side: side_word(*side).into(),
        }],
        LiveEvent::HoldComplete { t_s, side } => vec![WebEvent::HoldComplete {
            t_s: *t_s,
            side: side_word(*side).into(),
        }],
        LiveEvent::Rep(r) => vec![WebEvent::Rep {
            side: side_word(r.side).into(),
            hold_s: r.hold_s,
            peak_deg: r.peak_deg,
            flags: r
                .flags
                .iter()
                .filter_map(|f| serde_json::to_value(f).ok()?.as_str().map(String::from))
                .collect(),
        }],
        LiveEvent::Warning(w) => vec![WebEvent::Warning { text: w.clone() }],
    }
}

/// One session ready to run.
struct Built {
    pipeline: Pipeline,
    sources: Vec<Box<dyn Source>>,
    /// The source in words.
    what: String,
    rep_min_deg: f64,
    caution: Option<Caution>,
    /// Phone sessions: the streams, for the recording's metadata.
    phone_streams: Option<Vec<StreamInfo>>,
}

/// The pipeline and its sources for one session; its times count from `start`.
fn build(s: &DriverSettings, start: Instant) -> Result<Built, String> {
    let speed = Some(s.speed);
    match &s.source {
        SessionSource::Phone { placements } => {
            let mut settings = Settings::new(s.variation);
            settings.caution = s.caution;
            let kind = DeviceKind::Phone;
            let info = kind.info();
            let mut setups = Vec::new();
            let mut streams = Vec::new();
            let mut sources: Vec<Box<dyn Source>> = Vec::new();
            for (i, p) in placements.iter().enumerate() {
                let (_, mount) = crate::body::mount::parse_mount_arg(&format!("{}={}", p.name(), info.mount))
                    .map_err(|e| format!("registry mount of {kind}: {e}"))?;
                setups.push(SensorSetup {
                    placement: *p,
                    kind,
                    mount,
                    rate_hz: info.default_rate_hz,
                });
                streams.push(StreamInfo {
                    id: i as u16,
                    placement: *p,
                    device_kind: kind.name().to_string(),
                    device_address: None,
                    device_name: Some(format!("phone ({})", p.name())),
                    mount: info.mount.to_string(),
                    protocol: Some(info.vendor_model.to_string()),
                    rate_hz: None,
                    calibration: None,
                });
                sources.push(Box::new(PhoneSource::new(
                    i as u16,
                    *p,
                    &s.phones,
                    start,
                    PhoneSourceSettings {
                        speed: s.speed,
                        ..PhoneSourceSettings::default()
                    },
                )));
            }
            let rep_min_deg = settings.protocol.rep_min_deg;
            let pipeline = Pipeline::new(setups, settings).map_err(|e| e.to_string())?;
            let names: Vec<&str> = placements.iter().map(|p| p.name()).collect();
            let mut what = format!("phone as {} sensor (open /phone on the phone)", names.join(" + "));
            if s.speed != 1.0 {
                what.push_str(&format!(", {}× speed", s.speed));
            }
            Ok(Built {
                pipeline,
                sources,
                what,
                rep_min_deg,
                caution: s.caution,
                phone_streams: Some(streams),
            })
        }
        SessionSource::Sim {
            sensors,
            seed,
            reps,
            outages,
        } => {
            let mut settings = Settings::new(s.variation);
            settings.caution = s.caution;
            let mut setups = Vec::new();
            for (p, kind) in sensors {
                let info = kind.info();
                let (_, mount) = crate::body::mount::parse_mount_arg(&format!("{}={}", p.name(), info.mount))
                    .map_err(|e| format!("registry mount of {kind}: {e}"))?;
                setups.push(SensorSetup {
                    placement: *p,
                    kind: *kind,
                    mount,
                    rate_hz: info.default_rate_hz,
                });
            }
            let rep_min_deg = settings.protocol.rep_min_deg;
            let pipeline = Pipeline::new(setups, settings).map_err(|e| e.to_string())?;
            let sim = SimSession::build(&SimSettings {
                variation: s.variation,
                sensors: sensors
                    .iter()
                    .enumerate()
                    .map(|(i, (p, k))| (i as u16, *p, *k))
                    .collect(),
                two_sensors: sensors.len() == 2,
                seed: *seed,
                reps: *reps,
                max_duration_s: None,
                outages: outages.clone(),
                backoff: BackoffSettings::default(),
            });
            let names: Vec<String> = sensors
                .iter()
                .map(|(p, k)| format!("{}=sim:{}", p.name(), k.name()))
                .collect();
            let what = format!(
                "simulated sensors {} (seed {seed}), {}× speed",
                names.join(" "),
                s.speed
            );
            Ok(Built {
                pipeline,
                sources: vec![Box::new(sim.source(speed))],
                what,
                rep_min_deg,
                caution: s.caution,
                phone_streams: None,
            })
        }
        SessionSource::Replay { path, recording } => {
            let meta = recording
                .metadata()
                .ok_or_else(|| format!("{}: the recording has no metadata", path.display()))?;
            let pipeline = crate::commands::replay::pipeline_for(path, meta).map_err(|e| e.to_string())?;
            let what = format!("replay of {}, {}× speed", path.display(), s.speed);
            let rep_min_deg = match &meta.protocol_toml {
                Some(t) => crate::session::protocol::Protocol::from_toml(path, t).map_err(|e| e.to_string())?,
                None => crate::session::protocol::Protocol::default(),
            }
            .rep_min_deg;
            Ok(Built {
                pipeline,
                sources: vec![Box::new(crate::source::replay::source(recording, speed))],
                what,
                rep_min_deg,
                caution: meta.caution.as_deref().and_then(Caution::parse),
                phone_streams: None,
            })
        }
    }
}

/// The view before any session: the variation's targets.
pub fn idle_view(s: &DriverSettings) -> View {
    match build(s, Instant::now()) {
        Ok(b) => {
            let mut v = view_of(b.pipeline.snapshot(), b.rep_min_deg, &b.what, b.caution, false);
            v.phase = "idle".into();
            v.cue = "press Start".into();
            v
        }
        Err(e) => View {
            phase: "idle".into(),
            cue: format!("cannot start: {e}"),
            ..View::default()
        },
    }
}

/// Run forever: wait for a start, play a session, repeat.
pub async fn run(hub: Hub, mut control: mpsc::Receiver<Control>, mut settings: DriverSettings) {
    let mut pending = settings.autostart.then_some(Control::Start {
        variation: None,
        caution: None,
        sensors: None,
    });
    loop {
        let c = match pending.take() {
            Some(c) => c,
            None => match control.recv().await {
                Some(c) => c,
                None => return,
            },
        };
        let Control::Start {
            variation,
            caution,
            sensors,
        } = c
        else {
            continue;
        };
        if let Some(choice) = sensors.as_deref() {
            match SessionSource::from_choice(choice, &settings.sim) {
                Ok(src) => settings.source = src,
                Err(e) => {
                    hub.event(WebEvent::Warning {
                        text: format!("sensors: {e}"),
                    });
                    continue;
                }
            }
        }
        if let Some(v) = variation.as_deref().and_then(Variation::parse) {
            settings.variation = v;
        }
        match caution.as_deref() {
            Some("") | Some("none") => settings.caution = None,
            Some(c) => settings.caution = Caution::parse(c).or(settings.caution),
            None => {}
        }
        pending = play(&hub, &mut control, &settings).await;
        if let SessionSource::Sim { seed, .. } = &mut settings.source {
            *seed += 1;
        }
    }
}

/// Play one session; returns a start request that interrupted it.
async fn play(hub: &Hub, control: &mut mpsc::Receiver<Control>, s: &DriverSettings) -> Option<Control> {
    let start = Instant::now();
    let Built {
        mut pipeline,
        sources,
        what,
        rep_min_deg: rep_min,
        caution,
        phone_streams,
    } = match build(s, start) {
        Ok(x) => x,
        Err(e) => {
            hub.event(WebEvent::Warning { text: e });
            return None;
        }
    };
    let (tx, mut rx) = mpsc::channel::<Option<SourceEvent>>(4096);
    let n_sources = sources.len();
    let mut tasks = Vec::new();
    for mut src in sources {
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = src.next_event().await {
                if tx.send(Some(e)).await.is_err() {
                    return;
                }
            }
            let _ = tx.send(None).await;
        }));
    }
    drop(tx);
    hub.view
        .send_replace(view_of(pipeline.snapshot(), rep_min, &what, caution, true));
    let mut out = Output::default();
    let mut lost = BTreeSet::new();
    let mut done = 0;
    let mut last_view = Instant::now();
    let mut interrupt = None;
    let is_phone = phone_streams.is_some();
    let mut recorder = match (phone_streams, &s.record_dir) {
        (Some(streams), Some(dir)) => start_recording(dir, s, streams, start, hub),
        _ => None,
    };
    let mut flush = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            e = rx.recv() => match e {
                Some(Some(e)) => {
                    if let Some(w) = recorder.as_mut().and_then(|r| r.event(&e)) {
                        hub.event(WebEvent::Warning { text: w });
                    }
                    pipeline.update(&e, &mut out);
                    if let Some(w) = recorder.as_mut().and_then(|r| r.output(&e, &out, &pipeline)) {
                        hub.event(WebEvent::Warning { text: w });
                    }
                }
                Some(None) => {
                    done += 1;
                    if done >= n_sources { break; }
                }
                None => break,
            },
            c = control.recv() => {
                interrupt = c.filter(|c| matches!(c, Control::Start { .. }));
                break;
            }
            _ = flush.tick() => {
                if let Some(w) = recorder.as_mut().and_then(|r| r.tick()) {
                    hub.event(WebEvent::Warning { text: w });
                }
                continue;
            }
        }
        out.samples.clear();
        for e in out.events.drain(..) {
            for w in web_events(&e, &mut lost) {
                hub.event(w);
            }
        }
        if last_view.elapsed() >= VIEW_EVERY {
            last_view = Instant::now();
            hub.view
                .send_replace(view_of(pipeline.snapshot(), rep_min, &what, caution, true));
        }
    }
    for t in tasks {
        t.abort();
    }
    let report = pipeline.finish(&mut out);
    for e in out.events.drain(..) {
        for w in web_events(&e, &mut lost) {
            hub.event(w);
        }
    }
    let mut v = view_of(pipeline.snapshot(), rep_min, &what, caution, false);
    v.side = None;
    v.hold_to_go_s = None;
    // A phone session ends when the page's Stop (or Start) ends it: that is done.
    v.phase = if !is_phone && (interrupt.is_some() || done < n_sources) {
        "stopped"
    } else {
        "done"
    }
    .into();
    v.cue = match &report {
        Ok(r) => {
            let l = r.reps.iter().filter(|x| x.side == Side::Left).count();
            format!("session over: {l} left and {} right reps", r.reps.len() - l)
        }
        Err(e) => format!("session over ({e})"),
    };
    let saved = recorder.and_then(|r| r.finish(report.as_ref().ok()).ok());
    if let Some(p) = &saved {
        v.cue.push_str(&format!("; recorded to {}", p.display()));
    }
    if is_phone && let (Ok(r), Some(db)) = (&report, &s.history_db) {
        let (r, db) = (r.clone(), db.clone());
        // SQLite is blocking; the saved history is what `history` and the plots read.
        let _ = tokio::task::spawn_blocking(move || {
            crate::commands::history::autosave(&Some(db), &r, saved.as_deref(), "serve");
        })
        .await;
    }
    hub.event(WebEvent::SessionEnded { text: v.cue.clone() });
    hub.view.send_replace(v);
    interrupt
}

/// Open the recording of a phone session in `dir` (a warning on the page if it fails).
fn start_recording(
    dir: &std::path::Path,
    s: &DriverSettings,
    streams: Vec<StreamInfo>,
    start: Instant,
    hub: &Hub,
) -> Option<recorder::SessionRecorder> {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let path = dir.join(format!("phone-{stamp}.twrec"));
    let meta = recorder::metadata(s.variation, s.caution.map(|c| c.name()), None, streams);
    let r = std::fs::create_dir_all(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))
        .and_then(|_| recorder::SessionRecorder::create(&path, &meta, start).map_err(|e| e.to_string()));
    match r {
        Ok(r) => Some(r),
        Err(e) => {
            hub.event(WebEvent::Warning {
                text: format!("not recording: {e}"),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_loss_and_return_are_told_once() {
        let mut lost = BTreeSet::new();
        let down = LiveEvent::Connection {
            placement: Placement::Chest,
            state: ConnectionState::Disconnected {
                reason: "link lost".into(),
                retry_in_s: 0.5,
            },
        };
        assert_eq!(web_events(&down, &mut lost).len(), 1);
        assert!(web_events(&down, &mut lost).is_empty(), "told once");
        let up = LiveEvent::Connection {
            placement: Placement::Chest,
            state: ConnectionState::Connected,
        };
        let back = web_events(&up, &mut lost);
        assert!(matches!(&back[..], [WebEvent::Cue { kind, .. }] if kind == "sensor_back"));
        assert!(web_events(&up, &mut lost).is_empty());
    }

    #[test]
    fn cue_kinds_for_the_voice() {
        assert_eq!(
            cue_kind(&Cue::Turn {
                side: Side::Right,
                other_side: true
            }),
            "other_side"
        );
        assert_eq!(cue_kind(&Cue::EaseOff), "ease_off");
        assert_eq!(cue_kind(&Cue::ReturnToCentre), "release");
    }
}
