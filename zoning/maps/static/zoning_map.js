/* zoning map page script: layers, legend, popups and the click-anywhere query.
 *
 * Everything that comes from a layer or a user file is put into the page with
 * textContent or as a DOM node, never as HTML. No network, no server: the query is a
 * point-in-polygon test over the layers embedded in the page, and the answer (county,
 * governing classes, applicable rules, verdict) is computed here from the vocabulary and
 * the rules the configuration carries: cfg.vocab is zoning.core.vocab.for_script(), and
 * governingClasses / applicableRules / evaluateRule / overallVerdict are ports of
 * zoning.core.verdicts and zoning.core.rules. This script spells no zone class, verdict
 * or label of its own.
 */
var ZoningMap = (function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  var api = { maps: [], configs: [], lastQuery: null, lastAnswer: null };

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

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
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

  function ruleOf(cfg, id) {
    if (!cfg._ruleIndex) {
      cfg._ruleIndex = {};
      cfg.rules.forEach(function (r) { cfg._ruleIndex[r.id] = r; });
    }
    return cfg._ruleIndex[id] || null;
  }

  function inForce(rule, day) {
    var f = rule.in_force;
    return f.from <= day && (f.to === null || f.to === undefined || day <= f.to);
  }

  function sep(cfg, text) { return cfg.lang === "zh" ? "（" + text + "）" : " (" + text + ")"; }

  function ruleItem(cfg, id, status, day) {
    var r = ruleOf(cfg, id);
    var li = el("li", "zm-rule zm-eff-" + (r ? r.effect : "none"));
    if (!r) { li.textContent = id; return li; }
    day = day || cfg.today;
    var head = el("div", "zm-rule-head");
    var label = status ? cfg.vocab.statuses[status] : cfg.vocab.effects[r.effect];
    add(head, el("span", "zm-cite", r.cite), el("span", "zm-eff", sep(cfg, label || status || r.effect)));
    if (!inForce(r, day)) { head.appendChild(el("span", "zm-notinforce", " " + cfg.ui.not_in_force + " " + day)); }
    li.appendChild(head);
    if (r.summary) { li.appendChild(el("div", "zm-rule-sum", r.summary)); }
    if (r.text) {
      var d = el("details", "zm-rule-text");
      var span = r.in_force.from + " – " + (r.in_force.to || "…");
      add(d, el("summary", null, cfg.ui.text + " · " + cfg.ui.in_force + " " + span), el("div", null, r.text));
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
      add(badge, el("span", "zm-kp-n", g.items.length), el("span", "zm-kp-cap", cfg.ui.kp_badge));
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

  /* ---------- distances (metres, local equirectangular) ---------- */

  var EARTH_R = 6371008.8;

  function ringsOf(g, out) {
    out = out || [];
    if (!g) { return out; }
    if (g.type === "Polygon") { g.coordinates.forEach(function (r) { out.push(r); }); }
    else if (g.type === "MultiPolygon") { g.coordinates.forEach(function (p) { p.forEach(function (r) { out.push(r); }); }); }
    else if (g.type === "GeometryCollection") { g.geometries.forEach(function (x) { ringsOf(x, out); }); }
    return out;
  }

  /* distance in metres from (lng, lat) to the outline of g, on a plane tangent at the point */
  function boundaryDistance(g, lng, lat) {
    var ky = Math.PI / 180 * EARTH_R, kx = ky * Math.cos(lat * Math.PI / 180);
    var best = Infinity;
    ringsOf(g).forEach(function (ring) {
      for (var i = 1; i < ring.length; i++) {
        var ax = (ring[i - 1][0] - lng) * kx, ay = (ring[i - 1][1] - lat) * ky;
        var bx = (ring[i][0] - lng) * kx, by = (ring[i][1] - lat) * ky;
        var dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy, t = 0;
        if (len > 0) { t = Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len)); }
        var x = ax + t * dx, y = ay + t * dy, d = x * x + y * y;
        if (d < best) { best = d; }
      }
    });
    return Math.sqrt(best);
  }

  function geometryDistance(g, lng, lat) {
    return geometryContains(g, lng, lat) ? 0 : boundaryDistance(g, lng, lat);
  }

  /* ---------- the answer: county, zones, governing classes, rules, verdict ---------- */

  function layersOfKind(cfg, kind) {
    return cfg.layers.filter(function (l) { return l.kind === kind && l.data; });
  }

  /* The county of a point (as zoning.core.overlay.CountyIndex): the county that contains it;
   * within the county layer's positional accuracy of its outline it is near the line (with the
   * county across, if one is that close); outside every county but within that distance of the
   * city's outline it is taken as in the nearest county, near the line and maybe outside the city. */
  function countyAt(cfg, lng, lat) {
    var out = { adcode: null, name: null, name_en: null, near_line: false, distance_m: null,
                neighbour: null, maybe_outside: false, nearest: null, nearest_distance_m: null, tolerance_m: 0 };
    var layer = layersOfKind(cfg, cfg.county_kind)[0];
    if (!layer) { return out; }
    var tol = Number(layer.positional_m) || 0;
    out.tolerance_m = tol;
    var feats = layer.data.features;
    var idx = -1, i;
    for (i = 0; i < feats.length; i++) {
      if (geometryContains(feats[i].geometry, lng, lat)) { idx = i; break; }
    }
    function props(k) { return feats[k].properties; }
    if (idx >= 0) {
      var d = boundaryDistance(feats[idx].geometry, lng, lat);
      out.adcode = String(props(idx).adcode); out.name = props(idx).name; out.name_en = props(idx).name_en || null;
      if (tol > 0 && d < tol) {
        out.near_line = true;
        out.distance_m = d;
        var best = Infinity;
        for (i = 0; i < feats.length; i++) {
          if (i === idx) { continue; }
          var dj = geometryDistance(feats[i].geometry, lng, lat);
          if (dj <= tol && dj < best) { best = dj; out.neighbour = { adcode: String(props(i).adcode), name: props(i).name }; }
        }
      }
      return out;
    }
    var near = -1, nd = Infinity;
    for (i = 0; i < feats.length; i++) {
      var di = boundaryDistance(feats[i].geometry, lng, lat);
      if (di < nd) { nd = di; near = i; }
    }
    if (near < 0) { return out; }
    out.nearest = { adcode: String(props(near).adcode), name: props(near).name };
    out.nearest_distance_m = nd;
    if (tol > 0 && nd <= tol) {
      out.adcode = String(props(near).adcode); out.name = props(near).name; out.name_en = props(near).name_en || null;
      out.near_line = true;
      out.maybe_outside = true;
      out.distance_m = nd;
    }
    return out;
  }

  /* every classed feature (zones and planning extents) under the point: [kind, class, layer, feature] */
  function zoneHits(cfg, lng, lat) {
    var kinds = cfg.vocab.zone_kinds.concat([cfg.extent_kind]);
    var hits = [];
    cfg.layers.forEach(function (layer) {
      if (!layer.data || !layer.class_field || kinds.indexOf(layer.kind) < 0) { return; }
      featuresAt(layer, lng, lat).forEach(function (f) {
        var cls = f.properties[layer.class_field];
        if (cls !== undefined && cls !== null) { hits.push([layer.kind, String(cls), layer, f]); }
      });
    });
    return hits;
  }

  /* zoning.core.verdicts.governing_classes: planning extents all apply; of the zone kinds (in
   * the vocabulary's order: protection before control) only the first one present governs,
   * with its highest-ranked class (the strictest protection class; the highest control level).
   * For display: the rules of every class the place lies in are evaluated. */
  function governingClasses(vocab, hits) {
    var uniq = uniquePairs(hits);
    var out = uniq.filter(function (h) { return vocab.zone_kinds.indexOf(h[0]) < 0; });
    for (var k = 0; k < vocab.zone_kinds.length; k++) {
      var kind = vocab.zone_kinds[k], best = null;
      uniq.forEach(function (h) {
        var c = vocab.classes[h[1]];
        if (h[0] !== kind || !c || c.kind !== kind) { return; }
        if (best === null || c.rank > vocab.classes[best].rank) { best = h[1]; }
      });
      if (best !== null) { out.push([kind, best]); break; }
    }
    return out;
  }

  function uniquePairs(pairs) {
    var seen = {}, out = [];
    pairs.forEach(function (h) {
      var key = h[0] + "\u0000" + h[1];
      if (!seen[key]) { seen[key] = true; out.push([h[0], h[1]]); }
    });
    return out;
  }

  function hasPair(pairs, p) { return pairs.some(function (q) { return q[0] === p[0] && q[1] === p[1]; }); }

  /* zoning.core.answer._memberships: yes / no / uncertain for the two planning extents. With an
   * indicative extents layer, within its positional accuracy of the drawn edge of the planning
   * area its membership is uncertain; the drawn central area is a lower bound, so a point
   * possibly in the planning area but outside the drawn central area may lie in it. */
  function memberships(cfg, hits, located, lng, lat) {
    var M = cfg.codes.membership, ext = cfg.extent_classes, E = cfg.extent_kind;
    var inP = hasPair(hits, [E, ext.planning]), inC = hasPair(hits, [E, ext.central]);
    var out = { planning: inP ? M.yes : M.no, central: inC ? M.yes : M.no };
    var layers = layersOfKind(cfg, E);
    if (!layers.length || layers[0].accuracy === cfg.codes.official || !located) { return out; }
    var tol = Number(layers[0].positional_m) || 0;
    if (!inC && tol > 0) {
      var d = Infinity;
      layers.forEach(function (l) {
        l.data.features.forEach(function (f) {
          if (String(f.properties[l.class_field]) === ext.planning) { d = Math.min(d, boundaryDistance(f.geometry, lng, lat)); }
        });
      });
      if (d <= tol) { out.planning = M.uncertain; }
    }
    if (out.planning !== M.no && !inC) { out.central = M.uncertain; }
    return out;
  }

  /* zoning.core.answer._class_keys: every zone class the point lies in and the extents by
   * membership (certain), and the extents it may lie in (uncertain), in the vocabulary's order */
  function classKeys(cfg, hits, member) {
    var M = cfg.codes.membership, ext = cfg.extent_classes, E = cfg.extent_kind;
    var byClass = { certain: [], uncertain: [] };
    var zones = uniquePairs(hits.filter(function (h) { return cfg.vocab.zone_kinds.indexOf(h[0]) >= 0; }));
    Object.keys(cfg.vocab.classes).forEach(function (cls) {
      var kind = cfg.vocab.classes[cls].kind;
      if (kind === E) {
        var m = cls === ext.planning ? member.planning : cls === ext.central ? member.central : M.no;
        if (m === M.yes) { byClass.certain.push([kind, cls]); }
        else if (m === M.uncertain) { byClass.uncertain.push([kind, cls]); }
      } else if (hasPair(zones, [kind, cls])) { byClass.certain.push([kind, cls]); }
    });
    return byClass;
  }

  /* zoning.core.verdicts._strictest_first: protection (strictest first), control (highest
   * first), then the rest in their order */
  function strictestFirst(vocab, classes) {
    var order = {};
    vocab.zone_kinds.forEach(function (k, i) { order[k] = i; });
    var rest = vocab.zone_kinds.length;
    return uniquePairs(classes).map(function (c, i) { return [c, i]; }).sort(function (a, b) {
      var oa = order[a[0][0]] === undefined ? rest : order[a[0][0]], ob = order[b[0][0]] === undefined ? rest : order[b[0][0]];
      if (oa !== ob) { return oa - ob; }
      var ra = oa < rest && vocab.classes[a[0][1]] ? vocab.classes[a[0][1]].rank : 0;
      var rb = ob < rest && vocab.classes[b[0][1]] ? vocab.classes[b[0][1]].rank : 0;
      return ra !== rb ? rb - ra : a[1] - b[1];
    }).map(function (x) { return x[0]; });
  }

  /* zoning.core.verdicts.applicable_rules: the rules of every class (each rule once, with the
   * strictest of its classes there), then the city-wide rules */
  function applicableRules(vocab, rules, classes) {
    var ordered = strictestFirst(vocab, classes);
    var out = [], city = [];
    rules.forEach(function (rule) {
      if (!rule.applies_to.length) { city.push({ rule: rule, kind: null, cls: null }); return; }
      for (var i = 0; i < ordered.length; i++) {
        var g = ordered[i];
        var hit = rule.applies_to.some(function (s) { return s.kind === g[0] && s.classes.indexOf(g[1]) >= 0; });
        if (hit) { out.push({ rule: rule, kind: g[0], cls: g[1] }); break; }
      }
    });
    return out.concat(city);
  }

  /* zoning.core.verdicts._possibly: a rule that binds only if the place lies in cls, which it may */
  function possibly(cfg, v, cls) {
    var S = cfg.codes.status;
    var attr = cfg.vocab.membership_attributes[cls] || cls;
    if (v.status === S.not_applicable || v.status === S.not_in_force || v.status === S.information) { return v; }
    var missing = v.missing.slice();
    if (missing.indexOf(attr) < 0) { missing.push(attr); }
    return { status: S.unknown, missing: missing, possibly: true };
  }

  /* zoning.core.verdicts.evaluate_place: every applicable rule evaluated; the rules of a class the
   * place may lie in are possibly applying; the project's statement of membership settles it */
  function evaluatePlace(cfg, classes, proj, day) {
    var attrs = cfg.vocab.membership_attributes;
    function stated(cls) { return proj && attrs[cls] ? proj[attrs[cls]] : undefined; }
    var certain = uniquePairs(classes.certain).filter(function (c) { return stated(c[1]) !== false; });
    var maybe = [];
    uniquePairs(classes.uncertain).forEach(function (c) {
      if (hasPair(certain, c)) { return; }
      var s = stated(c[1]);
      if (s === true) { certain.push(c); } else if (s === undefined || s === null) { maybe.push(c); }
    });
    var seen = {};
    var out = applicableRules(cfg.vocab, cfg.rules, certain).map(function (a) {
      seen[a.rule.id] = true;
      var v = evaluateRule(cfg, a.rule, proj, day);
      return { rule: a.rule, kind: a.kind, cls: a.cls, status: v.status, missing: v.missing, possibly: false };
    });
    applicableRules(cfg.vocab, cfg.rules, maybe).forEach(function (a) {
      if (seen[a.rule.id] || a.kind === null) { return; }
      seen[a.rule.id] = true;
      var v = possibly(cfg, evaluateRule(cfg, a.rule, proj, day), a.cls);
      out.push({ rule: a.rule, kind: a.kind, cls: a.cls, status: v.status, missing: v.missing, possibly: !!v.possibly });
    });
    return out;
  }

  function normText(v) {
    var s = String(v);
    if (s.normalize) { s = s.normalize("NFKC"); }
    return s.replace(/\s+/g, " ").trim();
  }

  /* The groups an industry belongs to, as zoning.core.rules.validate_project gives them: from the
   * table the configuration carries (cfg.industries, precomputed in Python). A GB/T 4754-2017
   * code at any level (also with its section letter, or with its name), a standard name, or a group
   * word; a code more specific than the table takes its nearest listed ancestor. null when the
   * value is none of these. */
  function resolveIndustry(cfg, value) {
    var T = cfg.industries || {}, codes = T.codes || {}, words = T.words || {};
    if (!T._names) {
      T._names = {};
      Object.keys(codes).forEach(function (c) {
        var n = codes[c][1], prev = T._names[n];
        if (prev === undefined || c.length > prev.length) { T._names[n] = c; }
      });
    }
    function fromCode(code) {
      if (codes[code]) { return code; }
      for (var n = code.length - 1; n > 1; n--) { if (codes[code.slice(0, n)]) { return code.slice(0, n); } }
      return null;
    }
    function groupsOf(code) { return code === null ? null : T.groups[codes[code][0]].slice(); }
    var v = normText(value), up = v.toUpperCase();
    if (!v) { return null; }
    if (/^(?:[A-T]|\d{2,4})$/.test(up)) { return groupsOf(fromCode(up)); }
    var m = /^([A-T])\s*(\d{2,4})$/.exec(up);
    if (m) {
      var code = fromCode(m[2]);
      if (code === null || (T.sections && T.sections[code.slice(0, 2)] !== m[1])) { return null; }
      return groupsOf(code);
    }
    if (T._names[v] !== undefined) { return groupsOf(T._names[v]); }
    if (words[v.toLowerCase()] !== undefined) { return T.groups[words[v.toLowerCase()]].slice(); }
    m = /^(?:[A-T]\s*)?(\d{2,4}|[A-T])(?=[^\dA-Za-z])[\s:：、.．-]*(.+)$/.exec(v);
    var pair = m ? [m[1], m[2].trim()] : null;
    if (!m) {
      var m2 = /^(.+?)\s*[（(]\s*(?:[A-T]\s*)?(\d{2,4}|[A-T])\s*[）)]$/.exec(v);
      if (m2) { pair = [m2[2], m2[1].trim()]; }
    }
    if (pair && pair[1]) {
      var c2 = fromCode(pair[0].toUpperCase());
      if (c2 === null) { return null; }
      var exact = c2 === pair[0].toUpperCase();
      if (exact && codes[c2][1] !== pair[1]) { return null; }
      var named = T._names[pair[1]];
      if (!exact && named !== undefined && !(c2.indexOf(named) === 0 || (T.sections || {})[c2.slice(0, 2)] === named)) { return null; }
      return groupsOf(c2);
    }
    return null;
  }

  /* a project description with its values normalised (zoning.core.rules.validate_project);
   * null for no project (the rules as they stand, and no verdict). A value that cannot be
   * read is left out (unknown) and named in errors. */
  function normaliseProject(cfg, project, errors) {
    if (project === null || project === undefined) { return null; }
    var specs = {};
    cfg.attributes.forEach(function (a) { specs[a.name] = a; });
    var out = {};
    Object.keys(project).forEach(function (name) {
      var v = project[name];
      if (v === null || v === undefined || (typeof v === "string" && !v.trim())) { return; }
      var spec = specs[name], bad = false;
      if (spec && spec.type === "bool" && typeof v !== "boolean") {
        var w = String(v).trim().toLowerCase();
        // the words zoning.core.rules.validate_project reads as yes and no (spec.accept)
        if (Object.prototype.hasOwnProperty.call(spec.accept, w)) { v = spec.accept[w]; } else { bad = true; }
      } else if (spec && spec.type === "number" && typeof v !== "number") {
        var n = parseFloat(String(v).replace(/[,，]/g, ""));
        if (isFinite(n)) { v = n; } else { bad = true; }
      } else if (spec && spec.free_text) {
        var groups = Array.isArray(v) ? v.slice() : resolveIndustry(cfg, v);
        if (groups === null) { bad = true; } else {
          v = groups.filter(function (g, i) { return groups.indexOf(g) === i; }).sort();
        }
      } else if (spec && spec.type === "enum") {
        var s = String(v).trim(), found = null;
        spec.values.forEach(function (pair) { if (s === pair[0] || s.toLowerCase() === pair[0]) { found = pair[0]; } });
        if (found === null && spec.accept && Object.prototype.hasOwnProperty.call(spec.accept, s)) { found = spec.accept[s]; }
        if (found === null) { bad = true; } else { v = found; }
      }
      if (bad) { if (errors) { errors.push([name, String(project[name])]); } return; }
      out[name] = v;
    });
    return out;
  }

  /* zoning.core.rules._eval_pred: null when the project does not give the attribute; a value in
   * several groups (an industry) matches when a certain group does, and is unknown when only a
   * possible one (marked cfg.codes.possible) does */
  function evalPred(C, p, project) {
    if (!Object.prototype.hasOwnProperty.call(project, p.attr)) { return null; }
    var v = project[p.attr];
    if (Array.isArray(v)) {
      var P = C.possible;
      var listed = (p.op === "in" || p.op === "not_in") ? p.value : [p.value];
      var hit = v.some(function (x) { return x.indexOf(P) !== 0 && listed.indexOf(x) >= 0; });
      var maybe = v.some(function (x) { return x.indexOf(P) === 0 && listed.indexOf(x.slice(P.length)) >= 0; });
      if (p.op === "eq" || p.op === "in") { return hit ? true : (maybe ? null : false); }
      return hit ? false : (maybe ? null : true);
    }
    switch (p.op) {
      case "eq": return v === p.value;
      case "ne": return v !== p.value;
      case "in": return p.value.indexOf(v) >= 0;
      case "not_in": return p.value.indexOf(v) < 0;
      case "lt": return v < p.value;
      case "le": return v <= p.value;
      case "gt": return v > p.value;
      case "ge": return v >= p.value;
    }
    throw new Error("unknown operator " + p.op);
  }

  /* zoning.core.rules._eval_all: three-valued AND -> {result: true|false|null, missing, false} */
  function evalAll(C, conds, project) {
    var missing = [], falses = [];
    conds.forEach(function (c) {
      if (c.any_of) {
        var groups = c.any_of.map(function (g) { return evalAll(C, g, project); });
        if (groups.some(function (g) { return g.result === true; })) { return; }
        if (groups.every(function (g) { return g.result === false; })) { falses.push("any_of"); return; }
        groups.forEach(function (g) { if (g.result === null) { missing = missing.concat(g.missing); } });
        return;
      }
      var r = evalPred(C, c, project);
      if (r === null) { missing.push(c.attr); } else if (r === false) { falses.push(c.attr); }
    });
    missing = missing.filter(function (m, i) { return missing.indexOf(m) === i; });
    if (falses.length) { return { result: false, missing: missing, falses: falses }; }
    return { result: missing.length ? null : true, missing: missing, falses: falses };
  }

  /* zoning.core.rules.evaluate_rule -> {status, missing}: an exception that holds gives its
   * effect; one that may hold (its attributes unknown) and would change the effect leaves the
   * rule unknown (the proviso waits on them); one that would not keeps the effect */
  function evaluateRule(cfg, rule, project, day) {
    var C = cfg.codes;
    if (!inForce(rule, day)) { return { status: C.status.not_in_force, missing: [] }; }
    if (project === null) { return { status: rule.effect, missing: [] }; }
    var res = evalAll(C, rule.conditions, project);
    if (res.result === false) { return { status: C.status.not_applicable, missing: [] }; }
    if (res.result === null) { return { status: C.status.unknown, missing: res.missing }; }
    var maybe = [], changes = false;
    for (var i = 0; i < rule.exceptions.length; i++) {
      var x = evalAll(C, rule.exceptions[i].conditions, project);
      if (x.result === true) { return { status: rule.exceptions[i].effect, missing: [], exception: i }; }
      if (x.result === null) {
        maybe = maybe.concat(x.missing);
        if (rule.exceptions[i].effect !== rule.effect) { changes = true; }
      }
    }
    maybe = maybe.filter(function (m, k) { return maybe.indexOf(m) === k; });
    if (maybe.length && changes) { return { status: C.status.unknown, missing: maybe }; }
    return { status: rule.effect, missing: maybe };
  }

  /* zoning.core.verdicts.overall_verdict over [{rule, status, missing}] -> [verdict, producing],
   * of one subject or (subject null) of all */
  function overallVerdict(C, evaluated, subject) {
    var V = C.verdict, S = C.status, E = C.effect;
    var counted = evaluated.filter(function (e) {
      return e.rule.addressee === C.to_project && (!subject || e.rule.subject === subject);
    });
    function withStatus(statuses, effects) {
      return counted.filter(function (e) {
        return statuses.indexOf(e.status) >= 0 && (!effects || effects.indexOf(e.rule.effect) >= 0);
      });
    }
    var found = withStatus([S.prohibited]);
    if (found.length) { return [V.prohibited, found]; }
    found = withStatus([S.unknown], [E.prohibited, E.conditional]);
    if (found.length) { return [V.needs_confirmation, found]; }
    found = withStatus([S.conditional]);
    if (found.length) { return [V.conditional, found]; }
    found = withStatus([S.obligation]).concat(withStatus([S.unknown], [E.obligation]));
    if (found.length) { return [V.obligations, found]; }
    return [V.clear, []];
  }

  /* zoning.query._quota_answer: the land-supply plan that covers the point on the date — or
   * that did (expired), or may (the point may lie in its area) */
  function quotaAt(cfg, lng, lat, located, member, day) {
    var layer = layersOfKind(cfg, cfg.quota_kind)[0];
    if (!layer) { return null; }
    var f = located ? featuresAt(layer, lng, lat)[0] : undefined;
    var covered = !!f;
    var maybe = !covered && located && member.central === cfg.codes.membership.uncertain;
    var vf = layer.valid_from, vt = layer.valid_to;
    var inForceNow = (!vf || vf <= day) && (!vt || day <= vt);
    if (!covered && !maybe) { return { applies: false, possibly: false, in_force: inForceNow, layer: layer, props: null }; }
    var props = f ? f.properties : (layer.data.features[0] || {}).properties || {};
    return { applies: covered && inForceNow, possibly: maybe, in_force: inForceNow, layer: layer, props: props,
             expired: !!(vt && day > vt), not_yet: !!(vf && day < vf) };
  }

  /* everything the panel shows and ZoningMap.query returns, for one point */
  function answerAt(cfg, lng, lat, project, day) {
    var county = countyAt(cfg, lng, lat);
    var hits = zoneHits(cfg, lng, lat);
    var governing = governingClasses(cfg.vocab, hits);
    var inside = county.adcode !== null;
    var errors = [];
    var proj = normaliseProject(cfg, project, errors);
    var member = memberships(cfg, hits, inside, lng, lat);
    var classes = classKeys(cfg, hits, member);
    var evaluated = inside ? evaluatePlace(cfg, classes, proj, day) : [];
    var verdict = null, producing = [], subjects = {};
    var judged = proj !== null && inside && !cfg.missing_kinds.length;
    if (judged) {
      var ov = overallVerdict(cfg.codes, evaluated, null);
      verdict = ov[0]; producing = ov[1];
    }
    Object.keys(cfg.vocab.subjects).forEach(function (s) {
      subjects[s] = judged ? overallVerdict(cfg.codes, evaluated, s)[0] : null;
    });
    var toConfirm = [];
    producing.forEach(function (e) { e.missing.forEach(function (m) { if (toConfirm.indexOf(m) < 0) { toConfirm.push(m); } }); });
    var ext = cfg.extent_classes;
    return {
      lng: lng, lat: lat, date: day, project: proj, errors: errors,
      county: county, hits: hits, governing: governing, evaluated: evaluated,
      classes: classes, membership: member,
      in_planning_area: hasPair(hits, [cfg.extent_kind, ext.planning]),
      in_central_area: hasPair(hits, [cfg.extent_kind, ext.central]),
      zones: hits.filter(function (h) { return cfg.vocab.zone_kinds.indexOf(h[0]) >= 0; }),
      quota: quotaAt(cfg, lng, lat, inside, member, day),
      verdict: verdict, producing: producing, to_confirm: toConfirm, subject_verdicts: subjects
    };
  }

  function plainAnswer(a) {
    return {
      lng: a.lng, lat: a.lat, date: a.date,
      county_adcode: a.county.adcode,
      near_line: a.county.near_line,
      maybe_outside_city: a.county.maybe_outside,
      neighbour_adcode: a.county.neighbour ? a.county.neighbour.adcode : null,
      in_planning_area: a.in_planning_area,
      in_central_area: a.in_central_area,
      planning_membership: a.membership.planning,
      central_membership: a.membership.central,
      classes: a.classes.certain.map(function (c) { return c[1]; }),
      uncertain: a.classes.uncertain.map(function (c) { return c[1]; }),
      zone_classes: a.zones.map(function (h) { return h[1]; }).sort(),
      governing: a.governing.map(function (g) { return [g[0], g[1]]; }),
      verdict: a.verdict,
      subject_verdicts: a.subject_verdicts,
      verdict_rules: a.producing.map(function (e) { return e.rule.id; }),
      to_confirm: a.to_confirm.slice(),
      rules: a.evaluated.map(function (e) { return [e.rule.id, e.status]; }),
      quota: a.quota ? { applies: a.quota.applies, possibly: a.quota.possibly, in_force: a.quota.in_force } : null,
      project: a.project,
      errors: a.errors.slice()
    };
  }

  /* ---------- the panel: the answer, the project form, the layers at the point ---------- */

  function attrLabel(cfg, name) {
    for (var i = 0; i < cfg.attributes.length; i++) { if (cfg.attributes[i].name === name) { return cfg.attributes[i].label; } }
    return name;
  }

  function line(cls, head, value) {
    var d = el("div", "zm-a-line " + (cls || ""));
    add(d, el("span", "zm-a-head", head + (cfg_colon(head))), value instanceof Node ? value : el("span", null, value));
    return d;
  }

  function cfg_colon(head) { return /[\u3000-\u9fff]$/.test(head) ? "：" : ": "; }

  /* the land-supply plan at the point: its figures, and whether it is in force on the date */
  function quotaLine(cfg, q) {
    var text;
    if (!q.props) { text = cfg.ui.quota_none; } else {
      var p = q.props;
      text = (q.possibly ? fill(cfg.ui.quota_if, { cls: cfg.extent_classes.central }) : "") +
        fill(cfg.ui.quota_plan, { year: p.year, area: p.area_name, doc: p.document, total: p.total_ha });
      if (q.expired) { text += (cfg.lang === "zh" ? "\uff1a" : ": ") + fill(cfg.ui.quota_expired, { to: q.layer.valid_to }); }
      else if (q.not_yet) { text += (cfg.lang === "zh" ? "\uff1a" : ": ") + fill(cfg.ui.quota_not_yet, { from: q.layer.valid_from }); }
    }
    var d = line("zm-a-quota" + (q.props && !q.in_force ? " zm-expired" : ""), cfg.vocab.kinds[cfg.quota_kind], text);
    d.setAttribute("data-in-force", String(q.in_force));
    return d;
  }

  /* the layers the answer rests on, each with what its accuracy means (vocab.layer_accuracy_label) */
  function basisNodes(cfg) {
    var kinds = [cfg.county_kind, cfg.extent_kind, cfg.quota_kind].concat(cfg.vocab.zone_kinds);
    var d = el("details", "zm-basis");
    d.appendChild(el("summary", null, cfg.ui.basis));
    var ul = el("ul");
    var seen = {};
    cfg.layers.forEach(function (l) {
      if (kinds.indexOf(l.kind) < 0 || seen[l.name]) { return; }
      seen[l.name] = true;
      var li = el("li");
      add(li, el("span", null, (cfg.vocab.kinds[l.kind] || l.kind) + " \u00b7 " + l.name + ": "), el("span", "zm-acc zm-acc-" + l.accuracy, l.acc_text));
      ul.appendChild(li);
    });
    d.appendChild(ul);
    return d;
  }

  function answerNodes(cfg, a) {
    var box = el("section", "zm-answer");
    var plain = plainAnswer(a);
    box.setAttribute("data-adcode", plain.county_adcode === null ? "" : plain.county_adcode);
    box.setAttribute("data-near-line", String(plain.near_line));
    box.setAttribute("data-verdict", plain.verdict === null ? "" : plain.verdict);
    box.setAttribute("data-governing", JSON.stringify(plain.governing));
    box.setAttribute("data-zone-classes", JSON.stringify(plain.zone_classes));
    box.setAttribute("data-membership", JSON.stringify([plain.planning_membership, plain.central_membership]));
    box.setAttribute("data-subject-verdicts", JSON.stringify(plain.subject_verdicts));
    box.setAttribute("data-lat", String(a.lat));
    box.setAttribute("data-lng", String(a.lng));
    box.appendChild(el("div", "zm-q-head", cfg.ui.answer + " · " + cfg.ui.date + " " + a.date));
    // county
    var c = a.county;
    var countyText = c.adcode === null ? cfg.ui.outside_city
      : (cfg.lang === "en" && c.name_en ? c.name_en + " / " : "") + c.name + " (" + c.adcode + ")";
    box.appendChild(line("zm-a-county", cfg.vocab.kinds[cfg.county_kind], countyText));
    if (c.maybe_outside) {
      box.appendChild(el("div", "zm-caution", fill(cfg.ui.maybe_outside, { d: Math.round(c.distance_m) })));
    } else if (c.near_line) {
      var msg = fill(cfg.ui.near_line, { d: Math.round(c.distance_m), m: Math.round(c.tolerance_m) });
      if (c.neighbour) { msg += (cfg.lang === "zh" ? "；" : "; ") + cfg.ui.may_be_in + " " + c.neighbour.name + " (" + c.neighbour.adcode + ")"; }
      box.appendChild(el("div", "zm-caution", msg));
    }
    // planning extents: yes / no / uncertain (an indicative outline), and the land-supply plan
    var ext = cfg.extent_classes, semi = cfg.lang === "zh" ? "\uff1b" : "; ";
    var members = [[ext.planning, a.membership.planning], [ext.central, a.membership.central]];
    box.appendChild(line("zm-a-extents", cfg.vocab.kinds[cfg.extent_kind], members.map(function (m) {
      return cfg.vocab.classes[m[0]].label + " " + (cfg.vocab.membership[m[1]] || m[1]);
    }).join(semi)));
    members.forEach(function (m) {
      var attr = cfg.vocab.membership_attributes[m[0]];
      if (m[1] !== cfg.codes.membership.uncertain || (a.project && a.project[attr] !== undefined)) { return; }
      box.appendChild(el("div", "zm-caution zm-membership", fill(cfg.ui.membership_uncertain, { cls: m[0], attr: attrLabel(cfg, attr) })));
    });
    if (a.quota) { box.appendChild(quotaLine(cfg, a.quota)); }
    // zones
    var zones = a.zones.map(function (h) {
      var p = h[3].properties;
      var bits = [cfg.vocab.classes[h[1]] ? cfg.vocab.classes[h[1]].label : h[1]];
      if (p.name && p.name !== h[1]) { bits.push(p.name); }
      if (p.zone_id) { bits.push(p.zone_id); }
      return bits.join(" ");
    });
    box.appendChild(line("zm-a-zones", cfg.ui.zones, zones.length ? zones.join(cfg.lang === "zh" ? "；" : "; ") : cfg.vocab.general_area));
    // governing
    var gov = a.governing.filter(function (g) { return cfg.vocab.zone_kinds.indexOf(g[0]) >= 0; });
    box.appendChild(line("zm-a-governing", cfg.ui.governing, gov.length ? gov.map(function (g) {
      return cfg.vocab.classes[g[1]] ? cfg.vocab.classes[g[1]].label : g[1];
    }).join(", ") : cfg.vocab.general_area));
    // verdict
    if (cfg.missing_kinds.length) {
      box.appendChild(el("div", "zm-caution", cfg.ui.missing_layers + cfg.missing_kinds.map(function (k) { return cfg.vocab.kinds[k] || k; }).join(", ")));
    } else if (c.adcode === null) {
      box.appendChild(el("div", "zm-muted", cfg.ui.no_verdict_outside));
    } else if (a.verdict !== null) {
      var v = el("div", "zm-verdict");
      var badge = el("span", "zm-verdict-badge", cfg.vocab.verdict_labels[a.verdict] || a.verdict);
      badge.style.backgroundColor = cfg.vocab.verdict_colours[a.verdict] || "#777777";
      add(v, el("span", "zm-a-head", cfg.ui.verdict + cfg_colon(cfg.ui.verdict)), badge);
      box.appendChild(v);
      var subj = el("div", "zm-subjects");
      subj.appendChild(el("span", "zm-a-head", cfg.ui.by_subject + cfg_colon(cfg.ui.by_subject)));
      Object.keys(cfg.vocab.subjects).forEach(function (sj) {
        var sv = a.subject_verdicts[sj];
        var chip = el("span", "zm-subject", cfg.vocab.subjects[sj] + " " + (cfg.vocab.verdict_labels[sv] || sv));
        chip.style.borderColor = cfg.vocab.verdict_colours[sv] || "#777777";
        chip.setAttribute("data-subject", sj);
        chip.setAttribute("data-verdict", sv);
        subj.appendChild(chip);
      });
      box.appendChild(subj);
      if (a.producing.length) {
        box.appendChild(el("div", "zm-a-head", cfg.ui.by_articles));
        var ul = el("ul", "zm-rules zm-producing");
        a.producing.forEach(function (e) { ul.appendChild(ruleItem(cfg, e.rule.id, e.status, a.date)); });
        box.appendChild(ul);
      }
      if (a.to_confirm.length) {
        var tc = el("div", "zm-confirm");
        add(tc, el("span", "zm-a-head", cfg.ui.to_confirm + cfg_colon(cfg.ui.to_confirm)),
            el("span", null, a.to_confirm.map(function (m) { return attrLabel(cfg, m); }).join(", ")));
        tc.setAttribute("data-attrs", JSON.stringify(a.to_confirm));
        box.appendChild(tc);
      }
      var shaky = cfg.layers.filter(function (l) {
        return (cfg.vocab.zone_kinds.indexOf(l.kind) >= 0 || l.kind === cfg.extent_kind) && l.accuracy !== cfg.codes.official;
      }).map(function (l) { return l.accuracy; });
      if (shaky.length) {
        var worst = shaky.reduce(function (x, y) { return cfg.vocab.accuracy_rank[y] > cfg.vocab.accuracy_rank[x] ? y : x; });
        box.appendChild(el("div", "zm-honesty", cfg.vocab.accuracy[worst] + " — " + cfg.ui.accuracy_warning));
      }
    }
    a.errors.forEach(function (e) {
      box.appendChild(el("div", "zm-caution zm-bad-value", attrLabel(cfg, e[0]) + " \u201c" + e[1] + "\u201d: " + cfg.ui.bad_value));
    });
    box.appendChild(basisNodes(cfg));
    // every applicable rule with its status
    if (a.evaluated.length) {
      var d = el("details", "zm-rule-status");
      d.appendChild(el("summary", null, cfg.ui.rule_status + " (" + a.evaluated.length + ")"));
      var all = el("ul", "zm-rules");
      a.evaluated.forEach(function (e) {
        var li = ruleItem(cfg, e.rule.id, e.status, a.date);
        var where = (e.cls ? (cfg.vocab.classes[e.cls] || {}).label || e.cls : cfg.ui.city_wide) + (e.possibly ? ", " + cfg.ui.possibly : "");
        li.insertBefore(el("span", "zm-muted", where + " · "), li.firstChild);
        if (e.possibly) { li.classList.add("zm-possibly"); }
        all.appendChild(li);
      });
      d.appendChild(all);
      box.appendChild(d);
    }
    return box;
  }

  /* the industry: typed as a GB/T 4754-2017 code or name or a word, with a list to pick from, and
   * what it is read as (the groups, certain and possible) shown under it */
  function industryInput(cfg, a) {
    var T = cfg.industries || {};
    var input = el("input");
    input.type = "text";
    input.className = "zm-industry";
    input.placeholder = cfg.ui.industry_hint;
    var list = el("datalist");
    list.id = "zm-industries-" + api.configs.length;
    Object.keys(T.codes || {}).sort().forEach(function (code) {
      var opt = el("option", null, code + " " + T.codes[code][1]);
      opt.value = code;
      list.appendChild(opt);
    });
    (T.suggest || []).forEach(function (w) { var opt = el("option"); opt.value = w; list.appendChild(opt); });
    input.setAttribute("list", list.id);
    var labels = {};
    a.values.forEach(function (v) { labels[v[0]] = v[1]; });
    var out = el("div", "zm-muted zm-industry-read");
    var hint = {
      node: el("div"),
      update: function () {
        out.textContent = "";
        if (!input.value.trim()) { return; }
        var groups = input._groups && input.value === input._groups.join(",") ? input._groups : resolveIndustry(cfg, input.value);
        if (groups === null) { out.textContent = cfg.ui.bad_value; return; }
        var P = cfg.codes.possible;
        var sure = groups.filter(function (g) { return g.indexOf(P) !== 0; }).map(function (g) { return labels[g] || g; });
        var maybe = groups.filter(function (g) { return g.indexOf(P) === 0; }).map(function (g) { return labels[g.slice(P.length)] || g; });
        var text = cfg.ui.industry_read + " " + (sure.join(", ") || "\u2014");
        if (maybe.length) { text += (cfg.lang === "zh" ? "\uff1b" : "; ") + cfg.ui.industry_possible + " " + maybe.join(", "); }
        out.textContent = text;
      }
    };
    add(hint.node, list, out);
    input._hint = hint;
    input.addEventListener("input", hint.update);
    return { input: input, hint: hint };
  }

  function projectForm(cfg, onChange) {
    var d = el("details", "zm-project");
    d.appendChild(el("summary", null, cfg.ui.project));
    var needs = cfg.vocab.verdict_labels[cfg.codes.verdict.needs_confirmation];
    d.appendChild(el("div", "zm-muted", fill(cfg.ui.project_note, { needs: needs })));
    var table = el("table", "zm-attrs zm-form");
    function row(label, control) {
      var tr = el("tr");
      var th = el("th");
      var lab = el("label", null, label);
      th.appendChild(lab);
      var td = el("td");
      td.appendChild(control);
      add(tr, th, td);
      table.appendChild(tr);
    }
    var date = el("input");
    date.type = "date";
    date.className = "zm-date";
    date.value = cfg.today;
    date.addEventListener("change", onChange);
    row(cfg.ui.date, date);
    cfg.attributes.forEach(function (a) {
      var control;
      var hint = null;
      if (a.type === "number") {
        control = el("input");
        control.type = "number";
        control.step = "any";
        control.placeholder = a.unit || "";
      } else if (a.free_text) {
        control = industryInput(cfg, a);
        hint = control.hint;
        control = control.input;
      } else {
        control = el("select");
        var opts = [["", cfg.ui.unknown_value]];
        if (a.type === "bool") { opts.push(["true", cfg.ui.yes], ["false", cfg.ui.no]); }
        else { opts = opts.concat(a.values); }
        opts.forEach(function (o) {
          var opt = el("option", null, o[1]);
          opt.value = o[0];
          control.appendChild(opt);
        });
      }
      control.setAttribute("data-attr", a.name);
      control.setAttribute("data-type", a.type);
      control.addEventListener("change", onChange);
      var cell = control;
      if (hint) { cell = el("div"); add(cell, control, hint.node); }
      row(a.label + (a.unit ? " (" + a.unit + ")" : ""), cell);
    });
    d.appendChild(table);
    L.DomEvent.disableClickPropagation(d);
    return {
      node: d,
      project: function () {
        var p = {};
        table.querySelectorAll("[data-attr]").forEach(function (c) {
          if (c.value === "") { return; }
          var type = c.getAttribute("data-type");
          var v = type === "bool" ? c.value === "true" : type === "number" ? parseFloat(c.value) : c.value;
          if (c._groups && c.value === c._groups.join(",")) { v = c._groups.slice(); }
          p[c.getAttribute("data-attr")] = v;
        });
        return p;
      },
      date: function () { return date.value || cfg.today; },
      set: function (project, day) {
        var norm = normaliseProject(cfg, project || {}, []);
        table.querySelectorAll("[data-attr]").forEach(function (c) {
          var name = c.getAttribute("data-attr");
          var raw = project ? project[name] : undefined;
          var v = c.tagName === "SELECT" && norm[name] !== undefined ? norm[name] : raw;
          c._groups = Array.isArray(v) ? v.slice() : null;
          c.value = v === undefined || v === null ? "" : Array.isArray(v) ? v.join(",") : String(v);
          if (c._hint) { c._hint.update(); }
        });
        if (day) { date.value = day; }
      }
    };
  }

  function panelControl(map, cfg) {
    var ctl = L.control({ position: "topleft" });
    var body, results;
    ctl.onAdd = function () {
      var box = el("div", "zm-panel leaflet-bar");
      box.id = "zm-query-panel";
      var head = el("div", "zm-panel-head");
      head.appendChild(el("span", null, cfg.ui.query_title));
      box.appendChild(head);
      body = el("div", "zm-panel-body");
      results = el("div", "zm-results");
      results.appendChild(el("div", "zm-muted", cfg.ui.query_hint));
      ctl.form = projectForm(cfg, function () { if (ctl.onFormChange) { ctl.onFormChange(); } });
      add(body, ctl.form.node, results);
      box.appendChild(body);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);
    ctl.show = function (nodes) {
      while (results.firstChild) { results.removeChild(results.firstChild); }
      nodes.forEach(function (n) { results.appendChild(n); });
      body.scrollTop = 0;
    };
    return ctl;
  }

  /* ---------- the click query ---------- */

  function query(map, cfg, panel, latlng, project, day) {
    var lng = latlng.lng, lat = latlng.lat;
    var a = answerAt(cfg, lng, lat, project, day);
    var nodes = [];
    var pt = el("div", "zm-point");
    pt.textContent = cfg.ui.point + " " + lng.toFixed(6) + ", " + lat.toFixed(6) + " (" + cfg.ui.crs_note + ")";
    nodes.push(pt);
    nodes.push(answerNodes(cfg, a));
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
        sec.appendChild(el("div", "zm-muted", layer.kind === cfg.county_kind ? cfg.ui.outside_city : cfg.ui.none_here));
      }
      hits.forEach(function (f) { sec.appendChild(featureCard(cfg, layer, f.properties)); });
      nodes.push(sec);
    });
    result.answer = plainAnswer(a);
    api.lastQuery = result;
    api.lastAnswer = result.answer;
    panel.show(nodes);
    return result.answer;
  }

  /* ---------- entry point ---------- */

  function init(map, cfg, groups) {
    api.maps.push(map);
    api.configs.push(cfg);
    cfg.today = cfg.today || new Date().toISOString().slice(0, 10);
    cfg.missing_kinds = cfg.missing_kinds || [];
    cfg.attributes = cfg.attributes || [];
    cfg.rules = cfg.rules || [];
    cfg.layers.forEach(function (layer) {
      var group = groups[layer.key];
      if (!group) { return; }
      if (layer.kind === "key_projects") { addKeyProjects(cfg, layer, group); } else { addFeatureLayer(cfg, layer, group); }
    });
    L.control.scale({ imperial: false, position: "bottomleft", maxWidth: 160 }).addTo(map);
    titleBox(map, cfg);
    legendControl(map, cfg);
    var panel = panelControl(map, cfg);
    var pin = null, last = null;
    function run(latlng, project, day) {
      if (pin) { map.removeLayer(pin); }
      pin = L.circleMarker(latlng, { radius: 5, color: "#000", weight: 2, fillColor: "#fff", fillOpacity: 1, interactive: false }).addTo(map);
      last = latlng;
      return query(map, cfg, panel, latlng, project, day);
    }
    // 'preclick' reaches the map for every click, also on features whose popup stops 'click'
    map.on("preclick", function (e) { run(e.latlng, panel.form.project(), panel.form.date()); });
    panel.onFormChange = function () { if (last) { run(last, panel.form.project(), panel.form.date()); } };
    /* ZoningMap.query(lat, lng, project, date): the answer at a point, shown in the panel and
     * returned as a plain object. project: attributes (the form is set to them); undefined
     * takes the form's; null gives no verdict (the rules as they stand). date: YYYY-MM-DD
     * (default the form's date). */
    api.query = function (lat, lng, project, date) {
      if (project === undefined) { project = panel.form.project(); }
      if (date === undefined || date === null) { date = panel.form.date(); }
      panel.form.set(project, date);
      return run(L.latLng(lat, lng), project, date);
    };
    api.answer = function (lat, lng, project, date) {
      return plainAnswer(answerAt(cfg, lng, lat, project === undefined ? null : project, date || cfg.today));
    };
  }

  api.init = init;
  api.featuresAt = featuresAt;
  return api;
})();
