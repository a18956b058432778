//! Showing a live session: `tui` (ratatui, a full-screen view of the pipeline's
//! [`Snapshot`](crate::live::Snapshot)) and `--plain` lines (one per [`LiveEvent`]).
//! The UI only renders state: it never changes the session.

pub mod tui;
pub mod web;

use crate::live::{Cue, LiveEvent};
use crate::session::report::Side;
use crate::source::ConnectionState;

pub fn side_word(s: Side) -> &'static str {
    match s {
        Side::Left => "left",
        Side::Right => "right",
    }
}

/// A connection state in plain words.
pub fn connection_words(state: &ConnectionState) -> String {
    match state {
        ConnectionState::Connecting { attempt: 0 } => "waiting".to_string(),
        ConnectionState::Connecting { attempt: 1 } => "connecting".to_string(),
        ConnectionState::Connecting { attempt } => format!("reconnecting (attempt {attempt})"),
        ConnectionState::Connected => "connected".to_string(),
        ConnectionState::Disconnected { reason, retry_in_s } => {
            format!("disconnected ({reason}); retrying in {retry_in_s:.1} s")
        }
        ConnectionState::Ended { reason } => format!("ended ({reason})"),
    }
}

fn at(t_s: Option<f64>) -> String {
    t_s.map_or_else(|| "      -".to_string(), |t| format!("{t:7.1}"))
}

/// The `--plain` line for an event (`None`: nothing to print).
pub fn plain_line(e: &LiveEvent) -> Option<String> {
    Some(match e {
        LiveEvent::Connection { placement, state } => {
            format!("sensor   {}: {}", placement.name(), connection_words(state))
        }
        LiveEvent::Calibrated { t_s, window_s, warning } => format!(
            "{} s  calibrated neutral from {:.1}–{:.1} s{}",
            at(Some(*t_s)),
            window_s.0,
            window_s.1,
            warning.as_ref().map(|w| format!(" ({w})")).unwrap_or_default()
        ),
        LiveEvent::Cue { t_s, cue } => {
            if *cue == Cue::Done {
                return None;
            }
            format!("{} s  cue: {}", at(*t_s), cue.text())
        }
        LiveEvent::HoldStarted { t_s, side } => format!("{} s  holding {}", at(Some(*t_s)), side_word(*side)),
        LiveEvent::HoldComplete { t_s, side } => {
            format!("{} s  hold complete ({}): bell", at(Some(*t_s)), side_word(*side))
        }
        LiveEvent::Rep(r) => format!(
            "{} s  rep {}: held {:.1} s at {:.1}°, peak {:.1}°{}{}{}",
            at(Some(r.end_s)),
            side_word(r.side),
            r.hold_s,
            r.hold_mean_deg,
            r.peak_deg,
            if r.flags.is_empty() {
                String::new()
            } else {
                format!(
                    " [{}]",
                    r.flags
                        .iter()
                        .map(|f| serde_json::to_value(f)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            if r.notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.notes.join("; "))
            },
            if r.cues.is_empty() {
                String::new()
            } else {
                format!(": {}", r.cues.join("; "))
            }
        ),
        LiveEvent::Warning(w) => format!("warning: {w}"),
    })
}
