// aexy-stream dashboard: the snapshot first (GET /api/state), then every change as it happens
// (GET /api/events, Server-Sent Events). No framework and no build step. Every text that comes from a
// result is set with textContent, never parsed as HTML.
"use strict";

const FEED_LIMIT = 500;
const FEED_SHOWN = 200;
const RISKS = ["attrition", "burnout"];
const LEVEL_TONE = {
  low: "good", healthy: "good", improving: "good", accelerating: "good", positive: "good",
  medium: "warn", watch: "warn", stable: "calm", steady: "calm", neutral: "calm",
  high: "bad", at_risk: "bad", declining: "bad", plateauing: "warn", negative: "bad",
  critical: "worst",
};
const TYPE_LABEL = {
  code_quality: "code quality", code_complexity: "code complexity", skill_extraction: "skills",
  developer_profile: "profile", soft_skills: "soft skills", growth_trajectory: "growth",
  task_signals: "task signals", task_matching: "task matching", attrition_risk: "attrition risk",
  burnout_risk: "burnout risk", performance_trajectory: "performance", team_health: "team health",
  learning_path: "learning path", job_description: "job description", interview_rubric: "interview rubric",
};

const SHORT_TIME = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };

const S = {
  id: "",
  status: { ready: false, read: 0, to_read: 0, error: "" },
  connected: false,
  hideRisks: false,
  teams: new Map(),
  people: new Map(),
  entries: new Map(),
  history: new Map(),
  skills: new Map(),
  feed: [],
  paused: false,
  waiting: [],
  open: new Set(),
  selected: "",
  source: null,
};

const CACHE = { people: new Map(), feed: new Map() };
/* The DOM of rows that did not change since they were built: a burst of results changes a few rows a
   frame, and rebuilding hundreds of unchanged ones would keep the page from answering. */

// -- small helpers -------------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fixed(value, digits = 2) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function when(at) {
  if (!at) return "–";
  const seconds = Math.max(0, Date.now() / 1000 - at);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

function iso(at) {
  return at ? new Date(at * 1000).toISOString() : "";
}

function level(word) {
  if (!word) return h("span", { class: "level none" }, "–");
  return h("span", { class: `level ${LEVEL_TONE[word] || "calm"}` }, word.replace("_", " "));
}

function subjectName(subject, pseudonym) {
  return h("span", { class: "subject" }, subject,
    pseudonym ? h("span", { class: "tag", title: "a pseudonym: the dashboard cannot tell who it is" }, "pseudonym") : null);
}

function sparkline(values, label) {
  const points = values.filter((v) => v !== null && v !== undefined);
  const width = 120, height = 28, pad = 3;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${label}: ${points.length} points`);
  if (points.length === 0) return svg;
  const low = Math.min(...points), high = Math.max(...points);
  const span = high - low;
  const step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
  const y = (v) => (span ? height - pad - ((v - low) / span) * (height - 2 * pad) : height / 2);
  const xy = points.map((v, i) => [pad + i * step, y(v)]);
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "));
  svg.append(line);
  const [lx, ly] = xy[xy.length - 1];
  const dot = document.createElementNS("http://www.w3.org/2000/svg", "circle");
  dot.setAttribute("cx", lx.toFixed(1));
  dot.setAttribute("cy", ly.toFixed(1));
  dot.setAttribute("r", "2.5");
  svg.append(dot);
  return svg;
}

function gauge(score, word) {
  const value = Math.max(0, Math.min(1, Number(score) || 0));
  const fill = h("div", { class: "fill" });
  fill.style.width = `${(value * 100).toFixed(0)}%`;  // CSSOM: the policy allows no inline style attribute
  return h("div", { class: `gauge ${LEVEL_TONE[word] || "calm"}`, role: "meter", "aria-valuemin": 0,
    "aria-valuemax": 1, "aria-valuenow": value, title: `health score ${fixed(value)}` }, fill, h("span", {}, fixed(value)));
}

function list(items, empty) {
  if (!items || items.length === 0) return h("p", { class: "muted" }, empty || "none");
  return h("ul", {}, items.map((item) => h("li", {}, item)));
}

function factors(items) {
  if (!items || items.length === 0) return h("p", { class: "muted" }, "no factors");
  return h("table", { class: "factors" },
    h("thead", {}, h("tr", {}, h("th", {}, "factor"), h("th", {}, "weight"), h("th", {}, "evidence"))),
    h("tbody", {}, items.map((f) => h("tr", {}, h("td", {}, f.factor), h("td", { class: "num" }, fixed(f.weight)),
      h("td", {}, f.evidence)))));
}

// -- the URL: the view, the developer, the feed's filters, the people table's sort ---------------------

function params() {
  return new URLSearchParams(location.search);
}

function setParams(changes, push) {
  const query = params();
  for (const [name, value] of Object.entries(changes)) {
    if (value) query.set(name, value);
    else query.delete(name);
  }
  const url = `${location.pathname}?${query.toString()}`;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
  schedule();
}

function currentView() {
  const view = params().get("view") || "team";
  return ["team", "people", "developer", "feed"].includes(view) ? view : "team";
}

function filters() {
  const query = params();
  return {
    type: query.get("type") || "",
    subject: query.get("subject") || "",
    repository: query.get("repository") || "",
    level: query.get("level") || "",
  };
}

function matches(entry, f) {
  if (f.type && entry.type !== f.type) return false;
  if (f.subject && !entry.subject.toLowerCase().includes(f.subject.toLowerCase())) return false;
  if (f.repository && !entry.repositories.includes(f.repository)) return false;
  return !f.level || entry.level === f.level;
}

// -- state ---------------------------------------------------------------------------------------------

function load(state) {
  CACHE.people.clear();
  CACHE.feed.clear();
  S.id = state.id;
  S.status = state.status;
  S.hideRisks = state.hide_risks;
  S.teams = new Map(state.teams.map((row) => [row.repository, row]));
  S.people = new Map(state.people.map((row) => [row.subject, row]));
  S.entries = new Map(state.entries.map((entry) => [entry.key, entry]));
  S.history = new Map(Object.entries(state.history));
  S.skills = new Map(Object.entries(state.skills));
  if (S.paused) {
    const shown = new Set(S.feed.map((entry) => entry.request_id));
    S.waiting = state.feed.filter((entry) => !shown.has(entry.request_id));
  } else {
    S.feed = state.feed.slice(0, FEED_LIMIT);
  }
  schedule();
}

function applyResult(data) {
  const entry = data.entry;
  S.entries.set(entry.key, entry);
  S.history.set(entry.key, data.history);
  if (data.team) S.teams.set(data.team.repository, data.team);
  for (const row of data.people) S.people.set(row.subject, row);
  if (data.skills) S.skills.set(entry.subject, data.skills);
  const known = S.feed.some((e) => e.request_id === entry.request_id)
    || S.waiting.some((e) => e.request_id === entry.request_id);
  if (!known) {
    if (S.paused) S.waiting.unshift(entry);
    else S.feed.unshift(entry);
    S.waiting.length = Math.min(S.waiting.length, FEED_LIMIT);
    S.feed.length = Math.min(S.feed.length, FEED_LIMIT);
  }
  schedule();
}

function connect() {
  if (S.source) S.source.close();
  const source = new EventSource(`/api/events?after=${encodeURIComponent(S.id)}`);
  S.source = source;
  source.addEventListener("open", () => { S.connected = true; schedule(); });
  source.addEventListener("error", () => { S.connected = false; schedule(); });
  source.addEventListener("snapshot", (event) => { INBOX.clear(); load(JSON.parse(event.data)); });
  source.addEventListener("result", (event) => { S.id = event.lastEventId; INBOX.put(event.data); });
  source.addEventListener("status", (event) => { S.id = event.lastEventId; S.status = JSON.parse(event.data); schedule(); });
}

// -- the inbox: results applied in short slices, not while the browser hands them over ----------------

const SLICE_MS = 8;
const INBOX = {
  /* A burst arrives as hundreds of events in one task of the browser's; each only queues its text
     here. They are parsed and applied in slices of SLICE_MS, each its own task, so clicks, scrolling
     and frames get their turn between slices. Applying coalesces: the state keeps one entry per key,
     and the next render draws each changed row once, however many results it got meanwhile. */
  queue: [],
  head: 0,
  waking: false,
  channel: new MessageChannel(),
  put(data) {
    this.queue.push(data);
    if (!this.waking) { this.waking = true; this.channel.port2.postMessage(null); }
  },
  clear() {
    this.queue = [];
    this.head = 0;
  },
  slice() {
    this.waking = false;
    const until = performance.now() + SLICE_MS;
    while (this.head < this.queue.length && performance.now() < until) {
      const data = this.queue[this.head];
      this.queue[this.head++] = null;
      applyResult(JSON.parse(data));
    }
    if (this.head < this.queue.length) { this.waking = true; this.channel.port2.postMessage(null); }
    else this.clear();
  },
};
INBOX.channel.port1.onmessage = () => INBOX.slice();

async function start() {
  bindControls();
  const response = await fetch("/api/state", { credentials: "same-origin" });
  if (response.status === 401) { location.href = "/login"; return; }
  load(await response.json());
  connect();
}

// -- rendering: at most once a frame, only the view on screen -------------------------------------------

const RENDER_GAP_MS = 150;
let scheduled = false;
let renderedAt = 0;
function schedule() {
  /* At most one render a frame, and during a stream of results at most one per RENDER_GAP_MS: the
     main thread stays free for clicks and scrolling between them. */
  if (scheduled) return;
  scheduled = true;
  const wait = Math.max(0, renderedAt + RENDER_GAP_MS - performance.now());
  setTimeout(() => requestAnimationFrame(() => { scheduled = false; renderedAt = performance.now(); render(); }), wait);
}

function render() {
  const view = currentView();
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.dataset.view !== view;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.view === view || (view === "developer" && link.dataset.view === "people"));
  }
  if (view === "team") renderTeams();
  else if (view === "people") renderPeople();
  else if (view === "developer") renderDeveloper(params().get("dev") || "");
  else renderFeed();
  renderStatus();  // after the view: the people table measures itself first, before anything changed
}

function renderStatus() {
  const status = S.status;
  const banner = document.getElementById("catching-up");
  banner.hidden = status.ready;
  banner.textContent = status.ready ? "" : (status.error
    ? `Not reading the results: ${status.error}. Retrying…`
    : `Catching up with the results topic: ${status.read.toLocaleString()} of ${status.to_read.toLocaleString()} records read. What is shown is not complete yet.`);
  const line = document.getElementById("status");
  const live = S.connected ? "live" : "reconnecting…";
  line.textContent = status.error && status.ready ? `${live} · ${status.error}` : `${live} · ${S.entries.size.toLocaleString()} keys · ${status.read.toLocaleString()} records read`;
  line.className = S.connected && !status.error ? "ok" : "warn";
}

function renderTeams() {
  const rows = [...S.teams.values()].sort((a, b) => a.score - b.score || a.repository.localeCompare(b.repository));
  const box = document.getElementById("teams");
  document.getElementById("teams-empty").hidden = rows.length > 0;
  box.replaceChildren(...rows.map((row) => h("article", { class: "card team", "data-repository": row.repository },
    h("header", {}, h("h3", {}, subjectName(row.repository, row.pseudonym)), level(row.level)),
    gauge(row.score, row.level),
    h("dl", { class: "facts" },
      h("dt", {}, "bus factor"), h("dd", {}, String(row.bus_factor)),
      h("dt", {}, "workload balance"), h("dd", {}, fixed(row.workload_balance)),
      h("dt", {}, "collaboration"), h("dd", {}, fixed(row.collaboration)),
      h("dt", {}, "trend"), h("dd", {}, sparkline(row.trend, "health score"),
        row.change === null ? "" : h("span", { class: row.change >= 0 ? "up" : "down" }, ` ${row.change >= 0 ? "+" : ""}${fixed(row.change)}`))),
    h("h4", {}, "Risks"), factors(row.risks),
    h("h4", {}, "Recommendations"), list(row.recommendations),
    h("p", { class: "muted", title: iso(row.at) }, `as of ${when(row.at)}`))));
}

const PEOPLE_COLUMNS = [
  { id: "subject", label: "Developer" },
  { id: "attrition", label: "Attrition risk", risk: true },
  { id: "burnout", label: "Burnout risk", risk: true },
  { id: "performance", label: "Performance" },
  { id: "last_activity", label: "Last activity" },
  { id: "repositories", label: "Repositories", unsorted: true },
];

function peopleColumns() {
  return PEOPLE_COLUMNS.filter((column) => !(column.risk && S.hideRisks));
}

function sortValue(row, column) {
  if (column === "subject") return row.subject;
  if (column === "last_activity") return row.last_activity;
  return row[column] ? row[column].score : null;
}

function sortedPeople() {
  const spec = params().get("sort") || (S.hideRisks ? "-last_activity" : "-attrition");
  const column = spec.replace(/^-/, ""), descending = spec.startsWith("-");
  const rows = [...S.people.values()].sort((a, b) => a.subject.localeCompare(b.subject));
  const present = rows.filter((row) => sortValue(row, column) !== null && sortValue(row, column) !== undefined);
  const missing = rows.filter((row) => sortValue(row, column) === null || sortValue(row, column) === undefined);
  present.sort((a, b) => {
    const x = sortValue(a, column), y = sortValue(b, column);
    const order = typeof x === "string" ? x.localeCompare(y) : x - y;
    return descending ? -order : order;
  });
  return { rows: present.concat(missing), spec };
}

function renderPeople() {
  const tbody = document.getElementById("people-body");
  const { rows, spec } = sortedPeople();
  const [first, last] = shownRange(tbody, rows.length);  // before any change: the last frame's layout
  const columns = peopleColumns();
  document.getElementById("people-head").replaceChildren(...columns.map((column) => {
    const state = spec === column.id ? "ascending" : spec === `-${column.id}` ? "descending" : "none";
    if (column.unsorted) return h("th", {}, column.label);
    return h("th", { "aria-sort": state },
      h("button", { type: "button", "data-sort": column.id, onclick: () => {
        const next = state === "descending" ? column.id : `-${column.id}`;
        setParams({ sort: next });
      } }, column.label, state === "ascending" ? " ▲" : state === "descending" ? " ▼" : ""));
  }));
  document.getElementById("people-empty").hidden = rows.length > 0;
  const body = [];
  const minute = Math.floor(Date.now() / 60000);
  for (const row of rows.slice(first, last)) {
    const open = S.open.has(row.subject);
    const cached = CACHE.people.get(row.subject);
    if (cached && cached.row === row && cached.open === open && cached.minute === minute) {
      body.push(...cached.nodes);  // unchanged since the last frame: reused, not built again
      continue;
    }
    const nodes = personRows(row, open, columns.length);
    CACHE.people.set(row.subject, { row, open, minute, nodes });
    body.push(...nodes);
  }
  if (first > 0) body.unshift(spacer("above", first, columns.length));
  if (last < rows.length) body.push(spacer("below", rows.length - last, columns.length));
  patch(tbody, body);
  document.getElementById("people-csv").href = `/api/export.csv?table=people&sort=${encodeURIComponent(spec)}`;
}

// Only the rows on screen (and OVERSCAN_ROWS either side) are in the table once it has more than
// WINDOW_ROWS: the rest are two spacer rows of their estimated height. A burst changes every row,
// and laying out hundreds of rows nobody sees kept the page from answering for a third of a second.
const WINDOW_ROWS = 120;
const OVERSCAN_ROWS = 15;
const SPACERS = { above: null, below: null };
let rowPx = 36;

function shownRange(tbody, count) {
  if (count <= WINDOW_ROWS) return [0, count];
  const sample = tbody.querySelector("tr.row");
  if (sample) rowPx = sample.getBoundingClientRect().height || rowPx;  // laid out last frame: no new layout
  const top = tbody.getBoundingClientRect().top;  // the first row's place: negative once scrolled past
  const first = Math.max(0, Math.floor(-top / rowPx) - OVERSCAN_ROWS);
  const last = Math.min(count, Math.ceil((window.innerHeight - top) / rowPx) + OVERSCAN_ROWS);
  return [Math.min(first, Math.max(0, count - 1)), Math.max(last, Math.min(count, first + 1))];
}

function spacer(where, rows, width) {
  /* One row standing for `rows` rows not built; kept from frame to frame (only its height changes). */
  let node = SPACERS[where];
  if (!node || node.firstChild.colSpan !== width) {
    node = SPACERS[where] = h("tr", { class: "spacer", "aria-hidden": "true" }, h("td", { colspan: width }));
  }
  node.firstChild.style.height = `${(rows * rowPx).toFixed(0)}px`;  // CSSOM: no inline style attribute
  return node;
}

function personRows(row, open, width) {
  const cells = [h("td", {}, h("a", { href: `?view=developer&dev=${encodeURIComponent(row.subject)}`,
    onclick: (event) => { event.preventDefault(); event.stopPropagation(); setParams({ view: "developer", dev: row.subject }, true); } },
    subjectName(row.subject, row.pseudonym)))];
  for (const name of S.hideRisks ? [] : RISKS) cells.push(riskCell(row[name]));
  cells.push(performanceCell(row.performance));
  cells.push(h("td", { title: iso(row.last_activity) }, when(row.last_activity)));
  cells.push(h("td", { class: "repos" }, row.repositories.join(", ") || "–"));
  const nodes = [h("tr", { class: open ? "row open" : "row", "data-subject": row.subject, "aria-expanded": String(open),
    onclick: () => { if (open) S.open.delete(row.subject); else S.open.add(row.subject); schedule(); } }, cells)];
  if (open) nodes.push(h("tr", { class: "details" }, h("td", { colspan: width }, personDetails(row))));
  return nodes;
}

function riskCell(risk) {
  if (!risk) return h("td", { class: "muted" }, "–");
  return h("td", {}, level(risk.level), " ", h("span", { class: "num" }, fixed(risk.score)), trendMark(risk.trend));
}

function trendMark(trend) {
  /* The last change as an arrow (the developer's page draws the whole line). */
  if (!trend || trend.length < 2) return null;
  const change = trend[trend.length - 1] - trend[trend.length - 2];
  if (Math.abs(change) < 0.005) return h("span", { class: "muted", title: "unchanged" }, " →");
  return h("span", { class: change > 0 ? "rising" : "falling", title: `${change > 0 ? "+" : ""}${fixed(change)} since the previous result` },
    change > 0 ? " ↑" : " ↓");
}

function performanceCell(performance) {
  if (!performance) return h("td", { class: "muted" }, "–");
  return h("td", {}, level(performance.level), " ", h("span", { class: "num" }, fixed(performance.score)));
}

function personDetails(row) {
  const parts = [];
  const names = [...(S.hideRisks ? [] : RISKS), "performance"];
  for (const name of names) {
    const risk = row[name];
    if (!risk) continue;
    parts.push(h("div", { class: "risk" },
      h("h4", {}, `${name[0].toUpperCase()}${name.slice(1)}: `, level(risk.level), ` ${fixed(risk.score)}`),
      factors(risk.factors),
      risk.warning_signs && risk.warning_signs.length ? h("div", {}, h("h5", {}, "Warning signs"), list(risk.warning_signs)) : null,
      h("h5", {}, "Recommendations"), list(risk.recommendations),
      risk.unobserved.length ? h("p", { class: "muted" }, `Not observed: ${risk.unobserved.join(", ")}`) : null));
  }
  return h("div", { class: "person-details" }, parts.length ? parts : h("p", { class: "muted" }, "No risk or performance result yet."));
}

function envelopeOf(subject, type) {
  const entry = S.entries.get(`${type}|${subject}`);
  return entry ? entry.envelope : null;
}

function renderDeveloper(subject) {
  const person = S.people.get(subject);
  document.getElementById("developer-name").replaceChildren(subjectName(subject, person ? person.pseudonym : /^dev_[0-9a-f]{20}$/.test(subject)));
  const cards = [];
  const profile = envelopeOf(subject, "developer_profile");
  if (profile) {
    const p = profile.result;
    cards.push(card("Profile", h("p", {}, p.summary),
      h("dl", { class: "facts" },
        h("dt", {}, "seniority"), h("dd", {}, p.seniority_estimate),
        h("dt", {}, "languages"), h("dd", {}, p.primary_languages.join(", ") || "–"),
        h("dt", {}, "frameworks"), h("dd", {}, p.frameworks.join(", ") || "–")),
      h("h4", {}, "Expertise"), list(p.expertise.map((e) => `${e.area} (${e.level}): ${e.evidence}`)),
      h("h4", {}, "Strengths"), list(p.strengths), h("h4", {}, "Growth areas"), list(p.growth_areas)));
  }
  const skills = S.skills.get(subject) || [];
  if (skills.length) {
    cards.push(card("Skills", h("table", { class: "factors" },
      h("thead", {}, h("tr", {}, h("th", {}, "skill"), h("th", {}, "category"), h("th", {}, "confidence"), h("th", {}, "evidence"))),
      h("tbody", {}, skills.map((s) => h("tr", {}, h("td", {}, s.name), h("td", {}, s.category),
        h("td", { class: "num" }, fixed(s.confidence)), h("td", {}, s.evidence)))))));
  }
  const soft = envelopeOf(subject, "soft_skills");
  if (soft) {
    const r = soft.result;
    cards.push(card("Soft skills",
      h("dl", { class: "facts" }, ["communication", "collaboration", "mentorship", "constructiveness"].flatMap((name) =>
        [h("dt", {}, name), h("dd", {}, `${r[name]} / 10`)]), h("dt", {}, "tone"), h("dd", {}, level(r.tone))),
      h("p", {}, r.summary), list(r.signals.map((s) => `${s.skill} (${s.polarity}): ${s.evidence}`), "no signals")));
  }
  const growth = envelopeOf(subject, "growth_trajectory");
  if (growth) {
    const g = growth.result;
    cards.push(card("Growth", h("p", {}, level(g.trajectory), ` score ${fixed(g.growth_score)}, confidence ${fixed(g.confidence)}`),
      h("h4", {}, "New skills"), list(g.new_skills), h("h4", {}, "Deepening"), list(g.deepening_skills),
      h("h4", {}, "Next steps"), list(g.next_steps)));
  }
  const path = envelopeOf(subject, "learning_path");
  if (path) {
    const l = path.result;
    cards.push(card("Learning path", h("p", {}, `${l.goal} (now: ${l.current_level}; ${fixed(l.total_hours, 0)} h)`),
      h("ol", {}, l.steps.map((s) => h("li", {}, `${s.topic}: ${s.outcome} (${fixed(s.estimated_hours, 0)} h)`)))));
  }
  if (person) cards.push(card("Risks and performance", personDetails(person)));
  const keys = [...S.entries.values()].filter((e) => e.subject === subject && e.headline !== null)
    .sort((a, b) => a.type.localeCompare(b.type));
  cards.push(card("History", keys.length ? h("table", { class: "history" }, h("tbody", {}, keys.map((e) => {
    const points = (S.history.get(e.key) || []).map((p) => p[1]);
    const number = e.type === "developer_profile" ? "" : fixed(e.headline);  // its line follows seniority
    return h("tr", {}, h("th", {}, TYPE_LABEL[e.type] || e.type), h("td", {}, sparkline(points, TYPE_LABEL[e.type] || e.type)),
      h("td", { class: "num" }, number), h("td", {}, level(e.level)),
      h("td", { class: "muted" }, points.length === 1 ? "1 result" : `${points.length} results`));
  }))) : h("p", { class: "muted" }, "No results for this subject.")));
  document.getElementById("developer").replaceChildren(...cards);
}

function patch(parent, nodes) {
  /* Children made equal to `nodes`, touching only the places that differ: when the rows keep their
     order (most frames of a burst), the browser lays out the changed rows, not the whole table. */
  const current = [...parent.children];
  const changed = [];
  if (current.length === nodes.length) {
    for (let i = 0; i < nodes.length; i++) if (current[i] !== nodes[i]) changed.push(i);
  }
  const moved = changed.some((i) => nodes[i].parentNode === parent);
  if (current.length !== nodes.length || moved) { parent.replaceChildren(...nodes); return; }
  for (const i of changed) current[i].replaceWith(nodes[i]);
}

function card(title, ...body) {
  return h("article", { class: "card" }, h("h3", {}, title), body);
}

function renderFeed() {
  const f = filters();
  const form = document.getElementById("filters");
  fillOptions(form.elements.type, [...new Set(Object.keys(TYPE_LABEL).filter((t) => !(S.hideRisks && /attrition|burnout/.test(t))))], f.type);
  const repositories = new Set(S.teams.keys());
  for (const entry of S.entries.values()) for (const repo of entry.repositories) repositories.add(repo);
  fillOptions(form.elements.repository, [...repositories].sort(), f.repository);
  const levels = new Set();
  for (const entry of S.entries.values()) if (entry.level) levels.add(entry.level);
  if (f.level) levels.add(f.level);
  fillOptions(form.elements.level, [...levels].sort(), f.level);
  if (document.activeElement !== form.elements.subject) form.elements.subject.value = f.subject;

  const shown = S.feed.filter((entry) => matches(entry, f)).slice(0, FEED_SHOWN);
  document.getElementById("feed-empty").hidden = shown.length > 0;
  document.getElementById("feed").replaceChildren(...shown.map((entry) => {
    const selected = S.selected === entry.request_id;
    const cached = CACHE.feed.get(entry.request_id);
    if (cached && cached.selected === selected) return cached.node;
    const node = feedItem(entry);
    CACHE.feed.set(entry.request_id, { selected, node });
    return node;
  }));
  if (CACHE.feed.size > 4 * FEED_LIMIT) CACHE.feed.clear();
  const waiting = S.waiting.filter((entry) => matches(entry, f)).length;
  const counter = document.getElementById("new-count");
  counter.hidden = !S.paused;
  counter.textContent = `${waiting} new`;
  const pause = document.getElementById("pause");
  pause.textContent = S.paused ? "Resume" : "Pause";
  pause.setAttribute("aria-pressed", String(S.paused));
  const query = new URLSearchParams({ table: "feed" });
  for (const [name, value] of Object.entries(f)) if (value) query.set(name, value);
  document.getElementById("feed-csv").href = `/api/export.csv?${query.toString()}`;
  renderDetail();
}

function fillOptions(select, values, chosen) {
  const wanted = ["", ...values];
  const have = [...select.options].map((option) => option.value);
  if (have.join("\u0000") !== wanted.join("\u0000")) {
    select.replaceChildren(...wanted.map((value) => h("option", { value }, value ? (TYPE_LABEL[value] || value.replace("_", " ")) : "any")));
  }
  select.value = chosen;
}

function feedItem(entry) {
  const selected = S.selected === entry.request_id;
  return h("li", { class: selected ? "item selected" : "item", "data-request": entry.request_id, "data-type": entry.type,
    onclick: () => { S.selected = selected ? "" : entry.request_id; schedule(); } },
    h("span", { class: "when", title: iso(entry.at) }, new Date(entry.at * 1000).toLocaleString([], SHORT_TIME)),
    h("span", { class: "type" }, TYPE_LABEL[entry.type] || entry.type),
    subjectName(entry.subject, entry.pseudonym),
    level(entry.level),
    h("span", { class: "num" }, entry.headline === null ? "" : fixed(entry.headline)),
    h("span", { class: "muted" }, entry.envelope.provider, entry.envelope.cache_hit ? " · cached" : ""));
}

function renderDetail() {
  const panel = document.getElementById("detail");
  const entry = S.feed.find((e) => e.request_id === S.selected);
  panel.hidden = !entry;
  if (!entry) { panel.replaceChildren(); return; }
  const e = entry.envelope;
  const source = e.source ? `${e.source.topic} [${e.source.partition}] @ ${e.source.offset}` : "direct request";
  panel.replaceChildren(
    h("h3", {}, TYPE_LABEL[entry.type] || entry.type, " · ", entry.subject),
    h("dl", { class: "facts" },
      h("dt", {}, "provider"), h("dd", {}, e.provider),
      h("dt", {}, "model"), h("dd", {}, e.model),
      h("dt", {}, "prompt version"), h("dd", {}, e.prompt_version),
      h("dt", {}, "cache"), h("dd", {}, e.cache_hit ? "hit" : "miss"),
      h("dt", {}, "cost"), h("dd", {}, `$${Number(e.cost_usd).toFixed(6)}`),
      h("dt", {}, "latency"), h("dd", {}, `${fixed(e.latency_ms, 0)} ms`),
      h("dt", {}, "tokens"), h("dd", {}, `${e.input_tokens} in, ${e.output_tokens} out`),
      h("dt", {}, "source"), h("dd", {}, source),
      h("dt", {}, "observed as"), h("dd", {}, e.observed_as || "–"),
      h("dt", {}, "result record"), h("dd", {}, `partition ${entry.place.partition} @ ${entry.place.offset}`)),
    h("pre", { class: "json" }, JSON.stringify(e, null, 2)));
}

// -- controls ----------------------------------------------------------------------------------------------

function bindControls() {
  for (const link of document.querySelectorAll("#nav a")) {
    link.addEventListener("click", (event) => { event.preventDefault(); setParams({ view: link.dataset.view }, true); });
  }
  const form = document.getElementById("filters");
  form.addEventListener("submit", (event) => event.preventDefault());
  for (const name of ["type", "repository", "level"]) {
    form.elements[name].addEventListener("change", () => setParams({ [name]: form.elements[name].value }));
  }
  form.elements.subject.addEventListener("input", () => setParams({ subject: form.elements.subject.value.trim() }));
  document.getElementById("pause").addEventListener("click", () => {
    S.paused = !S.paused;
    if (!S.paused) {
      const seen = new Set(S.feed.map((e) => e.request_id));
      S.feed = S.waiting.filter((e) => !seen.has(e.request_id)).concat(S.feed).slice(0, FEED_LIMIT);
      S.waiting = [];
    }
    schedule();
  });
  document.getElementById("new-count").addEventListener("click", () => document.getElementById("pause").click());
  window.addEventListener("popstate", schedule);
  window.addEventListener("scroll", () => { if (currentView() === "people" && S.people.size > WINDOW_ROWS) schedule(); }, { passive: true });
  setInterval(schedule, 30000);  // the "… ago" times
}

start().catch((error) => {
  document.getElementById("status").textContent = `cannot load the results: ${error}`;
});
