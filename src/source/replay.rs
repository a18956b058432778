//! Replaying a recording as a source: its raw notifications and connection events, in
//! file order, with their recorded receive times, paced at `speed` × real time or as fast
//! as possible. Also the JSON form of the non-notification events in a recording.

use super::{ConnectionState, PacedSource, SourceEvent};
use crate::record::{Record, Recording};

/// A source event other than a notification as a recording `event` record's JSON
/// (`None` for notifications, which have their own record type).
pub fn event_json(e: &SourceEvent) -> Option<serde_json::Value> {
    use serde_json::json;
    Some(match e {
        SourceEvent::Notification { .. } => return None,
        SourceEvent::Connection { sensor, state, .. } => {
            let mut v = json!({"kind": "connection", "sensor": sensor});
            match state {
                ConnectionState::Connecting { attempt } => {
                    v["state"] = "connecting".into();
                    v["attempt"] = (*attempt).into();
                }
                ConnectionState::Connected => v["state"] = "connected".into(),
                ConnectionState::Disconnected { reason, retry_in_s } => {
                    v["state"] = "disconnected".into();
                    v["reason"] = reason.clone().into();
                    v["retry_in_s"] = (*retry_in_s).into();
                }
                ConnectionState::Ended { reason } => {
                    v["state"] = "ended".into();
                    v["reason"] = reason.clone().into();
                }
            }
            v
        }
        SourceEvent::Battery { sensor, percent, .. } => {
            json!({"kind": "battery", "sensor": sensor, "percent": percent})
        }
        SourceEvent::Rssi { sensor, dbm, .. } => json!({"kind": "rssi", "sensor": sensor, "dbm": dbm}),
    })
}

/// The source event an `event` record stands for (`None` for other kinds: calibration,
/// the live report, marks).
pub fn event_from_json(receive_s: f64, v: &serde_json::Value) -> Option<SourceEvent> {
    let sensor = u16::try_from(v.get("sensor")?.as_u64()?).ok()?;
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    match v.get("kind")?.as_str()? {
        "connection" => {
            let state = match v.get("state")?.as_str()? {
                "connecting" => ConnectionState::Connecting {
                    attempt: u32::try_from(v.get("attempt")?.as_u64()?).ok()?,
                },
                "connected" => ConnectionState::Connected,
                "disconnected" => ConnectionState::Disconnected {
                    reason: text("reason"),
                    retry_in_s: v.get("retry_in_s")?.as_f64()?,
                },
                "ended" => ConnectionState::Ended { reason: text("reason") },
                _ => return None,
            };
            Some(SourceEvent::Connection {
                sensor,
                receive_s,
                state,
            })
        }
        "battery" => Some(SourceEvent::Battery {
            sensor,
            receive_s,
            percent: u8::try_from(v.get("percent")?.as_u64()?).ok()?,
        }),
        "rssi" => Some(SourceEvent::Rssi {
            sensor,
            receive_s,
            dbm: i16::try_from(v.get("dbm")?.as_i64()?).ok()?,
        }),
        _ => None,
    }
}

/// The source events of a recording, in file order.
pub fn recorded_events(rec: &Recording) -> Vec<SourceEvent> {
    rec.records
        .iter()
        .filter_map(|r| match r {
            Record::Notification {
                stream,
                receive_s,
                characteristic,
                bytes,
            } => Some(SourceEvent::Notification {
                sensor: *stream,
                receive_s: *receive_s,
                characteristic: *characteristic,
                bytes: bytes.clone(),
            }),
            Record::Event { receive_s, json } => event_from_json(*receive_s, json),
            _ => None,
        })
        .collect()
}

/// The live session's own report, if the recording ended cleanly with one.
pub fn recorded_report(rec: &Recording) -> Option<crate::session::report::Report> {
    rec.records.iter().rev().find_map(|r| match r {
        Record::Event { json, .. } if json.get("kind").and_then(|k| k.as_str()) == Some("report") => {
            serde_json::from_value(json.get("report")?.clone()).ok()
        }
        _ => None,
    })
}

/// A recording as a source: its events paced at `speed` × real time, or as fast as
/// possible (`None`).
pub fn source(rec: &Recording, speed: Option<f64>) -> PacedSource {
    PacedSource::new(recorded_events(rec), speed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_events_round_trip_through_json() {
        let events = [
            ConnectionState::Connecting { attempt: 3 },
            ConnectionState::Connected,
            ConnectionState::Disconnected {
                reason: "link lost".into(),
                retry_in_s: 0.1 + 0.2,
            },
            ConnectionState::Ended { reason: "over".into() },
        ]
        .into_iter()
        .map(|state| SourceEvent::Connection {
            sensor: 1,
            receive_s: 12.345678901234,
            state,
        })
        .chain([
            SourceEvent::Battery {
                sensor: 0,
                receive_s: 1.0,
                percent: 77,
            },
            SourceEvent::Rssi {
                sensor: 0,
                receive_s: 2.0,
                dbm: -67,
            },
        ]);
        for e in events {
            let v = event_json(&e).unwrap();
            let text = serde_json::to_string(&v).unwrap();
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(event_from_json(e.receive_s(), &back), Some(e));
        }
        assert_eq!(event_from_json(1.0, &serde_json::json!({"kind": "calibrated"})), None);
    }
}
