// cx-reporting dashboard: plain JS, no dependencies. Every tile request
// starts at once; each tile renders when its own answers arrive.
"use strict";

const API = "/reporting/v1.2/";
const EXPORT = "/reporting/export/v1.2/";
const TOKEN_KEY = "cx-dashboard-token";
const CHANNELS = ["Email", "SMS", "Voice", "WebChat", "Facebook", "Instagram",
  "Twitter", "TrustPilot", "WhatsApp", "Telegram"];
// Okabe–Ito; each series also gets its own dash pattern.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"];
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];
const HOUR = 3600e3;
// The tenant's names (POST /reporting/v1.2/directory), loaded at sign-in.
const DIRECTORY_PATH = "directory";
// Per-advisor tiles show the first 50 advisors (by name) when none is picked.
const MAX_ADVISORS = 50;
// Rows shown by the rows view (its download has all of them).
const ROWS_SHOWN = 25;
const DAY = 24 * HOUR;

const $ = (id) => document.getElementById(id);

// ---------- time zones ----------

/** The zone's offset from UTC in ms at instant `ms`. */
function zoneOffset(ms, zone) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms))) parts[p.type] = p.value;
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of wall-clock time (y, m0, d, h, min) in `zone`. */
function zonedInstant(zone, y, m0, d, h = 0, min = 0) {
  const guess = Date.UTC(y, m0, d, h, min);
  let t = guess - zoneOffset(guess, zone);
  t = guess - zoneOffset(t, zone);
  return t;
}

/** Wall-clock fields of instant `ms` in `zone`. */
function wallClock(ms, zone) {
  const local = new Date(ms + zoneOffset(ms, zone));
  return { y: local.getUTCFullYear(), m0: local.getUTCMonth(), d: local.getUTCDate(),
    h: local.getUTCHours(), min: local.getUTCMinutes() };
}

const pad = (n) => String(n).padStart(2, "0");
function toLocalInput(ms, zone) {
  const w = wallClock(ms, zone);
  return `${w.y}-${pad(w.m0 + 1)}-${pad(w.d)}T${pad(w.h)}:${pad(w.min)}`;
}
function fromLocalInput(value, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!m) return null;
  return zonedInstant(zone, +m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
}

function validZone(zone) {
  try { new Intl.DateTimeFormat("en-US", { timeZone: zone }); return zone.length > 0; }
  catch (_) { return false; }
}

/** [from, to) of a preset, in `zone`, as instants. */
function presetRange(preset, zone, now = Date.now()) {
  const w = wallClock(now, zone);
  const day = (offset) => zonedInstant(zone, w.y, w.m0, w.d + offset);
  switch (preset) {
    case "today": return [day(0), day(1)];
    case "yesterday": return [day(-1), day(0)];
    case "last7": return [day(-6), day(1)];
    case "thisMonth": return [zonedInstant(zone, w.y, w.m0, 1), zonedInstant(zone, w.y, w.m0 + 1, 1)];
    default: return null;
  }
}

// ---------- range limits (API.md §2) ----------

function addMonthsUtc(ms, months) {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate(),
    d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}
const LIMITS = {
  Hour: { text: "24 hours", fits: (f, t) => t - f <= DAY },
  Day: { text: "31 days", fits: (f, t) => t - f <= 31 * DAY },
  Week: { text: "3 months", fits: (f, t) => t <= addMonthsUtc(f, 3) },
  Month: { text: "24 months", fits: (f, t) => t <= addMonthsUtc(f, 24) },
};
const GRANULARITIES = ["Hour", "Day", "Week", "Month"];
function fittingGranularity(from, to) {
  return GRANULARITIES.find((g) => LIMITS[g].fits(from, to)) || null;
}

// ---------- API ----------

function token() { return sessionStorage.getItem(TOKEN_KEY); }

/** POSTs `body` to a tile; resolves to {ok, status, json, cache, problem}. */
async function callTile(path, body) {
  let response;
  try {
    response = await fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token() },
      body: JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, status: 0, problem: { title: "Network error", detail: String(e.message || e) } };
  }
  const cache = response.headers.get("X-Cache");
  const retryAfter = response.headers.get("Retry-After");
  let json = null;
  try { json = await response.json(); } catch (_) { json = null; }
  if (!response.ok) {
    return { ok: false, status: response.status, cache, retryAfter,
      problem: json || { title: response.statusText } };
  }
  return { ok: true, status: response.status, json, cache };
}

/** Downloads the CSV twin of exactly the request on screen. */
async function downloadCsv(path, body, button) {
  button.disabled = true;
  const label = button.textContent;
  button.textContent = "Downloading…";
  try {
    const response = await fetch(EXPORT + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token() },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      let problem = {};
      try { problem = await response.json(); } catch (_) { /* not JSON */ }
      throw new Error(`HTTP ${response.status}: ${problem.detail || problem.title || response.statusText}`);
    }
    const blob = await response.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = path.replace(/\//g, "_") + ".csv";
    document.body.appendChild(a);
    a.click();
    // The browser reads the blob after the click, late on a busy machine:
    // keep it a minute (revoking at once loses the download).
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 60000);
    button.textContent = label;
  } catch (e) {
    button.textContent = label;
    alertIn(button.closest(".tile"), "CSV download failed: " + e.message);
  } finally {
    button.disabled = false;
  }
}

function describeFailure(r) {
  const p = r.problem || {};
  let text = r.status ? `HTTP ${r.status} ${p.title || ""}` : (p.title || "Error");
  if (p.detail) text += ": " + p.detail;
  if (Array.isArray(p.errors) && p.errors.length) {
    text += " (" + p.errors.map((e) => `${e.field}: ${e.message}`).join("; ") + ")";
  }
  if (r.status === 429) text += ` Too many requests; retry in ${r.retryAfter || "a few"} s.`;
  if (r.status === 503) text += ` The service is unavailable; retry in ${r.retryAfter || "a few"} s.`;
  if (r.status === 401) text += " Sign in again.";
  return text;
}

// ---------- directory ----------

let directory = { queues: [], users: [], accounts: [] };

function fillSelect(select, all, entries) {
  const keep = select.value;
  select.replaceChildren(el("option", { value: "", text: all }),
    ...entries.map((e) => el("option", { value: e.id, text: e.name })));
  if (entries.some((e) => e.id === keep)) select.value = keep;
}

/** Loads the names of queues, advisors and accounts into the filters. */
async function loadDirectory() {
  const note = $("directory-note");
  const r = await callTile(DIRECTORY_PATH, {});
  if (r.ok) {
    directory = r.json;
    note.className = "note";
    note.textContent = r.json.truncated ? "More than 10,000 names of a kind: the lists hold the first 10,000." : "";
  } else {
    directory = { queues: [], users: [], accounts: [] };
    note.className = "note warn";
    note.textContent = "Names unavailable: " + describeFailure(r);
  }
  fillSelect($("queue"), "All queues", directory.queues);
  fillSelect($("advisor"), "All advisors", directory.users);
}

const nameOf = (list, id) => (list.find((e) => e.id === id) || {}).name || id;
const hours = (seconds) => seconds == null ? null : Math.round(seconds / 36) / 100;

// ---------- rendering helpers ----------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text != null) node.textContent = text;
  return node;
}
function fmt(v, digits = 1) {
  if (v == null) return "–";
  return Number.isInteger(v) ? v.toLocaleString("en") : v.toLocaleString("en", { maximumFractionDigits: digits });
}
function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A bucket's label from its zoned `start` (the API gives it in the zone's offset). */
function bucketLabel(start, granularity) {
  const date = start.slice(0, 10);
  if (granularity === "Hour") return `${start.slice(5, 10)} ${start.slice(11, 16)}`;
  if (granularity === "Month") return start.slice(0, 7);
  if (granularity === "Week") return "wk " + date;
  return date;
}

function legend(names) {
  return el("div", { class: "legend", "aria-hidden": "true" },
    ...names.map((n, i) => { const s = el("span", { text: n }); s.style.setProperty("--swatch", PALETTE[i % PALETTE.length]); return s; }));
}

/** A line chart of several series over the same labels, hand-drawn SVG. */
function lineChart(title, labels, series) {
  const W = 640, H = 240, L = 44, R = 34, T = 10, B = 46;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v || 0))));
  const x = (i) => L + (labels.length <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (labels.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title + " (numbers in the table below)" });
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    root.append(svg("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    root.append(svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" }, fmt(v)));
  }
  root.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  const step = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => {
    if (i % step === 0) root.append(svg("text", { x: x(i), y: H - B + 14, "text-anchor": "middle" }, label));
  });
  series.forEach((s, n) => {
    const colour = PALETTE[n % PALETTE.length];
    const points = s.values.map((v, i) => `${x(i)},${y(v || 0)}`).join(" ");
    root.append(svg("polyline", { points, fill: "none", stroke: colour, "stroke-width": 2.5,
      "stroke-dasharray": DASHES[n % DASHES.length] }));
    s.values.forEach((v, i) => root.append(svg("circle", { cx: x(i), cy: y(v || 0), r: 3, fill: colour },
    )));
  });
  return el("div", { class: "chart" }, legend(series.map((s) => s.name)), root);
}

/** A grouped horizontal bar chart: one row per group, one bar per series. */
function barChart(title, groups, series) {
  const rowH = 10 + 12 * series.length, L = 110, R = 50, W = 640;
  const H = 10 + rowH * groups.length;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v || 0))));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title + " (numbers in the table below)" });
  groups.forEach((g, i) => {
    const top = 5 + i * rowH;
    root.append(svg("text", { x: L - 6, y: top + rowH / 2 + 4, "text-anchor": "end" }, g));
    series.forEach((s, n) => {
      const v = s.values[i] || 0;
      const w = ((W - L - R) * v) / max;
      root.append(svg("rect", { x: L, y: top + 4 + n * 12, width: Math.max(w, 0.5), height: 10,
        fill: PALETTE[n % PALETTE.length] }));
      root.append(svg("text", { x: L + w + 4, y: top + 13 + n * 12 }, s.values[i] == null ? "–" : fmt(v)));
    });
  });
  return el("div", { class: "chart" }, legend(series.map((s) => s.name)), root);
}

function table(caption, head, rows, foot) {
  const t = el("table", {},
    el("caption", { class: "visually-hidden", text: caption }),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c, i) =>
      i === 0 ? el("th", { scope: "row", text: c }) : el("td", { text: typeof c === "number" || c == null ? fmt(c) : c }))))));
  if (foot) t.append(el("tfoot", {}, el("tr", {}, ...foot.map((c) => el("td", { text: typeof c === "number" ? fmt(c) : c })))));
  return el("div", { class: "table-wrap" }, t);
}

function alertIn(tile, text) {
  if (!tile) return;
  tile.querySelector(".body").prepend(el("p", { class: "message error", role: "alert", text }));
}

// ---------- tiles ----------

/** Every tile: its requests (built from the controls) and how it renders. */
function tiles(q) {
  const filters = () => {
    const f = { from: q.from, to: q.to };
    if (q.channel) f.channels = [q.channel];
    if (q.queue) f.queues = [q.queue];
    return f;
  };
  // Live tiles take one channel (`filters.channel`) and match the queue of
  // `conversation.started`.
  const liveFilters = (channel) => {
    const f = { from: q.from, to: q.to, channel };
    if (q.queue) f.queues = [q.queue];
    return f;
  };
  const advisors = q.advisor ? [q.advisor] : directory.users.slice(0, MAX_ADVISORS).map((u) => u.id);
  const byDate = (extra) => ({ ...extra, timeZone: q.zone, filters: { ...filters(), groupBy: q.granularity } });
  const channels = q.channel ? [q.channel] : CHANNELS;
  const perChannel = (extra) => ({ ...extra, filters: { ...filters(), channels } });
  return [
    {
      id: "states", title: "Interactions received, closed and reopened",
      requests: [
        { name: "Received", path: "interactions/state/by-date",
          body: byDate({ oldState: ["Draft"], newState: ["Created", "Queued", "Automation"] }) },
        { name: "Closed", path: "interactions/state/by-date", body: byDate({ newState: ["Closed"] }) },
        { name: "Reopened", path: "interactions/state/by-date",
          body: byDate({ oldState: ["Closed"], newState: ["Queued", "Assigned", "Automation"] }) },
      ],
      render: (answers) => timeSeries("Interactions by state", q, answers, (b) => b.count),
    },
    {
      id: "closed-by-channel", title: "Closed by channel",
      requests: [{ name: "Closed", path: "interactions/state/count/by-channels",
        body: perChannel({ newState: ["Closed"] }) }],
      render: ([a]) => {
        const groups = a.json.groups;
        const total = groups.reduce((s, g) => s + g.count, 0);
        return { empty: total === 0, nodes: [
          barChart("Closed by channel", groups.map((g) => g.key), [{ name: "Closed", values: groups.map((g) => g.count) }]),
          table("Closed by channel", ["Channel", "Closed"], groups.map((g) => [g.key, g.count]), ["Total", total]),
        ] };
      },
    },
    {
      id: "closed-by-queue", title: "Closed by queue",
      requests: directory.queues.length === 0 ? [] : [{ name: "Closed", path: "interactions/state/count/by-queues",
        body: { newState: ["Closed"], filters: { ...filters(), queues: q.queue ? [q.queue] : directory.queues.map((e) => e.id) } } }],
      render: (answers) => {
        const groups = answers.length ? answers[0].json.groups : [];
        const name = (g) => g.name || nameOf(directory.queues, g.key);
        const total = groups.reduce((s, g) => s + g.count, 0);
        return { empty: total === 0, nodes: [
          barChart("Closed by queue", groups.map(name), [{ name: "Closed", values: groups.map((g) => g.count) }]),
          table("Closed by queue", ["Queue", "Closed"], groups.map((g) => [name(g), g.count]), ["Total", total]),
        ] };
      },
    },
    {
      id: "queue-time", title: "Time in queue (seconds)",
      // Needs the queue ids: found first by the rows view of the same range.
      prepare: async () => {
        const r = await callTile("view/interactions", {
          filters: { ...filters(), oldState: ["Queued"], newState: ["Assigned"] }, contexts: ["Queue"] });
        if (!r.ok) return r;
        const queues = new Map();
        for (const row of r.json.rows) {
          const queue = row.contexts && row.contexts.Queue;
          if (queue && queue.id) queues.set(queue.id, queue.name || queue.id);
        }
        return { ok: true, queues };
      },
      requests: (prep) => prep.queues.size === 0 ? [] : [{ name: "Time in queue", path: "interactions/queue-time/count/by-queues",
        body: { filters: { ...filters(), queues: [...prep.queues.keys()] } } }],
      render: (answers) => {
        if (answers.length === 0) return { empty: true, nodes: [] };
        return durationTable("Time in queue", answers[0].json.groups.map((g) => ({ key: g.name || g.key, ...g })));
      },
    },
    {
      id: "response-time", title: "Advisor response time by channel (seconds)",
      requests: [{ name: "Advisor response time", path: "messages/response-times/count/by-channels",
        body: perChannel({ responseTime: "AdvisorResponseTime" }) }],
      render: ([a]) => durationTable("Advisor response time", a.json.groups),
    },
    {
      id: "messages", title: "Messages in and out",
      requests: [
        { name: "Inbound", path: "messages/volume/by-date", body: byDate({ direction: "Inbound" }) },
        { name: "Outbound", path: "messages/volume/by-date", body: byDate({ direction: "Outbound" }) },
      ],
      render: (answers) => timeSeries("Message volume", q, answers, (b) => b.count),
    },
    ...["WebChat", "Voice"].map((channel) => ({
      id: "live-" + channel.toLowerCase(), title: `${channel} conversations ended, by outcome`,
      requests: [{ name: channel, path: "conversations/live/by-date",
        body: { newState: ["Closed"], timeZone: q.zone, filters: { ...liveFilters(channel), groupBy: q.granularity } } }],
      render: ([a]) => outcomeSeries(`${channel} conversations by outcome`, q, a),
    })),
    {
      id: "live-accounts", title: "Abandonment by account (% of ended conversations)",
      requests: ["WebChat", "Voice"].flatMap((channel) => {
        const accounts = directory.accounts.filter((a) => a.detail === channel);
        return accounts.length === 0 ? [] : [{ name: channel, path: "conversations/live/count/by-accounts/percentages",
          body: { newState: ["Closed"], filters: liveFilters(channel), accounts: accounts.map((a) => a.id) } }];
      }),
      render: accountTable,
    },
    {
      id: "advisors", title: "Advisors: contacts per hour and time logged in",
      requests: advisors.length === 0 ? [] : [{ name: "Advisor metrics", path: "advisors/metrics/count/by-users",
        body: { userIds: advisors, filters: filters() } }],
      render: advisorTable,
    },
    {
      id: "availability", title: "Availability by advisor (% of logged-in time)",
      requests: advisors.length === 0 ? [] : [{ name: "Availability", path: "presence/availability/count/by-users/percentage",
        body: { userState: "Available", userIds: advisors, filters: { from: q.from, to: q.to } } }],
      render: availabilityTable,
    },
    {
      id: "rows", title: "Closed interactions, latest first",
      requests: [{ name: "Rows", path: "view/interactions",
        body: { filters: { ...filters(), newState: ["Closed"] }, contexts: ["Queue", "User"],
          orderBy: "Descending", orderByField: "Timestamp" } }],
      render: ([a]) => rowsTable(a),
    },
  ];
}

const OUTCOMES = { total: "Ended", abandonedByCustomer: "Abandoned by customer",
  abandonedByOperator: "Abandoned by operator", abandonedInIvr: "Abandoned in IVR",
  abandoned: "Abandoned", handled: "Handled" };

/** A live by-date answer as one series per outcome, plus the total. */
function outcomeSeries(title, q, a) {
  const buckets = a.json.buckets;
  const classes = Object.keys(buckets[0] || {}).filter((k) => k !== "start" && k !== "end");
  const series = classes.map((c) => ({ name: OUTCOMES[c] || c, json: { buckets: buckets.map((b) => ({ start: b.start, count: b[c] })) } }));
  return timeSeries(title, q, series, (b) => b.count);
}

function accountTable(answers) {
  const rows = answers.flatMap((a) => a.json.groups.map((g) => {
    const abandoned = Object.keys(g).filter((k) => k.startsWith("abandoned"))
      .reduce((sum, k) => (g[k] == null ? null : (sum ?? 0) + g[k]), undefined);
    return { name: g.name || nameOf(directory.accounts, g.key), channel: a.name, total: g.total,
      abandoned: abandoned ?? null, handled: g.handled };
  }));
  const withData = rows.filter((r) => r.total > 0);
  return { empty: withData.length === 0, nodes: [
    barChart("Abandoned % by account", withData.map((r) => r.name), [{ name: "Abandoned %", values: withData.map((r) => r.abandoned) }]),
    table("Abandonment by account", ["Account", "Channel", "Ended", "Abandoned %", "Handled %"],
      rows.map((r) => [r.name, r.channel, r.total, r.abandoned, r.handled]),
      ["Total", "", rows.reduce((s, r) => s + r.total, 0), "", ""]),
  ] };
}

function advisorTable(answers) {
  const groups = answers.length ? answers[0].json.groups : [];
  const name = (g) => g.name || nameOf(directory.users, g.key);
  const active = groups.filter((g) => g.loggedInSeconds > 0 || g.contactsLoggedIn > 0);
  return { empty: active.length === 0, nodes: [
    barChart("Contacts per hour by advisor", active.map(name), [
      { name: "CPH available", values: active.map((g) => g.cphAvailable) },
      { name: "CPH logged in", values: active.map((g) => g.cphLoggedIn) }]),
    table("Advisor metrics", ["Advisor", "Contacts (logged in)", "Contacts (available)", "CPH logged in",
      "CPH available", "Logged in (h)", "Available (h)", "Unproductive %", "Avg response (s)"],
    groups.map((g) => [name(g), g.contactsLoggedIn, g.contactsAvailable, g.cphLoggedIn, g.cphAvailable,
      hours(g.loggedInSeconds), hours(g.availableSeconds), g.unproductivePercentage, g.averageResponseTime]),
    ["Total", groups.reduce((s, g) => s + g.contactsLoggedIn, 0), groups.reduce((s, g) => s + g.contactsAvailable, 0),
      "", "", "", "", "", ""]),
  ] };
}

function availabilityTable(answers) {
  const groups = answers.length ? answers[0].json.groups : [];
  const name = (g) => g.name || nameOf(directory.users, g.key);
  const active = groups.filter((g) => g.loggedInSeconds > 0);
  return { empty: active.length === 0, nodes: [
    barChart("Available % by advisor", active.map(name), [{ name: "Available %", values: active.map((g) => g.percentage) }]),
    table("Availability by advisor", ["Advisor", "Available %", "Available (h)", "Logged in (h)"],
      groups.map((g) => [name(g), g.percentage, hours(g.availableSeconds), hours(g.loggedInSeconds)])),
  ] };
}

function rowsTable(a) {
  const rows = a.json.rows;
  const context = (row, kind) => (row.contexts && row.contexts[kind] && (row.contexts[kind].name || row.contexts[kind].id)) || "–";
  const shown = rows.slice(0, ROWS_SHOWN);
  const more = rows.length >= 1000 ? "at least 1,000" : fmt(rows.length);
  return { empty: rows.length === 0, nodes: [
    el("p", { class: "note", text: `${more} closing audits in the range; the latest ${shown.length} below, all of them in the CSV.` }),
    table("Closed interactions", ["Closed at", "Reference", "Channel", "Queue", "Advisor"],
      shown.map((r) => [r.timestamp, r.reference, r.channel, context(r, "Queue"), context(r, "User")])),
  ] };
}

function timeSeries(title, q, answers, value) {
  const buckets = answers[0].json.buckets;
  const labels = buckets.map((b) => bucketLabel(b.start, q.granularity));
  const series = answers.map((a) => ({ name: a.name, values: a.json.buckets.map(value) }));
  const totals = series.map((s) => s.values.reduce((x, v) => x + (v || 0), 0));
  const rows = buckets.map((b, i) => [b.start, ...series.map((s) => s.values[i])]);
  return { empty: totals.every((t) => t === 0), nodes: [
    lineChart(title, labels, series),
    table(title, ["Bucket start", ...series.map((s) => s.name)], rows, ["Total", ...totals]),
  ] };
}

function durationTable(title, groups) {
  const withData = groups.filter((g) => g.count > 0);
  return { empty: withData.length === 0, nodes: [
    barChart(title, withData.map((g) => g.name || g.key),
      [{ name: "p50", values: withData.map((g) => g.p50) }, { name: "p90", values: withData.map((g) => g.p90) }]),
    table(title, ["Group", "Count", "p50", "p90", "Average"],
      groups.map((g) => [g.name || g.key, g.count, g.p50, g.p90, g.average]),
      ["Total", groups.reduce((s, g) => s + g.count, 0), "", "", ""]),
  ] };
}

function tileShell(tile) {
  const node = el("section", { class: "tile", id: "tile-" + tile.id, "aria-labelledby": "h-" + tile.id, "aria-busy": "true" },
    el("h2", { id: "h-" + tile.id, text: tile.title }),
    el("div", { class: "meta" }, el("span", { class: "state", role: "status", text: "Loading…" }), el("span", { class: "cache" })),
    el("div", { class: "body" }),
    el("div", { class: "downloads" }));
  return node;
}

async function runTile(tile, node) {
  const state = node.querySelector(".state");
  const body = node.querySelector(".body");
  const downloads = node.querySelector(".downloads");
  let requests = tile.requests;
  if (tile.prepare) {
    const prep = await tile.prepare();
    if (!prep.ok) return fail(node, state, body, [prep]);
    requests = tile.requests(prep);
  }
  const answers = await Promise.all(requests.map((r) => callTile(r.path, r.body).then((a) => ({ ...a, ...r }))));
  const failed = answers.filter((a) => !a.ok);
  if (failed.length) return fail(node, state, body, failed);
  const cache = node.querySelector(".cache");
  cache.replaceChildren(...answers.map((a) => el("span", { class: "badge", title: a.path,
    text: `${a.name}: X-Cache ${a.cache || "none"}` })));
  const view = tile.render(answers);
  // An empty range says so and keeps its table of zeros, with no chart.
  body.replaceChildren(...(view.empty
    ? [el("p", { class: "message", role: "status", text: "No data in this range." }),
      ...view.nodes.filter((n) => !n.classList.contains("chart"))]
    : view.nodes));
  downloads.replaceChildren(...requests.map((r) => {
    const b = el("button", { type: "button", class: "secondary", text: `Download CSV${requests.length > 1 ? " (" + r.name + ")" : ""}` });
    b.addEventListener("click", () => downloadCsv(r.path, r.body, b));
    return b;
  }));
  state.textContent = view.empty ? "Empty range" : "Loaded";
  state.className = "state";
  node.setAttribute("aria-busy", "false");
  node.dataset.state = view.empty ? "empty" : "loaded";
}

function fail(node, state, body, failed) {
  state.textContent = "Error";
  state.className = "state error";
  body.replaceChildren(...failed.map((f) => el("p", { class: "message error", role: "alert", text: describeFailure(f) })));
  node.querySelector(".downloads").replaceChildren();
  node.setAttribute("aria-busy", "false");
  node.dataset.state = "error";
  if (failed.some((f) => f.status === 401)) showSignIn("Your token was refused (401); sign in again.");
}

// ---------- controls ----------

function readControls() {
  const zone = $("zone").value.trim();
  if (!validZone(zone)) return { error: `"${zone}" is not an IANA time zone this browser knows.` };
  const from = fromLocalInput($("from").value, zone);
  const to = fromLocalInput($("to").value, zone);
  if (from == null || to == null) return { error: "Give both a start and an end." };
  if (to <= from) return { error: "The end must be after the start." };
  return { zone, from: new Date(from).toISOString(), to: new Date(to).toISOString(),
    fromMs: from, toMs: to, granularity: $("granularity").value, channel: $("channel").value,
    queue: $("queue").value, advisor: $("advisor").value };
}

function applyPreset() {
  const zone = $("zone").value.trim();
  if (!validZone(zone)) return;
  const range = presetRange($("preset").value, zone);
  if (!range) return;
  $("from").value = toLocalInput(range[0], zone);
  $("to").value = toLocalInput(range[1], zone);
}

function refresh() {
  const note = $("range-note");
  note.className = "note";
  const q = readControls();
  if (q.error) { note.className = "note warn"; note.textContent = q.error; return; }
  if (!LIMITS.Month.fits(q.fromMs, q.toMs)) {
    note.className = "note warn";
    note.textContent = "Every report covers at most 24 months; shorten the range.";
    return;
  }
  if (!LIMITS[q.granularity].fits(q.fromMs, q.toMs)) {
    const fits = fittingGranularity(q.fromMs, q.toMs);
    note.className = "note warn";
    note.textContent = `By ${q.granularity} covers at most ${LIMITS[q.granularity].text}; this range is longer. `;
    const use = el("button", { type: "button", text: `Use ${fits}` });
    use.addEventListener("click", () => { $("granularity").value = fits; refresh(); });
    note.append(use);
    return;
  }
  note.textContent = `From ${q.from} to ${q.to} (UTC), buckets by ${q.granularity} in ${q.zone}.`;
  const container = $("tiles");
  const list = tiles(q);
  container.replaceChildren(...list.map(tileShell));
  // All tiles at once; none waits on another.
  Promise.all(list.map((tile) => runTile(tile, $("tile-" + tile.id))));
}

// ---------- sign-in ----------

function showSignIn(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $("sign-in").hidden = false;
  $("dashboard").hidden = true;
  $("sign-out").hidden = true;
  $("who").textContent = "Not signed in";
  $("sign-in-error").textContent = message || "";
}

function showDashboard() {
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = "Signed in (token kept for this tab)";
  loadDirectory().then(refresh);
}

async function signInWithCredentials(event) {
  event.preventDefault();
  const form = new URLSearchParams({ grant_type: "client_credentials",
    client_id: $("client-id").value.trim(), client_secret: $("client-secret").value });
  $("sign-in-error").textContent = "";
  try {
    const response = await fetch("/oauth/token", { method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form });
    const json = await response.json().catch(() => ({}));
    if (!response.ok || !json.access_token) {
      $("sign-in-error").textContent = `Sign-in refused (HTTP ${response.status}): ${json.detail || json.title || "no token"}`;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, json.access_token);
    $("client-secret").value = "";
    showDashboard();
  } catch (e) {
    $("sign-in-error").textContent = "Network error: " + (e.message || e);
  }
}

function signInWithToken(event) {
  event.preventDefault();
  const value = $("pasted-token").value.trim().replace(/^Bearer\s+/i, "");
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  $("pasted-token").value = "";
  showDashboard();
}

function init() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  $("zone").value = zone;
  if (Intl.supportedValuesOf) {
    $("zones").replaceChildren(...Intl.supportedValuesOf("timeZone").map((z) => el("option", { value: z })));
  }
  $("channel").append(...CHANNELS.map((c) => el("option", { value: c, text: c })));
  applyPreset();
  $("preset").addEventListener("change", () => {
    const p = $("preset").value;
    if (p === "today" || p === "yesterday") $("granularity").value = "Hour";
    else if (p !== "custom") $("granularity").value = "Day";
    applyPreset();
  });
  $("zone").addEventListener("change", applyPreset);
  for (const id of ["from", "to"]) $(id).addEventListener("change", () => { $("preset").value = "custom"; });
  $("controls").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  $("credentials-form").addEventListener("submit", signInWithCredentials);
  $("token-form").addEventListener("submit", signInWithToken);
  $("sign-out").addEventListener("click", () => showSignIn("Signed out."));
  if (token()) showDashboard(); else showSignIn("");
}

document.addEventListener("DOMContentLoaded", init);
