//! The live pipeline's pure core: source events in, UI events and a state snapshot out.
//!
//! decode (`device`) → host times (`device::timing`: device clock aligned to receive
//! times, or smoothed receive times) → orientation (raw IMUs through `OrientationFilter`,
//! orientation devices as they are) → both sensors on the primary sensor's time axis →
//! neutral calibration (`body::calibration`, as soon as a 2 s still window is seen) →
//! body angles (`body::twist`) → the rep/hold state machine (`session::extract`) → flags
//! (`session::flags`) and one cue at a time ([`cue`]).
//!
//! No I/O, no clock, no async: the result depends only on the sequence of
//! [`SourceEvent`]s, so replaying a recording's notifications gives the live run's report
//! exactly. Owns the merging of two sensors' streams and the live hold countdown; must not
//! decide what a rep is (that is `session::extract`).

pub mod accuracy;
pub mod cue;
pub mod recorder;
pub mod run;

use std::collections::VecDeque;

use crate::analysis::live_drift::{self, LiveDrift, Whereabouts};
use crate::body::calibration::{
    SegmentCalibration, StillSettings, StillSignals, calibrate_segment, find_still_window, gyro_rate_dps,
    orientation_rate_dps,
};
use crate::body::mount::Mount;
use crate::body::twist::{flexion_rad, relative_twist_rad, segment_twist_rad};
use crate::body::{Placement, Segment, Variation};
use crate::device::timing::{DeviceClockAligner, ReceiveTimeSmoother, SmootherSettings};
use crate::device::{DeviceKind, DeviceSample, NotificationDecoder, OutputKind};
use crate::frames::{Quat, Vec3, norm};
use crate::orientation::{OrientationFilter, Settings as OrientationSettings};
use crate::session::extract::{self, Event as ExtractEvent, Sample};
use crate::session::flags::{FlagContext, judge_rep, judge_session};
use crate::session::protocol::{Caution, Protocol, VariationTargets};
use crate::session::report::{REPORT_SCHEMA, Report, Side};
use crate::source::{ConnectionState, SensorId, SourceEvent};

pub use cue::Cue;

/// One sensor of the session.
#[derive(Debug, Clone)]
pub struct SensorSetup {
    pub placement: Placement,
    pub kind: DeviceKind,
    pub mount: Mount,
    /// The rate the device was configured to (Hz).
    pub rate_hz: f64,
}

/// Settings of the live pipeline (thresholds with units, defaults in one place).
#[derive(Debug, Clone)]
pub struct Settings {
    pub variation: Variation,
    pub caution: Option<Caution>,
    pub protocol: Protocol,
    pub still: StillSettings,
    pub extract: extract::Settings,
    /// Use a raw device's magnetometer when it sends one.
    pub use_mag: bool,
    /// A primary sample waits at most this long (on its own time axis) for the other
    /// sensor's samples to catch up; then the other sensor's last orientation is held, s.
    pub max_wait_s: f64,
    /// How often the still-window search runs before calibration, s of data.
    pub calibration_check_s: f64,
    /// A raw IMU's filter starts from its first sample held still this long (VQF starts
    /// at identity and needs several seconds to find gravity otherwise), s.
    pub preroll_s: f64,
    /// The speed for the "slower" cue is averaged over this long, s.
    pub cue_speed_window_s: f64,
    /// Heading drift removed causally at the rests between reps (spec §3: an analysis may
    /// use the rests to cancel its own drift), see `analysis::live_drift`.
    pub drift: live_drift::Settings,
}

impl Settings {
    pub fn new(variation: Variation) -> Settings {
        Settings {
            variation,
            caution: None,
            protocol: Protocol::default(),
            still: StillSettings::default(),
            extract: extract::Settings::default(),
            use_mag: true,
            max_wait_s: 0.3,
            calibration_check_s: 0.25,
            preroll_s: 5.0,
            cue_speed_window_s: 0.5,
            drift: live_drift::Settings::default(),
        }
    }
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    Calibrating,
    Neutral,
    Turning(Side),
    Holding(Side),
    Returning(Side),
}

/// What the UI shows about one sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorStatus {
    pub placement: Placement,
    pub kind: DeviceKind,
    pub connection: ConnectionState,
    pub battery_percent: Option<u8>,
    pub rssi_dbm: Option<i16>,
    /// Samples per second over the last 2 s.
    pub rate_hz: f64,
    pub samples: u64,
    /// Packets known or estimated to be lost.
    pub dropped: u64,
    pub decode_errors: u64,
}

/// The state the UI renders.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub variation: Variation,
    pub targets: VariationTargets,
    /// Time of the latest processed sample (host clock, s).
    pub t_s: Option<f64>,
    pub primary_deg: Option<f64>,
    pub compensation_deg: Option<f64>,
    pub phase: Phase,
    /// How long all sensors have been still (while calibrating), s.
    pub still_s: f64,
    /// Hold time counted so far in the current hold (paused during gaps), s.
    pub held_s: f64,
    pub reps_left: usize,
    pub reps_right: usize,
    pub cue: Cue,
    pub sensors: Vec<SensorStatus>,
}

impl Snapshot {
    /// Seconds still to hold in the current hold, if holding.
    pub fn hold_to_go_s(&self) -> Option<f64> {
        match self.phase {
            Phase::Holding(_) => Some((self.targets.hold_min_s - self.held_s).max(0.0)),
            _ => None,
        }
    }
}

/// Discrete things that happened (the `--plain` lines).
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    Connection {
        placement: Placement,
        state: ConnectionState,
    },
    Calibrated {
        t_s: f64,
        window_s: (f64, f64),
        warning: Option<String>,
    },
    Cue {
        t_s: Option<f64>,
        cue: Cue,
    },
    HoldStarted {
        t_s: f64,
        side: Side,
    },
    /// The hold reached the target's minimum: ring the bell.
    HoldComplete {
        t_s: f64,
        side: Side,
    },
    Rep(crate::session::report::Rep),
    Warning(String),
}

/// What one update produced.
#[derive(Debug, Default)]
pub struct Output {
    pub events: Vec<LiveEvent>,
    /// Decoded samples (sensor, receive time), for the recording.
    pub samples: Vec<(SensorId, f64, DeviceSample)>,
}

/// Why a session could not give a report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Setup(String),
    #[error(
        "neutral was never calibrated: no still moment of {0:.0} s with every sensor sending data; start each session still in the neutral position"
    )]
    NotCalibrated(f64),
    #[error("{placement}: {message}")]
    Calibration { placement: &'static str, message: String },
}

/// One sensor's orientation at one time.
#[derive(Debug, Clone, Copy)]
struct Oriented {
    t_s: f64,
    q: Quat,
    gyr_rps: Option<Vec3>,
    acc_norm_mps2: Option<f64>,
}

enum Timing {
    DeviceClock(DeviceClockAligner),
    Receive(ReceiveTimeSmoother),
}

struct SensorState {
    setup: SensorSetup,
    raw: bool,
    decoder: Box<dyn NotificationDecoder>,
    timing: Timing,
    filter: Option<OrientationFilter>,
    last_q: Option<Quat>,
    status: SensorStatus,
    ever_connected: bool,
    recent_t: VecDeque<f64>,
    last_t: Option<f64>,
    gaps: Vec<f64>,
    estimated_lost: u64,
    /// Oriented samples not yet on the common axis (primary) / history (secondary).
    queue: VecDeque<Oriented>,
    first_t: Option<f64>,
}

impl SensorState {
    fn new(setup: SensorSetup) -> Self {
        let info = setup.kind.info();
        let raw = info.output != OutputKind::Orientation;
        let timing = if info.has_device_time {
            Timing::DeviceClock(DeviceClockAligner::new())
        } else {
            Timing::Receive(ReceiveTimeSmoother::new(SmootherSettings::for_rate(setup.rate_hz)))
        };
        SensorState {
            raw,
            decoder: setup.kind.decoder(),
            timing,
            filter: None,
            last_q: None,
            status: SensorStatus {
                placement: setup.placement,
                kind: setup.kind,
                connection: ConnectionState::Connecting { attempt: 0 },
                battery_percent: None,
                rssi_dbm: None,
                rate_hz: 0.0,
                samples: 0,
                dropped: 0,
                decode_errors: 0,
            },
            ever_connected: false,
            recent_t: VecDeque::new(),
            last_t: None,
            gaps: Vec::new(),
            estimated_lost: 0,
            queue: VecDeque::new(),
            first_t: None,
            setup,
        }
    }

    /// Host time and orientation of a decoded sample, if it is the kind this sensor uses.
    fn orient(&mut self, s: &DeviceSample, receive_s: f64, settings: &Settings) -> Option<Oriented> {
        let usable = if self.raw {
            s.acc_sensor_mps2.is_some() && s.gyro_sensor_radps.is_some()
        } else {
            s.q_world_from_sensor.is_some_and(|q| q.norm() > 0.5)
        };
        if !usable {
            return None;
        }
        let t = match (&mut self.timing, s.device_time_s) {
            (Timing::DeviceClock(a), Some(dev)) => a.update(dev, receive_s),
            (Timing::DeviceClock(a), None) => a.update(receive_s, receive_s),
            (Timing::Receive(sm), _) => sm.update(receive_s),
        };
        if self.last_t.is_some_and(|last| t <= last) {
            return None;
        }
        if self.raw {
            let acc = s.acc_sensor_mps2?;
            let gyr = s.gyro_sensor_radps?;
            let imu = crate::stream::ImuSample {
                t_s: t,
                acc_sensor_mps2: acc,
                gyr_sensor_rps: gyr,
                mag_sensor: if settings.use_mag { s.mag_sensor_ut } else { None },
            };
            let dt = 1.0 / self.setup.rate_hz.max(1.0);
            let filter = self.filter.get_or_insert_with(|| {
                let upright = settings.variation != Variation::Supine;
                let mut params = crate::orientation::vqf_params();
                // As `analyze`: upright, the twist is the heading and its drift is removed
                // at the rests (`live_drift`); VQF's rest-bias estimation would learn the
                // breathing during still holds and rests as bias and make that drift wander.
                // Supine, the twist is seen by gravity and rest-bias estimation keeps the
                // inclination clean.
                params.rest_bias_estimation = !upright;
                let mut f = OrientationFilter::with_params(
                    dt,
                    OrientationSettings {
                        use_mag: settings.use_mag,
                        ..OrientationSettings::default()
                    },
                    params,
                );
                let k = (settings.preroll_s / dt).round() as usize;
                // The first sample held still. Supine, its gyro reading is included (VQF's
                // rest estimate starts from it); upright the rate is left out: one
                // sample's reading carries the breathing (up to ~1 °/s), and with no
                // rest-bias estimation it would only tilt the start.
                let preroll = crate::stream::ImuSample {
                    gyr_sensor_rps: if upright { [0.0; 3] } else { imu.gyr_sensor_rps },
                    ..imu
                };
                for i in (1..=k).rev() {
                    f.update(&crate::stream::ImuSample {
                        t_s: t - i as f64 * dt,
                        ..preroll
                    });
                }
                f
            });
            // Across a long gap the rotation is unknown: the filter's trapezoid of the rates
            // at both ends would turn a 6 s outage that began mid-turn into a turn of a
            // hundred degrees. Assume none (two still samples bracket the gap); the rest
            // after it re-anchors the heading (`live_drift`).
            if let Some(last) = self.last_t
                && t - last > settings.extract.gap_s
            {
                for t_s in [last + dt, t - dt] {
                    filter.update(&crate::stream::ImuSample {
                        t_s,
                        gyr_sensor_rps: [0.0; 3],
                        ..imu
                    });
                }
            }
            let q = filter.update(&imu);
            Some(Oriented {
                t_s: t,
                q,
                gyr_rps: Some(gyr),
                acc_norm_mps2: Some(norm(acc)),
            })
        } else {
            let mut q = s.q_world_from_sensor?.normalized();
            if let Some(p) = self.last_q {
                q = q.same_hemisphere_as(p);
            }
            self.last_q = Some(q);
            Some(Oriented {
                t_s: t,
                q,
                gyr_rps: None,
                acc_norm_mps2: None,
            })
        }
    }

    fn count(&mut self, t: f64, gap_s: f64) {
        let dt_nominal = 1.0 / self.setup.rate_hz.max(1.0);
        if let Some(last) = self.last_t {
            let d = t - last;
            if d > 1.5 * dt_nominal {
                self.estimated_lost += ((d / dt_nominal).round() as u64).saturating_sub(1);
            }
            if d > gap_s {
                self.gaps.push(d);
            }
        }
        self.last_t = Some(t);
        self.first_t.get_or_insert(t);
        self.status.samples += 1;
        self.recent_t.push_back(t);
        while self.recent_t.front().is_some_and(|f| t - f > 2.0) {
            self.recent_t.pop_front();
        }
        let n = self.recent_t.len();
        self.status.rate_hz = match (self.recent_t.front(), n) {
            (Some(f), n) if n > 1 && t > *f => (n - 1) as f64 / (t - f),
            _ => 0.0,
        };
        self.status.dropped = self.decoder.dropped().unwrap_or(self.estimated_lost);
    }
}

/// Both sensors at one time on the primary's axis.
#[derive(Debug, Clone, Copy)]
struct Common {
    t_s: f64,
    primary: Oriented,
    secondary: Option<Oriented>,
}

/// The other sensor at time `t` from its recent samples (held at the ends).
fn secondary_at(hist: &VecDeque<Oriented>, t: f64) -> Option<Oriented> {
    let i = hist.partition_point(|o| o.t_s < t);
    if i == 0 {
        return hist.front().copied();
    }
    let Some(b) = hist.get(i) else {
        return hist.back().copied();
    };
    let a = hist[i - 1];
    let f = (t - a.t_s) / (b.t_s - a.t_s);
    let lerp3 = |x: Vec3, y: Vec3| [0, 1, 2].map(|k| x[k] + f * (y[k] - x[k]));
    Some(Oriented {
        t_s: t,
        q: a.q.nlerp(b.q, f),
        gyr_rps: a.gyr_rps.zip(b.gyr_rps).map(|(x, y)| lerp3(x, y)),
        acc_norm_mps2: a.acc_norm_mps2.zip(b.acc_norm_mps2).map(|(x, y)| x + f * (y - x)),
    })
}

struct Calibrated {
    primary: SegmentCalibration,
    secondary: Option<SegmentCalibration>,
}

/// The live pipeline.
pub struct Pipeline {
    settings: Settings,
    sensors: Vec<SensorState>,
    primary: usize,
    secondary: Option<usize>,
    targets: VariationTargets,
    /// Common samples before calibration.
    buffer: Vec<Common>,
    next_check_t: f64,
    calibration: Option<Calibrated>,
    calibration_warning: Option<String>,
    calibration_error: Option<LiveError>,
    extractor: extract::State,
    reps: Vec<crate::session::report::Rep>,
    recent_angle: VecDeque<(f64, f64)>,
    last_common_t: Option<f64>,
    hold_bell_rung: bool,
    held_secondary: u64,
    drift: LiveDrift,
    /// The largest |angle| since the person left neutral, °.
    excursion_peak_deg: f64,
    /// The side of an excursion that ended as a rep which the state machine has not
    /// reported yet (it does so about a second later): the next side counts it already.
    unreported_side: Option<Side>,
    /// The side of the last reported rep.
    last_rep_side: Option<Side>,
    /// Gaps seen so far (all sensors), to tell the drift estimator of new ones.
    gaps_seen: usize,
    snapshot: Snapshot,
}

impl Pipeline {
    /// A pipeline for these sensors (command-line order). Checks the placements' roles.
    pub fn new(setups: Vec<SensorSetup>, settings: Settings) -> Result<Pipeline, LiveError> {
        if setups.is_empty() {
            return Err(LiveError::Setup(
                "no sensor given; add --sensor PLACEMENT=DEVICE".into(),
            ));
        }
        if setups.len() > 2 {
            return Err(LiveError::Setup(
                "at most two sensors (one on the chest or upper back, one on the pelvis or sacrum)".into(),
            ));
        }
        if setups.len() == 2 && setups[0].placement.segment() == setups[1].placement.segment() {
            return Err(LiveError::Setup(format!(
                "{} and {} measure the same segment; give one thorax sensor (chest or upper-back) and one pelvis sensor (pelvis or sacrum)",
                setups[0].placement.name(),
                setups[1].placement.name()
            )));
        }
        let primary_segment = settings.variation.primary_segment();
        let primary = setups
            .iter()
            .position(|s| s.placement.segment() == primary_segment)
            .ok_or_else(|| {
                LiveError::Setup(format!(
                    "the {} twist needs a sensor on the {}",
                    settings.variation.name(),
                    match primary_segment {
                        Segment::Thorax => "chest or upper-back",
                        Segment::Pelvis => "pelvis or sacrum",
                    }
                ))
            })?;
        let secondary = (0..setups.len()).find(|&i| i != primary);
        let targets = settings.protocol.targets(settings.variation, settings.caution);
        let extractor = extract::State::new(extract::Settings {
            rep_min_deg: settings.protocol.rep_min_deg,
            ..settings.extract
        });
        let sensors: Vec<SensorState> = setups.into_iter().map(SensorState::new).collect();
        let drift_settings = settings.drift;
        let snapshot = Snapshot {
            variation: settings.variation,
            targets,
            t_s: None,
            primary_deg: None,
            compensation_deg: None,
            phase: Phase::Calibrating,
            still_s: 0.0,
            held_s: 0.0,
            reps_left: 0,
            reps_right: 0,
            cue: Cue::Connecting {
                placement: sensors[primary].setup.placement,
            },
            sensors: sensors.iter().map(|s| s.status.clone()).collect(),
        };
        Ok(Pipeline {
            settings,
            sensors,
            primary,
            secondary,
            targets,
            buffer: Vec::new(),
            next_check_t: f64::NEG_INFINITY,
            calibration: None,
            calibration_warning: None,
            calibration_error: None,
            extractor,
            reps: Vec::new(),
            recent_angle: VecDeque::new(),
            last_common_t: None,
            hold_bell_rung: false,
            held_secondary: 0,
            drift: LiveDrift::new(drift_settings),
            gaps_seen: 0,
            excursion_peak_deg: 0.0,
            unreported_side: None,
            last_rep_side: None,
            snapshot,
        })
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    pub fn is_calibrated(&self) -> bool {
        self.calibration.is_some()
    }

    /// Calibration results as JSON (for the recording's `calibrated` event).
    pub fn calibration_json(&self) -> Option<serde_json::Value> {
        let c = self.calibration.as_ref()?;
        let q = |q: Quat| q.to_array().to_vec();
        let mut v = serde_json::json!({
            "primary": {
                "placement": self.sensors[self.primary].setup.placement.name(),
                "q_world_from_sensor_neutral": q(c.primary.q_world_from_sensor_neutral),
                "q_sensor_from_body": q(c.primary.q_sensor_from_body),
            }
        });
        if let (Some(s), Some(si)) = (&c.secondary, self.secondary) {
            v["secondary"] = serde_json::json!({
                "placement": self.sensors[si].setup.placement.name(),
                "q_world_from_sensor_neutral": q(s.q_world_from_sensor_neutral),
                "q_sensor_from_body": q(s.q_sensor_from_body),
            });
        }
        Some(v)
    }

    /// Feed one source event.
    pub fn update(&mut self, ev: &SourceEvent, out: &mut Output) {
        let k = usize::from(ev.sensor());
        if k >= self.sensors.len() {
            return;
        }
        match ev {
            SourceEvent::Notification {
                receive_s,
                characteristic,
                bytes,
                ..
            } => {
                let decoded = self.sensors[k].decoder.push(*characteristic, bytes);
                match decoded {
                    Ok(samples) => {
                        for s in samples {
                            out.samples.push((ev.sensor(), *receive_s, s));
                            let settings = self.settings.clone();
                            if let Some(o) = self.sensors[k].orient(&s, *receive_s, &settings) {
                                let gap_s = self.settings.extract.gap_s;
                                self.sensors[k].count(o.t_s, gap_s);
                                self.sensors[k].queue.push_back(o);
                            }
                        }
                    }
                    Err(e) => {
                        let st = &mut self.sensors[k].status;
                        st.decode_errors += 1;
                        if st.decode_errors == 1 {
                            out.events.push(LiveEvent::Warning(format!(
                                "{}: {e} (further decode errors are counted)",
                                st.placement.name()
                            )));
                        }
                    }
                }
                self.merge(out);
            }
            SourceEvent::Connection { state, .. } => {
                let s = &mut self.sensors[k];
                if *state == ConnectionState::Connected {
                    s.ever_connected = true;
                }
                s.status.connection = state.clone();
                out.events.push(LiveEvent::Connection {
                    placement: s.setup.placement,
                    state: state.clone(),
                });
                if matches!(state, ConnectionState::Ended { .. }) {
                    self.merge(out);
                }
                self.update_cue(out);
            }
            SourceEvent::Battery { percent, .. } => self.sensors[k].status.battery_percent = Some(*percent),
            SourceEvent::Rssi { dbm, .. } => self.sensors[k].status.rssi_dbm = Some(*dbm),
        }
        for (st, s) in self.snapshot.sensors.iter_mut().zip(&self.sensors) {
            st.clone_from(&s.status);
        }
    }

    /// Move primary samples onto the common axis once the other sensor has caught up (or
    /// waited long enough, or ended).
    fn merge(&mut self, out: &mut Output) {
        let p = self.primary;
        while let Some(&o) = self.sensors[p].queue.front() {
            let latest_p = self.sensors[p].queue.back().map_or(o.t_s, |b| b.t_s);
            let waited = latest_p - o.t_s > self.settings.max_wait_s;
            let common = match self.secondary {
                None => Some(Common {
                    t_s: o.t_s,
                    primary: o,
                    secondary: None,
                }),
                Some(si) => {
                    let sec = &self.sensors[si];
                    let ended = matches!(sec.status.connection, ConnectionState::Ended { .. });
                    let caught_up = sec.queue.back().is_some_and(|b| b.t_s >= o.t_s);
                    let before_overlap = sec.first_t.is_none_or(|f| o.t_s < f);
                    if !(caught_up || waited || ended) {
                        break;
                    }
                    if before_overlap {
                        None
                    } else {
                        if !caught_up {
                            self.held_secondary += 1;
                        }
                        secondary_at(&sec.queue, o.t_s).map(|s| Common {
                            t_s: o.t_s,
                            primary: o,
                            secondary: Some(s),
                        })
                    }
                }
            };
            self.sensors[p].queue.pop_front();
            if let Some(c) = common {
                self.on_common(c, out);
            }
        }
        if self.secondary.is_none() {
            return;
        }
        // Keep 2 s of the other sensor's history behind the primary's next sample.
        let horizon = self.sensors[p]
            .queue
            .front()
            .map_or(self.last_common_t.unwrap_or(f64::NEG_INFINITY), |o| o.t_s)
            - 2.0;
        if let Some(si) = self.secondary {
            let q = &mut self.sensors[si].queue;
            while q.len() > 2 && q.get(1).is_some_and(|o| o.t_s < horizon) {
                q.pop_front();
            }
        }
    }

    fn on_common(&mut self, c: Common, out: &mut Output) {
        self.snapshot.t_s = Some(c.t_s);
        if self.calibration.is_none() {
            self.buffer.push(c);
            if c.t_s >= self.next_check_t {
                self.next_check_t = c.t_s + self.settings.calibration_check_s;
                self.try_calibrate(false, out);
            }
            self.update_cue(out);
            return;
        }
        self.feed(c, out);
    }

    fn still_signals(&self, t: &[f64], which: Option<usize>) -> StillSignals {
        let st = &self.settings.still;
        let pick = |c: &Common| if which.is_none() { Some(c.primary) } else { c.secondary };
        let samples: Vec<Oriented> = self.buffer.iter().filter_map(pick).collect();
        let raw = samples.iter().all(|o| o.gyr_rps.is_some());
        if raw {
            let gyr: Vec<Vec3> = samples.iter().map(|o| o.gyr_rps.unwrap_or([0.0; 3])).collect();
            StillSignals {
                rate_dps: gyro_rate_dps(t, &gyr, st.rate_span_s),
                acc_norm_mps2: Some(samples.iter().map(|o| o.acc_norm_mps2.unwrap_or(0.0)).collect()),
            }
        } else {
            let q: Vec<Quat> = samples.iter().map(|o| o.q).collect();
            StillSignals {
                rate_dps: orientation_rate_dps(t, &q, st.rate_span_s, st.rate_min_samples),
                acc_norm_mps2: None,
            }
        }
    }

    /// Look for the still window in the buffer; calibrate when found. `at_end`: the
    /// session is over, accept the fallback window.
    fn try_calibrate(&mut self, at_end: bool, out: &mut Output) {
        let st = self.settings.still;
        let n_all = self.buffer.len();
        if n_all < 2 {
            return;
        }
        let t: Vec<f64> = self.buffer.iter().map(|c| c.t_s).collect();
        let mut signals = vec![self.still_signals(&t, None)];
        if self.secondary.is_some() {
            signals.push(self.still_signals(&t, Some(1)));
        }
        // Centred rates are not final for the last samples: leave them out until later.
        let t_last = t[n_all - 1];
        let margin = if at_end { 0.0 } else { st.rate_span_s.max(0.25) };
        let n = t.partition_point(|x| *x <= t_last - margin);
        if n < 2 {
            return;
        }
        let cut: Vec<StillSignals> = signals
            .iter()
            .map(|s| StillSignals {
                rate_dps: s.rate_dps[..n].to_vec(),
                acc_norm_mps2: s.acc_norm_mps2.as_ref().map(|a| a[..n].to_vec()),
            })
            .collect();
        // Progress for the cue: how long everyone has been still, counting back from now.
        let still_now = (0..n)
            .rev()
            .take_while(|&i| cut.iter().all(|s| s.rate_dps[i] < st.max_rate_dps))
            .last();
        self.snapshot.still_s = still_now.map_or(0.0, |i| t[n - 1] - t[i]);
        let searched_all = t[n - 1] - t[0] >= st.search_s;
        let Some(w) = find_still_window(&t[..n], &cut, &st) else {
            return;
        };
        if !(w.full || searched_all || at_end) {
            return;
        }
        let range = w.start_index..w.end_index;
        let qp: Vec<Quat> = self.buffer[range.clone()].iter().map(|c| c.primary.q).collect();
        let ps = &self.sensors[self.primary].setup;
        let primary = match calibrate_segment(&qp, self.settings.variation, ps.placement, &ps.mount) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                self.calibration_error = Some(LiveError::Calibration {
                    placement: ps.placement.name(),
                    message: e.to_string(),
                });
                return;
            }
            None => return,
        };
        let secondary = match self.secondary {
            None => None,
            Some(si) => {
                let qs: Vec<Quat> = self.buffer[range]
                    .iter()
                    .filter_map(|c| c.secondary.map(|s| s.q))
                    .collect();
                let ss = &self.sensors[si].setup;
                match calibrate_segment(&qs, self.settings.variation, ss.placement, &ss.mount) {
                    Some(Ok(c)) => Some(c),
                    Some(Err(e)) => {
                        self.calibration_error = Some(LiveError::Calibration {
                            placement: ss.placement.name(),
                            message: e.to_string(),
                        });
                        return;
                    }
                    None => return,
                }
            }
        };
        self.calibration_error = None;
        let warning = (!w.full).then(|| {
            format!(
                "no {:.0} s still window in the first {:.0} s; neutral was calibrated from a shorter one ({:.1} s at {:.1}–{:.1} s)",
                st.window_s,
                st.search_s,
                w.end_s - w.start_s,
                w.start_s,
                w.end_s
            )
        });
        self.calibration_warning.clone_from(&warning);
        self.calibration = Some(Calibrated { primary, secondary });
        self.snapshot.phase = Phase::Neutral;
        out.events.push(LiveEvent::Calibrated {
            t_s: t_last,
            window_s: (w.start_s, w.end_s),
            warning,
        });
        // Everything so far goes through the rep state machine, from the start.
        for c in std::mem::take(&mut self.buffer) {
            self.feed(c, out);
        }
    }

    fn body_sample(&self, c: &Common) -> Option<Sample> {
        let cal = self.calibration.as_ref()?;
        let d_p = cal.primary.neutral_from_now(c.primary.q);
        let d_s = match (&cal.secondary, c.secondary) {
            (Some(cs), Some(s)) => Some(cs.neutral_from_now(s.q)),
            _ => None,
        };
        let angle_rad = match d_s {
            Some(ds) => relative_twist_rad(d_p, ds),
            None => segment_twist_rad(d_p),
        };
        let chest_is_primary = self.sensors[self.primary].setup.placement.segment() == Segment::Thorax;
        let flexion = if chest_is_primary {
            Some(flexion_rad(d_p))
        } else {
            d_s.map(flexion_rad)
        };
        Some(Sample {
            t_s: c.t_s,
            angle_deg: angle_rad.to_degrees(),
            compensation_deg: d_s.map(|d| segment_twist_rad(d).to_degrees().abs()),
            flexion_deg: flexion.map(f64::to_degrees),
        })
    }

    fn flag_context(&self) -> FlagContext {
        FlagContext {
            variation: self.settings.variation,
            targets: self.targets,
            gap_s: self.settings.extract.gap_s,
        }
    }

    fn feed(&mut self, c: Common, out: &mut Output) {
        let Some(mut s) = self.body_sample(&c) else {
            return;
        };
        let dt = self.last_common_t.map_or(0.0, |last| s.t_s - last);
        let gaps: usize = self.sensors.iter().map(|x| x.gaps.len()).sum();
        if gaps != self.gaps_seen {
            self.gaps_seen = gaps;
            self.drift.gap();
        }
        let whereabouts = match self.snapshot.phase {
            Phase::Neutral | Phase::Calibrating => Whereabouts::Neutral,
            _ if self.excursion_peak_deg < self.settings.protocol.rep_min_deg => Whereabouts::SmallExcursion,
            _ => Whereabouts::Away,
        };
        s.angle_deg = self.drift.update(s.t_s, s.angle_deg, whereabouts);
        self.excursion_peak_deg = if self.snapshot.phase == Phase::Neutral {
            0.0
        } else {
            self.excursion_peak_deg.max(s.angle_deg.abs())
        };
        self.last_common_t = Some(s.t_s);
        self.snapshot.primary_deg = Some(s.angle_deg);
        self.snapshot.compensation_deg = s.compensation_deg;
        self.recent_angle.push_back((s.t_s, s.angle_deg));
        while self
            .recent_angle
            .front()
            .is_some_and(|(t, _)| s.t_s - t > self.settings.cue_speed_window_s)
        {
            self.recent_angle.pop_front();
        }
        let mut evs = Vec::new();
        self.extractor.update(s, &mut evs);
        // The hold timer counts only time with data: it pauses across a gap.
        if let Phase::Holding(side) = self.snapshot.phase {
            if dt > 0.0 && dt <= self.settings.extract.gap_s {
                self.snapshot.held_s += dt;
            }
            if !self.hold_bell_rung && self.snapshot.held_s >= self.targets.hold_min_s {
                self.hold_bell_rung = true;
                out.events.push(LiveEvent::HoldComplete { t_s: s.t_s, side });
            }
        }
        for e in evs {
            self.on_extract_event(e, out);
        }
        self.update_cue(out);
    }

    fn on_extract_event(&mut self, e: ExtractEvent, out: &mut Output) {
        let side_of = |sign: f64| if sign >= 0.0 { Side::Left } else { Side::Right };
        match e {
            ExtractEvent::Neutral { .. } => {
                if let Phase::Turning(s) | Phase::Holding(s) | Phase::Returning(s) = self.snapshot.phase
                    && self.excursion_peak_deg >= self.settings.protocol.rep_min_deg
                {
                    self.unreported_side = Some(s);
                }
                self.snapshot.phase = Phase::Neutral;
            }
            ExtractEvent::Turning { sign, .. } => self.snapshot.phase = Phase::Turning(side_of(sign)),
            ExtractEvent::Holding { t_s, angle_deg } => {
                // The excursion's side, as the rep will have (`judge_rep` takes the side
                // from the excursion's sign): the angle's own sign differs when the rest
                // level is off zero (a drifted raw IMU), and "holding left" in a right rep
                // is what the person would then hear.
                let side = match self.snapshot.phase {
                    Phase::Turning(s) | Phase::Holding(s) | Phase::Returning(s) => s,
                    Phase::Calibrating | Phase::Neutral => Side::of_angle(angle_deg),
                };
                self.snapshot.phase = Phase::Holding(side);
                self.snapshot.held_s = 0.0;
                self.hold_bell_rung = false;
                out.events.push(LiveEvent::HoldStarted { t_s, side });
            }
            ExtractEvent::Returning { .. } => {
                let side = match self.snapshot.phase {
                    Phase::Turning(s) | Phase::Holding(s) | Phase::Returning(s) => s,
                    _ => Side::of_angle(self.snapshot.primary_deg.unwrap_or(0.0)),
                };
                self.snapshot.phase = Phase::Returning(side);
            }
            ExtractEvent::Rep(m) => {
                let rep = judge_rep(&m, &self.flag_context());
                self.unreported_side = None;
                self.last_rep_side = Some(rep.side);
                match rep.side {
                    Side::Left => self.snapshot.reps_left += 1,
                    Side::Right => self.snapshot.reps_right += 1,
                }
                self.reps.push(rep.clone());
                out.events.push(LiveEvent::Rep(rep));
            }
        }
    }

    fn speed_dps(&self) -> f64 {
        match (self.recent_angle.front(), self.recent_angle.back()) {
            (Some(a), Some(b)) if b.0 - a.0 > 0.2 => ((b.1 - a.1) / (b.0 - a.0)).abs(),
            _ => 0.0,
        }
    }

    fn current_cue(&self) -> Cue {
        let missing = self
            .sensors
            .iter()
            .find(|s| !matches!(s.status.connection, ConnectionState::Connected));
        if let Some(s) = missing
            && !matches!(s.status.connection, ConnectionState::Ended { .. })
        {
            return if s.ever_connected {
                Cue::Reconnecting {
                    placement: s.setup.placement,
                }
            } else {
                Cue::Connecting {
                    placement: s.setup.placement,
                }
            };
        }
        if self.calibration.is_none() {
            return Cue::Calibrate;
        }
        let t = &self.targets;
        let angle = self.snapshot.primary_deg.unwrap_or(0.0).abs();
        let fast = self.speed_dps() > t.too_fast_dps;
        match self.snapshot.phase {
            Phase::Calibrating | Phase::Neutral => {
                let pending = |side: Side| usize::from(self.unreported_side == Some(side));
                let (side, other_side) = cue::next_side(
                    self.snapshot.reps_left + pending(Side::Left),
                    self.snapshot.reps_right + pending(Side::Right),
                    self.unreported_side.or(self.last_rep_side),
                );
                Cue::Turn { side, other_side }
            }
            Phase::Turning(side) => {
                if angle > t.over_rotation_deg {
                    Cue::EaseOff
                } else if fast {
                    Cue::Slower
                } else {
                    Cue::Turn {
                        side,
                        other_side: false,
                    }
                }
            }
            Phase::Holding(_) => {
                if angle > t.over_rotation_deg {
                    Cue::EaseOff
                } else if self.snapshot.held_s >= t.hold_min_s {
                    Cue::ReturnToCentre
                } else {
                    Cue::Hold
                }
            }
            Phase::Returning(_) => {
                if fast {
                    Cue::Slower
                } else {
                    Cue::ReturnToCentre
                }
            }
        }
    }

    fn update_cue(&mut self, out: &mut Output) {
        let cue = self.current_cue();
        if cue != self.snapshot.cue {
            self.snapshot.cue = cue.clone();
            out.events.push(LiveEvent::Cue {
                t_s: self.snapshot.t_s,
                cue,
            });
        }
    }

    /// The session is over: flush what waits, finish the open rep, and give the report.
    pub fn finish(&mut self, out: &mut Output) -> Result<Report, LiveError> {
        for s in &mut self.sensors {
            if !matches!(s.status.connection, ConnectionState::Ended { .. }) {
                s.status.connection = ConnectionState::Ended {
                    reason: "session ended".into(),
                };
            }
        }
        self.merge(out);
        if self.calibration.is_none() {
            self.try_calibrate(true, out);
        }
        if self.calibration.is_none() {
            return Err(self
                .calibration_error
                .clone()
                .unwrap_or(LiveError::NotCalibrated(self.settings.still.window_s)));
        }
        let mut evs = Vec::new();
        self.extractor.finish(&mut evs);
        for e in evs {
            self.on_extract_event(e, out);
        }
        let mut warnings: Vec<String> = self.calibration_warning.iter().cloned().collect();
        for s in &self.sensors {
            if !s.gaps.is_empty() {
                warnings.push(format!(
                    "{}: {} gap{} in the data (longest {:.1} s)",
                    s.setup.placement.name(),
                    s.gaps.len(),
                    if s.gaps.len() == 1 { "" } else { "s" },
                    s.gaps.iter().fold(0.0f64, |a, b| a.max(*b))
                ));
            }
            if s.status.decode_errors > 0 {
                warnings.push(format!(
                    "{}: {} notifications could not be decoded",
                    s.setup.placement.name(),
                    s.status.decode_errors
                ));
            }
        }
        if self.held_secondary > 0
            && let Some(si) = self.secondary
        {
            warnings.push(format!(
                "{}: its last orientation was held for {} samples while it lagged or was disconnected",
                self.sensors[si].setup.placement.name(),
                self.held_secondary
            ));
        }
        let (flags, notes) = judge_session(&self.reps);
        self.snapshot.cue = Cue::Done;
        Ok(Report {
            schema: REPORT_SCHEMA.to_string(),
            variation: self.settings.variation,
            caution: self.settings.caution.map(|c| c.name().to_string()),
            sensors: self.sensors.iter().map(|s| s.setup.placement).collect(),
            targets: self
                .settings
                .protocol
                .report_targets(self.settings.variation, self.settings.caution),
            reps: self.reps.clone(),
            flags,
            notes,
            warnings,
        })
    }
}

/// Run a whole event sequence through a pipeline (replay `--fast`, tests).
pub fn run_events<'a>(
    pipeline: &mut Pipeline,
    events: impl IntoIterator<Item = &'a SourceEvent>,
) -> (Result<Report, LiveError>, Vec<LiveEvent>) {
    let mut out = Output::default();
    let mut all = Vec::new();
    for e in events {
        pipeline.update(e, &mut out);
        all.append(&mut out.events);
        out.samples.clear();
    }
    let r = pipeline.finish(&mut out);
    all.append(&mut out.events);
    (r, all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::BackoffSettings;
    use crate::source::sim::{Outage, SimSession, SimSettings};

    pub(crate) fn setup(placement: Placement, kind: DeviceKind) -> SensorSetup {
        accuracy::default_setup(placement, kind)
    }

    pub(crate) fn sim(
        variation: Variation,
        sensors: &[(Placement, DeviceKind)],
        seed: u64,
        outages: Vec<Outage>,
    ) -> (SimSession, Pipeline) {
        let s = SimSession::build(&SimSettings {
            variation,
            sensors: sensors
                .iter()
                .enumerate()
                .map(|(i, (p, k))| (i as SensorId, *p, *k))
                .collect(),
            two_sensors: sensors.len() == 2,
            seed,
            reps: Some(4),
            max_duration_s: None,
            outages,
            backoff: BackoffSettings::default(),
        });
        let p = Pipeline::new(
            sensors.iter().map(|(p, k)| setup(*p, *k)).collect(),
            Settings::new(variation),
        )
        .unwrap();
        (s, p)
    }

    /// Reps of the live report against the truth: same count and sides, peak and hold
    /// within the tolerances.
    fn check_against_truth(truth: &Report, live: &Report, peak_tol_deg: f64, hold_tol_s: f64, what: &str) {
        check_against_truth_start(truth, live, peak_tol_deg, hold_tol_s, 1.0, what);
    }

    fn check_against_truth_start(
        truth: &Report,
        live: &Report,
        peak_tol_deg: f64,
        hold_tol_s: f64,
        start_tol_s: f64,
        what: &str,
    ) {
        assert_eq!(live.reps.len(), truth.reps.len(), "{what}: {live:#?}\ntruth {truth:#?}");
        for (l, t) in live.reps.iter().zip(&truth.reps) {
            assert_eq!(l.side, t.side, "{what}");
            assert!(
                (l.start_s - t.start_s).abs() < start_tol_s,
                "{what}: start {} vs {}",
                l.start_s,
                t.start_s
            );
            assert!(
                (l.peak_deg - t.peak_deg).abs() < peak_tol_deg,
                "{what}: peak {} vs {}",
                l.peak_deg,
                t.peak_deg
            );
            assert!(
                (l.hold_s - t.hold_s).abs() < hold_tol_s,
                "{what}: hold {} vs {}",
                l.hold_s,
                t.hold_s
            );
        }
    }

    #[test]
    fn orientation_devices_match_the_truth() {
        for kind in [DeviceKind::MovellaDot, DeviceKind::MetaMotion] {
            for variation in [Variation::Seated, Variation::Supine] {
                let placement = if variation == Variation::Supine {
                    Placement::Pelvis
                } else {
                    Placement::Chest
                };
                let (s, mut p) = sim(variation, &[(placement, kind)], 1, vec![]);
                let (r, _) = run_events(&mut p, s.events.iter());
                check_against_truth(&s.truth, &r.unwrap(), 2.0, 1.0, &format!("{kind} {variation:?}"));
            }
        }
    }

    /// Raw IMUs go through causal 6D VQF: the heading (= the upright twist) drifts with
    /// the gyro bias, removed at the rests (`live_drift`). Every raw kind, seated and
    /// standing, several seeds: the reps and sides right, peaks within 8°. Holds are not
    /// checked: the first hold drifts most, as no rate is known before the second rest,
    /// and a drift of the hold band's size moves the hold's ends (Thingy:52 standing seed
    /// 3: 14.5 s for 25.3 s; docs/live.md, known limits). Batch: p90 peak error 2°. Starts are loose: when the
    /// return from a drifted first hold overshoots neutral, the next rep is started there
    /// (WitMotion seated seed 4: 12 s early; docs/live.md, known limits).
    #[test]
    fn raw_devices_find_the_reps_and_sides() {
        for kind in [DeviceKind::WitMotion, DeviceKind::Thingy52, DeviceKind::OpenImu] {
            for variation in [Variation::Seated, Variation::Standing] {
                for seed in 1..=4 {
                    let (s, mut p) = sim(variation, &[(Placement::Chest, kind)], seed, vec![]);
                    let (r, _) = run_events(&mut p, s.events.iter());
                    check_against_truth_start(
                        &s.truth,
                        &r.unwrap(),
                        8.0,
                        f64::INFINITY,
                        15.0,
                        &format!("{kind} {variation:?} seed {seed}"),
                    );
                }
            }
        }
    }

    /// The +y-head raw devices (Thingy:52, open IMU) on seed 1 used to read the last rep
    /// ~15° short and find a false rep after it (the simulator's 0.05 s "too fast" flick,
    /// since fixed, and VQF's rest-bias estimate learning the breathing, now off upright).
    /// Peaks within 5°, holds within 2.5 s.
    #[test]
    fn y_head_raw_devices_find_the_reps_and_sides() {
        for kind in [DeviceKind::Thingy52, DeviceKind::OpenImu] {
            let (s, mut p) = sim(Variation::Seated, &[(Placement::Chest, kind)], 1, vec![]);
            let (r, _) = run_events(&mut p, s.events.iter());
            check_against_truth(&s.truth, &r.unwrap(), 5.0, 2.5, &format!("{kind}"));
        }
    }

    /// The phase and the cue never name the other side than the rep they fall in, over
    /// many simulated sessions of every device kind, seated, standing and supine. (Two
    /// raw sensors with a 6 s outage still can: docs/live.md, known limits.)
    #[test]
    fn cues_never_contradict_the_rep_side() {
        let cases: Vec<accuracy::Case> = accuracy::batch(3)
            .into_iter()
            .filter(|c| c.outages.is_empty())
            .collect();
        let results = accuracy::run_cases(&cases);
        let mut checked_reps = 0;
        for r in &results {
            checked_reps += r.live.as_ref().map_or(0, |l| l.reps.len());
            assert!(
                r.contradictions.is_empty(),
                "{}: {:?}",
                r.case.name(),
                &r.contradictions[..r.contradictions.len().min(3)]
            );
        }
        assert!(checked_reps > 150, "{checked_reps}");
    }

    #[test]
    fn two_sensors_on_one_clock_match_the_truth() {
        let sensors = [
            (Placement::Chest, DeviceKind::MovellaDot),
            (Placement::Pelvis, DeviceKind::MetaMotion),
        ];
        let (s, mut p) = sim(Variation::Standing, &sensors, 2, vec![]);
        let (r, _) = run_events(&mut p, s.events.iter());
        let r = r.unwrap();
        assert_eq!(r.sensors, vec![Placement::Chest, Placement::Pelvis]);
        check_against_truth(&s.truth, &r, 2.0, 1.0, "dot + metamotion");
    }

    /// The primary sensor drops out for 3 s in the middle of a hold: the link comes back
    /// after backoff, the rep is not split, it is marked interrupted, the countdown paused.
    #[test]
    fn disconnect_mid_hold_pauses_the_countdown_and_keeps_the_rep() {
        let sensors = [(Placement::Chest, DeviceKind::MovellaDot)];
        let (clean, _) = sim(Variation::Seated, &sensors, 1, vec![]);
        let first = clean.truth.reps[0].clone();
        let at = first.hold_start_s + 5.0 - clean.events[0].receive_s();
        let (s, mut p) = sim(
            Variation::Seated,
            &sensors,
            1,
            vec![Outage {
                placement: None,
                at_s: at,
                duration_s: 3.0,
            }],
        );
        let mut out = Output::default();
        let mut cues = Vec::new();
        let mut held_at_end_of_hold = None;
        let mut bell_at = None;
        let mut hold_started = None;
        for e in &s.events {
            p.update(e, &mut out);
            for ev in out.events.drain(..) {
                match ev {
                    LiveEvent::Cue { cue, .. } => cues.push(cue),
                    LiveEvent::HoldComplete { t_s, .. } => bell_at = bell_at.or(Some(t_s)),
                    LiveEvent::HoldStarted { t_s, .. } => hold_started = hold_started.or(Some(t_s)),
                    _ => {}
                }
            }
            if let Phase::Holding(_) = p.snapshot().phase
                && p.snapshot().t_s.is_some_and(|t| t < first.hold_end_s)
            {
                held_at_end_of_hold = Some((p.snapshot().t_s.unwrap_or(0.0), p.snapshot().held_s));
            }
        }
        let r = p.finish(&mut out).unwrap();
        assert_eq!(r.reps.len(), clean.truth.reps.len(), "{r:#?}");
        let rep = &r.reps[0];
        assert!(rep.notes.iter().any(|n| n == "interrupted"), "{rep:?}");
        // Wall time in the report (the gap counts), within a second of the truth.
        assert!(
            (rep.hold_s - first.hold_s).abs() < 1.0,
            "{} vs {}",
            rep.hold_s,
            first.hold_s
        );
        // The countdown (from the live `Holding` event) did not count the ~3.5 s without data.
        let started = hold_started.unwrap();
        let (t, held) = held_at_end_of_hold.unwrap();
        let since_hold_start = t - started;
        assert!(
            since_hold_start - held > 2.5,
            "held {held} s of {since_hold_start} s wall time"
        );
        // The bell rang 15 s of data after the hold started, i.e. later than 15 s of wall time.
        let bell = bell_at.unwrap();
        assert!(bell - started > 15.0 + 2.5, "bell at {bell}, hold from {started}");
        assert!(cues.iter().any(|c| matches!(
            c,
            Cue::Reconnecting {
                placement: Placement::Chest
            }
        )));
        assert!(
            r.warnings.iter().any(|w| w.starts_with("chest: 1 gap")),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn the_same_events_give_the_same_report() {
        let sensors = [
            (Placement::Chest, DeviceKind::WitMotion),
            (Placement::Pelvis, DeviceKind::OpenImu),
        ];
        let (s, mut a) = sim(Variation::Seated, &sensors, 5, vec![]);
        let (_, mut b) = sim(Variation::Seated, &sensors, 5, vec![]);
        let ra = run_events(&mut a, s.events.iter()).0.unwrap();
        let rb = run_events(&mut b, s.events.iter()).0.unwrap();
        assert_eq!(ra, rb);
        assert!(!ra.reps.is_empty());
    }

    #[test]
    fn a_session_without_stillness_is_not_calibrated() {
        let sensors = [(Placement::Chest, DeviceKind::MovellaDot)];
        let (s, mut p) = sim(Variation::Seated, &sensors, 1, vec![]);
        // Only the first second of data: no 2 s window, no 1 s fallback either.
        let t0 = s.events[0].receive_s();
        let short: Vec<&SourceEvent> = s.events.iter().filter(|e| e.receive_s() < t0 + 0.8).collect();
        let (r, events) = run_events(&mut p, short);
        assert!(matches!(r, Err(LiveError::NotCalibrated(_))), "{r:?}");
        assert!(events.iter().any(|e| matches!(
            e,
            LiveEvent::Cue {
                cue: Cue::Calibrate,
                ..
            }
        )));
    }

    #[test]
    fn setup_errors() {
        let chest = setup(Placement::Chest, DeviceKind::WitMotion);
        let back = setup(Placement::UpperBack, DeviceKind::WitMotion);
        assert!(Pipeline::new(vec![chest.clone(), back], Settings::new(Variation::Seated)).is_err());
        let e = Pipeline::new(vec![chest], Settings::new(Variation::Supine))
            .err()
            .unwrap();
        assert!(e.to_string().contains("pelvis or sacrum"), "{e}");
    }
}
