//! A phone as the session's sensor, through `twistcoach serve`: a simulated session (with
//! its true report) played as a phone's browser would send it over `/ws/phone`, with the
//! screen locked for a while and the page reloaded; Sensor Logger's HTTP push; the
//! access cookie under `--tls`.

mod web_common;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};
use twistcoach::body::{Placement, Variation};
use twistcoach::device::DeviceKind;
use twistcoach::device::phone;
use twistcoach::source::sim::{SimSession, SimSettings, parse_outage};
use twistcoach::source::{BackoffSettings, ConnectionState, SourceEvent};
use web_common::{Server, post_json};

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// Session seconds per wall second while playing to the server.
const SPEED: f64 = 8.0;

fn phone_socket(port: u16, placement: &str) -> Ws {
    let (ws, _) =
        tungstenite::connect(format!("ws://127.0.0.1:{port}/ws/phone?placement={placement}")).expect("phone WebSocket");
    ws
}

/// Read everything the page's WebSocket has now (non-blocking), into `log`.
fn drain(page: &mut Ws, log: &mut Vec<serde_json::Value>) {
    while let Ok(m) = page.read() {
        if let Ok(t) = m.to_text()
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(t)
        {
            log.push(v);
        }
    }
}

#[test]
fn a_phone_session_through_the_websocket_matches_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite");
    let recs = dir.path().join("recordings");
    let s = Server::start(&[
        "--sensor",
        "chest=phone",
        "--sensor",
        "pelvis=phone",
        "--variation",
        "seated",
        "--speed",
        &SPEED.to_string(),
        "--autostart",
        "--db",
        db.to_str().unwrap(),
        "--record-dir",
        recs.to_str().unwrap(),
    ]);
    let (mut page, _) = tungstenite::connect(format!("ws://127.0.0.1:{}/ws", s.port)).unwrap();
    if let MaybeTlsStream::Plain(t) = page.get_ref() {
        t.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
    }

    // The truth: a simulated session whose sensors are phones (their packets carry
    // q_world_from_sensor); the chest phone's screen locks during the first hold (3 s,
    // and the simulated link comes back about 0.8 s later).
    let sim = SimSession::build(&SimSettings {
        variation: Variation::Seated,
        sensors: vec![
            (0, Placement::Chest, DeviceKind::Phone),
            (1, Placement::Pelvis, DeviceKind::Phone),
        ],
        two_sensors: true,
        seed: 11,
        reps: Some(3),
        max_duration_s: None,
        outages: vec![parse_outage("chest@20+3").unwrap()],
        backoff: BackoffSettings::default(),
    });
    assert_eq!(sim.truth.reps.len(), 3);
    let names = ["chest", "pelvis"];
    let mut sockets: BTreeMap<u16, Ws> = BTreeMap::new();
    // After the outage the chest page is reloaded: its clock restarts near 0.
    let mut clock_shift_s: [f64; 2] = [0.0, 0.0];
    let mut reloaded = [false, false];
    let mut log = Vec::new();
    let t0_sim = sim.events.first().map_or(0.0, SourceEvent::receive_s);
    let t0 = Instant::now();
    let (mut sent, mut closes) = (0u64, 0u32);
    for e in &sim.events {
        let due = Duration::from_secs_f64((e.receive_s() - t0_sim).max(0.0) / SPEED);
        if let Some(wait) = due.checked_sub(t0.elapsed())
            && wait > Duration::from_millis(5)
        {
            drain(&mut page, &mut log);
            std::thread::sleep(wait);
        }
        match e {
            SourceEvent::Notification { sensor, bytes, .. } => {
                let p = phone::decode(bytes).unwrap();
                let i = usize::from(*sensor);
                let ws = sockets.entry(*sensor).or_insert_with(|| phone_socket(s.port, names[i]));
                if reloaded[i] {
                    reloaded[i] = false;
                    clock_shift_s[i] = p.device_time_s - 0.5;
                }
                let (a, b, g) = phone::device_orientation_from_q(p.q_world_from_sensor);
                let t_ms = (p.device_time_s - clock_shift_s[i]) * 1000.0;
                let msg = serde_json::json!({"t_ms": t_ms, "alpha_deg": a, "beta_deg": b, "gamma_deg": g});
                ws.send(Message::text(msg.to_string())).unwrap();
                sent += 1;
            }
            SourceEvent::Connection {
                sensor,
                state: ConnectionState::Disconnected { .. },
                ..
            } => {
                // The screen locks: the browser drops the page's WebSocket.
                if let Some(mut ws) = sockets.remove(sensor) {
                    ws.close(None).unwrap();
                    let _ = ws.flush();
                    closes += 1;
                    reloaded[usize::from(*sensor)] = true;
                }
            }
            _ => {}
        }
    }
    assert!(sent > 1000 && closes >= 1, "sent {sent}, closed {closes}");
    // Let the last readings arrive, then stop the session from the page.
    std::thread::sleep(Duration::from_millis(300));
    page.send(Message::text(r#"{"type":"stop"}"#)).unwrap();
    let t_stop = Instant::now();
    while t_stop.elapsed() < Duration::from_secs(20)
        && !log
            .iter()
            .any(|v| v["type"] == "event" && v["data"]["type"] == "session_ended")
    {
        drain(&mut page, &mut log);
    }
    let events: Vec<&serde_json::Value> = log
        .iter()
        .filter(|v| v["type"] == "event")
        .map(|v| &v["data"])
        .collect();
    let ended = events
        .iter()
        .find(|d| d["type"] == "session_ended")
        .expect("the session ended");
    let kinds: Vec<String> = events
        .iter()
        .map(|d| format!("{}:{}", d["type"].as_str().unwrap(), d["kind"].as_str().unwrap_or("")))
        .collect();
    for k in [
        "calibrated:",
        "cue:calibrate",
        "hold_started:",
        "hold_complete:",
        "cue:sensor_back",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    assert!(
        events
            .iter()
            .any(|d| d["type"] == "warning" && d["text"].as_str().unwrap_or("").starts_with("chest sensor")),
        "the chest phone's loss is told: {kinds:?}"
    );
    let sensors = log
        .iter()
        .rev()
        .find(|v| v["type"] == "view")
        .map(|v| v["data"]["sensors"].clone())
        .unwrap();
    assert_eq!(sensors[0]["kind"], "phone");

    // The reps against the truth.
    let reps: Vec<&&serde_json::Value> = events.iter().filter(|d| d["type"] == "rep").collect();
    let truth = &sim.truth.reps;
    assert_eq!(reps.len(), truth.len(), "reps {reps:?} vs truth {truth:?}");
    let (mut peak_err, mut hold_err) = (0f64, 0f64);
    for (got, want) in reps.iter().zip(truth) {
        assert_eq!(got["side"], serde_json::to_value(want.side).unwrap());
        peak_err = peak_err.max((got["peak_deg"].as_f64().unwrap() - want.peak_deg).abs());
        hold_err = hold_err.max((got["hold_s"].as_f64().unwrap() - want.hold_s).abs());
    }
    eprintln!("phone session vs truth: peak error ≤ {peak_err:.2}°, hold error ≤ {hold_err:.2} s");
    assert!(peak_err < 3.0, "peak error {peak_err}°");
    assert!(hold_err < 1.5, "hold error {hold_err} s");

    // The recording replays to the same reps; the history has the session.
    let text = ended["text"].as_str().unwrap();
    let rec = std::fs::read_dir(&recs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "twrec"))
        .unwrap_or_else(|| panic!("no recording in {} ({text})", recs.display()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twistcoach"))
        .args(["replay", "--json"])
        .arg(&rec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let replayed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rr = replayed["reps"].as_array().unwrap();
    assert_eq!(rr.len(), reps.len());
    // The gap is in the recording: the first hold was interrupted (and its timer paused).
    assert!(rr[0]["notes"].to_string().contains("interrupted"), "{}", rr[0]);
    for (a, b) in rr.iter().zip(&reps) {
        assert_eq!(a["side"], b["side"]);
        assert!((a["hold_s"].as_f64().unwrap() - b["hold_s"].as_f64().unwrap()).abs() < 1e-6);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twistcoach"))
        .args(["history", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("seated"), "history: {listing}");
}

fn sensor_logger_push(t0_ns: u64, n: usize, q_wxyz: [f64; 4]) -> String {
    let payload: Vec<serde_json::Value> = (0..n)
        .flat_map(|i| {
            let t = t0_ns + i as u64 * 10_000_000;
            [
                serde_json::json!({"name": "accelerometer", "time": t, "values": {"x": 0.0, "y": 0.0, "z": 0.0}}),
                serde_json::json!({"name": "orientation", "time": t, "values": {
                    "qw": q_wxyz[0], "qx": q_wxyz[1], "qy": q_wxyz[2], "qz": q_wxyz[3],
                    "roll": 0.0, "pitch": 0.0, "yaw": 0.0}}),
            ]
        })
        .collect();
    serde_json::json!({"messageId": 1, "sessionId": "s", "deviceId": "d", "payload": payload}).to_string()
}

#[test]
fn sensor_logger_pushes_are_taken_with_the_token_and_refused_when_malformed() {
    let s = Server::start(&["--lan"]);
    let token = s.token.clone().unwrap();
    let h = std::f64::consts::FRAC_1_SQRT_2;
    // Upright phone: rotated 90° about x.
    let body = sensor_logger_push(1_700_000_000_000_000_000, 50, [h, h, 0.0, 0.0]);
    let (code, _, text) = post_json(s.port, "/sensorlogger", &body);
    assert_eq!(code, 401, "no token: {text}");
    let (code, _, text) = post_json(s.port, &format!("/sensorlogger?token={token}&placement=chest"), &body);
    assert_eq!(code, 200, "{text}");
    assert!(
        text.contains("50 orientation readings for chest, 50 other entries ignored"),
        "{text}"
    );
    for (body, want) in [
        ("{", "not JSON"),
        (r#"{"messageId": 2}"#, "payload"),
        (
            r#"{"payload": [{"name": "orientation", "time": 1, "values": {"qw": 1, "qx": 0, "qy": 0}}]}"#,
            "values.qz",
        ),
        (
            r#"{"payload": [{"name": "orientation", "time": "x", "values": {"qw": 1, "qx": 0, "qy": 0, "qz": 0}}]}"#,
            "`time`",
        ),
    ] {
        let (code, _, text) = post_json(s.port, &format!("/sensorlogger?token={token}"), body);
        assert_eq!(code, 400, "{body}: {text}");
        assert!(text.contains(want), "{body}: {text}");
    }
    let (code, _, text) = post_json(s.port, &format!("/sensorlogger?token={token}&placement=knee"), &body);
    assert_eq!(code, 400);
    assert!(text.contains("knee"), "{text}");
    // The page sees the phone: upright, 50 readings at 100 Hz, 4 refused.
    let (mut page, _) = tungstenite::connect(format!("ws://127.0.0.1:{}/ws?token={token}", s.port)).unwrap();
    let v: serde_json::Value = serde_json::from_str(page.read().unwrap().to_text().unwrap()).unwrap();
    let p = &v["data"]["phone"];
    assert_eq!(p["samples"], 50, "{p}");
    assert_eq!(p["refused"], 4, "{p}");
    assert!((p["rate_hz"].as_f64().unwrap() - 100.0).abs() < 0.01, "{p}");
    assert!(p["tilt_from_upright_deg"].as_f64().unwrap() < 1e-3, "{p}");
}

#[test]
fn a_sensor_logger_session_counts_reps() {
    // Sensor Logger as the chest sensor: pushes of 0.5 s batches, a still start, then
    // turns of 40° held 4 s (short holds: the reps count, the holds are short).
    let s = Server::start(&[
        "--sensor",
        "chest=phone",
        "--variation",
        "seated",
        "--speed",
        "10",
        "--autostart",
    ]);
    let (mut page, _) = tungstenite::connect(format!("ws://127.0.0.1:{}/ws", s.port)).unwrap();
    if let MaybeTlsStream::Plain(t) = page.get_ref() {
        t.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
    }
    let upright = |twist_deg: f64| {
        // Upright (90° about x), then the twist about the body's vertical (world z).
        let half = twist_deg.to_radians() / 2.0;
        let h = std::f64::consts::FRAC_1_SQRT_2;
        // q = Rz(twist) · Rx(90°)
        [half.cos() * h, half.cos() * h, half.sin() * h, half.sin() * h]
    };
    let angle_at = |t: f64| -> f64 {
        // 5 s still, then 3 reps: 2 s out, 4 s hold, 2 s back, 3 s rest; alternate sides.
        if t < 5.0 {
            return 0.0;
        }
        let k = ((t - 5.0) / 11.0).floor();
        if k >= 3.0 {
            return 0.0;
        }
        let u = t - 5.0 - k * 11.0;
        let side = if k as i64 % 2 == 0 { 1.0 } else { -1.0 };
        let x = if u < 2.0 {
            (1.0 - (std::f64::consts::PI * u / 2.0).cos()) / 2.0
        } else if u < 6.0 {
            1.0
        } else if u < 8.0 {
            (1.0 + (std::f64::consts::PI * (u - 6.0) / 2.0).cos()) / 2.0
        } else {
            0.0
        };
        side * 40.0 * x
    };
    let t0 = Instant::now();
    let start_ns: u64 = 1_700_000_000_000_000_000;
    let mut log = Vec::new();
    let batch_s = 0.5;
    let total_s = 5.0 + 3.0 * 11.0 + 3.0;
    let mut k = 0u64;
    while (k as f64) * batch_s < total_s {
        let due = Duration::from_secs_f64((k as f64 + 1.0) * batch_s / 10.0);
        if let Some(w) = due.checked_sub(t0.elapsed()) {
            std::thread::sleep(w);
        }
        let payload: Vec<serde_json::Value> = (0..50)
            .map(|i| {
                let t = k as f64 * batch_s + f64::from(i) * 0.01;
                let q = upright(angle_at(t));
                serde_json::json!({"name": "orientation", "time": start_ns + (t * 1e9) as u64,
                    "values": {"qw": q[0], "qx": q[1], "qy": q[2], "qz": q[3]}})
            })
            .collect();
        let body = serde_json::json!({"messageId": k, "payload": payload}).to_string();
        let (code, _, text) = post_json(s.port, "/sensorlogger?placement=chest", &body);
        assert_eq!(code, 200, "{text}");
        drain(&mut page, &mut log);
        k += 1;
    }
    std::thread::sleep(Duration::from_millis(200));
    page.send(Message::text(r#"{"type":"stop"}"#)).unwrap();
    let t_stop = Instant::now();
    while t_stop.elapsed() < Duration::from_secs(20)
        && !log
            .iter()
            .any(|v| v["type"] == "event" && v["data"]["type"] == "session_ended")
    {
        drain(&mut page, &mut log);
    }
    let reps: Vec<&serde_json::Value> = log
        .iter()
        .filter(|v| v["type"] == "event" && v["data"]["type"] == "rep")
        .map(|v| &v["data"])
        .collect();
    assert_eq!(reps.len(), 3, "{reps:?}");
    for r in &reps {
        let peak = r["peak_deg"].as_f64().unwrap();
        assert!((peak - 40.0).abs() < 2.0, "{r}");
        let hold = r["hold_s"].as_f64().unwrap();
        assert!(hold > 2.5 && hold < 5.5, "{r}");
    }
    let sides: Vec<&str> = reps.iter().map(|r| r["side"].as_str().unwrap()).collect();
    assert_ne!(sides[0], sides[1], "alternating sides: {sides:?}");
}

#[test]
fn the_access_cookie_is_secure_under_tls() {
    let s = Server::start(&["--lan", "--tls"]);
    let token = s.token.clone().unwrap();
    assert!(s.urls[0].starts_with("https://"), "{:?}", s.urls);
    // curl speaks TLS; -k accepts the self-signed certificate (its fingerprint is checked
    // by hand in real use).
    let out = std::process::Command::new("curl")
        .args(["-k", "-s", "-D", "-", "-o", "/dev/null"])
        .arg(format!("https://127.0.0.1:{}/?token={token}", s.port))
        .output()
        .expect("curl (needed for this test)");
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    let cookie = head
        .lines()
        .find(|l| l.starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {head}"));
    for attr in ["httponly", "samesite=strict", "secure"] {
        assert!(cookie.split(';').any(|a| a.trim() == attr), "{attr} missing: {cookie}");
    }
    // And not under plain http.
    let s = Server::start(&["--lan"]);
    let token = s.token.clone().unwrap();
    let (_, headers, _) = web_common::get(s.port, &format!("/?token={token}"), None);
    let cookie = headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .unwrap()
        .1
        .to_ascii_lowercase();
    assert!(!cookie.split(';').any(|a| a.trim() == "secure"), "{cookie}");
}
