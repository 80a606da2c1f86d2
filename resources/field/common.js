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

/* A map on the vendored Leaflet: the district outlines, the streets (by class, each from its
 * zoom) and the names of streets and places (each from its zoom), all served by the centre
 * (no tile server needed). With a session token, the centre's own tiles (an MBTiles file of
 * its city) are fetched with the token and shown under them when the centre has some. */
SB.map = function (id, onClick, fit, token) {
  const map = L.map(id, { zoomControl: true, attributionControl: false, zoomAnimation: false,
                          fadeAnimation: false, markerZoomAnimation: false })
    .setView([30.75, 120.76], 10);
  fetch("/field/districts.geojson").then((r) => r.json()).then((geo) => {
    const layer = L.geoJSON(geo, { style: { color: "#0b3d91", weight: 1, fillOpacity: 0.05 },
                                   interactive: false });
    layer.addTo(map);
    layer.bringToBack();
    if (fit !== false) {
      try { map.fitBounds(layer.getBounds()); } catch (e) { /* empty outline */ }
    }
  }).catch(() => {});
  SB.basemap(map);
  if (token) SB.centreTiles(map, token);
  if (onClick) map.on("click", (e) => onClick(e.latlng));
  SB.lastMap = map;  /* for the tests and the browser's console */
  return map;
};

/* Street colours and widths by class. */
SB.STREETS = { motorway: ["#e39a4f", 5], trunk: ["#e8c166", 4], primary: ["#8795a6", 3.2],
               secondary: ["#a3afbd", 2.4], residential: ["#bcc5cf", 1.6] };

/* A name on the map, shown from its zoom on (body class sb-lzN); built with textContent. */
SB.label = function (latlng, name, cls, zoom, vertical) {
  const span = document.createElement("span");
  span.textContent = name;
  if (vertical) span.className = "sb-vertical";
  return L.marker(latlng, { interactive: false, keyboard: false, icon: L.divIcon({
    className: cls + " sb-lz" + zoom, html: span, iconSize: null }) });
};

SB.basemap = function (map) {
  const order = ["residential", "secondary", "primary", "trunk", "motorway"];
  const lines = [];
  function zoomed() {
    const z = map.getZoom();
    for (let n = 6; n <= 19; n++) document.body.classList.toggle("sb-lz" + n, z >= n);
    for (const e of lines) {
      const on = z >= e.minzoom;
      if (on !== e.shown) { e.line.setStyle({ opacity: on ? 0.95 : 0 }); e.shown = on; }
    }
  }
  fetch("/field/basemap.geojson").then((r) => r.json()).then((geo) => {
    const features = (geo.features || []).slice().sort((a, b) =>
      order.indexOf(a.properties.class) - order.indexOf(b.properties.class));
    for (const f of features) {
      const p = f.properties || {};
      const c = f.geometry && f.geometry.coordinates;
      if (!p.name || !c) continue;
      if (f.geometry.type === "LineString") {
        const pts = c.map((xy) => [xy[1], xy[0]]);
        const style = SB.STREETS[p.class] || SB.STREETS.residential;
        const line = L.polyline(pts, { color: style[0], weight: style[1], opacity: 0.95,
                                       interactive: false }).addTo(map);
        lines.push({ line: line, minzoom: p.minzoom || 0, shown: true });
        /* the name at the middle of every other segment: in view wherever one looks */
        const n = pts.length - 1;
        for (let i = n > 1 ? 1 : 0; i < Math.max(n, 1); i += 2) {
          const a = pts[i], b = pts[i + 1] || a;
          const vertical = Math.abs(b[0] - a[0]) > Math.abs(b[1] - a[1]) * 1.2;
          SB.label([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], p.name,
                   "sb-street-name sb-" + p.class, p.labelzoom || 14, vertical).addTo(map);
        }
      } else if (f.geometry.type === "Point") {
        SB.label([c[1], c[0]], p.name, "sb-place-name sb-" + p.kind, p.labelzoom || 14,
                 false).addTo(map);
      }
    }
    document.body.dataset.basemap = String(lines.length);
    zoomed();
  }).catch(() => {});
  map.on("zoomend", zoomed);
  zoomed();
};

/* The centre's own tiles (GET /api/v1/tiles with the session): an <img> cannot send the
 * Authorization header, so each tile is fetched and shown from a blob: URL. */
SB.centreTiles = function (map, token) {
  const headers = { Authorization: "Bearer " + token };
  fetch("/api/v1/tiles", { headers }).then((r) => r.ok ? r.json() : null).then((info) => {
    if (!info || !info.available) return;
    const Layer = L.TileLayer.extend({
      createTile: function (coords, done) {
        const img = document.createElement("img");
        img.alt = "";
        fetch(this.getTileUrl(coords), { headers })
          .then((r) => r.ok ? r.blob() : Promise.reject(new Error("HTTP " + r.status)))
          .then((blob) => {
            img.onload = () => { URL.revokeObjectURL(img.src); done(null, img); };
            img.src = URL.createObjectURL(blob);
          })
          .catch((e) => done(e, img));
        return img;
      }
    });
    const layer = new Layer("/api/v1/tiles/{z}/{x}/{y}", {
      minZoom: 0, maxZoom: 19, minNativeZoom: info.minzoom, maxNativeZoom: info.maxzoom });
    layer.addTo(map);
    layer.bringToBack();
    document.body.dataset.tiles = info.name || "tiles";
  }).catch(() => {});
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
