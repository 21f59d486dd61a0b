// The grids map of gridplan's app: a Streamlit component (protocol v1, plain JS, no build step)
// that keeps the Leaflet map and the grid layers in the browser across the app's reruns.
//
// Python (gridplan/app/mapview) sends the grid layers only when this frame does not hold their
// version; otherwise a render carries the version, the selection, the basemap and, on the run
// that brings the selection into view, a focus number. A click restyles the grid (or unit) under it at once and is sent at once.
// The value this frame sets: {last_clicked: {lat, lng, n}, n, held: {data, units}}.
(function () {
  "use strict";

  var map = null;
  var held = { data: null, units: null }; // the versions this frame holds
  var layers = { grids: null, communities: null, micro_grids: null, units: null };
  var byId = { grids: {}, units: {} }; // feature id -> Leaflet layer
  var specs = { grids: null, units: null };
  var selected = { grids: null, units: null };
  var tiles = [], tilesKey = null, homeKey = null, height = null;
  var legend = null, legendHtml = null;
  var labels = { groups: [], byGrid: {}, always: null };
  var focusSeen = null, focusWanted = null, minPx = 16;
  var n = Date.now() % 1000000000; // click numbers, new across frames (the value outlives one)
  var lastClick = null, asked = {}, waiting = null, missing = false;
  // what a test or a benchmark reads: the grid layers loaded (GeoJSON payloads, their grids)
  // and the render messages had
  window.__gp_loads = 0;
  window.__gp_grids = 0;
  window.__gp_renders = 0;

  function post(type, extra) {
    var msg = { isStreamlitMessage: true, type: type };
    for (var k in extra) { msg[k] = extra[k]; }
    window.parent.postMessage(msg, "*");
  }

  function sendValue() {
    n += 1;
    post("streamlit:setComponentValue", {
      value: { last_clicked: lastClick, n: n, held: { data: held.data, units: held.units } },
      dataType: "json",
    });
  }

  function escapeHtml(v) {
    return String(v === null || v === undefined ? "" : v)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  // ------------------------------------------------------------------ layers
  function styleOf(kind, spec, f) {
    var on = spec.id && f.properties[spec.id] === selected[kind];
    return spec.styles[f.properties._s[on ? 1 : 0]];
  }

  function tooltipHtml(fields, p) {
    return "<table>" + fields.map(function (x) {
      return "<tr><th>" + escapeHtml(x[1]) + "</th><td>" + escapeHtml(p[x[0]]) + "</td></tr>";
    }).join("") + "</table>";
  }

  function drawLayer(kind, spec) {
    if (layers[kind]) { map.removeLayer(layers[kind]); layers[kind] = null; }
    if (byId[kind]) { byId[kind] = {}; }
    if (!spec) { return; }
    if (byId[kind]) { specs[kind] = spec; }
    layers[kind] = L.geoJSON({ type: "FeatureCollection", features: spec.features }, {
      interactive: spec.interactive,
      style: function (f) { return styleOf(kind, spec, f); },
      onEachFeature: function (f, l) {
        if (spec.id && byId[kind]) { byId[kind][f.properties[spec.id]] = l; }
        if (spec.highlight) {
          l.on("mouseover", function () { l.setStyle(spec.highlight); });
          l.on("mouseout", function () { l.setStyle(styleOf(kind, spec, f)); });
        }
        if (spec.tooltip) {
          l.bindTooltip(function () { return tooltipHtml(spec.tooltip, f.properties); }, { sticky: true });
        }
        if (spec.id && byId[kind]) {
          // the planner sees the choice at once; the app confirms it in its next run
          l.on("click", function () { pick(kind, f.properties[spec.id]); });
        }
      },
    }).addTo(map);
  }

  function restyle(kind, id) {
    var l = byId[kind][id];
    if (l && specs[kind]) { l.setStyle(styleOf(kind, specs[kind], l.feature)); }
  }

  function select(kind, id) {
    if (selected[kind] === id) { return; }
    var before = selected[kind];
    selected[kind] = id;
    restyle(kind, before);
    restyle(kind, id);
    if (kind === "grids") { labelSelected(before, id); }
  }

  function pick(kind, id) {
    if (kind === "grids" && id !== selected.grids) {
      // another grid: the units shown belong to the grid selected before
      drawLayer("units", null);
      held.units = null;
      selected.units = null;
    }
    select(kind, id);
  }

  // ------------------------------------------------------------------ labels
  function drawLabels(rows) {
    labels.groups.forEach(function (g) { map.removeLayer(g[0]); });
    if (labels.always) { map.removeLayer(labels.always); }
    var byZoom = {};
    labels.groups = [];
    labels.byGrid = {};
    labels.always = L.layerGroup().addTo(map);
    rows.forEach(function (r) {
      if (!byZoom[r[0]]) { byZoom[r[0]] = [L.layerGroup(), r[0]]; labels.groups.push(byZoom[r[0]]); }
      // a permanent tooltip on an invisible circle marker (an L.marker would ask for an image)
      var m = L.circleMarker([r[1], r[2]], { radius: 0, weight: 0, opacity: 0, fill: false, interactive: false })
        .bindTooltip(r[3], { permanent: true, sticky: false, direction: "center", className: "gp-label",
                             interactive: false });
      byZoom[r[0]][0].addLayer(m);
      labels.byGrid[r[4]] = [m, byZoom[r[0]][0]];
    });
    var chosen = labels.byGrid[selected.grids];
    if (chosen) { chosen[1].removeLayer(chosen[0]); labels.always.addLayer(chosen[0]); }
    zoomLabels();
  }

  function zoomLabels() {
    var z = map.getZoom();
    labels.groups.forEach(function (g) {
      if (z >= g[1]) { if (!map.hasLayer(g[0])) { map.addLayer(g[0]); } }
      else if (map.hasLayer(g[0])) { map.removeLayer(g[0]); }
    });
  }

  function labelSelected(before, id) {
    // the selected grid's label shows at every zoom
    var a = labels.byGrid[before], b = labels.byGrid[id];
    if (a) { labels.always.removeLayer(a[0]); a[1].addLayer(a[0]); }
    if (b) { b[1].removeLayer(b[0]); labels.always.addLayer(b[0]); }
  }

  // ------------------------------------------------------------------ data
  function loadData(data, version) {
    window.__gp_loads += 1;
    window.__gp_grids += data.grids.features.length;
    drawLayer("grids", data.grids);
    drawLayer("communities", data.communities);
    drawLayer("micro_grids", data.micro_grids);
    if (layers.units) { layers.units.bringToFront(); }
    drawLabels(data.labels || []);
    document.getElementById("gp-css").innerHTML = data.css || "";
    if (data.legend !== legendHtml) {
      if (legend) { legend.remove(); }
      legendHtml = data.legend;
      legend = L.control({ position: "bottomright" });
      legend.onAdd = function () {
        var div = L.DomUtil.create("div");
        div.innerHTML = legendHtml;
        L.DomEvent.disableClickPropagation(div);
        return div;
      };
      legend.addTo(map);
    }
    held.data = version;
  }

  function setTiles(list) {
    var key = JSON.stringify(list || []);
    if (key === tilesKey) { return; }
    tilesKey = key;
    tiles.forEach(function (t) { map.removeLayer(t); });
    tiles = (list || []).map(function (b) {
      return L.tileLayer(b.url, {
        attribution: b.attribution, maxZoom: b.max_zoom, maxNativeZoom: b.max_zoom,
        subdomains: b.subdomains.length ? b.subdomains : "abc",
      }).addTo(map);
    });
  }

  function focus() {
    // bring the selected grid into view only when it is out of view or too small to see
    // (hand-written: Leaflet has no "fit only if needed")
    var l = byId.grids[selected.grids];
    if (!l) { return; }
    var b = l.getBounds();
    var a = map.latLngToContainerPoint(b.getSouthWest()), c = map.latLngToContainerPoint(b.getNorthEast());
    if (!map.getBounds().intersects(b) || a.distanceTo(c) < minPx) {
      map.fitBounds(b, { padding: [60, 60], maxZoom: 17, animate: false });
    }
  }

  function create(home) {
    map = L.map("map", {
      center: [home[0], home[1]], zoom: home[2], zoomControl: true, preferCanvas: false,
      zoomSnap: 0.25, zoomDelta: 0.5,
    });
    window.map = map;
    L.control.scale({ imperial: false }).addTo(map); // metres only: planners measure in metres
    map.attributionControl.setPrefix(false); // no "Leaflet" (the Chinese map carries no English)
    map.on("zoomend", zoomLabels);
    map.on("click", function (e) {
      lastClick = { lat: e.latlng.lat, lng: e.latlng.lng, n: n + 1 };
      sendValue();
    });
  }

  function ask(version, seen) {
    // the frame lacks the layers of this version (a new frame, or a message lost to an
    // interrupted run): a value holding other versions makes the app send them. Asked again
    // only once the app has seen the last ask (a render that predates it brings nothing).
    if (asked.version === version && asked.n !== seen) { return; }
    sendValue();
    asked = { version: version, n: n };
  }

  function render(args) {
    window.__gp_renders += 1;
    if (args.height !== height) {
      height = args.height;
      post("streamlit:setFrameHeight", { height: height });
    }
    if (!map && window.innerHeight < 50) {
      // the frame gets its height from the message above: Leaflet measures its container,
      // so the map is made once the frame has it (see the resize handler)
      // the layers an earlier render brought, when still the ones to show
      if (waiting && !args.data && waiting.version === args.version) { args.data = waiting.data; }
      if (waiting && !args.units && waiting.units_version === args.units_version) { args.units = waiting.units; }
      waiting = args;
      return;
    }
    var homeNow = JSON.stringify(args.home);
    if (!map) { create(args.home); homeKey = homeNow; }
    else if (homeNow !== homeKey) {
      homeKey = homeNow; // another district: its first view
      map.setView([args.home[0], args.home[1]], args.home[2], { animate: false });
    }
    minPx = args.focus_min_px;
    setTiles(args.tiles);
    select("grids", args.selected_grid);
    select("units", args.selected_unit);
    if (args.data) { loadData(JSON.parse(args.data), args.version); }
    if (args.units) { drawLayer("units", JSON.parse(args.units).layer); held.units = args.units_version; }
    else if (!args.units_version && layers.units) { drawLayer("units", null); held.units = null; }
    missing = false;
    if (held.data !== args.version) { missing = true; ask(args.version, args.seen); }
    else if (args.units_version && held.units !== args.units_version) { missing = true; ask(args.units_version, args.seen); }
    if (args.focus !== null && args.focus !== focusSeen) { focusWanted = args.focus; }
    applyFocus();
  }

  function applyFocus() {
    // once the layers are there and the map has its size
    if (missing || focusWanted === null || map.getSize().y < 50) { return; }
    focusSeen = focusWanted;
    focusWanted = null;
    focus();
  }

  window.addEventListener("resize", function () {
    if (map) { map.invalidateSize({ animate: false }); applyFocus(); }
    else if (waiting && window.innerHeight >= 50) { var a = waiting; waiting = null; render(a); }
  });
  window.addEventListener("message", function (event) {
    var d = event.data;
    if (d && d.type === "streamlit:render") { render(d.args); }
  });
  post("streamlit:componentReady", { apiVersion: 1 });
})();
