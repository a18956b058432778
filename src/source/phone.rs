//! A phone as a [`Source`]: readings that the web server received from the `/phone`
//! page's WebSocket or from Sensor Logger's HTTP push, as phone packets
//! (`device::phone`) for one placement.
//!
//! The server publishes every reading on a [`PhoneBus`] (tagged with the placement the
//! phone was given and the instant it arrived); a session subscribes one [`PhoneSource`]
//! per phone placement. Connection events follow the stream: `Connected` with the first
//! reading, `Disconnected` when the page closes its WebSocket or when nothing arrives for
//! `silence_s` (a locked screen stops the page; Sensor Logger has no connection at all),
//! `Connected` again with the next reading. The gap stays in the recording and the
//! pipeline pauses the hold timer, as for a BLE link loss.
//!
//! Owns the phone clock's continuity ([`PhoneTimeline`], pure): a reloaded page restarts
//! its clock at 0, which the pipeline's clock aligner must never see as time going back.
//! Must not decode or convert angles (that is `device::phone`).

use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::{BoxFuture, ConnectionState, SensorId, Source, SourceEvent};
use crate::body::Placement;
use crate::device::phone::{self, Origin, Packet};
use crate::frames::Quat;

/// What a phone sent (or that its stream closed).
#[derive(Debug, Clone, PartialEq)]
pub enum PhoneData {
    Reading {
        origin: Origin,
        /// The phone's own clock, s (page: performance.now(); Sensor Logger: epoch).
        phone_time_s: f64,
        q_world_from_sensor: Quat,
    },
    /// The page closed its WebSocket (screen locked, page reloaded, network lost).
    Closed { reason: String },
}

/// One message on the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneMessage {
    pub placement: Placement,
    /// When the server received it (wall clock).
    pub arrived: Instant,
    pub data: PhoneData,
}

/// The web server's readings, for whichever session listens.
#[derive(Debug, Clone)]
pub struct PhoneBus(broadcast::Sender<PhoneMessage>);

impl Default for PhoneBus {
    fn default() -> Self {
        // A second of readings from two phones at 100 Hz, with room to spare.
        PhoneBus(broadcast::channel(1024).0)
    }
}

impl PhoneBus {
    pub fn publish(&self, m: PhoneMessage) {
        // Nobody listening (no phone session running) is fine.
        let _ = self.0.send(m);
    }
    pub fn subscribe(&self) -> broadcast::Receiver<PhoneMessage> {
        self.0.subscribe()
    }
}

/// Settings of a [`PhoneSource`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhoneSourceSettings {
    /// No reading for this long (session time) means the phone is gone, s.
    pub silence_s: f64,
    /// Session seconds per wall-clock second (1 for a real phone; tests play faster).
    pub speed: f64,
    /// A reconnected phone whose clock disagrees with the host's by more than this is
    /// re-anchored to the host clock, s.
    pub max_clock_jump_s: f64,
}

impl Default for PhoneSourceSettings {
    fn default() -> Self {
        PhoneSourceSettings {
            silence_s: 3.0,
            speed: 1.0,
            max_clock_jump_s: 2.0,
        }
    }
}

/// Makes one phone's clock continuous and strictly increasing across reconnects.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PhoneTimeline {
    offset_s: Option<f64>,
    /// (device time, receive time) of the last accepted reading.
    last: Option<(f64, f64)>,
}

impl PhoneTimeline {
    /// The device time for a reading, or `None` to drop it (a duplicate or out of order).
    /// `new_link`: the first reading after the phone (re)connected.
    pub fn device_time_s(&mut self, phone_time_s: f64, receive_s: f64, new_link: bool, max_jump_s: f64) -> Option<f64> {
        let Some(offset) = self.offset_s else {
            // Count from the first reading: small numbers, whatever the phone's epoch.
            self.offset_s = Some(-phone_time_s);
            self.last = Some((0.0, receive_s));
            return Some(0.0);
        };
        let mut t = phone_time_s + offset;
        if let Some((last_t, last_receive)) = self.last {
            if new_link {
                // The host clock says how long the phone was away.
                let expected = last_t + (receive_s - last_receive).max(0.0);
                if t <= last_t || (t - expected).abs() > max_jump_s {
                    self.offset_s = Some(expected - phone_time_s);
                    t = expected.max(last_t + 1e-3);
                }
            } else if t <= last_t {
                return None;
            }
        }
        self.last = Some((t, receive_s));
        Some(t)
    }
}

/// One phone placement of a session as a [`Source`].
pub struct PhoneSource {
    sensor: SensorId,
    placement: Placement,
    rx: broadcast::Receiver<PhoneMessage>,
    start: Instant,
    settings: PhoneSourceSettings,
    timeline: PhoneTimeline,
    connected: bool,
    announced: bool,
    ended: bool,
    pending: std::collections::VecDeque<SourceEvent>,
}

impl PhoneSource {
    /// Listen to `bus` for `placement`; times count from `start` (the session's start).
    pub fn new(
        sensor: SensorId,
        placement: Placement,
        bus: &PhoneBus,
        start: Instant,
        settings: PhoneSourceSettings,
    ) -> PhoneSource {
        PhoneSource {
            sensor,
            placement,
            rx: bus.subscribe(),
            start,
            settings,
            timeline: PhoneTimeline::default(),
            connected: false,
            announced: false,
            ended: false,
            pending: Default::default(),
        }
    }

    fn session_s(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64() * self.settings.speed
    }

    fn connection(&self, receive_s: f64, state: ConnectionState) -> SourceEvent {
        SourceEvent::Connection {
            sensor: self.sensor,
            receive_s,
            state,
        }
    }

    fn lost(&mut self, receive_s: f64, reason: String) {
        if self.connected {
            self.connected = false;
            let e = self.connection(
                receive_s,
                ConnectionState::Disconnected {
                    reason,
                    retry_in_s: 0.0,
                },
            );
            self.pending.push_back(e);
        }
    }

    fn handle(&mut self, m: PhoneMessage) {
        if m.placement != self.placement || m.arrived < self.start {
            return;
        }
        let receive_s = self.session_s(m.arrived);
        match m.data {
            PhoneData::Closed { reason } => self.lost(receive_s, reason),
            PhoneData::Reading {
                origin,
                phone_time_s,
                q_world_from_sensor,
            } => {
                let new_link = !self.connected;
                let Some(device_time_s) =
                    self.timeline
                        .device_time_s(phone_time_s, receive_s, new_link, self.settings.max_clock_jump_s)
                else {
                    return;
                };
                if new_link {
                    self.connected = true;
                    let e = self.connection(receive_s, ConnectionState::Connected);
                    self.pending.push_back(e);
                }
                let bytes = phone::encode(&Packet {
                    origin,
                    device_time_s,
                    q_world_from_sensor,
                });
                self.pending.push_back(SourceEvent::Notification {
                    sensor: self.sensor,
                    receive_s,
                    characteristic: phone::ORIENTATION,
                    bytes,
                });
            }
        }
    }
}

impl Source for PhoneSource {
    fn next_event(&mut self) -> BoxFuture<'_, Option<SourceEvent>> {
        Box::pin(async move {
            if !self.announced {
                self.announced = true;
                return Some(self.connection(0.0, ConnectionState::Connecting { attempt: 1 }));
            }
            loop {
                if let Some(e) = self.pending.pop_front() {
                    return Some(e);
                }
                let r = if self.connected {
                    let wait = Duration::from_secs_f64(self.settings.silence_s / self.settings.speed);
                    match tokio::time::timeout(wait, self.rx.recv()).await {
                        Ok(r) => r,
                        Err(_) => {
                            let now = self.session_s(Instant::now());
                            let reason = format!(
                                "no readings from the phone for {:.0} s (screen locked? keep the page open)",
                                self.settings.silence_s
                            );
                            self.lost(now, reason);
                            continue;
                        }
                    }
                } else {
                    self.rx.recv().await
                };
                match r {
                    Ok(m) => self.handle(m),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => {
                        if self.ended {
                            return None;
                        }
                        self.ended = true;
                        let now = self.session_s(Instant::now());
                        return Some(self.connection(
                            now,
                            ConnectionState::Ended {
                                reason: "the web server stopped".into(),
                            },
                        ));
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_counts_from_zero_and_drops_repeats() {
        let mut t = PhoneTimeline::default();
        assert_eq!(t.device_time_s(1000.0, 5.0, true, 2.0), Some(0.0));
        assert_eq!(t.device_time_s(1000.5, 5.5, false, 2.0), Some(0.5));
        assert_eq!(t.device_time_s(1000.5, 5.51, false, 2.0), None, "a repeat");
        assert_eq!(t.device_time_s(1000.4, 5.52, false, 2.0), None, "out of order");
    }

    #[test]
    fn timeline_keeps_a_continuous_clock_and_reanchors_a_reset_one() {
        let mut t = PhoneTimeline::default();
        t.device_time_s(1000.0, 5.0, true, 2.0);
        t.device_time_s(1010.0, 15.0, false, 2.0);
        // Screen locked 20 s, same page: its clock ran on; kept as is.
        assert_eq!(t.device_time_s(1030.0, 35.1, true, 2.0), Some(30.0));
        // Page reloaded: its clock restarts near 0; the host's 10 s gap is used instead.
        let r = t.device_time_s(0.2, 45.1, true, 2.0).unwrap();
        assert!((r - 40.0).abs() < 1e-9, "{r}");
        assert!((t.device_time_s(0.3, 45.2, false, 2.0).unwrap() - 40.1).abs() < 1e-9);
    }
}
