//! Simulated peripherals (`--sensor chest=sim:witmotion`): a simulated session (the body
//! model of `simulate`) worn by devices of the given kinds, each emitting exactly the
//! notifications its firmware would (`device::simulate` encoders), with BLE-like receive
//! times (connection-event bursts, jitter), optional disconnects with reconnect backoff,
//! in real time or faster.
//!
//! One [`SimSession::source`] drives every simulated sensor of a session, so they share one motion
//! and their events come out in receive-time order at any speed. The pure part
//! ([`SimSession`]) builds the whole event list; the async part only paces it.

use super::{Backoff, BackoffSettings, ConnectionState, PacedSource, SensorId, SourceEvent};
use crate::body::mount::{Mount, parse_mount_arg};
use crate::body::{Placement, Segment, Variation};
use crate::device::simulate::{Peripheral, Settings as PeripheralSettings, TruthSample};
use crate::device::{DeviceKind, OutputKind};
use crate::frames::{Quat, Vec3, add};
use crate::session::report::Report;
use crate::simulate::motion::{Plan, acceleration_mps2, angular_rate_local_rps, q_body_from_sensor, quat_from_axes};
use crate::simulate::rng::Rng;
use crate::simulate::scenario::{self, ScenarioOptions};
use crate::simulate::truth;

const GRAVITY_MPS2: f64 = 9.81;
const DEG: f64 = std::f64::consts::PI / 180.0;

/// A simulated outage: the peripheral is out of reach from `at_s` for `duration_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    /// Only this placement (None: every simulated sensor).
    pub placement: Option<Placement>,
    pub at_s: f64,
    pub duration_s: f64,
}

/// Parse `[PLACEMENT@]AT+DURATION` (seconds of session time), e.g. `chest@30+4` or `30+4`.
pub fn parse_outage(arg: &str) -> Result<Outage, String> {
    let (placement, rest) = match arg.split_once('@') {
        Some((p, r)) => (
            Some(Placement::parse(p.trim()).ok_or_else(|| format!("unknown placement `{p}` in `{arg}`"))?),
            r,
        ),
        None => (None, arg),
    };
    let (a, d) = rest
        .split_once('+')
        .ok_or_else(|| format!("`{arg}`: expected [PLACEMENT@]AT+DURATION in seconds, e.g. chest@30+4"))?;
    let num = |s: &str| -> Result<f64, String> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("`{s}` in `{arg}` is not a non-negative number of seconds"))
    };
    Ok(Outage {
        placement,
        at_s: num(a)?,
        duration_s: num(d)?,
    })
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimSettings {
    pub variation: Variation,
    /// (sensor id, placement, device kind) of every simulated sensor.
    pub sensors: Vec<(SensorId, Placement, DeviceKind)>,
    /// Whether the session has two sensors (the scenario's compensation depends on it).
    pub two_sensors: bool,
    pub seed: u64,
    pub reps: Option<usize>,
    pub max_duration_s: Option<f64>,
    pub outages: Vec<Outage>,
    pub backoff: BackoffSettings,
}

/// The whole simulated session as a time-ordered list of source events.
#[derive(Debug, Clone)]
pub struct SimSession {
    pub events: Vec<SourceEvent>,
    /// The true report of the simulated motion (spec §7 from the true angles).
    pub truth: Report,
    /// The true angles on a 5 ms grid (host time, as the events' receive times).
    pub truth_angles: truth::TruthAngles,
    pub duration_s: f64,
}

/// The device frame in the frame of a sensor worn by the generic convention, from the
/// kind's registry mounting: `v_generic = q_generic_from_device · v_device`.
fn generic_from_device(placement: Placement, kind: DeviceKind) -> Quat {
    let mount: Mount = parse_mount_arg(&format!("{}={}", placement.name(), kind.info().mount))
        .map(|(_, m)| m)
        .unwrap_or_default();
    quat_from_axes(
        mount.to_wear([1.0, 0.0, 0.0]),
        mount.to_wear([0.0, 1.0, 0.0]),
        mount.to_wear([0.0, 0.0, 1.0]),
    )
}

struct SensorSim {
    id: SensorId,
    placement: Placement,
    kind: DeviceKind,
    q_body_from_device: Quat,
    gyro_bias_radps: Vec3,
    peripheral: Peripheral,
    rate_hz: f64,
    phase_s: f64,
}

fn rand3(rng: &mut Rng, amp: f64) -> Vec3 {
    [rng.uniform(-amp, amp), rng.uniform(-amp, amp), rng.uniform(-amp, amp)]
}

impl SensorSim {
    fn truth_at(&self, plan: &Plan, rng: &mut Rng, t_s: f64) -> TruthSample {
        let segment = self.placement.segment();
        let q_ws = |t: f64| plan.q_world_from_segment(segment, t) * self.q_body_from_device;
        let q = q_ws(t_s);
        let w = angular_rate_local_rps(q_ws, t_s);
        let pos = |t: f64| plan.sensor_position_world_m(self.placement, t);
        let f_world = add(acceleration_mps2(pos, t_s), [0.0, 0.0, GRAVITY_MPS2]);
        let noise = |rng: &mut Rng, s: f64| [rng.normal() * s, rng.normal() * s, rng.normal() * s];
        let gyro = add(add(w, self.gyro_bias_radps), noise(rng, 0.05 * DEG));
        let acc = add(q.conj().rotate(f_world), noise(rng, 0.02));
        TruthSample {
            t_s,
            q_world_from_sensor: q,
            gyro_sensor_radps: gyro,
            acc_sensor_mps2: acc,
            mag_sensor_ut: None,
        }
    }
}

/// BLE delivery: notifications wait for the next connection event (15 ms interval), plus
/// a little radio and stack jitter.
fn receive_time(rng: &mut Rng, t_s: f64, interval_phase_s: f64) -> f64 {
    const CONNECTION_INTERVAL_S: f64 = 0.015;
    let ready = t_s + 0.002;
    let k = ((ready - interval_phase_s) / CONNECTION_INTERVAL_S).ceil();
    interval_phase_s + k * CONNECTION_INTERVAL_S + rng.uniform(0.0005, 0.004)
}

impl SimSession {
    /// Build the session (pure, deterministic for the settings).
    pub fn build(settings: &SimSettings) -> SimSession {
        let mut rng = Rng::new(settings.seed);
        let opts = ScenarioOptions {
            variation: settings.variation,
            two_sensors: settings.two_sensors,
            reps: settings.reps,
            long_session: false,
            max_duration_s: settings.max_duration_s,
            short_still: false,
        };
        let plan = scenario::draw(&mut rng.fork(1), &opts).plan;
        let mut sims: Vec<SensorSim> = settings
            .sensors
            .iter()
            .map(|&(id, placement, kind)| {
                let mut r = rng.fork(100 + u64::from(id));
                let about_normal = r.uniform(-15.0, 15.0);
                let slope = match placement.segment() {
                    Segment::Thorax => r.uniform(10.0, 30.0),
                    Segment::Pelvis => r.uniform(-10.0, 15.0),
                };
                let q_body_from_device =
                    q_body_from_sensor(placement, about_normal, slope) * generic_from_device(placement, kind);
                let raw = kind.info().output != OutputKind::Orientation;
                SensorSim {
                    id,
                    placement,
                    kind,
                    q_body_from_device,
                    gyro_bias_radps: if raw { rand3(&mut r, 0.3 * DEG) } else { [0.0; 3] },
                    peripheral: Peripheral::new(
                        kind,
                        PeripheralSettings {
                            device_clock_at_zero_us: (r.uniform(0.0, 4.0e9)) as u64,
                            first_sequence: r.int(0, 65_535) as u16,
                        },
                    ),
                    rate_hz: kind.info().default_rate_hz,
                    phase_s: r.uniform(0.0, 0.01),
                }
            })
            .collect();

        let t0 = plan.t_begin_s;
        let t_end = plan.t_end_s;
        let mut events: Vec<SourceEvent> = Vec::new();
        for s in &mut sims {
            let mut r = rng.fork(200 + u64::from(s.id));
            let outages: Vec<Outage> = settings
                .outages
                .iter()
                .filter(|o| o.placement.is_none_or(|p| p == s.placement))
                .copied()
                .collect();
            let ci_phase = r.uniform(0.0, 0.015);
            events.push(SourceEvent::Connection {
                sensor: s.id,
                receive_s: t0,
                state: ConnectionState::Connecting { attempt: 1 },
            });
            events.push(SourceEvent::Connection {
                sensor: s.id,
                receive_s: t0 + 0.001,
                state: ConnectionState::Connected,
            });
            events.push(SourceEvent::Battery {
                sensor: s.id,
                receive_s: t0 + 0.002,
                percent: r.int(40, 100) as u8,
            });
            // Reconnect attempts during each outage, with backoff; the link is back at the
            // first attempt after the outage ends.
            let mut back_at: Vec<(f64, f64)> = Vec::new();
            for o in &outages {
                let start = t0 + o.at_s;
                let end = start + o.duration_s;
                let mut backoff = Backoff::new(settings.backoff);
                let mut t = start;
                let mut attempt = 1;
                loop {
                    let wait = backoff.next_wait_s();
                    events.push(SourceEvent::Connection {
                        sensor: s.id,
                        receive_s: t,
                        state: ConnectionState::Disconnected {
                            reason: if attempt == 1 {
                                "link lost (simulated)".into()
                            } else {
                                "device not found (simulated)".into()
                            },
                            retry_in_s: wait,
                        },
                    });
                    t += wait;
                    events.push(SourceEvent::Connection {
                        sensor: s.id,
                        receive_s: t,
                        state: ConnectionState::Connecting { attempt },
                    });
                    attempt += 1;
                    if t >= end {
                        break;
                    }
                }
                events.push(SourceEvent::Connection {
                    sensor: s.id,
                    receive_s: t + 0.3,
                    state: ConnectionState::Connected,
                });
                back_at.push((start, t + 0.3));
            }
            let characteristics = s.kind.notify_characteristics();
            let dt = 1.0 / s.rate_hz;
            let mut k = 0u64;
            loop {
                let t = t0 + s.phase_s + k as f64 * dt;
                k += 1;
                if t > t_end {
                    break;
                }
                let truth = s.truth_at(&plan, &mut r, t);
                let notes = s.peripheral.notifications(&truth);
                if back_at.iter().any(|(a, b)| t >= *a && t < *b) {
                    // Out of reach: the device keeps sampling (its clock and sequence
                    // numbers advance), nothing arrives.
                    continue;
                }
                let receive_s = receive_time(&mut r, t, ci_phase);
                for (uuid, bytes) in notes {
                    if characteristics.contains(&uuid) {
                        events.push(SourceEvent::Notification {
                            sensor: s.id,
                            receive_s,
                            characteristic: uuid,
                            bytes,
                        });
                    }
                }
                if k.is_multiple_of((s.rate_hz as u64 * 10).max(1)) {
                    events.push(SourceEvent::Rssi {
                        sensor: s.id,
                        receive_s,
                        dbm: r.int(-75, -55) as i16,
                    });
                }
            }
            events.push(SourceEvent::Connection {
                sensor: s.id,
                receive_s: t_end + 0.1,
                state: ConnectionState::Ended {
                    reason: "the simulated session is over".into(),
                },
            });
        }
        // One time order for all sensors (stable: a sensor's own events keep their order).
        events.sort_by(|a, b| a.receive_s().total_cmp(&b.receive_s()));

        // The truth report from the true segment motion.
        let segments: Vec<Segment> = settings.sensors.iter().map(|(_, p, _)| p.segment()).collect();
        let n = ((t_end - t0) / crate::simulate::TRUTH_DT_S).floor().max(0.0) as usize;
        let grid: Vec<f64> = (0..=n).map(|i| t0 + i as f64 * crate::simulate::TRUTH_DT_S).collect();
        let angles = truth::angles(settings.variation, &segments, &grid, |seg, t| {
            plan.q_world_from_segment(seg, t)
        });
        let ctx = truth::ReportContext {
            variation: settings.variation,
            sensors: settings.sensors.iter().map(|(_, p, _)| *p).collect(),
            targets: truth::default_targets(settings.variation),
            rep_min_deg: 15.0,
            gaps_s: Vec::new(),
        };
        let truth = truth::report_from_angles(&ctx, &angles).report;
        SimSession {
            events,
            truth,
            truth_angles: angles,
            duration_s: t_end - t0,
        }
    }

    /// The session as a source: its events paced at `speed` × real time, or as fast as
    /// possible (`None`).
    pub fn source(&self, speed: Option<f64>) -> PacedSource {
        PacedSource::new(self.events.clone(), speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(kinds: &[(Placement, DeviceKind)]) -> SimSettings {
        SimSettings {
            variation: Variation::Seated,
            sensors: kinds
                .iter()
                .enumerate()
                .map(|(i, (p, k))| (i as SensorId, *p, *k))
                .collect(),
            two_sensors: kinds.len() == 2,
            seed: 3,
            reps: Some(2),
            max_duration_s: None,
            outages: vec![Outage {
                placement: Some(Placement::Chest),
                at_s: 20.0,
                duration_s: 3.0,
            }],
            backoff: BackoffSettings::default(),
        }
    }

    #[test]
    fn events_are_time_ordered_decodable_and_the_outage_is_silent() {
        let s = SimSession::build(&settings(&[
            (Placement::Chest, DeviceKind::WitMotion),
            (Placement::Pelvis, DeviceKind::MovellaDot),
        ]));
        assert!(s.events.windows(2).all(|w| w[0].receive_s() <= w[1].receive_s()));
        assert!(!s.truth.reps.is_empty());
        let mut decoders = [DeviceKind::WitMotion.decoder(), DeviceKind::MovellaDot.decoder()];
        let mut counts = [0usize; 2];
        let t0 = s.events[0].receive_s();
        for e in &s.events {
            if let SourceEvent::Notification {
                sensor,
                receive_s,
                characteristic,
                bytes,
            } = e
            {
                let out = decoders[*sensor as usize].push(*characteristic, bytes).unwrap();
                counts[*sensor as usize] += out.len();
                if *sensor == 0 {
                    let t = receive_s - t0;
                    assert!(
                        !(20.01..23.0).contains(&t),
                        "chest notification during the outage at {t}"
                    );
                }
            }
        }
        // 50 Hz and 60 Hz over the session (the chest loses ~3.3 s).
        let d = s.duration_s;
        assert!((counts[0] as f64 - 50.0 * (d - 3.3)).abs() < 60.0, "{counts:?} {d}");
        assert!((counts[1] as f64 - 60.0 * d).abs() < 10.0, "{counts:?} {d}");
        let reconnects = s
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    SourceEvent::Connection {
                        sensor: 0,
                        state: ConnectionState::Connecting { .. },
                        ..
                    }
                )
            })
            .count();
        // 0.5 + 1 + 2 s of backoff cover a 3 s outage: three attempts plus the first connect.
        assert_eq!(reconnects, 4);
    }

    #[test]
    fn outage_syntax() {
        assert_eq!(
            parse_outage("chest@30+4").unwrap(),
            Outage {
                placement: Some(Placement::Chest),
                at_s: 30.0,
                duration_s: 4.0
            }
        );
        assert_eq!(parse_outage("12.5+1").unwrap().placement, None);
        assert!(parse_outage("30").is_err());
        assert!(parse_outage("knee@1+1").is_err());
        assert!(parse_outage("1+-1").is_err());
    }
}
