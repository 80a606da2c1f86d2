/* The unit app: receive assignments, accept, tap through statuses, share position, file
 * feedback, raise panic. Every action is a field.* service call with this device's token. */
"use strict";

(function () {
  const state = { token: sessionStorage.getItem("sb-unit-token"), me: null, stop: null,
                  timer: null, lastFix: null, map: null, marker: null, armed: null,
                  account: sessionStorage.getItem("sb-unit-account") || "" };
  const SHARE_SECONDS = 10;
  const call = (service, params) => SB.call("/api/v1/call/" + service, params || {}, state.token);
  /* Now in the workspace's zone (the server says which), labelled. */
  const now = () => new Date().toLocaleTimeString("zh-CN", {
    timeZone: (state.me && state.me.zone) || "Asia/Shanghai", timeZoneName: "short" });

  function alertUser() {
    try { if (navigator.vibrate) navigator.vibrate([300, 120, 300, 120, 300]); } catch (e) {}
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.6);
    } catch (e) { /* no audio until the user has touched the page */ }
  }

  function render(me) {
    state.me = me;
    document.body.dataset.unitStatus = me.unit.status;
    SB.text("who", me.unit.name + " (" + me.unit.id + ") · " + state.account);
    SB.text("status", me.status_label);
    if (me.unit.status === "off_duty" && state.timer) {  // positions only while on duty
      document.getElementById("share").checked = false;
      share(false);
    }
    const inc = me.incident;
    SB.show("assignment", !!inc);
    document.body.dataset.incident = inc ? String(inc.id) : "";
    if (inc) {
      const pri = SB.text("priority", "P" + inc.priority);
      pri.className = "pill" + (inc.priority <= 2 ? " p" + inc.priority : "");
      SB.text("category", inc.category);
      SB.text("incident-text", inc.text);
      SB.text("incident-place", [inc.address, inc.district].filter(Boolean).join(" · ") ||
              (inc.lat !== null ? inc.lat.toFixed(5) + ", " + inc.lon.toFixed(5) : ""));
      SB.text("incident-time", "接警 received " + (inc.received_local || inc.received_at));
      SB.show("accept", !me.accepted);
      if (!state.map) state.map = SB.map("map", null, false, state.token);
      if (state.marker) { state.marker.remove(); state.marker = null; }
      if (inc.lat !== null && inc.lon !== null) {
        state.marker = L.circleMarker([inc.lat, inc.lon], { radius: 9, color: "#c1121f" })
          .addTo(state.map);
        state.map.setView([inc.lat, inc.lon], 14);
      }
      setTimeout(() => state.map.invalidateSize(), 50);
    }
    const box = document.getElementById("next-buttons");
    box.replaceChildren();
    const waitAccept = inc && !me.accepted;
    for (const s of me.next) {
      const b = SB.el("button", { "data-status": s, class: s === "off_duty" ? "secondary" : "",
                                  onclick: () => move(s) }, me.labels[s] || s);
      b.disabled = !!waitAccept && s !== "available";
      box.appendChild(b);
    }
    SB.show("feedback", me.feedback_due !== null && me.feedback_due !== undefined);
  }

  async function refresh() {
    try { render(await call("field.me")); SB.text("action-error", ""); }
    catch (e) { SB.text("action-error", e.message); if (e.status === 401) logout(); }
  }

  async function move(status) {
    SB.text("action-error", "");
    try { await call("field.status", { status }); await refresh(); }
    catch (e) { SB.text("action-error", e.message); }
  }

  async function accept() {
    try { await call("field.accept"); await refresh(); }
    catch (e) { SB.text("action-error", e.message); }
  }

  function sendFix(pos) {
    state.lastFix = pos.coords;
    call("field.position", { lat: pos.coords.latitude, lon: pos.coords.longitude,
                             accuracy_m: pos.coords.accuracy })
      .then(() => SB.text("share-state", "位置已上报 Position sent " + now()))
      .catch((e) => SB.text("share-state", e.message));
  }

  function share(on) {
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
    if (!on) { SB.text("share-state", "位置未上报 Position not shared"); return; }
    if (!navigator.geolocation) { SB.text("share-state", "此浏览器无定位 No geolocation"); return; }
    const once = () => navigator.geolocation.getCurrentPosition(sendFix,
      (err) => SB.text("share-state", "定位失败 Location failed: " + err.message),
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 8000 });
    once();
    state.timer = setInterval(once, SHARE_SECONDS * 1000);
    SB.text("share-state", "位置上报中 Sharing position every " + SHARE_SECONDS + " s");
  }

  async function panic() {
    if (!state.armed) {
      state.armed = setTimeout(() => { state.armed = null;
        document.getElementById("panic").classList.remove("armed");
        SB.text("panic-state", "连按两次发出 P1 警报 Tap twice to raise a P1 alert"); }, 4000);
      document.getElementById("panic").classList.add("armed");
      SB.text("panic-state", "再按一次确认 Tap again to confirm");
      return;
    }
    clearTimeout(state.armed); state.armed = null;
    document.getElementById("panic").classList.remove("armed");
    const params = state.lastFix ? { lat: state.lastFix.latitude, lon: state.lastFix.longitude } : {};
    try {
      await call("field.panic", params);
      SB.text("panic-state", "已发出 P1 警报 P1 alert raised " + now());
      document.body.dataset.panic = "sent";
    } catch (e) { SB.text("panic-state", e.message); }
  }

  async function sendFeedback(ev) {
    ev.preventDefault();
    const files = Array.from(document.getElementById("feedback-photos").files || []);
    if (files.length > 3) { SB.text("feedback-error", "最多 3 张照片 At most 3 photos"); return; }
    if (files.some((f) => f.size > 2 * 1024 * 1024)) {
      SB.text("feedback-error", "每张照片不超过 2 MB Each photo at most 2 MB"); return;
    }
    try {
      const photos = await Promise.all(files.map(SB.fileParam));
      await call("field.feedback", { outcome: document.getElementById("outcome").value,
                                     notes: document.getElementById("notes").value, photos });
      document.getElementById("feedback-form").reset();
      SB.text("feedback-error", "");
      await refresh();
    } catch (e) { SB.text("feedback-error", e.message); }
  }

  function start() {
    SB.show("login", false);
    SB.show("app", true);
    refresh();
    state.stop = SB.events(state.token, (kind, data) => {
      if (kind === "assignment" && data && data.kind === "assignment.created") alertUser();
      refresh();
    }, (s) => {
      SB.text("link", s === "live" ? "在线 online" : s === "ended" ? "已退出 signed out" : "离线 offline");
      document.body.dataset.link = s;
      if (s === "live") refresh();
      if (s === "ended") logout();
    });
  }

  function logout() {
    if (state.stop) state.stop();
    share(false);
    document.getElementById("share").checked = false;
    if (state.token) fetch("/api/v1/session", { method: "DELETE",
      headers: { Authorization: "Bearer " + state.token } }).catch(() => {});
    state.token = null;
    sessionStorage.removeItem("sb-unit-token");
    SB.show("app", false);
    SB.show("login", true);
    SB.text("who", "未登录 Not logged in");
  }

  document.getElementById("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const user = document.getElementById("account").value.trim();
    const password = document.getElementById("password").value;
    SB.text("login-error", "");
    try {
      const r = await fetch("/api/v1/session", { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user, password }) });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error ? body.error.message : "HTTP " + r.status);
      if (body.role !== "unit") throw new Error("此账号不是执勤设备账号 Not a unit device account");
      state.token = body.token;
      state.account = user;
      sessionStorage.setItem("sb-unit-token", body.token);
      sessionStorage.setItem("sb-unit-account", user);
      document.getElementById("password").value = "";
      start();
    } catch (e) { SB.text("login-error", e.message); }
  });
  document.getElementById("accept").addEventListener("click", accept);
  document.getElementById("share").addEventListener("change", (e) => share(e.target.checked));
  document.getElementById("panic").addEventListener("click", panic);
  document.getElementById("feedback-form").addEventListener("submit", sendFeedback);
  document.getElementById("logout").addEventListener("click", logout);
  if (state.token) start();
})();
