//! What the page renders: a serializable snapshot of the session ([`View`]) and the
//! discrete things that happened ([`WebEvent`]), shared between the session driver and
//! the server through a [`Hub`] (a `watch` for the latest view, a `broadcast` for events,
//! an `mpsc` for the page's start/stop requests).

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};

use crate::session::protocol::VariationTargets;

/// Targets shown on the gauge and the countdown, degrees and seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct TargetsView {
    pub hold_min_s: f64,
    pub hold_max_s: f64,
    pub over_rotation_deg: f64,
    pub too_fast_dps: f64,
    /// Below this a turn is not a rep (the gauge's band starts here), °.
    pub rep_min_deg: f64,
}

impl TargetsView {
    pub fn new(t: &VariationTargets, rep_min_deg: f64) -> TargetsView {
        TargetsView {
            hold_min_s: t.hold_min_s,
            hold_max_s: t.hold_max_s,
            over_rotation_deg: t.over_rotation_deg,
            too_fast_dps: t.too_fast_dps,
            rep_min_deg,
        }
    }
}

/// One sensor's status line.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct SensorView {
    pub placement: String,
    pub kind: String,
    /// `connected`, `disconnected`, `waiting`, ... (plain words).
    pub connection: String,
    pub connected: bool,
    pub rate_hz: f64,
    pub samples: u64,
    pub battery_percent: Option<u8>,
}

/// The session state the page renders (mirrors the live pipeline's snapshot).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct View {
    /// A session is running.
    pub running: bool,
    /// Where the data come from, in words (`simulated seated session, seed 8`).
    pub source: String,
    pub variation: String,
    pub caution: Option<String>,
    pub targets: TargetsView,
    /// Session time of the latest sample, s.
    pub t_s: Option<f64>,
    /// Primary twist angle, ° (positive = front turned left).
    pub primary_deg: Option<f64>,
    pub compensation_deg: Option<f64>,
    /// `idle`, `calibrating`, `neutral`, `turning`, `holding`, `returning`, `done`.
    pub phase: String,
    /// `left` / `right` while turning, holding or returning.
    pub side: Option<String>,
    /// Hold time counted so far in the current hold, s.
    pub held_s: f64,
    /// Seconds still to hold before the target minimum, while holding.
    pub hold_to_go_s: Option<f64>,
    pub reps_left: usize,
    pub reps_right: usize,
    /// The current cue, in words.
    pub cue: String,
    pub sensors: Vec<SensorView>,
    /// The phone page's orientation stream, if a phone is connected.
    pub phone: Option<super::phone::PhoneStatus>,
}

/// Things that happened: the page speaks, rings or logs them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WebEvent {
    /// A cue: `kind` is one of turn, other_side, slow_down, ease_off, hold, countdown,
    /// hold_complete, release, rep_done, calibrate, sensor_lost, sensor_back.
    Cue {
        t_s: Option<f64>,
        kind: String,
        text: String,
    },
    Calibrated {
        t_s: f64,
    },
    HoldStarted {
        t_s: f64,
        side: String,
    },
    HoldComplete {
        t_s: f64,
        side: String,
    },
    Rep {
        side: String,
        hold_s: f64,
        peak_deg: f64,
        flags: Vec<String>,
    },
    Warning {
        text: String,
    },
    SessionEnded {
        text: String,
    },
}

/// What the page may ask for.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    Start {
        variation: Option<String>,
        caution: Option<String>,
        /// `sim` or `PLACEMENT=phone[,PLACEMENT=phone]` (absent: as before).
        #[serde(default)]
        sensors: Option<String>,
    },
    Stop,
}

/// The channels between the session driver and the server.
#[derive(Clone)]
pub struct Hub {
    pub view: watch::Sender<View>,
    pub events: broadcast::Sender<WebEvent>,
    pub control: mpsc::Sender<Control>,
}

impl Hub {
    /// A hub and the receiving end of the page's control requests (for the driver).
    pub fn new(initial: View) -> (Hub, mpsc::Receiver<Control>) {
        let (view, _) = watch::channel(initial);
        let (events, _) = broadcast::channel(256);
        let (control, rx) = mpsc::channel(16);
        (Hub { view, events, control }, rx)
    }

    pub fn event(&self, e: WebEvent) {
        // No page connected is fine: nobody to tell.
        let _ = self.events.send(e);
    }
}

/// The JSON text of one message to the page.
pub fn message_json(kind: &str, value: &impl Serialize) -> String {
    serde_json::json!({ "type": kind, "data": value }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_parse() {
        let c: Control = serde_json::from_str(r#"{"type":"start","variation":"seated","caution":null}"#).unwrap();
        assert_eq!(
            c,
            Control::Start {
                variation: Some("seated".into()),
                caution: None,
                sensors: None
            }
        );
        let c: Control = serde_json::from_str(r#"{"type":"start","sensors":"chest=phone,pelvis=phone"}"#).unwrap();
        assert!(matches!(c, Control::Start { sensors: Some(s), .. } if s == "chest=phone,pelvis=phone"));
        let s: Control = serde_json::from_str(r#"{"type":"stop"}"#).unwrap();
        assert_eq!(s, Control::Stop);
        assert!(serde_json::from_str::<Control>(r#"{"type":"format_disk"}"#).is_err());
    }

    #[test]
    fn events_are_tagged() {
        let e = WebEvent::HoldComplete {
            t_s: 12.5,
            side: "left".into(),
        };
        let j = message_json("event", &e);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["type"], "event");
        assert_eq!(v["data"]["type"], "hold_complete");
        assert_eq!(v["data"]["side"], "left");
    }
}
