//! The Sensor Logger app's HTTP push (Android/iOS app by Kelvin Choi).
//!
//! Source: `tszheichoi/awesome-sensor-logger`, PUSHING.md (commit 0fa29434, "Publishing
//! to the Broker": HTTP push and MQTT share one schema) and COORDINATES.md /
//! CROSSPLATFORM.md (axes). Each POST carries one JSON object:
//! `{messageId, sessionId, deviceId, payload: [{name, time, values: {...}}, ...]}`;
//! `time` is UTC epoch nanoseconds; the `orientation` entries carry
//! `values: {qx, qy, qz, qw, roll, pitch, yaw}`. Other entries (accelerometer, gravity,
//! location, ...) are counted and ignored.
//!
//! Frame convention: the phone's axes are the W3C/Android ones (x right, y up the screen,
//! z out of it). The quaternion is read as Android's rotation vector is defined
//! (`SensorManager.getRotationMatrixFromVector`: device → world, world x east, y north,
//! z up, scalar `qw` given separately), i.e. directly as `q_world_from_sensor`
//! (Hamilton; we store it scalar first). With "Standardise Units & Frames" on, Sensor
//! Logger reports iOS in Android's convention too. Not checked on a real phone here: the
//! main page's "tilt" (0–30° when the phone is worn upright) is the check, see
//! `firmware-notes/phone.md`. Pure: parses bytes, no I/O.

use crate::frames::Quat;

use super::phone::MAX_NORM_ERROR;

/// One orientation reading from a push.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The phone's clock: UTC epoch, s.
    pub time_s: f64,
    pub q_world_from_sensor: Quat,
}

/// A parsed push.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub message_id: Option<u64>,
    pub session_id: Option<String>,
    pub device_id: Option<String>,
    /// The orientation readings, in time order.
    pub orientation: Vec<Reading>,
    /// Entries of other sensors (not used).
    pub ignored: usize,
}

/// Why a push was refused (the server answers 400 with this text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PushError {
    #[error("Sensor Logger push: the body is not JSON ({0})")]
    NotJson(String),
    #[error("Sensor Logger push: expected a JSON object with a `payload` array")]
    NoPayload,
    #[error("Sensor Logger push: payload[{index}] ({name}): {what}")]
    Entry { index: usize, name: String, what: String },
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        // The app's file exports write numbers as strings; accept both.
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// Epoch nanoseconds (number or numeric string) → seconds, without losing the
/// sub-microsecond part to f64 rounding of the large integer.
fn time_s(v: &serde_json::Value) -> Option<f64> {
    let ns: Option<i128> = match v {
        serde_json::Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
        serde_json::Value::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    };
    match ns {
        Some(ns) => Some((ns / 1_000_000_000) as f64 + (ns % 1_000_000_000) as f64 * 1e-9),
        None => number(v).filter(|t| t.is_finite()).map(|t| t * 1e-9),
    }
}

/// Parse one push body.
pub fn parse(body: &[u8]) -> Result<Batch, PushError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| PushError::NotJson(e.to_string()))?;
    let payload = v
        .get("payload")
        .and_then(|p| p.as_array())
        .ok_or(PushError::NoPayload)?;
    let mut orientation = Vec::new();
    let mut ignored = 0;
    for (index, e) in payload.iter().enumerate() {
        let name = e.get("name").and_then(|n| n.as_str()).unwrap_or("");
        if name != "orientation" {
            ignored += 1;
            continue;
        }
        let bad = |what: String| PushError::Entry {
            index,
            name: name.to_string(),
            what,
        };
        let t = e
            .get("time")
            .and_then(time_s)
            .ok_or_else(|| bad("`time` (epoch ns) is missing or not a number".into()))?;
        let values = e.get("values").ok_or_else(|| bad("`values` is missing".into()))?;
        let mut q = [0.0; 4];
        for (i, k) in ["qw", "qx", "qy", "qz"].into_iter().enumerate() {
            q[i] = values
                .get(k)
                .and_then(number)
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(format!("`values.{k}` is missing or not a finite number")))?;
        }
        let q = Quat::from_array(q);
        if (q.norm() - 1.0).abs() > MAX_NORM_ERROR {
            return Err(bad(format!("the quaternion's norm is {:.3}, not 1", q.norm())));
        }
        orientation.push(Reading {
            time_s: t,
            q_world_from_sensor: q.normalized(),
        });
    }
    orientation.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    Ok(Batch {
        message_id: v.get("messageId").and_then(|m| m.as_u64()),
        session_id: v.get("sessionId").and_then(|m| m.as_str()).map(String::from),
        device_id: v.get("deviceId").and_then(|m| m.as_str()).map(String::from),
        orientation,
        ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUSH: &str = r#"{"messageId": 7, "sessionId": "s1", "deviceId": "d1", "payload": [
        {"name": "accelerometer", "time": 1698501144401773000, "values": {"x": 0.1, "y": 0.0, "z": 9.8}},
        {"name": "orientation", "time": 1698501144411773000,
         "values": {"qx": 0.7071067811865476, "qy": 0.0, "qz": 0.0, "qw": 0.7071067811865476,
                    "roll": 0.0, "pitch": 1.5707963, "yaw": 0.0}},
        {"name": "orientation", "time": "1698501144401773000",
         "values": {"qx": "0", "qy": "0", "qz": "0", "qw": "1", "roll": "0", "pitch": "0", "yaw": "0"}}
    ]}"#;

    #[test]
    fn a_push_gives_its_orientation_in_time_order() {
        let b = parse(PUSH.as_bytes()).unwrap();
        assert_eq!(b.message_id, Some(7));
        assert_eq!(b.device_id.as_deref(), Some("d1"));
        assert_eq!(b.ignored, 1);
        assert_eq!(b.orientation.len(), 2);
        assert!((b.orientation[0].time_s - 1_698_501_144.401_773).abs() < 1e-6);
        // Epoch seconds in f64 resolve about 0.2 µs.
        assert!((b.orientation[1].time_s - b.orientation[0].time_s - 0.01).abs() < 1e-6);
        assert_eq!(
            b.orientation[0].q_world_from_sensor,
            Quat::from_array([1.0, 0.0, 0.0, 0.0])
        );
        // qx = sin 45°: the phone stands upright (its y axis points up): scalar read as qw.
        let up = b.orientation[1].q_world_from_sensor.rotate([0.0, 1.0, 0.0]);
        assert!((up[2] - 1.0).abs() < 1e-12, "{up:?}");
    }

    #[test]
    fn malformed_pushes_are_refused_with_a_reason() {
        let cases: [(&str, &str); 7] = [
            ("not json", "not JSON"),
            ("[1, 2]", "payload"),
            (r#"{"payload": {}}"#, "payload"),
            (
                r#"{"payload": [{"name": "orientation", "values": {"qw": 1, "qx": 0, "qy": 0, "qz": 0}}]}"#,
                "`time`",
            ),
            (r#"{"payload": [{"name": "orientation", "time": 1}]}"#, "`values`"),
            (
                r#"{"payload": [{"name": "orientation", "time": 1, "values": {"qw": 1, "qx": "a", "qy": 0, "qz": 0}}]}"#,
                "values.qx",
            ),
            (
                r#"{"payload": [{"name": "orientation", "time": 1, "values": {"qw": 2, "qx": 0, "qy": 0, "qz": 0}}]}"#,
                "norm",
            ),
        ];
        for (body, want) in cases {
            let e = parse(body.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{body}: {e}");
        }
        // Only other sensors: fine, nothing to use.
        let b = parse(br#"{"payload": [{"name": "gravity", "time": 1, "values": {}}]}"#).unwrap();
        assert!(b.orientation.is_empty() && b.ignored == 1);
    }
}
