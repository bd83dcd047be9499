/* zoning map page script: layers, legend, popups and the click-anywhere query.
 *
 * Everything that comes from a layer or a user file is put into the page with
 * textContent or as a DOM node, never as HTML. No network, no server: the query is a
 * point-in-polygon test over the layers embedded in the page.
 */
var ZoningMap = (function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  var api = { maps: [], configs: [], lastQuery: null };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      if (arguments[i]) { parent.appendChild(arguments[i]); }
    }
    return parent;
  }

  /* ---------- geometry ---------- */

  function extend(b, c) {
    if (c[0] < b[0]) { b[0] = c[0]; }
    if (c[1] < b[1]) { b[1] = c[1]; }
    if (c[0] > b[2]) { b[2] = c[0]; }
    if (c[1] > b[3]) { b[3] = c[1]; }
  }

  function bboxOf(g) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    function walk(a) {
      if (typeof a[0] === "number") { extend(b, a); return; }
      for (var i = 0; i < a.length; i++) { walk(a[i]); }
    }
    if (g.type === "GeometryCollection") {
      g.geometries.forEach(function (x) { var bb = bboxOf(x); extend(b, [bb[0], bb[1]]); extend(b, [bb[2], bb[3]]); });
    } else { walk(g.coordinates); }
    return b;
  }

  function ringContains(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) { inside = !inside; }
    }
    return inside;
  }

  function polygonContains(rings, x, y) {
    if (!rings.length || !ringContains(rings[0], x, y)) { return false; }
    for (var k = 1; k < rings.length; k++) { if (ringContains(rings[k], x, y)) { return false; } }
    return true;
  }

  function geometryContains(g, x, y) {
    if (!g) { return false; }
    if (g.type === "Polygon") { return polygonContains(g.coordinates, x, y); }
    if (g.type === "MultiPolygon") {
      for (var i = 0; i < g.coordinates.length; i++) { if (polygonContains(g.coordinates[i], x, y)) { return true; } }
      return false;
    }
    if (g.type === "GeometryCollection") {
      return g.geometries.some(function (p) { return geometryContains(p, x, y); });
    }
    return false;
  }

  function featuresAt(layer, lng, lat) {
    var hits = [];
    var feats = (layer.data && layer.data.features) || [];
    for (var i = 0; i < feats.length; i++) {
      var f = feats[i];
      if (!f.geometry || (f.geometry.type !== "Polygon" && f.geometry.type !== "MultiPolygon" &&
          f.geometry.type !== "GeometryCollection")) { continue; }
      if (!f._bbox) { f._bbox = bboxOf(f.geometry); }
      var b = f._bbox;
      if (lng < b[0] || lng > b[2] || lat < b[1] || lat > b[3]) { continue; }
      if (geometryContains(f.geometry, lng, lat)) { hits.push(f); }
    }
    return hits;
  }

  /* ---------- styles and swatches ---------- */

  function styleFor(layer, props) {
    var s = {};
    var k;
    for (k in layer.base_style) { s[k] = layer.base_style[k]; }
    var cls = layer.class_field ? props[layer.class_field] : null;
    var over = (cls !== null && cls !== undefined && layer.styles) ? layer.styles[cls] : null;
    if (over) { for (k in over) { s[k] = over[k]; } }
    return s;
  }

  function swatch(entry) {
    var svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("width", "30");
    svg.setAttribute("height", "16");
    svg.setAttribute("class", "zm-swatch");
    if (entry.badge) {
      var r = document.createElementNS(SVGNS, "rect");
      r.setAttribute("x", "3"); r.setAttribute("y", "1"); r.setAttribute("width", "24"); r.setAttribute("height", "14");
      r.setAttribute("rx", "3"); r.setAttribute("fill", "#ffffff"); r.setAttribute("stroke", "#37474f");
      r.setAttribute("stroke-dasharray", "3 2");
      var t = document.createElementNS(SVGNS, "text");
      t.setAttribute("x", "15"); t.setAttribute("y", "12"); t.setAttribute("text-anchor", "middle");
      t.setAttribute("font-size", "10"); t.setAttribute("fill", "#37474f");
      t.textContent = "N";
      svg.appendChild(r); svg.appendChild(t);
      return svg;
    }
    var s = entry.style || {};
    var shape;
    if (entry.point) {
      shape = document.createElementNS(SVGNS, "circle");
      shape.setAttribute("cx", "15"); shape.setAttribute("cy", "8"); shape.setAttribute("r", "6");
    } else {
      shape = document.createElementNS(SVGNS, "rect");
      shape.setAttribute("x", "2"); shape.setAttribute("y", "2"); shape.setAttribute("width", "26"); shape.setAttribute("height", "12");
    }
    var fill = s.fill === false ? "none" : (s.fillColor || s.color || "#777");
    shape.setAttribute("fill", fill);
    shape.setAttribute("fill-opacity", s.fill === false ? "0" : String(Math.max(s.fillOpacity || 0.3, 0.25)));
    shape.setAttribute("stroke", s.color || "#333");
    shape.setAttribute("stroke-width", String(Math.min(s.weight || 2, 3)));
    if (s.dashArray) { shape.setAttribute("stroke-dasharray", s.dashArray); }
    svg.appendChild(shape);
    return svg;
  }

  /* ---------- cards (popups and query panel) ---------- */

  function featureTitle(layer, props) {
    if (props.name !== undefined && props.name !== null && props.name !== "") { return props.name; }
    if (layer.class_field && props[layer.class_field] !== undefined) { return props[layer.class_field]; }
    return layer.title;
  }

  function fmt(v) {
    if (typeof v === "number") { return String(v); }
    if (typeof v === "boolean") { return v ? "✓" : "✗"; }
    return String(v);
  }

  function rowsTable(rows) {
    var table = el("table", "zm-attrs");
    rows.forEach(function (r) {
      if (r[1] === undefined || r[1] === null || r[1] === "") { return; }
      var tr = el("tr");
      add(tr, el("th", null, r[0]), el("td", null, fmt(r[1])));
      table.appendChild(tr);
    });
    return table;
  }

  function ruleItem(cfg, id) {
    var r = cfg.rules[id];
    var li = el("li", "zm-rule zm-eff-" + (r ? r.e : "unknown"));
    if (!r) { li.textContent = id; return li; }
    var head = el("div", "zm-rule-head");
    add(head, el("span", "zm-cite", r.c), el("span", "zm-eff", cfg.lang === "zh" ? "（" + r.el + "）" : " (" + r.el + ")"));
    if (!r.ok) { head.appendChild(el("span", "zm-notinforce", " " + cfg.ui.not_in_force + " " + cfg.today)); }
    li.appendChild(head);
    if (r.s) { li.appendChild(el("div", "zm-rule-sum", r.s)); }
    if (r.t) {
      var d = el("details", "zm-rule-text");
      add(d, el("summary", null, cfg.ui.text + " · " + cfg.ui.in_force + " " + r.f), el("div", null, r.t));
      li.appendChild(d);
    }
    return li;
  }

  function rulesBlock(cfg, layer, props) {
    if (!layer.class_field || !layer.rules_by_class || layer.kind === "sites") { return null; }
    var cls = props[layer.class_field];
    var ids = layer.rules_by_class[cls];
    var box = el("div", "zm-rules");
    if (!ids || !ids.length) {
      if (layer.kind === "counties" || layer.kind === "land_supply_quota") { return null; }
      box.appendChild(el("div", "zm-muted", cfg.ui.rules + ": " + cfg.ui.no_rules));
      return box;
    }
    box.appendChild(el("div", "zm-rules-head", cfg.ui.rules + " (" + ids.length + ")"));
    var ul = el("ul");
    ids.forEach(function (id) { ul.appendChild(ruleItem(cfg, id)); });
    box.appendChild(ul);
    return box;
  }

  function accBadge(layer) {
    return el("span", "zm-acc zm-acc-" + layer.accuracy, layer.acc_label);
  }

  function featureCard(cfg, layer, props) {
    var card = el("div", "zm-card zm-kind-" + layer.kind);
    var h = el("div", "zm-card-title");
    add(h, el("span", null, featureTitle(layer, props)), el("span", null, " "), accBadge(layer));
    card.appendChild(h);
    card.appendChild(el("div", "zm-layer-name", layer.title));
    if (layer.honesty) { card.appendChild(el("div", "zm-honesty", layer.honesty)); }
    var rows = layer.fields.map(function (f) {
      var v = props[f[0]];
      if (f[0] === "verdict" && layer.class_labels && props._verdict) {
        v = layer.class_labels[props._verdict] + (v && v !== layer.class_labels[props._verdict] ? " (" + v + ")" : "");
      }
      return [f[1], v];
    });
    card.appendChild(rowsTable(rows));
    if (props._quota && props._quota.length) {
      card.appendChild(el("div", "zm-sub", cfg.ui.quota));
      card.appendChild(rowsTable(props._quota));
    }
    if (layer.kind === "counties") {
      var kp = keyProjectsOf(cfg, props.adcode);
      if (kp) { card.appendChild(el("div", "zm-kp-line", kp.count + " " + cfg.ui.kp_count + " — " + cfg.ui.kp_nolocation)); }
      var notes = [];
      if (layer.positional_m) { notes.push(cfg.ui.positional + " " + layer.positional_m + " m"); }
      notes.push(cfg.ui.county_uncertain);
      card.appendChild(el("div", "zm-muted", notes.join("；")));
    }
    var rules = rulesBlock(cfg, layer, props);
    if (rules) { card.appendChild(rules); }
    if (layer.source) {
      var d = el("details", "zm-source");
      add(d, el("summary", null, cfg.ui.source), el("div", null, layer.source));
      card.appendChild(d);
    }
    return card;
  }

  function tooltipFor(layer, props) {
    var t = el("div", "zm-tip");
    add(t, el("b", null, featureTitle(layer, props)));
    var cls = layer.class_field ? props[layer.class_field] : null;
    if (cls && cls !== featureTitle(layer, props)) {
      t.appendChild(el("div", null, (layer.class_labels && layer.class_labels[cls]) || cls));
    }
    if (layer.kind !== "sites") { t.appendChild(el("div", "zm-muted", layer.acc_label)); }
    return t;
  }

  function keyProjectsOf(cfg, adcode) {
    for (var i = 0; i < cfg.layers.length; i++) {
      var l = cfg.layers[i];
      if (l.kind !== "key_projects") { continue; }
      for (var j = 0; j < l.groups.length; j++) {
        if (String(l.groups[j].adcode) === String(adcode)) {
          return { layer: l, group: l.groups[j], count: l.groups[j].items.length };
        }
      }
    }
    return null;
  }

  function projectsTable(columns, items) {
    var table = el("table", "zm-projects");
    var tr = el("tr");
    columns.forEach(function (c) { tr.appendChild(el("th", null, c)); });
    table.appendChild(tr);
    items.forEach(function (it) {
      var row = el("tr");
      it.forEach(function (v) { row.appendChild(el("td", null, v)); });
      table.appendChild(row);
    });
    return table;
  }

  /* ---------- layers ---------- */

  function addFeatureLayer(cfg, layer, group) {
    var gj = L.geoJSON(layer.data, {
      style: function (f) { return styleFor(layer, f.properties); },
      pointToLayer: function (f, latlng) {
        var s = styleFor(layer, f.properties);
        return L.circleMarker(latlng, s);
      },
      onEachFeature: function (f, lyr) {
        lyr.bindPopup(function () { return featureCard(cfg, layer, f.properties); },
          { maxWidth: 400, maxHeight: 380, autoPanPaddingTopLeft: [360, 60] });
        lyr.bindTooltip(function () { return tooltipFor(layer, f.properties); }, { sticky: true });
      }
    });
    gj.addTo(group);
    if (layer.kind === "counties") {
      layer.data.features.forEach(function (f) {
        var p = f.properties._label;
        if (!p) { return; }
        var lab = el("div", "zm-county-label-text", cfg.lang === "en" && f.properties.name_en ? f.properties.name_en : f.properties.name);
        L.marker(p, {
          icon: L.divIcon({ className: "zm-county-label", html: lab, iconSize: [90, 18], iconAnchor: [45, 9] }),
          interactive: false, keyboard: false
        }).addTo(group);
      });
    }
  }

  function addKeyProjects(cfg, layer, group) {
    layer.groups.forEach(function (g) {
      if (!g.items.length) { return; }
      var badge = el("div", "zm-kp-badge");
      add(badge, el("span", "zm-kp-n", g.items.length), el("span", "zm-kp-cap", cfg.lang === "zh" ? "项 · 位置未公布" : "projects · no location"));
      var marker = L.marker(g.latlng, {
        icon: L.divIcon({ className: "zm-kp", html: badge, iconSize: [118, 22], iconAnchor: [59, -12] }),
        keyboard: false, title: ""
      });
      var tip = g.county + (cfg.lang === "zh" ? "：" : ": ") + g.items.length + " " + cfg.ui.kp_count + " — " + cfg.ui.kp_nolocation;
      marker.bindTooltip(el("div", null, tip));
      marker.bindPopup(function () {
        var box = el("div", "zm-card zm-kind-key_projects");
        var h = el("div", "zm-card-title");
        add(h, el("span", null, g.county + " · " + g.items.length + " " + cfg.ui.kp_count), el("span", null, " "), accBadge(layer));
        add(box, h, el("div", "zm-honesty", cfg.ui.kp_nolocation), el("div", "zm-muted", cfg.ui.kp_shared),
            projectsTable(layer.columns, g.items));
        if (layer.source) {
          var d = el("details", "zm-source");
          add(d, el("summary", null, cfg.ui.source), el("div", null, layer.source));
          box.appendChild(d);
        }
        return box;
      }, { maxWidth: 460, maxHeight: 360 });
      marker.addTo(group);
    });
  }

  /* ---------- controls ---------- */

  function titleBox(map, cfg) {
    if (!cfg.title) { return; }
    var box = el("div", "zm-title");
    add(box, el("div", "zm-title-main", cfg.title), el("div", "zm-title-sub", cfg.subtitle));
    L.DomEvent.disableClickPropagation(box);
    map.getContainer().appendChild(box);
  }

  function legendControl(map, cfg) {
    var ctl = L.control({ position: "bottomright" });
    ctl.onAdd = function () {
      var box = el("div", "zm-legend leaflet-bar");
      var det = el("details");
      det.open = true;
      det.appendChild(el("summary", "zm-legend-title", cfg.ui.legend));
      cfg.layers.forEach(function (layer) {
        if (!layer.draw || !layer.legend || !layer.legend.length) { return; }
        var sec = el("div", "zm-legend-sec");
        var head = el("div", "zm-legend-head");
        add(head, el("span", null, layer.title), el("span", null, " "), accBadge(layer));
        sec.appendChild(head);
        layer.legend.forEach(function (entry) {
          var row = el("div", "zm-legend-row");
          add(row, swatch(entry), el("span", null, entry.label));
          sec.appendChild(row);
        });
        if (layer.honesty) { sec.appendChild(el("div", "zm-legend-note zm-honesty-text", layer.honesty)); }
        if (layer.legend_note) { sec.appendChild(el("div", "zm-legend-note", layer.legend_note)); }
        if (layer.kind === "key_projects" && layer.city_items && layer.city_items.length) {
          var d = el("details", "zm-legend-note");
          add(d, el("summary", null, cfg.ui.kp_city + ": " + layer.city_items.length), projectsTable(layer.columns, layer.city_items));
          sec.appendChild(d);
        }
        det.appendChild(sec);
      });
      det.appendChild(el("div", "zm-legend-foot", cfg.ui.honesty_line));
      box.appendChild(det);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);
    return ctl;
  }

  function panelControl(map, cfg) {
    var ctl = L.control({ position: "topleft" });
    var body;
    ctl.onAdd = function () {
      var box = el("div", "zm-panel leaflet-bar");
      box.id = "zm-query-panel";
      var head = el("div", "zm-panel-head");
      head.appendChild(el("span", null, cfg.ui.query_title));
      box.appendChild(head);
      body = el("div", "zm-panel-body");
      body.appendChild(el("div", "zm-muted", cfg.ui.query_hint));
      box.appendChild(body);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);
    ctl.show = function (nodes) {
      while (body.firstChild) { body.removeChild(body.firstChild); }
      nodes.forEach(function (n) { body.appendChild(n); });
      body.scrollTop = 0;
    };
    return ctl;
  }

  /* ---------- the click query ---------- */

  function query(map, cfg, panel, latlng) {
    var lng = latlng.lng, lat = latlng.lat;
    var nodes = [];
    var pt = el("div", "zm-point");
    pt.textContent = cfg.ui.point + " " + lng.toFixed(5) + ", " + lat.toFixed(5) + " (" + cfg.ui.crs_note + ")";
    nodes.push(pt);
    var result = { lng: lng, lat: lat, layers: {} };
    cfg.layers.forEach(function (layer) {
      if (!layer.query || !layer.data) { return; }
      var hits = featuresAt(layer, lng, lat);
      result.layers[layer.key] = hits.map(function (f) { return featureTitle(layer, f.properties); });
      var sec = el("section", "zm-q-sec zm-q-" + layer.kind);
      sec.setAttribute("data-layer", layer.key);
      var h = el("div", "zm-q-head");
      add(h, el("span", null, layer.title), el("span", null, " "), accBadge(layer));
      sec.appendChild(h);
      if (!hits.length) {
        sec.appendChild(el("div", "zm-muted", layer.kind === "counties" ? cfg.ui.outside_city : cfg.ui.none_here));
      }
      hits.forEach(function (f) { sec.appendChild(featureCard(cfg, layer, f.properties)); });
      nodes.push(sec);
    });
    api.lastQuery = result;
    panel.show(nodes);
    return result;
  }

  /* ---------- entry point ---------- */

  function init(map, cfg, groups) {
    api.maps.push(map);
    api.configs.push(cfg);
    cfg.layers.forEach(function (layer) {
      var group = groups[layer.key];
      if (!group) { return; }
      if (layer.kind === "key_projects") { addKeyProjects(cfg, layer, group); } else { addFeatureLayer(cfg, layer, group); }
    });
    L.control.scale({ imperial: false, position: "bottomleft", maxWidth: 160 }).addTo(map);
    titleBox(map, cfg);
    legendControl(map, cfg);
    var panel = panelControl(map, cfg);
    var pin = null;
    // 'preclick' reaches the map for every click, also on features whose popup stops 'click'
    map.on("preclick", function (e) {
      if (pin) { map.removeLayer(pin); }
      pin = L.circleMarker(e.latlng, { radius: 5, color: "#000", weight: 2, fillColor: "#fff", fillOpacity: 1, interactive: false }).addTo(map);
      query(map, cfg, panel, e.latlng);
    });
    api.query = function (lat, lng) { return query(map, cfg, panel, L.latLng(lat, lng)); };
  }

  api.init = init;
  api.featuresAt = featuresAt;
  return api;
})();
