/* superbrain map page: the open case's notes (a layer of its own, apart from the base layers).
 *
 * The console calls sbNotes(notes) once the page has loaded and whenever the case's notes
 * change; the first call also makes a right-click on the map ask the console for a note on
 * that place (it logs superbrain://open/place/<lat>,<lon>, read by console/map_panel.py).
 * Every text from a note is set as text (textContent), never parsed as HTML.
 */
"use strict";

var SB_NOTES = { layer: null, ready: false, count: 0, listed: false };

function sbNotesReady() {
  /* once per page: right-click (context menu) on the map asks for a note on that place */
  if (SB_NOTES.ready || !SB.map) { return; }
  SB_NOTES.ready = true;
  SB.map.on("contextmenu", function (e) {
    sbOpen("place", e.latlng.lat.toFixed(6) + "," + e.latlng.lng.toFixed(6));
  });
}

function sbNotePopup(n) {
  /* a DOM element: author and time (the console formats it in the workspace's time zone),
   * what the note is on, its text */
  var box = document.createElement("div");
  box.className = "sb-note-popup";
  var head = document.createElement("div");
  head.className = "sb-note-head";
  head.textContent = "✎ " + n.author + " · " + n.when;  /* workspace time, zone named */
  box.appendChild(head);
  if (n.placed_by !== "place") {
    var on = document.createElement("div");
    on.className = "sb-note-on";
    on.textContent = sbT("note_on", "on") + " " + n.target_kind + " " + n.target;
    box.appendChild(on);
  }
  var text = document.createElement("div");
  text.className = "sb-note-text";
  text.textContent = n.text;
  box.appendChild(text);
  return box;
}

function sbNotes(notes) {
  /* Draw the case's notes (replacing the previous ones); returns how many were drawn. */
  if (!SB.map) { return 0; }
  sbNotesReady();
  if (SB_NOTES.layer) { SB_NOTES.layer.clearLayers(); }
  else { SB_NOTES.layer = L.layerGroup().addTo(SB.map); }
  (notes || []).forEach(function (n) {
    var m = L.marker([n.lat, n.lon], {
      keyboard: false, title: "",
      icon: L.divIcon({ className: "sb-note-pin sb-note-" + n.placed_by, html: "✎",
                        iconSize: [22, 22], iconAnchor: [11, 22], popupAnchor: [0, -20] })
    });
    m.bindPopup(sbNotePopup(n), { maxWidth: 320, minWidth: 240 });
    m.sbNote = n.id;
    m.addTo(SB_NOTES.layer);
  });
  SB_NOTES.count = (notes || []).length;
  if (SB_NOTES.count && !SB_NOTES.listed && SB.switcher) {  /* in the switcher once noted */
    SB_NOTES.listed = true;
    var name = sbT("notes", "case notes");
    SB.switcher.addOverlay(SB_NOTES.layer, name);
    SB.layers[name] = SB_NOTES.layer;
  }
  return SB_NOTES.count;
}

function sbNoteOpen(id) {
  /* open the popup of note id (tests, and a note picked in the Cases dock); true if found */
  var found = false;
  if (!SB_NOTES.layer) { return false; }
  SB_NOTES.layer.eachLayer(function (m) {
    if (!found && m.sbNote === id) { m.openPopup(); found = true; }
  });
  return found;
}
