// mamori's dashboard: plain JavaScript over the JSON API v1 (docs/API.md), no
// framework and no build step. Every text from the server goes into the page
// through textContent, never as HTML. Reads need no token from this host;
// writes (run now, maintenance) always send the bearer token the operator
// entered, kept in this tab's sessionStorage only.
"use strict";

const REFRESH_MS = 5000;
// While the event stream (/api/v1/events) is open, changes arrive as they
// happen; a full refresh (summaries, uptime) then runs only this often.
const LIVE_REFRESH_MS = 60000;
// The stream opens once the page has been open this long (polling until
// then): a page glanced at and closed takes none of the daemon's 32 stream
// slots, and renderers that wait for the network to go quiet before taking a
// snapshot (headless Chromium's --virtual-time-budget) still get one.
const LIVE_AFTER_MS = 10000;
const WINDOWS = ["24h", "7d", "30d", "90d"];
const STEPS = { "24h": "15m", "7d": "1h", "30d": "6h", "90d": "1d" };
const state = { checks: [], uptime: {}, selected: null, range: "24h", chart: null, token: "",
  live: false, lastRefresh: 0, soon: 0 };

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

function ago(iso) {
  if (!iso) return "";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 90) return Math.round(s) + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 129600) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}

function pct(counts) {
  if (!counts || counts.uptime === null || counts.uptime === undefined) return "–";
  const p = 100 * counts.uptime;
  return (p === 0 || p === 100 ? p.toFixed(0) : p.toFixed(2)) + "%";
}

function ms(v) {
  if (v === null || v === undefined) return "";
  return v >= 10 ? Math.round(v) : v.toFixed(1);
}

function problem(text) {
  $("problem").hidden = !text;
  $("problem").textContent = text || "";
}

async function api(path, options) {
  const opts = Object.assign({ headers: {} }, options || {});
  if (state.token) opts.headers["Authorization"] = "Bearer " + state.token;
  const r = await fetch(path, opts);
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (r.status === 401 && !state.token) {
    throw new Error("this needs a token (api.tokens in the configuration): use the Token button");
  }
  if (!r.ok) throw new Error((body && (body.error + (body.detail ? ": " + body.detail : ""))) || ("HTTP " + r.status));
  return body;
}

async function refresh() {
  state.lastRefresh = Date.now();
  try {
    const checks = await api("/api/v1/checks");
    const uptimes = await Promise.all(WINDOWS.map((w) => api("/api/v1/uptime?window=" + w)));
    state.checks = checks.checks;
    state.uptime = {};
    uptimes.forEach((u, i) => u.checks.forEach((c) => {
      (state.uptime[c.name] = state.uptime[c.name] || {})[WINDOWS[i]] = c;
    }));
    renderChecks(checks.generated);
    renderIncidents($("incidents"), (await api("/api/v1/incidents?window=30d")).incidents, true);
    if (state.selected) await renderDetail(false);
    problem("");
  } catch (e) {
    problem("Cannot read the API: " + e.message);
    $("freshness").textContent = "not updating";
  }
}

function renderChecks(generated) {
  const body = $("checks").tBodies[0];
  body.replaceChildren();
  const counts = {};
  let newest = 0;
  for (const c of state.checks) {
    counts[c.status] = (counts[c.status] || 0) + 1;
    if (c.last_run) newest = Math.max(newest, Date.parse(c.last_run));
    const badge = el("span", { class: "status " + c.status }, c.status);
    const name = el("td", {}, c.name);
    if (c.acknowledged) name.append(el("span", { class: "tag" }, "acknowledged" + (c.acknowledged_by ? " by " + c.acknowledged_by : "")));
    if (c.in_maintenance) name.append(el("span", { class: "tag" }, "maintenance"));
    if (c.flapping) name.append(el("span", { class: "tag" }, "flapping"));
    const up = state.uptime[c.name] || {};
    const row = el("tr", { "data-check": c.name, onclick: () => select(c.name) },
      name, el("td", {}, badge), el("td", {}, ago(c.since)), el("td", { class: "wide" }, c.summary),
      el("td", {}, ms(c.response_ms)), ...WINDOWS.map((w) => el("td", {}, pct(up[w]))));
    if (c.name === state.selected) row.classList.add("selected");
    body.append(row);
  }
  $("counts").textContent = Object.entries(counts).map(([s, n]) => n + " " + s).join(", ");
  const age = newest ? (Date.now() - newest) / 1000 : Infinity;
  $("freshness").textContent = "updated " + new Date(generated).toLocaleTimeString() +
    (newest ? "; newest result " + ago(new Date(newest).toISOString()) : "; no results yet") +
    (age > 300 && newest ? " (stale: are the checks running?)" : "");
}

function renderIncidents(list, incidents, withCheck) {
  list.replaceChildren();
  if (!incidents.length) list.append(el("li", { class: "muted" }, "none"));
  for (const i of incidents.slice(0, 50)) {
    const li = el("li", {}, el("span", { class: "status " + i.status }, i.status), " ",
      withCheck ? el("strong", {}, i.check) : "", withCheck ? " " : "", i.summary, " ",
      el("span", { class: "when" }, i.started.replace("T", " ").replace("Z", " UTC") +
        (i.ended ? " → recovered " + ago(i.ended) : " → still open")));
    for (const n of i.notes || []) li.append(el("div", { class: "when" }, "note" + (n.by ? " by " + n.by : "") + ": ", n.text));
    list.append(li);
  }
}

async function select(name) {
  state.selected = name;
  history.replaceState(null, "", "#check=" + encodeURIComponent(name));
  $("detail").hidden = false;
  for (const tr of $("checks").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.check === name);
  await renderDetail(true);
  $("detail").scrollIntoView({ block: "nearest" });
}

async function renderDetail(resetZoom) {
  const c = state.checks.find((x) => x.name === state.selected);
  if (!c) { $("detail").hidden = true; return; }
  $("detail-name").textContent = c.name + " (" + c.type + ")";
  $("detail-summary").textContent = c.status + " since " + ago(c.since) + ": " + c.summary;
  for (const b of document.querySelectorAll("[data-range]")) b.classList.toggle("active", b.dataset.range === state.range);
  const since = new Date(Date.now() - { "24h": 1, "7d": 7, "30d": 30, "90d": 90 }[state.range] * 86400e3).toISOString();
  const hist = await api("/api/v1/checks/" + encodeURIComponent(c.name) + "/history?since=" + since + "&step=" + STEPS[state.range]);
  if (resetZoom || !state.chart) drawChart(hist.buckets); else updateChart(hist.buckets);
  renderIncidents($("detail-incidents"),
    (await api("/api/v1/incidents?window=90d&check=" + encodeURIComponent(c.name))).incidents, false);
}

function series(buckets) {
  const t = [], avg = [], max = [], down = [];
  for (const b of buckets) {
    t.push(Date.parse(b.start) / 1000);
    avg.push(b.avg_response_ms);
    max.push(b.max_response_ms);
    down.push(b.uptime === null ? null : 100 * (1 - b.uptime));
  }
  return [t, avg, max, down];
}

function drawChart(buckets) {
  if (state.chart) state.chart.destroy();
  const width = Math.max(300, $("chart").clientWidth - 2);
  state.chart = new uPlot({
    width, height: 220,
    // Points as well as lines: a new check has only a bucket or two.
    series: [{}, { label: "avg ms", stroke: "#1e63c6", width: 1.5, points: { show: true, size: 5 } },
             { label: "max ms", stroke: "#9bb7e6", width: 1, points: { show: true, size: 4 } },
             { label: "failed %", stroke: "#c62828", scale: "%", width: 1, points: { show: true, size: 4 } }],
    axes: [{}, { label: "ms" }, { scale: "%", side: 1, grid: { show: false } }],
    scales: { "%": { range: [0, 100] } },
    cursor: { drag: { x: true, y: false } },
  }, series(buckets), $("chart"));
}

function updateChart(buckets) { state.chart.setData(series(buckets), false); }

async function write(path, body) {
  if (!state.token) { askToken(); if (!state.token) return; }
  try {
    await api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
    problem("");
    await refresh();
  } catch (e) { problem(path + ": " + e.message); }
}

function askToken() {
  const t = window.prompt("Bearer token (api.tokens; write scope for actions). Kept in this tab only.", state.token);
  if (t === null) return;
  state.token = t.trim();
  sessionStorage.setItem("mamori-token", state.token);
}

function wire() {
  state.token = sessionStorage.getItem("mamori-token") || "";
  $("token-button").addEventListener("click", () => { askToken(); refresh(); });
  for (const b of document.querySelectorAll("[data-range]"))
    b.addEventListener("click", () => { state.range = b.dataset.range; renderDetail(true); });
  $("run-now").addEventListener("click", () => write("/api/v1/checks/" + encodeURIComponent(state.selected) + "/run"));
  $("maintenance").addEventListener("click", () =>
    write("/api/v1/maintenance", { duration: "1h", checks: [state.selected], reason: "from the dashboard" }));
  $("ack").addEventListener("click", async () => {
    try {
      await api("/api/v1/ack/" + encodeURIComponent(state.selected) + "?by=dashboard", { method: "POST" });
      await refresh();
    } catch (e) { problem("acknowledge: " + e.message); }
  });
  window.addEventListener("resize", () => { if (state.chart) state.chart.setSize({ width: Math.max(300, $("chart").clientWidth - 2), height: 220 }); });
  // A link to one check: /#check=NAME opens its detail.
  refresh().then(() => {
    const m = location.hash.match(/^#check=(.+)$/);
    if (m) select(decodeURIComponent(m[1]));
  });
  setTimeout(listen, LIVE_AFTER_MS);
  setInterval(() => {
    if (!state.live || Date.now() - state.lastRefresh >= LIVE_REFRESH_MS) refresh();
  }, REFRESH_MS);
}

// Live updates: each `check` event updates its row at once, and a full
// refresh follows shortly for the incidents and uptime. Polling every
// REFRESH_MS takes over whenever the stream is not open (refused: too many
// streams, or a token is needed, which EventSource cannot send; or the
// daemon restarting, after which the browser reconnects by itself).
function listen() {
  if (!window.EventSource) return;
  const es = new EventSource("/api/v1/events");
  es.addEventListener("open", () => { state.live = true; document.body.dataset.live = "yes"; });
  es.addEventListener("error", () => { state.live = false; document.body.dataset.live = "no"; });
  es.addEventListener("check", (m) => {
    let c;
    try { c = JSON.parse(m.data); } catch (e) { return; }
    const known = state.checks.find((x) => x.name === c.name);
    if (known) {
      for (const k of ["status", "since", "last_run", "summary", "response_ms", "flapping"]) known[k] = c[k];
      // A burst of events (a network blip flipping many checks) redraws the
      // table once per frame, not once per event.
      if (!state.drawPending) {
        state.drawPending = true;
        requestAnimationFrame(() => {
          state.drawPending = false;
          renderChecks(new Date().toISOString());
        });
      }
    }
    // One refresh a second at most while events keep coming; pushing it back
    // on every event would starve it.
    if (!state.soon) state.soon = setTimeout(() => { state.soon = 0; refresh(); }, 1000);
  });
}

document.addEventListener("DOMContentLoaded", wire);
