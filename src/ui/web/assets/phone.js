// Phone page: streams the browser's deviceorientation angles (W3C: alpha about z, beta
// about x', gamma about y'', degrees) to twistcoach over a WebSocket. The conversion to
// q_world_from_sensor happens on the server (src/ui/web/phone.rs).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let ws = null, sent = 0, last = null;
  if (!window.isSecureContext) {
    $("secure").hidden = false;
    $("secure").textContent = "This page is not a secure context (plain http on a network address): browsers hide the motion sensors here. See docs/web.md (phone) for the ways around it.";
  }
  function connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const q = new URLSearchParams(location.search);
    q.set("placement", $("placement").value);
    ws = new WebSocket(`${proto}://${location.host}/ws/phone?${q.toString()}`);
    ws.onopen = () => { $("status").textContent = "connected"; };
    ws.onclose = () => { $("status").textContent = "disconnected: retrying"; setTimeout(connect, 1000); };
    ws.onmessage = (m) => { try { const msg = JSON.parse(m.data); if (msg.type === "error") $("status").textContent = "server: " + msg.data; } catch (e) {} };
  }
  function onOrientation(e) {
    if (e.alpha == null || e.beta == null || e.gamma == null) return;
    last = e;
    if (ws && ws.readyState === 1) {
      // The event's own time stamp (ms since the page loaded) when the browser gives one.
      const t = e.timeStamp > 0 ? e.timeStamp : performance.now();
      ws.send(JSON.stringify({ t_ms: t, alpha_deg: e.alpha, beta_deg: e.beta, gamma_deg: e.gamma, absolute: !!e.absolute }));
      sent += 1;
    }
  }
  setInterval(() => {
    if (last) $("angles").textContent = `α ${last.alpha.toFixed(0)}° β ${last.beta.toFixed(0)}° γ ${last.gamma.toFixed(0)}°`;
    if (ws && ws.readyState === 1) $("status").textContent = `sending: ${sent} readings`;
  }, 250);
  $("go").onclick = async () => {
    // iOS asks for permission, and only from a tap.
    if (typeof DeviceOrientationEvent !== "undefined" && typeof DeviceOrientationEvent.requestPermission === "function") {
      try {
        const r = await DeviceOrientationEvent.requestPermission();
        if (r !== "granted") { $("status").textContent = "motion permission refused"; return; }
      } catch (e) { $("status").textContent = "motion permission: " + e; return; }
    }
    window.addEventListener("deviceorientation", onOrientation);
    $("go").disabled = true;
    $("placement").disabled = true;
    connect();
  };
  window.twistcoachPhone = { send: onOrientation };
})();
