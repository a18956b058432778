// twistcoach page: renders the server's state (type "view") and reacts to its events
// (type "event": speech, a beep, the log). It computes nothing about the session itself.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const R = 92; // radius of the band on the dial
  const DIAL_MAX = 100; // the dial shows -100..+100 degrees of twist
  let view = null;
  let muted = localStorage.getItem("twistcoach.muted") === "1";
  let audio = null;
  let lastToGo = null;
  // What the page said and rang, for the browser test and for anyone curious.
  const spoken = (window.twistcoachSpoken = []);
  window.twistcoachBeeps = 0;
  window.twistcoachViews = 0;

  // Point on the dial at twist `deg` (positive = left: the left half of the dial).
  function pt(r, deg) {
    const a = (deg * Math.PI) / 180;
    return [-r * Math.sin(a), -r * Math.cos(a)];
  }
  function arc(r, a0, a1) {
    if (a1 < a0) [a0, a1] = [a1, a0];
    const [x0, y0] = pt(r, a0), [x1, y1] = pt(r, a1);
    return `M ${x0.toFixed(2)} ${y0.toFixed(2)} A ${r} ${r} 0 ${a1 - a0 > 180 ? 1 : 0} 0 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
  }
  function line(el, deg, r0, r1) {
    const [x0, y0] = pt(r0, deg), [x1, y1] = pt(r1, deg);
    el.setAttribute("x1", x0); el.setAttribute("y1", y0); el.setAttribute("x2", x1); el.setAttribute("y2", y1);
  }
  function drawDial(t) {
    const lo = t.rep_min_deg, hi = Math.min(t.over_rotation_deg, DIAL_MAX);
    $("arc-track").setAttribute("d", arc(R, -DIAL_MAX, DIAL_MAX));
    $("band-left").setAttribute("d", arc(R, lo, hi));
    $("band-right").setAttribute("d", arc(R, -hi, -lo));
    $("over-left").setAttribute("d", arc(R, hi, DIAL_MAX));
    $("over-right").setAttribute("d", arc(R, -DIAL_MAX, -hi));
    line($("limit-left"), hi, 78, 106);
    line($("limit-right"), -hi, 78, 106);
  }

  function beep() {
    window.twistcoachBeeps += 1;
    if (muted) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.4, audio.currentTime);
      g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      o.connect(g).connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.6);
    } catch (e) { /* no audio device: the cue text still shows */ }
  }
  const lastSaid = {};
  function say(text) {
    // The same words twice within 3 s (an event and its cue) are said once.
    const now = Date.now();
    if (lastSaid[text] && now - lastSaid[text] < 3000) return;
    lastSaid[text] = now;
    spoken.push(text);
    if (muted || !("speechSynthesis" in window)) return;
    try {
      window.speechSynthesis.cancel();
      const u = new SpeechSynthesisUtterance(text);
      u.rate = 0.95;
      window.speechSynthesis.speak(u);
    } catch (e) { /* no voice: the text still shows */ }
  }
  function log(text) {
    const li = document.createElement("li");
    const t = view && view.t_s != null ? view.t_s.toFixed(1) + " s  " : "";
    li.textContent = t + text;
    $("log").prepend(li);
    while ($("log").children.length > 40) $("log").lastChild.remove();
  }

  // The moments that matter, in short words.
  const SPOKEN = {
    calibrate: "calibrating, stay still", hold: "hold", ease_off: "ease off", slow_down: "slower",
    release: "release and return", other_side: "other side", sensor_lost: "sensor lost, stay where you are",
    sensor_back: "sensor back",
  };
  function onEvent(e) {
    switch (e.type) {
      case "cue":
        log(e.text);
        $("cue").className = "cue " + e.kind;
        if (SPOKEN[e.kind]) say(SPOKEN[e.kind]);
        else if (e.kind === "turn") say(e.text.replace("calibrated: ", ""));
        break;
      case "hold_complete":
        beep();
        say("release and return");
        break;
      case "rep":
        log(`rep ${e.side}: held ${e.hold_s.toFixed(1)} s, peak ${e.peak_deg.toFixed(0)}°`);
        break;
      case "calibrated": log("calibrated"); break;
      case "warning": log("warning: " + e.text); break;
      case "session_ended": log(e.text); say("session over"); break;
      default: break;
    }
  }

  function render(v) {
    const first = !view || JSON.stringify(view.targets) !== JSON.stringify(v.targets);
    view = v;
    window.twistcoachViews += 1;
    if (first) drawDial(v.targets);
    $("cue").textContent = v.cue || "\u00a0";
    const n = $("needle");
    if (v.primary_deg == null) {
      n.setAttribute("transform", "rotate(0)");
      n.setAttribute("class", "needle none");
      $("angle").textContent = "–";
    } else {
      const d = Math.max(-DIAL_MAX, Math.min(DIAL_MAX, v.primary_deg));
      n.setAttribute("transform", `rotate(${(-d).toFixed(1)})`);
      // A sensor out of reach: the angle is stale, drawn grey.
      const stale = v.running && v.sensors.some((s) => !s.connected);
      n.setAttribute("class", stale ? "needle none" : Math.abs(v.primary_deg) > v.targets.over_rotation_deg ? "needle over" : "needle");
      $("angle").style.opacity = stale ? "0.35" : "1";
      const side = v.primary_deg > 0.5 ? " L" : v.primary_deg < -0.5 ? " R" : "";
      $("angle").textContent = Math.abs(v.primary_deg).toFixed(0) + "°" + side;
    }
    $("phase").textContent = v.phase + (v.side ? " " + v.side : "");
    const toGo = v.hold_to_go_s;
    if (toGo != null) {
      $("hold").textContent = toGo > 0 ? Math.ceil(toGo) : "✓";
      $("hold").className = toGo > 0 ? "hold" : "hold done";
      $("holdfill").style.width = Math.min(100, (100 * v.held_s) / v.targets.hold_min_s) + "%";
      $("holdnote").textContent = toGo > 0 ? `s to go (target ${v.targets.hold_min_s}–${v.targets.hold_max_s} s)` : `held ${v.held_s.toFixed(0)} s`;
      if (lastToGo != null && lastToGo > 10 && toGo <= 10 && toGo > 0) say("ten seconds");
    } else {
      $("hold").textContent = v.phase === "holding" ? "…" : "–";
      $("hold").className = "hold";
      $("holdfill").style.width = "0";
      $("holdnote").textContent = `target ${v.targets.hold_min_s}–${v.targets.hold_max_s} s`;
    }
    lastToGo = toGo;
    $("reps-left").textContent = v.reps_left;
    $("reps-right").textContent = v.reps_right;
    const chips = v.sensors.map((s) => {
      const rate = s.connected ? `, ${s.rate_hz.toFixed(0)} Hz` : "";
      const batt = s.battery_percent != null ? `, battery ${s.battery_percent}%` : "";
      return `<span class="chip${s.connected ? "" : " down"}" data-placement="${s.placement}">${s.placement}: ${s.connection}${rate}${batt}</span>`;
    });
    if (v.phone) {
      const p = v.phone;
      chips.push(`<span class="chip${p.connected ? "" : " down"}" id="phone-chip">phone: ${p.connected ? "connected" : "disconnected"} ${p.rate_hz.toFixed(0)} Hz, tilt ${p.tilt_from_upright_deg.toFixed(0)}°</span>`);
    }
    $("sensors").innerHTML = chips.join("");
    $("source").textContent = v.source + (v.caution ? ` · caution: ${v.caution}` : "");
    $("start").disabled = v.running;
    $("stop").disabled = !v.running;
    if (!v.running && document.activeElement !== $("variation")) $("variation").value = v.variation;
  }

  let ws = null;
  function connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${proto}://${location.host}/ws${location.search}`);
    ws.onopen = () => { $("offline").hidden = true; };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.type === "view") render(msg.data);
      else if (msg.type === "event") onEvent(msg.data);
      else if (msg.type === "error") log("server: " + msg.data);
    };
    ws.onclose = () => { $("offline").hidden = false; setTimeout(connect, 1000); };
  }
  function send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); }

  $("start").onclick = () => {
    // A click lets the browser start audio (autoplay rules).
    try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); audio.resume(); } catch (e) {}
    const msg = { type: "start", variation: $("variation").value, caution: $("caution").value || "none" };
    if ($("sensors-choice").value) msg.sensors = $("sensors-choice").value;
    send(msg);
  };
  $("stop").onclick = () => send({ type: "stop" });
  function showMute() {
    $("mute").textContent = muted ? "Voice off" : "Voice on";
    $("mute").setAttribute("aria-pressed", muted ? "true" : "false");
  }
  $("mute").onclick = () => {
    muted = !muted;
    localStorage.setItem("twistcoach.muted", muted ? "1" : "0");
    if (muted && "speechSynthesis" in window) window.speechSynthesis.cancel();
    showMute();
  };
  $("history-btn").onclick = () => {
    const h = $("history");
    h.hidden = !h.hidden;
    if (!h.hidden) {
      $("plot-msg").textContent = "";
      $("plot").src = "plot.svg?t=" + Date.now();
    }
  };
  $("plot").onerror = () => { $("plot-msg").textContent = "no history plot (no database yet: start serve with --db FILE)"; };
  showMute();
  connect();
})();
