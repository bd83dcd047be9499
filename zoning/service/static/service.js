/* The service panel of the map at "/": the click query, search, permalink, print view,
 * upload and batch drawing, all answered by the API. Every string goes into the DOM with
 * textContent. */
var ZoningService = (function () {
  "use strict";
  var api = { last: null, answers: 0 };
  var cfg, map, body, results, pin = null, batches = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function clear(n) { while (n.firstChild) { n.removeChild(n.firstChild); } }

  /* the project described in the map's own form (its inputs carry data-attr) */
  function projectPairs() {
    var pairs = [];
    document.querySelectorAll("#zm-query-panel [data-attr]").forEach(function (c) {
      if (c.value !== "") { pairs.push([c.getAttribute("data-attr"), c.value]); }
    });
    return pairs;
  }
  function formDate() {
    var d = document.querySelector("#zm-query-panel input[type=date]");
    return d && d.value ? d.value : "";
  }

  function getJSON(url, opts) {
    return fetch(url, opts || {}).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) { throw new Error(j && j.error ? j.error : ("HTTP " + r.status)); }
        return j;
      });
    });
  }

  function showError(msg) {
    clear(results);
    results.appendChild(el("div", "zs-err", cfg.ui.error + ": " + msg));
  }

  function queryURL(x, y, crs, pairs, date) {
    var q = new URLSearchParams();
    q.set("lon", x); q.set("lat", y); q.set("lang", cfg.lang);
    if (crs) { q.set("crs", crs); }
    if (date) { q.set("date", date); }
    (pairs || []).forEach(function (p) { q.append("a", p[0] + "=" + p[1]); });
    return cfg.api + "/query?" + q.toString();
  }

  function permalink(a, pairs) {
    var z = map.getZoom(), c = map.getCenter();
    var h = new URLSearchParams();
    h.set("map", z + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5));
    h.set("pt", a.lon.toFixed(7) + "," + a.lat.toFixed(7));
    if (a.date) { h.set("date", a.date); }
    (pairs || []).forEach(function (p) { h.append("a", p[0] + "=" + p[1]); });
    if (a.answer_id) { h.set("answer", a.answer_id); }
    return location.pathname + "#" + h.toString();
  }

  function render(a, pairs) {
    clear(results);
    var u = cfg.ui;
    var head = el("div", "zs-sec");
    head.appendChild(el("div", "zs-point", a.lon.toFixed(6) + ", " + a.lat.toFixed(6) + " (CGCS2000) · " + a.date));
    var c = a.county;
    head.appendChild(el("div", "zs-county", u.county + ": " + (c.adcode ? (c.name + " (" + c.adcode + ")") : u.outside)));
    var ex = a.extents;
    head.appendChild(el("div", null, u.planning + ": " + ex.planning_membership + " · " + u.central + ": " + ex.central_membership));
    results.appendChild(head);
    var zs = el("div", "zs-sec");
    zs.appendChild(el("h4", null, u.zones));
    if (!a.zones.length) { zs.appendChild(el("div", "zs-muted", u.none)); }
    var ul = el("ul", "zs-list zs-zones");
    a.zones.forEach(function (z) {
      ul.appendChild(el("li", null, z.zone_class + " " + (z.name || "") + " " + (z.zone_id || "") + " [" + z.accuracy + "]" + (z.governs ? " ←" : "")));
    });
    zs.appendChild(ul);
    results.appendChild(zs);
    if (a.verdict) {
      results.appendChild(el("div", "zs-sec zs-verdict", u.verdict + ": " + a.verdict + " (" + a.verdict_rules.join(", ") + ")"));
    }
    var rs = el("div", "zs-sec");
    rs.appendChild(el("h4", null, u.rules + " (" + a.rules.length + ")"));
    var rl = el("ul", "zs-list zs-rules");
    a.rules.filter(function (r) { return r.addressee === "project"; }).slice(0, 40).forEach(function (r) {
      rl.appendChild(el("li", null, "[" + r.status + "] " + r.citation));
    });
    rs.appendChild(rl);
    results.appendChild(rs);
    var np = a.nearby_projects.within_radius.concat(a.nearby_projects.same_county);
    if (np.length) {
      var ps = el("div", "zs-sec");
      ps.appendChild(el("h4", null, u.projects + " (" + np.length + ")"));
      var pl = el("ul", "zs-list zs-projects");
      np.slice(0, 12).forEach(function (p) { pl.appendChild(el("li", null, p.name + " (" + p.year + " " + p.level + ")")); });
      ps.appendChild(pl);
      results.appendChild(ps);
    }
    if (a.accuracy_notes.length) {
      var acc = el("div", "zs-sec zs-muted");
      a.accuracy_notes.forEach(function (n) { acc.appendChild(el("div", null, u.accuracy + ": " + n)); });
      results.appendChild(acc);
    }
    var links = el("div", "zs-sec zs-links zs-noprint");
    links.appendChild(el("span", "zs-answer-id", u.answer_id + ": " + a.answer_id + " "));
    var pl2 = el("a", "zs-permalink", u.permalink);
    pl2.href = permalink(a, pairs);
    links.appendChild(pl2);
    var pr = el("a", "zs-print", u.print);
    pr.href = "#"; pr.addEventListener("click", function (e) { e.preventDefault(); window.print(); });
    links.appendChild(pr);
    results.appendChild(links);
  }

  function ask(x, y, crs, pairs, date, keepView) {
    pairs = pairs === undefined ? projectPairs() : pairs;
    date = date === undefined ? formDate() : date;
    return getJSON(queryURL(x, y, crs, pairs, date)).then(function (a) {
      api.last = a; api.answers += 1;
      var ll = L.latLng(a.lat, a.lon);
      if (pin) { map.removeLayer(pin); }
      pin = L.circleMarker(ll, { radius: 7, color: "#1a5276", weight: 3, fillOpacity: 0, interactive: false }).addTo(map);
      if (!keepView) { map.setView(ll, Math.max(map.getZoom(), 12), { animate: false }); }
      render(a, pairs);
      history.replaceState(null, "", permalink(a, pairs));
      return a;
    }).catch(function (e) { showError(e.message); throw e; });
  }

  function search(text) {
    return getJSON(cfg.api + "/search?q=" + encodeURIComponent(text) + "&lang=" + cfg.lang).then(function (r) {
      clear(results);
      if (!r.results.length) { results.appendChild(el("div", "zs-muted", cfg.ui.no_results)); return r; }
      if (r.results.length === 1 && r.results[0].kind === "coordinate") {
        ask(r.results[0].lon, r.results[0].lat, null, undefined, undefined, false);
        return r;
      }
      var ul = el("ul", "zs-list zs-hits");
      r.results.forEach(function (h) {
        var li = el("li", null, h.label);
        li.setAttribute("data-kind", h.kind);
        li.addEventListener("click", function () { ask(h.lon, h.lat, null, undefined, undefined, false); });
        ul.appendChild(li);
      });
      results.appendChild(ul);
      return r;
    }).catch(function (e) { showError(e.message); });
  }

  function jobsSection(box) {
    var sec = el("div", "zs-sec zs-noprint");
    sec.appendChild(el("h4", null, cfg.ui.jobs));
    var list = el("ul", "zs-list zs-jobs");
    sec.appendChild(list);
    function refresh() {
      return getJSON(cfg.api + "/checks").then(function (r) {
        clear(list);
        r.jobs.forEach(function (j) {
          var li = el("li", null, j.created.slice(0, 19) + " " + j.status + " " + j.progress.sites_done + " ");
          li.setAttribute("data-job", j.id);
          Object.keys(j.files).forEach(function (name) {
            var a = el("a", null, name); a.href = j.files[name]; li.appendChild(a); li.appendChild(el("span", null, " "));
          });
          if (j.status === "done") {
            var b = el("button", "zs-draw", cfg.ui.draw);
            b.addEventListener("click", function () { draw(j.id); });
            li.appendChild(b);
          }
          list.appendChild(li);
        });
        return r;
      });
    }
    api.refreshJobs = refresh;
    if (cfg.role === "checker" || cfg.role === "admin") {
      var form = el("form", "zs-upload");
      form.appendChild(el("div", null, cfg.ui.upload));
      var f = el("input"); f.type = "file"; f.name = "file"; f.multiple = true;
      var fm = el("input"); fm.type = "hidden"; fm.name = "format"; fm.value = "csv,xlsx,gpkg,html";
      var lg = el("input"); lg.type = "hidden"; lg.name = "lang"; lg.value = cfg.lang;
      var s = el("button", null, cfg.ui.submit); s.type = "submit";
      form.appendChild(f); form.appendChild(fm); form.appendChild(lg); form.appendChild(s);
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var data = new FormData(form);
        projectPairs().forEach(function (p) { data.append("set", p[0] + "=" + p[1]); });
        getJSON(cfg.api + "/checks", { method: "POST", body: data }).then(function (j) {
          api.lastJob = j.id;
          var poll = function () {
            getJSON(cfg.api + "/checks/" + j.id).then(function (st) {
              refresh();
              if (st.status === "queued" || st.status === "running") { setTimeout(poll, 500); }
            });
          };
          poll();
        }).catch(function (err) { showError(err.message); });
      });
      sec.appendChild(form);
    }
    box.appendChild(sec);
    refresh().catch(function () {});
  }

  function draw(jobId) {
    return getJSON(cfg.api + "/checks/" + jobId + "/sites").then(function (gj) {
      if (batches[jobId]) { map.removeLayer(batches[jobId]); }
      var colours = cfg.verdict_colours || {};
      var layer = L.geoJSON(gj, {
        pointToLayer: function (f, ll) {
          return L.circleMarker(ll, { radius: 5, weight: 1, color: "#222", fillOpacity: 0.8,
            fillColor: colours[f.properties.verdict] || "#1a5276" });
        },
        onEachFeature: function (f, lyr) {
          lyr.bindTooltip(function () { return el("span", null, (f.properties.site_id || "") + " " + (f.properties.site_name || "") + " " + (f.properties.verdict || "")); });
        }
      }).addTo(map);
      batches[jobId] = layer;
      api.drawn = (api.drawn || 0) + 1;
      api.drawnFeatures = gj.features.length;
      if (gj.features.length) { map.fitBounds(layer.getBounds(), { maxZoom: 13 }); }
      return gj;
    });
  }

  function fromHash() {
    if (!location.hash || location.hash.length < 2) { return; }
    var h = new URLSearchParams(location.hash.slice(1));
    var v = (h.get("map") || "").split("/");
    if (v.length === 3) {
      /* the permalink's view, at once; the page's own start-up may still be animating its
         first fit, whose end would leave another view: then the permalink's is put back */
      var centre = L.latLng(parseFloat(v[1]), parseFloat(v[2])), zoom = parseInt(v[0], 10);
      var apply = function () { map.setView(centre, zoom, { animate: false }); };
      apply();
      map.once("zoomend moveend", function () {
        if (map.getZoom() !== zoom || map.getCenter().distanceTo(centre) > 1) { apply(); }
      });
    }
    var pt = (h.get("pt") || "").split(",");
    if (pt.length === 2) {
      var pairs = h.getAll("a").map(function (s) { var i = s.indexOf("="); return [s.slice(0, i), s.slice(i + 1)]; });
      var date = h.get("date") || "";
      document.querySelectorAll("#zm-query-panel [data-attr]").forEach(function (c) {
        pairs.forEach(function (p) { if (c.getAttribute("data-attr") === p[0]) { c.value = p[1]; } });
      });
      var again = h.get("answer");
      if (again) {  /* the same answer, reproduced from the audit log (or asked anew if it is not there) */
        getJSON(cfg.api + "/answers/" + encodeURIComponent(again)).then(function (b) {
          var a = b.answer;
          api.last = a; api.reproduced = b;
          if (pin) { map.removeLayer(pin); }
          pin = L.circleMarker(L.latLng(a.lat, a.lon), { radius: 7, color: "#1a5276", weight: 3, fillOpacity: 0, interactive: false }).addTo(map);
          render(a, pairs);
          if (b.pack_changed || b.answer_changed) {
            results.insertBefore(el("div", "zs-err zs-changed", cfg.ui.changed + ": " + (b.changed.join(", ") || "pack")), results.firstChild);
          }
        }).catch(function () { ask(pt[0], pt[1], null, pairs, date, true); });
      } else {
        ask(pt[0], pt[1], null, pairs, date, true);
      }
    }
  }

  function init(c) {
    cfg = c;
    map = ZoningMap.maps[0];
    var ctl = L.control({ position: "topleft" });
    ctl.onAdd = function () {
      var box = el("div", "zs-panel leaflet-bar");
      box.id = "zs-panel";
      var head = el("div", "zs-head");
      head.appendChild(el("span", null, cfg.ui.title));
      head.appendChild(el("span", "zs-user", cfg.ui.user + ": " + cfg.user + " (" + cfg.role + ")"));
      box.appendChild(head);
      body = el("div", "zs-body");
      var form = el("form", "zs-row zs-search zs-noprint");
      var input = el("input"); input.type = "text"; input.name = "q"; input.placeholder = cfg.ui.search; input.id = "zs-q";
      var go = el("button", null, cfg.ui.go); go.type = "submit";
      form.appendChild(input); form.appendChild(go);
      form.addEventListener("submit", function (e) { e.preventDefault(); if (input.value.trim()) { search(input.value.trim()); } });
      body.appendChild(form);
      results = el("div", "zs-results");
      results.appendChild(el("div", "zs-muted", cfg.ui.hint));
      body.appendChild(results);
      jobsSection(body);
      box.appendChild(body);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);
    map.on("preclick", function (e) { ask(e.latlng.lng.toFixed(7), e.latlng.lat.toFixed(7), null, undefined, undefined, true); });
    fromHash();
  }

  api.init = init;
  api.ask = ask;
  api.search = search;
  api.draw = draw;
  return api;
})();
