//! `twistcoach serve` without a browser: the URL on stdout, the token on every route
//! (assets and WebSockets included), the session stream over the WebSocket.

mod web_common;

use std::time::{Duration, Instant};

use tungstenite::Message;
use web_common::{Server, get};

#[test]
fn local_serve_prints_its_url_and_serves_the_page() {
    let s = Server::start(&[]);
    assert!(s.urls[0].starts_with("http://127.0.0.1:"), "{:?}", s.urls);
    assert!(s.token.is_none());
    let (code, headers, body) = get(s.port, "/", None);
    assert_eq!(code, 200);
    assert!(body.contains("id=\"gauge\""));
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/html"))
    );
    for path in ["/app.js", "/style.css", "/phone", "/phone.js"] {
        assert_eq!(get(s.port, path, None).0, 200, "{path}");
    }
    assert_eq!(get(s.port, "/nope", None).0, 404);
}

#[test]
fn lan_serve_refuses_everything_without_the_token() {
    let s = Server::start(&["--lan"]);
    let token = s.token.clone().expect("a token in the printed URL");
    assert_eq!(token.len(), 32);
    if let Some(lan) = s.urls.get(1) {
        assert!(lan.ends_with(&format!(":{}/?token={token}", s.port)), "{lan}");
    }
    for path in [
        "/",
        "/app.js",
        "/style.css",
        "/phone",
        "/phone.js",
        "/plot.svg",
        "/ws",
        "/ws/phone",
    ] {
        let (code, _, _) = get(s.port, path, None);
        assert_eq!(code, 401, "{path} without token");
        let flipped = if token.starts_with('0') { '1' } else { '0' };
        let (code, _, _) = get(s.port, &format!("{path}?token={flipped}{}", &token[1..]), None);
        assert_eq!(code, 401, "{path} with a wrong token");
        let (code, _, _) = get(s.port, path, Some("twistcoach_token=deadbeef"));
        assert_eq!(code, 401, "{path} with a wrong cookie");
    }
    // The right token in the query: the page, and a cookie for its assets.
    let (code, headers, _) = get(s.port, &format!("/?token={token}"), None);
    assert_eq!(code, 200);
    let cookie = headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap().to_string())
        .expect("a cookie");
    assert_eq!(cookie, format!("twistcoach_token={token}"));
    assert_eq!(get(s.port, "/app.js", Some(&cookie)).0, 200);

    // WebSocket: refused without the token, open with it.
    let url = format!("ws://127.0.0.1:{}/ws", s.port);
    match tungstenite::connect(&url) {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 401),
        other => panic!("WebSocket without token: {:?}", other.map(|_| ())),
    }
    let (mut ws, _) = tungstenite::connect(format!("{url}?token={token}")).expect("WebSocket with token");
    let first = ws.read().expect("a first message");
    let v: serde_json::Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(v["type"], "view");
    assert_eq!(v["data"]["phase"], "idle");
    assert_eq!(v["data"]["targets"]["over_rotation_deg"], 60.0);
}

#[test]
fn websocket_streams_a_session_and_takes_start_and_stop() {
    let s = Server::start(&["--speed", "20", "--variation", "standing"]);
    let (mut ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{}/ws", s.port)).unwrap();
    ws.send(Message::text(
        r#"{"type":"start","variation":"seated","caution":"disc-herniation"}"#,
    ))
    .unwrap();
    let t0 = Instant::now();
    let (mut angles, mut kinds, mut max_reps) = (Vec::new(), Vec::new(), 0u64);
    let mut caution_limit = None;
    let mut done = false;
    while t0.elapsed() < Duration::from_secs(60) && !(done && kinds.iter().any(|k| k == "session_ended:")) {
        let m = ws.read().unwrap();
        let Ok(text) = m.to_text() else { continue };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let d = &v["data"];
        if v["type"] == "view" {
            if let Some(a) = d["primary_deg"].as_f64() {
                angles.push(a);
            }
            if d["running"] == true {
                caution_limit = d["targets"]["over_rotation_deg"].as_f64();
                assert_eq!(d["variation"], "seated");
            }
            max_reps = max_reps.max(d["reps_left"].as_u64().unwrap() + d["reps_right"].as_u64().unwrap());
            done |= d["phase"] == "done";
        } else if v["type"] == "event" {
            kinds.push(d["type"].as_str().unwrap().to_string() + ":" + d["kind"].as_str().unwrap_or(""));
        }
    }
    assert_eq!(caution_limit, Some(40.0), "the caution profile's limit");
    let peak = angles.iter().fold(0f64, |m, a| m.max(a.abs()));
    assert!(peak > 20.0, "the angle moved: peak {peak}");
    assert!(max_reps >= 2, "reps counted: {max_reps}");
    for k in [
        "cue:calibrate",
        "calibrated:",
        "hold_started:",
        "hold_complete:",
        "rep:",
        "cue:hold",
        "session_ended:",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }

    // Stop interrupts a running session.
    ws.send(Message::text(r#"{"type":"start"}"#)).unwrap();
    ws.send(Message::text(r#"{"type":"stop"}"#)).unwrap();
    let t0 = Instant::now();
    let mut stopped = false;
    while t0.elapsed() < Duration::from_secs(30) && !stopped {
        let m = ws.read().unwrap();
        let v: serde_json::Value = serde_json::from_str(m.to_text().unwrap_or("{}")).unwrap_or_default();
        stopped = v["type"] == "view" && v["data"]["phase"] == "stopped";
    }
    assert!(stopped, "stop ended the session");
}

#[test]
fn phone_readings_reach_the_page() {
    let s = Server::start(&[]);
    let (mut page, _) = tungstenite::connect(format!("ws://127.0.0.1:{}/ws", s.port)).unwrap();
    let (mut phone, _) = tungstenite::connect(format!("ws://127.0.0.1:{}/ws/phone", s.port)).unwrap();
    for i in 0..20 {
        let r = serde_json::json!({"t_ms": f64::from(i) * 20.0, "alpha_deg": 0.0, "beta_deg": 90.0, "gamma_deg": 0.0});
        phone.send(Message::text(r.to_string())).unwrap();
    }
    // A reading out of the W3C ranges is refused with a message.
    phone
        .send(Message::text(
            r#"{"t_ms":500,"alpha_deg":0,"beta_deg":0,"gamma_deg":120}"#,
        ))
        .unwrap();
    let reply = phone.read().unwrap();
    assert!(reply.to_text().unwrap().contains("out of the W3C ranges"), "{reply}");
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < Duration::from_secs(10), "no phone status on the page");
        let m = page.read().unwrap();
        let v: serde_json::Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
        let p = &v["data"]["phone"];
        if v["type"] == "view" && p["samples"] == 20 && p["refused"] == 1 {
            assert_eq!(p["connected"], true);
            assert!((p["rate_hz"].as_f64().unwrap() - 50.0).abs() < 1e-6);
            assert!(p["tilt_from_upright_deg"].as_f64().unwrap() < 1e-6, "upright");
            let q = p["q_world_from_sensor"].as_array().unwrap();
            let h = std::f64::consts::FRAC_1_SQRT_2;
            assert!((q[0].as_f64().unwrap() - h).abs() < 1e-9 && (q[1].as_f64().unwrap() - h).abs() < 1e-9);
            break;
        }
    }
}

#[test]
fn a_replayed_recording_shows_the_live_sessions_reps() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("s.twrec");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twistcoach"))
        .args(["live", "--variation", "seated", "--sensor", "chest=sim:open-imu"])
        .args(["--sim-speed", "0", "--sim-reps", "2", "--json", "--no-save", "--record"])
        .arg(&rec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = Server::start(&["--replay", rec.to_str().unwrap(), "--speed", "50", "--autostart"]);
    let (mut ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{}/ws", s.port)).unwrap();
    let mut reps = Vec::new();
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < Duration::from_secs(60), "the replay did not end");
        let m = ws.read().unwrap();
        let v: serde_json::Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
        if v["type"] == "event" && v["data"]["type"] == "rep" {
            reps.push(v["data"].clone());
        }
        if v["type"] == "event" && v["data"]["type"] == "session_ended" {
            break;
        }
    }
    let want = report["reps"].as_array().unwrap();
    assert!(!want.is_empty());
    assert_eq!(reps.len(), want.len());
    for (got, want) in reps.iter().zip(want) {
        assert_eq!(got["side"], want["side"]);
        assert!((got["hold_s"].as_f64().unwrap() - want["hold_s"].as_f64().unwrap()).abs() < 1e-9);
    }
}

#[test]
fn the_history_plot_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    let s = Server::start(&["--db", db.to_str().unwrap()]);
    let (code, _, body) = get(s.port, "/plot.svg", None);
    assert_eq!(code, 404, "no database yet");
    assert!(body.contains("no history yet"), "{body}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twistcoach"))
        .args(["history", "--db", db.to_str().unwrap(), "demo-data"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, headers, body) = get(s.port, "/plot.svg", None);
    assert_eq!(code, 200);
    assert!(headers.iter().any(|(k, v)| k == "content-type" && v == "image/svg+xml"));
    assert!(body.starts_with("<svg") && body.contains("</svg>"));
}
