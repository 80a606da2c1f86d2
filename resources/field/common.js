/* Shared by the field pages. Plain JavaScript, no framework, nothing from a CDN.
 * Text that came from anyone else is only ever set with textContent (never innerHTML). */
"use strict";

const SB = {};

SB.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
};

SB.text = function (id, value) {
  const node = document.getElementById(id);
  node.textContent = value === null || value === undefined ? "" : String(value);
  return node;
};

SB.show = function (id, visible) {
  document.getElementById(id).classList.toggle("hidden", !visible);
};

/* POST a service call; resolves to the result or rejects with a readable Error. */
SB.call = async function (path, params, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  let response;
  try {
    response = await fetch(path, { method: "POST", headers, body: JSON.stringify({ params }) });
  } catch (e) {
    throw new Error("无法连接指挥中心 Cannot reach the centre");
  }
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const err = new Error((body && body.error && body.error.message) || ("HTTP " + response.status));
    err.status = response.status;
    err.type = body && body.error && body.error.type;
    throw err;
  }
  return body ? body.result : null;
};

/* Read a File as {"base64": ...} (the form the server takes bytes in). */
SB.fileParam = function (file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve({ base64: String(reader.result).split(",", 2)[1] || "" });
    reader.onerror = () => reject(new Error("无法读取照片 Cannot read the photo"));
    reader.readAsDataURL(file);
  });
};

/* A map on the vendored Leaflet with the district outlines (offline: no tile server). */
SB.map = function (id, onClick, fit) {
  const map = L.map(id, { zoomControl: true, attributionControl: false, zoomAnimation: false,
                          fadeAnimation: false, markerZoomAnimation: false })
    .setView([30.75, 120.76], 10);
  fetch("/field/districts.geojson").then((r) => r.json()).then((geo) => {
    const layer = L.geoJSON(geo, { style: { color: "#0b3d91", weight: 1, fillOpacity: 0.05 } });
    layer.addTo(map);
    if (fit !== false) {
      try { map.fitBounds(layer.getBounds()); } catch (e) { /* empty outline */ }
    }
  }).catch(() => {});
  if (onClick) map.on("click", (e) => onClick(e.latlng));
  return map;
};

/* Server-Sent Events over fetch (EventSource cannot send the Authorization header). */
SB.events = function (token, onEvent, onState) {
  let stopped = false;
  let last = null;
  async function run() {
    while (!stopped) {
      try {
        const headers = { Authorization: "Bearer " + token };
        if (last !== null) headers["Last-Event-ID"] = String(last);
        const response = await fetch("/api/v1/events", { headers });
        if (response.status === 401) { onState("ended"); return; }
        if (!response.ok) throw new Error("HTTP " + response.status);
        onState("live");
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const ev = {};
            for (const line of block.split("\n")) {
              if (!line || line.startsWith(":")) continue;
              const i = line.indexOf(":");
              const key = i < 0 ? line : line.slice(0, i);
              ev[key] = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            }
            if (ev.event === "session-ended") { onState("ended"); return; }
            if (ev.id !== undefined) {
              last = Number(ev.id);
              let data = null;
              try { data = JSON.parse(ev.data || "null"); } catch (e) { data = null; }
              onEvent(ev.event, data);
            }
          }
        }
      } catch (e) {
        onState("offline");
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 2000));
    }
  }
  run();
  return () => { stopped = true; };
};
