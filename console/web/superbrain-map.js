/* superbrain map page behaviour: layers from the console's data, clicks back to the console.
 *
 * A marker click logs superbrain://open/<kind>/<id>; the console reads its page's console
 * messages and opens the record or unit and calls sbSelect / sbSetUnits / sbPlay / sbDispatch
 * through runJavaScript.
 */
"use strict";

var SB = { labels: {}, map: null, byId: {}, tracks: [], playback: null, selected: [], tz: "Asia/Shanghai",
           layers: {} };

function sbTime(epochSeconds) {
  /* 24-hour time in the workspace's time zone ("2026-09-21 14:05"), whatever the machine's */
  try {
    return new Date(epochSeconds * 1000).toLocaleString("sv-SE", {
      timeZone: SB.tz, hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit" });
  } catch (e) {
    return new Date(epochSeconds * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
}

var PRIORITY_COLOURS = { 1: "#e5534b", 2: "#f0883e", 3: "#d29922", 4: "#3d8bfd", 5: "#7d8a99" };
var STATUS_COLOURS = {
  available: "#3fb950", dispatched: "#f0883e", en_route: "#d29922", "en route": "#d29922",
  on_scene: "#e5534b", "on scene": "#e5534b", cleared: "#3d8bfd", off_duty: "#6e7681",
  "off duty": "#6e7681"
};

function sbOpen(kind, id) {
  /* the console reads this console message (no navigation, no custom URL scheme needed) */
  console.info("superbrain://open/" + kind + "/" + encodeURIComponent(id));
}

function sbT(key, english) {
  /* the console's translation of a page text (payload "labels"), else the English */
  var t = SB.labels && SB.labels[key];
  return t ? t : english;
}

function sbEscape(text) {
  return String(text === undefined || text === null ? "" : text)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function sbGrid(map) {
  /* Offline and no district outlines: a coordinate grid, so the page is never blank. */
  var b = map.getBounds().pad(2);
  var step = 0.05;
  var style = { color: "#3a4656", weight: 0.6, interactive: false };
  for (var lat = Math.floor(b.getSouth() / step) * step; lat < b.getNorth(); lat += step) {
    L.polyline([[lat, b.getWest()], [lat, b.getEast()]], style).addTo(map);
  }
  for (var lon = Math.floor(b.getWest() / step) * step; lon < b.getEast(); lon += step) {
    L.polyline([[b.getSouth(), lon], [b.getNorth(), lon]], style).addTo(map);
  }
}

function sbIncidents(map, incidents) {
  var group = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
  incidents.forEach(function (p) {
    var colour = PRIORITY_COLOURS[p.priority] || "#3d8bfd";
    var m = L.circleMarker([p.lat, p.lon], {
      radius: 7, color: "#0d1117", weight: 1, fillColor: colour, fillOpacity: 0.95
    });
    m.bindTooltip("<b>P" + sbEscape(p.priority) + "</b> " + sbEscape(p.category) + "<br>" +
                  sbEscape(p.label));
    m.on("click", function () { sbOpen(p.record ? "record" : "incident", p.record || p.id); });
    m.sbBase = { radius: 7, color: "#0d1117", weight: 1 };
    SB.byId[p.record || p.id] = m;
    SB.byId[p.id] = m;
    group.addLayer(m);
  });
  group.addTo(map);
  SB.incidents = group;
}

function sbRecords(map, records) {
  var layer = L.layerGroup();
  records.forEach(function (p) {
    var m = L.circleMarker([p.lat, p.lon], {
      radius: 4, color: p.colour || "#8b98a8", weight: 1, fillOpacity: 0.6
    });
    m.bindTooltip(sbEscape(p.type) + ": " + sbEscape(p.label));
    m.on("click", function () { sbOpen("record", p.id); });
    m.sbBase = { radius: 4, color: p.colour || "#8b98a8", weight: 1 };
    SB.byId[p.id] = m;
    layer.addLayer(m);
  });
  layer.addTo(map);
  SB.recordLayer = layer;
}

function sbSetUnits(units) {
  if (SB.units) { SB.map.removeLayer(SB.units); }
  var layer = L.layerGroup();
  units.forEach(function (u) {
    var colour = STATUS_COLOURS[u.status] || "#8b98a8";
    var m = L.circleMarker([u.lat, u.lon], {
      radius: 9, color: colour, weight: 3, fillColor: "#0d1117", fillOpacity: u.stale ? 0.2 : 0.9,
      dashArray: u.stale ? "3 3" : null
    });
    m.bindTooltip(sbEscape(u.label || u.id) + " · " + sbEscape(u.status) +
                  (u.stale ? " " + sbEscape(sbT("stale", "(position stale)")) : ""),
                  { permanent: false });
    m.on("click", function () { sbOpen("unit", u.id); });
    m.sbBase = { radius: 9, color: colour, weight: 3 };
    SB.byId["unit:" + u.id] = m;
    layer.addLayer(m);
  });
  layer.addTo(SB.map);
  SB.units = layer;
  if (SB.switcher) {  /* the switcher follows the redrawn units layer */
    SB.switcher.removeLayer(SB.switcher.sbUnits);
    SB.switcher.addOverlay(layer, SB.switcher.sbUnitsName);
    SB.switcher.sbUnits = layer;
  }
}

function sbTracks(map, tracks) {
  if (!tracks.length) { return; }
  var palette = ["#ff9da7", "#76b7b2", "#edc948", "#b07aa1", "#59a14f", "#e15759"];
  var tmin = Infinity, tmax = -Infinity;
  tracks.forEach(function (t, i) {
    var colour = palette[i % palette.length];
    var pts = t.points.map(function (p) { return [p[0], p[1]]; });
    var group = SB.trackGroup || (SB.trackGroup = L.layerGroup().addTo(map));
    L.polyline(pts, { color: colour, weight: 3, opacity: 0.55 }).addTo(group);
    t.points.forEach(function (p) {
      var dot = L.circleMarker([p[0], p[1]], { radius: 3, color: colour, weight: 1 });
      dot.bindTooltip(sbEscape(t.label) + "<br>" + sbEscape(sbTime(p[2])));
      if (p[3]) { dot.on("click", function () { sbOpen("record", p[3]); }); }
      dot.addTo(group);
      tmin = Math.min(tmin, p[2]); tmax = Math.max(tmax, p[2]);
    });
    var head = L.circleMarker(pts[0], { radius: 8, color: "#ffffff", weight: 2,
                                        fillColor: colour, fillOpacity: 1 });
    head.bindTooltip(sbEscape(t.label), { permanent: true, direction: "right",
                                          className: "sb-unit-label" });
    head.addTo(SB.trackGroup);
    SB.tracks.push({ track: t, head: head });
  });
  sbPlaybackControl(map, tmin, tmax);
}

function sbPositionAt(points, t) {
  if (t <= points[0][2]) { return [points[0][0], points[0][1]]; }
  for (var i = 1; i < points.length; i++) {
    if (t <= points[i][2]) {
      var a = points[i - 1], b = points[i];
      var f = (t - a[2]) / Math.max(1, b[2] - a[2]);
      return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
    }
  }
  var last = points[points.length - 1];
  return [last[0], last[1]];
}

function sbSeek(t) {
  SB.tracks.forEach(function (e) { e.head.setLatLng(sbPositionAt(e.track.points, t)); });
  if (SB.playback) {
    SB.playback.slider.value = t;
    SB.playback.label.textContent = sbTime(t);
  }
}

function sbPlay(on) {
  var pb = SB.playback;
  if (!pb) { return; }
  if (pb.timer) { clearInterval(pb.timer); pb.timer = null; pb.button.textContent = "▶"; }
  if (on === false) { return; }
  var step = Math.max(1, (pb.tmax - pb.tmin) / 300);
  pb.button.textContent = "❚❚";
  pb.timer = setInterval(function () {
    var t = Number(pb.slider.value) + step;
    if (t > pb.tmax) { t = pb.tmin; }
    sbSeek(t);
  }, 50);
}

function sbPlaybackControl(map, tmin, tmax) {
  var ctl = L.control({ position: "bottomleft" });
  ctl.onAdd = function () {
    var div = L.DomUtil.create("div", "sb-panel");
    var button = L.DomUtil.create("button", "", div);
    button.textContent = "▶";
    var slider = L.DomUtil.create("input", "", div);
    slider.type = "range"; slider.min = tmin; slider.max = tmax; slider.step = 1; slider.value = tmin;
    var label = L.DomUtil.create("span", "", div);
    L.DomEvent.disableClickPropagation(div);
    slider.addEventListener("input", function () { sbSeek(Number(slider.value)); });
    button.addEventListener("click", function () { sbPlay(!SB.playback.timer); });
    SB.playback = { slider: slider, label: label, button: button, tmin: tmin, tmax: tmax,
                    timer: null };
    return div;
  };
  ctl.addTo(map);
  sbSeek(tmin);
}

function sbLegend(map, data) {
  var ctl = L.control({ position: "topright" });
  ctl.onAdd = function () {
    var div = L.DomUtil.create("div", "sb-panel sb-legend");
    var html = "";
    if (data.incidents.length) {
      html += sbEscape(sbT("incidents_legend", "Incidents")) +
              " P1<span style='background:#e5534b'></span>P3" +
              "<span style='background:#d29922'></span>P5<span style='background:#7d8a99'></span>";
    }
    if (data.units.length) {
      html += (html ? "<br>" : "") + sbEscape(sbT("units_available", "Units available")) +
              "<span style='background:#3fb950'></span>" + sbEscape(sbT("busy", "busy")) +
              "<span style='background:#f0883e'></span>";
    }
    var base = { tiles: "", districts: (data.places || []).length ?
                   sbT("basemap_places", "offline basemap: streets and places (names as you zoom in)") :
                   sbT("basemap_districts", "offline basemap: district outlines"),
                 grid: sbT("basemap_grid", "offline: coordinate grid (no district outlines installed)")
               }[data.basemap];
    if (base) { html += (html ? "<br>" : "") + "<i>" + sbEscape(base) + "</i>"; }
    div.innerHTML = html || "<i>" + sbEscape(sbT("empty", "no located records")) + "</i>";
    return div;
  };
  ctl.addTo(map);
}

function sbSelect(ids) {
  SB.selected.forEach(function (id) {
    var m = SB.byId[id];
    if (m && m.sbBase) { m.setStyle({ color: m.sbBase.color, weight: m.sbBase.weight });
                         m.setRadius(m.sbBase.radius); }
  });
  var found = [];
  ids.forEach(function (id) {
    var m = SB.byId[id];
    if (m) {
      m.setStyle({ color: "#ffffff", weight: 3 }); m.setRadius(m.sbBase.radius + 4);
      found.push(m.getLatLng());
    }
  });
  SB.selected = ids;
  if (found.length === 1) { SB.map.setView(found[0], Math.max(SB.map.getZoom(), 14)); }
  else if (found.length > 1) { SB.map.fitBounds(L.latLngBounds(found).pad(0.3)); }
  return found.length;
}

function sbDispatch(data) {
  /* The dispatch board's map: the selected incident, the recommended units (numbered, best
   * first, a line to the incident, dashed when the position is stale) and the other units
   * faintly. Replaces what the previous call drew; returns the number of markers drawn. */
  if (SB.dispatch) { SB.map.removeLayer(SB.dispatch); }
  var layer = L.layerGroup();
  var focus = [];
  var drawn = 0;
  (data.others || []).forEach(function (u) {
    var colour = STATUS_COLOURS[u.status] || "#8b98a8";
    var m = L.circleMarker([u.lat, u.lon], {
      radius: 5, color: colour, weight: 2, fillColor: colour, fillOpacity: 0.25, opacity: 0.6
    });
    m.bindTooltip(sbEscape(u.label || u.id) + " · " + sbEscape(u.status));
    m.on("click", function () { sbOpen("unit", u.id); });
    layer.addLayer(m);
    drawn += 1;
  });
  var inc = data.incident;
  (data.units || []).forEach(function (u) {
    if (inc) {
      L.polyline([[u.lat, u.lon], [inc.lat, inc.lon]], {
        color: "#3fb950", weight: 2, opacity: 0.7, dashArray: u.stale ? "4 4" : null,
        interactive: false
      }).addTo(layer);
    }
    var m = L.circleMarker([u.lat, u.lon], {
      radius: 10, color: "#3fb950", weight: 3, fillColor: "#0d1117",
      fillOpacity: u.stale ? 0.2 : 0.9, dashArray: u.stale ? "3 3" : null
    });
    m.bindTooltip(sbEscape(u.rank) + ". " + sbEscape(u.label || u.id) + " · " + sbEscape(u.eta) +
                  (u.stale ? " " + sbEscape(sbT("stale", "(position stale)")) : ""));
    m.on("click", function () { sbOpen("unit", u.id); });
    layer.addLayer(m);
    /* the rank (as in the board's list) on the marker itself: names would overlap */
    L.marker([u.lat, u.lon], {
      interactive: false, keyboard: false,
      icon: L.divIcon({ className: "sb-rank", html: sbEscape(u.rank), iconSize: [20, 20] })
    }).addTo(layer);
    focus.push([u.lat, u.lon]);
    drawn += 1;
  });
  if (inc) {
    var colour = PRIORITY_COLOURS[inc.priority] || "#3d8bfd";
    var m = L.circleMarker([inc.lat, inc.lon], {
      radius: 12, color: "#ffffff", weight: 3, fillColor: colour, fillOpacity: 1
    });
    m.bindTooltip("<b>P" + sbEscape(inc.priority) + "</b> #" + sbEscape(inc.id) + " " +
                  sbEscape(inc.category) + "<br>" + sbEscape(inc.label),
                  { permanent: true, direction: "top", className: "sb-unit-label" });
    m.on("click", function () { sbOpen(inc.record ? "record" : "incident", inc.record || inc.id); });
    layer.addLayer(m);
    focus.push([inc.lat, inc.lon]);
    drawn += 1;
  }
  layer.addTo(SB.map);
  SB.dispatch = layer;
  /* the page may have been laid out before its view had its final size: measure once now
   * (not on every resize, which kept the page busy redrawing while a splitter moved) */
  SB.map.invalidateSize(false);
  if (!focus.length) {
    (data.others || []).forEach(function (u) { focus.push([u.lat, u.lon]); });
  }
  if (focus.length === 1) { SB.map.setView(focus[0], Math.max(SB.map.getZoom(), 14)); }
  else if (focus.length > 1) { SB.map.fitBounds(L.latLngBounds(focus).pad(0.25)); }
  else {
    var outlines = L.latLngBounds([]);
    SB.map.eachLayer(function (l) { if (l instanceof L.GeoJSON) { outlines.extend(l.getBounds()); } });
    if (outlines.isValid()) { SB.map.fitBounds(outlines); }
  }
  SB.dispatchDrawn = drawn;
  return drawn;
}

function sbInvalidate() {
  /* the view was shown again: let Leaflet measure its container (returns nothing: a Leaflet
   * object handed back to the console would be converted whole, see map_panel.page_call) */
  if (SB.map) { SB.map.invalidateSize(false); sbFitOnce(); }
  return null;
}

function sbFitOnce() {
  /* Zoom to what the page was made for (the tracks asked for, else everything) once the map
   * has a real size: a page loaded in a hidden tab measured 0×0 and fitted nothing. */
  if (!SB.fitPending || !SB.map) { return; }
  var size = SB.map.getSize();
  if (size.x > 0 && size.y > 0) {
    SB.fitPending = false;
    SB.map.fitBounds(SB.fit, { padding: [20, 20] });
  }
}

var STREET_STYLES = {  /* by class: [dark colour, light colour, weight] */
  motorway: ["#b9803f", "#e39a4f", 4.5], trunk: ["#9c8650", "#e8c166", 3.5],
  primary: ["#71839a", "#aab6c4", 3], secondary: ["#5b6b80", "#c0c9d3", 2.2],
  residential: ["#4a586a", "#d2d8df", 1.4]
};

function sbLabel(latlng, name, cls, zoom, vertical) {
  /* A name written on the map from `zoom` on (body class sb-lzN, see sbZoomClasses); built
   * with textContent, never as markup */
  var el = document.createElement("span");
  el.textContent = name;
  if (vertical) { el.className = "sb-vertical"; }
  return L.marker(latlng, { interactive: false, keyboard: false, icon: L.divIcon({
    className: cls + " sb-lz" + zoom, html: el, iconSize: null }) });
}

function sbLabelSpots(points) {
  /* Where a street's name is written: the middle of every other segment (a name in view
   * wherever one looks along the street), or of the one segment; [latlng, vertical] pairs */
  var out = [];
  var n = points.length - 1;
  for (var i = n > 1 ? 1 : 0; i < Math.max(n, 1); i += 2) {
    var a = points[i], b = points[i + 1] || a;
    out.push([[(a[0] + b[0]) / 2, (a[1] + b[1]) / 2],
              Math.abs(b[0] - a[0]) > Math.abs(b[1] - a[1]) * 1.2]);
  }
  return out;
}

function sbZoomClasses(map) {
  /* body.sb-lzN for every N up to the current zoom: a name with class sb-lzN shows from N */
  var z = map.getZoom();
  for (var n = 6; n <= 19; n++) { document.body.classList.toggle("sb-lz" + n, z >= n); }
  (SB.streetLines || []).forEach(function (e) {
    var on = z >= e.minzoom;
    if (on !== e.shown) { e.line.setStyle({ opacity: on ? 0.9 : 0 }); e.shown = on; }
  });
}

function sbStreetsAndPlaces(map, data) {
  /* The readable offline basemap: street lines by class (motorways first, residential lanes
   * from zoom 14), street names and place names each from their own zoom (district names
   * from 9, street names from 11–16, places from 12–16). */
  var streets = L.layerGroup(), places = L.layerGroup();
  var dark = data.dark ? 0 : 1;
  SB.streetLines = [];
  var order = ["residential", "secondary", "primary", "trunk", "motorway"];
  var sorted = (data.streets || []).slice().sort(function (a, b) {
    return order.indexOf(a.cls) - order.indexOf(b.cls);  /* big roads drawn on top */
  });
  sorted.forEach(function (s) {
    var style = STREET_STYLES[s.cls] || STREET_STYLES.residential;
    var pl = L.polyline(s.points, { color: style[dark], weight: style[2], opacity: 0.9,
                                    interactive: false, className: "sb-street sb-" + s.cls });
    pl.addTo(streets);
    SB.streetLines.push({ line: pl, minzoom: s.minzoom || 0, shown: true });
    sbLabelSpots(s.points).forEach(function (spot) {
      sbLabel(spot[0], s.name, "sb-street-name sb-" + s.cls, s.labelzoom || 14, spot[1])
        .addTo(streets);
    });
  });
  var line = data.dark ? "#5b6b80" : "#9aa8b8";
  (data.places || []).forEach(function (p) {
    if (p.kind !== "district") {
      L.circleMarker([p.lat, p.lon], { radius: 2.5, color: line, weight: 1, fillOpacity: 0.9,
                                       interactive: false }).addTo(places);
    }
    sbLabel([p.lat, p.lon], p.name, "sb-place-name sb-" + p.kind, p.labelzoom || 14, false)
      .addTo(places);
  });
  if ((data.streets || []).length) { streets.addTo(map); SB.streets = streets; }
  if ((data.places || []).length) { places.addTo(map); SB.places = places; }
  map.on("zoomend", function () { sbZoomClasses(map); });
  sbZoomClasses(map);
}

function sbLayerSwitcher(map, data) {
  /* One switcher for every layer: incidents, units, records, hotspots, tracks, geofences and
   * the basemap: district outlines, streets, places and a tile server's (or the workspace's
   * MBTiles) tiles. */
  var names = SB.labels || {};
  var overlays = {};
  function add(key, layer) { if (layer) { overlays[names[key] || key] = layer; } }
  add("incidents", SB.incidents);
  add("units", SB.units);
  add("records", SB.recordLayer);
  map.eachLayer(function (l) {
    if (L.HeatLayer && l instanceof L.HeatLayer) { add("hotspots", l); }
    if (l instanceof L.TileLayer) { add("tiles", l); }
    if (l instanceof L.GeoJSON) {
      var cls = "";
      l.eachLayer(function (f) { cls = cls || (f.options && f.options.className) || ""; });
      if (cls === "sb-basemap") { add("basemap", l); }
      if (cls === "sb-geofences") { add("geofences", l); }
    }
  });
  add("tracks", SB.trackGroup);
  add("streets", SB.streets);
  add("places", SB.places);
  SB.layers = overlays;
  SB.switcher = L.control.layers(null, overlays, { collapsed: true, position: "topright" });
  SB.switcher.sbUnits = SB.units;
  SB.switcher.sbUnitsName = names.units || "units";
  SB.switcher.addTo(map);
}

function sbInit(map, data) {
  SB.map = map;
  if (!map.options.maxZoom) { map.setMaxZoom(19); }  /* clustering needs one; no tile layer */
  document.body.className = data.dark ? "sb-dark" : "sb-light";
  SB.labels = data.labels || {};
  SB.tz = data.tz || SB.tz;
  if (data.fit) {
    SB.fit = data.fit; SB.fitPending = true;
    map.on("resize", sbFitOnce);
  }
  L.control.scale({ metric: true, imperial: false }).addTo(map);  /* metric only */
  if (data.basemap === "grid") { sbGrid(map); }
  sbStreetsAndPlaces(map, data);
  sbRecords(map, data.records);
  sbIncidents(map, data.incidents);
  sbSetUnits(data.units);
  sbTracks(map, data.tracks);
  sbLegend(map, data);
  sbLayerSwitcher(map, data);
  sbFitOnce();
  document.title = "superbrain-map-ready";
}
