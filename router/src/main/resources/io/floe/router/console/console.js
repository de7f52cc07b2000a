// Floe operator console: reads GET /v1/cluster with a read token and draws it. No dependencies.
// The token comes from the sign-in form or the URL fragment (#token=...), which browsers never send
// to the server; it is kept in this tab's sessionStorage and removed from the address bar at once.
"use strict";
(function () {
  var KEY = "floe.console.token";
  var REFRESH_MS = 2000;
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };

  function tokenFromFragment() {
    var hash = window.location.hash || "";
    var m = /(?:^#|&)token=([^&]*)/.exec(hash);
    if (!m) { return null; }
    // forget the fragment: it must not stay in the address bar, the history or a screenshot
    history.replaceState(null, "", window.location.pathname + window.location.search);
    try { return decodeURIComponent(m[1]); } catch (e) { return null; }
  }

  function token() { return sessionStorage.getItem(KEY); }

  function signIn(t) {
    sessionStorage.setItem(KEY, t);
    $("login-error").textContent = "";
    refresh();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    if (timer) { clearTimeout(timer); timer = null; }
    $("view").hidden = true;
    $("login").hidden = false;
    $("logout").hidden = true;
    $("login-error").textContent = message || "";
    setSummary("", "Not signed in");
    $("token").value = "";
    $("token").focus();
  }

  function setSummary(level, text) {
    var s = $("summary");
    s.className = "summary " + level;
    if (s.textContent !== text) { s.textContent = text; }
  }

  function refresh() {
    if (timer) { clearTimeout(timer); timer = null; }
    var t = token();
    if (!t) { signOut(""); return; }
    fetch("/v1/cluster", { headers: { "Authorization": "Bearer " + t }, cache: "no-store",
      credentials: "omit", referrerPolicy: "no-referrer" })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          return r.json().catch(function () { return {}; }).then(function (b) {
            signOut("Token refused (" + r.status + "): " + (b.detail || "not allowed"));
            return null;
          });
        }
        if (!r.ok) { throw new Error("GET /v1/cluster answered " + r.status); }
        return r.json();
      })
      .then(function (c) {
        if (!c) { return; }
        var first = $("view").hidden;
        $("login").hidden = true;
        $("view").hidden = false;
        $("logout").hidden = false;
        draw(c);
        if (first) { $("main").focus(); }
        timer = setTimeout(refresh, REFRESH_MS);
      })
      .catch(function (e) {
        setSummary("critical", "Router unreachable: " + e.message);
        timer = setTimeout(refresh, REFRESH_MS);
      });
  }

  // ---- formatting
  function num(v, digits) {
    if (v === null || v === undefined) { return "–"; }
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits });
  }
  function bytes(v) {
    if (v === null || v === undefined) { return "–"; }
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return num(v, i ? 1 : 0) + " " + units[i];
  }
  function ago(iso) {
    if (!iso) { return "never"; }
    var s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 90) { return Math.round(s) + " s ago"; }
    if (s < 5400) { return Math.round(s / 60) + " min ago"; }
    return Math.round(s / 3600) + " h ago";
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c, i) {
      var td = el(i === 0 ? "th" : "td");
      if (i === 0) { td.scope = "row"; }
      if (c instanceof Node) { td.appendChild(c); } else { td.textContent = c; }
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(tbody, rows) {
    var body = $(tbody).tBodies[0];
    body.replaceChildren.apply(body, rows);
  }

  // ---- drawing
  function draw(c) {
    var level = c.status === "ok" ? "ok" : c.status;
    var ready = c.nodes.filter(function (n) { return n.ready; }).length;
    setSummary(level, (c.status === "ok" ? "Healthy" : c.status === "critical" ? "Unhealthy" : "Needs a look") +
      " · " + ready + "/" + c.nodes.length + " nodes ready");
    var att = c.attention.length ? c.attention.map(function (a) {
      var li = el("li", a.subject + ": " + a.message, a.level);
      li.setAttribute("data-level", a.level);
      return li;
    }) : [el("li", "Nothing: every node is ready and committing.", "ok")];
    $("attention").replaceChildren.apply($("attention"), att);

    fill("nodes", c.nodes.map(function (n) {
      var state = el("span", n.ready ? "ready" : "not ready: " + (n.reason || "?"),
        n.ready ? "state-ready" : "state-not-ready");
      var meter = el("span");
      var bar = el("span", null, "meter");
      var inner = el("span");
      inner.style.width = Math.min(100, Math.round((n.buffer_fill || 0) * 100)) + "%";
      bar.appendChild(inner);
      bar.setAttribute("aria-hidden", "true");
      meter.appendChild(bar);
      meter.appendChild(document.createTextNode(bytes(n.buffer_bytes) + " (" + num((n.buffer_fill || 0) * 100, 0) + "%)"));
      var tr = row([n.node, num(n.partition_id, 0), state, num(n.epoch, 0), meter,
        num(n.events_per_second, 0), num(n.mb_per_second, 2),
        n.flush_lag_seconds === undefined ? "–" : num(n.flush_lag_seconds, 1) + " s",
        ago(n.last_commit), num(n.committed_sequence, 0),
        num(n.commit_attempts_total, 0) + " (" + num(n.commit_retries_total, 0) + ")",
        num(n.idempotency_keys, 0), n.salvage_needed ? "needed" : "no"]);
      tr.setAttribute("data-node", n.node);
      tr.setAttribute("data-ready", n.ready ? "true" : "false");
      return tr;
    }));

    fill("streams", c.streams.map(function (s) {
      var tr = row([s.stream, num(s.events_per_second, 0), bytes(s.bytes_per_second) + "/s",
        num(s.errors_per_second, 2), num(s.events_total, 0), num(s.errors_total, 0),
        s.dead_letters_total === null || s.dead_letters_total === undefined ? "–" : num(s.dead_letters_total, 0)]);
      tr.setAttribute("data-stream", s.stream);
      return tr;
    }));

    var t = c.table || {};
    var m = t.maintenance || {};
    var facts = [
      ["Catalog", t.reachable ? "reachable" : (t.error || "not readable")],
      ["Snapshots", num(t.snapshots, 0)], ["Data files", num(t.data_files, 0)],
      ["Small files", num(t.small_files, 0)], ["Metadata size", bytes(t.metadata_bytes)],
      ["Files flushed (15 min)", num(t.files_flushed_recently, 0)],
      ["Median file (15 min)", bytes(t.median_file_bytes_recently)],
      ["Last maintenance", ago(m.last_run)], ["Lease holder", m.lease_holder || "–"],
      ["Failed maintenance runs", num(m.failed_runs_total, 0)],
      ["Typed columns (nodes)", num(t.columns_active, 0)]
    ];
    $("table").replaceChildren.apply($("table"), facts.map(function (f) {
      var d = el("div"); d.appendChild(el("dt", f[0])); d.appendChild(el("dd", f[1])); return d;
    }));
    fill("columns", (t.columns || []).map(function (col) {
      return row([col.name, col.type, col.path || "–", col.on_mismatch || "–"]);
    }));

    var charts = document.querySelectorAll(".chart");
    for (var i = 0; i < charts.length; i++) { chart(charts[i], c.series || {}); }
    var sampled = $("sampled");
    sampled.textContent = c.sampled_at ? new Date(c.sampled_at).toLocaleTimeString() : "not yet";
    if (c.sampled_at) { sampled.dateTime = c.sampled_at; }
  }

  var SVG = "http://www.w3.org/2000/svg";
  function chart(fig, series) {
    var key = fig.getAttribute("data-key"), unit = fig.getAttribute("data-unit");
    var t = series.t || [], v = series[key] || [];
    var svg = fig.querySelector("svg");
    if (!svg) {
      svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 300 90");
      svg.setAttribute("preserveAspectRatio", "none");
      svg.setAttribute("role", "img");
      svg.appendChild(document.createElementNS(SVG, "polyline"));
      fig.appendChild(svg);
      fig.querySelector("figcaption").appendChild(el("span", "", "now"));
    }
    var pts = [], max = 0, last = null;
    for (var i = 0; i < v.length; i++) { if (v[i] !== null) { max = Math.max(max, v[i]); last = v[i]; } }
    var span = 15 * 60 * 1000, end = t.length ? t[t.length - 1] : Date.now();
    for (var j = 0; j < v.length; j++) {
      if (v[j] === null) { continue; }
      var x = 300 * (1 - (end - t[j]) / span);
      var y = 88 - (max > 0 ? 84 * v[j] / max : 0);
      pts.push(x.toFixed(1) + "," + y.toFixed(1));
    }
    svg.firstChild.setAttribute("points", pts.join(" "));
    var label = fig.querySelector("figcaption").firstChild.textContent.trim();
    var now = last === null ? "no data" : num(last, 2) + " " + unit;
    svg.setAttribute("aria-label", label + ": now " + now + ", peak " + num(max, 2) + " " + unit + " over the last 15 minutes");
    fig.querySelector(".now").textContent = now;
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("login-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var t = $("token").value.trim();
      $("token").value = "";
      if (t) { signIn(t); }
    });
    $("logout").addEventListener("click", function () { signOut("Signed out."); });
    var fromUrl = tokenFromFragment();
    if (fromUrl) { sessionStorage.setItem(KEY, fromUrl); }
    if (token()) { refresh(); } else { signOut(""); }
  });
  // a link with a token opened in a tab already on the console changes the fragment only
  window.addEventListener("hashchange", function () {
    var t = tokenFromFragment();
    if (t) { signIn(t); }
  });
})();
