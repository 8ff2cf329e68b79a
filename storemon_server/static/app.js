// storemon's page: trigger a report, see the fleet at a glance, read the table, see one
// store's week and its outages.
//
// Plain ES module, no dependencies, no build. The server computes every number and every
// local time (with the store's zone); this file only counts, draws and adds durations up, in
// microseconds (exact integers in a JavaScript number), to check the picture against the row.
//
// The views, chosen by the address (#report=ID[&store=STORE][&target=PCT][&show=FILTER]):
// the report (summary and table) and one store. Report history and comparing two reports
// will be views of their own, routed in `route` like these.

const TOKEN_KEY = "storemon.token";
const REPORT_KEY = "storemon.report";
const POLL_MS = 500; // asking about a running report
const POLL_MAX_MS = 8000; // the longest pause between two asks while the server is away
const HEALTH_MS = 5000; // asking the server how it is, while the page is open
const DEFAULT_TARGET = 99;
const SVG_NS = "http://www.w3.org/2000/svg";
const MINUTE_US = 60_000_000;
const HOUR_US = 60 * MINUTE_US;

const WINDOWS = [
  { key: "last_hour", label: "Last hour", unit: "min", unitName: "minutes", unitUs: MINUTE_US },
  { key: "last_day", label: "Last day", unit: "h", unitName: "hours", unitUs: HOUR_US },
  { key: "last_week", label: "Last week", unit: "h", unitName: "hours", unitUs: HOUR_US },
];

// The report's CSV columns, in its order (the export writes them so).
const REPORT_HEADER = [
  "store_id",
  ...WINDOWS.map((window) => `uptime_${window.key}`),
  ...WINDOWS.map((window) => `downtime_${window.key}`),
];

// What "Show" keeps: a row's numbers and the target decide.
const SHOW = {
  all: () => true,
  ...Object.fromEntries(
    WINDOWS.flatMap((window) => [
      [`down_${window.key}`, (row) => row.down[window.key] > 0],
      [`below_${window.key}`, (row, target) => isBelow(row, window.key, target)],
    ]),
  ),
};

// Histogram of weekly shares: 20 bins of 5 points, the last one closed (95–100 %).
const BIN_COUNT = 20;

const $ = (selector) => document.querySelector(selector);
const numberFormat = new Intl.NumberFormat("en");
// Shares are cut, not rounded, so that 99.97 % never reads 100 % (nor passes a target).
const percentFormat = new Intl.NumberFormat("en", {
  style: "percent",
  maximumFractionDigits: 1,
  roundingMode: "trunc",
});

const state = {
  report: null, // the report shown: { id, asOf, rows, summary }
  pendingId: null, // the report being asked about, until it completes or fails
  reportLoad: 0, // bumps to abandon an older report load
  storeLoad: 0, // bumps to abandon an older store load
  sortKey: "share_last_week", // worst first
  sortDir: 1,
  show: "all",
  filter: "",
  target: DEFAULT_TARGET,
  page: 0,
  pageSize: 50,
  view: [], // indexes into report.rows, filtered and sorted
  timeline: null, // the store shown, for redrawing on resize
  lastStore: null,
  server: "unknown", // ready, loading, down
};

// ---------------------------------------------------------------- small helpers

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function cell(tag, text, attributes = {}) {
  const element = document.createElement(tag);
  element.textContent = text;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

// Buttons are never `disabled`: a disabled button drops the keyboard focus to <body>.
// aria-disabled keeps them focusable and tells assistive technology they do nothing now.
function setEnabled(button, enabled) {
  button.setAttribute("aria-disabled", String(!enabled));
}

function isEnabled(button) {
  return button.getAttribute("aria-disabled") !== "true";
}

function onPress(button, action) {
  button.addEventListener("click", (event) => {
    if (isEnabled(button)) action(event);
  });
}

function saveFile(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------------------------------------------------------------- API and token

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A failure worth asking again about: the server is away or restarting.
function isTransient(error) {
  return error.status === 0 || error.status === 502 || error.status === 503 || error.status === 504;
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function authorization(bearer) {
  return bearer ? { Authorization: `Bearer ${bearer}` } : {};
}

async function api(path, options = {}) {
  const bearer = token();
  const headers = { ...options.headers, ...authorization(bearer) };
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (error) {
    noteServerDown();
    throw new ApiError(0, "The server cannot be reached.");
  }
  if (response.status === 401) {
    // One message for this failure, at the token field, where it can be mended.
    askForToken(bearer ? "The server refused the saved token: enter the right one." : null);
    throw new ApiError(401, "The server needs an API token.");
  }
  return response;
}

async function apiJson(path, options) {
  const response = await api(path, options);
  let body = {};
  try {
    body = await response.json();
  } catch (error) {
    // An error without a JSON body: the status text says enough.
  }
  if (!response.ok) throw new ApiError(response.status, body.error || response.statusText);
  return body;
}

function setTokenState(message, invalid = false) {
  $("#token-state").textContent = message;
  $("#token-forget").hidden = !token();
  if (invalid) $("#token").setAttribute("aria-invalid", "true");
  else $("#token").removeAttribute("aria-invalid");
}

// What the token field says when the server takes the request (204 from /api/session).
function tokenAccepted() {
  return token() ? "Token accepted; kept for this browser tab until you close it." : "This server needs no token.";
}

function askForToken(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  setTokenState(message || "The server needs an API token: enter it here.", true);
  $("#token").focus();
}

// Ask the server whether the saved token (or none) will do; say so by the token field.
async function checkSession() {
  let response;
  try {
    response = await fetch("/api/session", { headers: authorization(token()) });
  } catch (error) {
    noteServerDown();
    return;
  }
  const saved = token();
  if (response.status === 204) {
    setTokenState(tokenAccepted());
  } else if (response.status === 401) {
    if (saved) sessionStorage.removeItem(TOKEN_KEY);
    setTokenState(
      saved
        ? "The server refused the saved token: enter the right one."
        : "This server needs an API token: enter it above to use the page.",
      Boolean(saved),
    );
  }
}

// The token is checked as it is entered, with a call that needs it: a wrong one is never kept.
async function useToken(event) {
  event.preventDefault();
  const input = $("#token");
  const value = input.value.trim();
  let response;
  try {
    response = await fetch("/api/session", { headers: authorization(value) });
  } catch (error) {
    noteServerDown();
    setTokenState("The server cannot be reached, so the token could not be checked. Try again when it is back.");
    return;
  }
  if (response.status === 401) {
    setTokenState(value ? "The server refused this token. Check it and try again." : "The server needs an API token: enter it here.", true);
    input.select();
    return;
  }
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
  input.value = "";
  setTokenState(tokenAccepted());
  route();
}

function setUpToken() {
  $("#token-form").addEventListener("submit", useToken);
  $("#token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setTokenState("Token forgotten.");
    $("#token").focus();
  });
}

// ---------------------------------------------------------------- server status

let healthTimer = 0;

function setServerState(name, text) {
  const line = $("#server-state");
  // Rewritten only when it changes, so that screen readers hear each change once.
  if (line.dataset.state === name && line.textContent === text) return;
  line.dataset.state = name;
  line.textContent = text;
}

function noteServerDown() {
  if (state.server === "down") return;
  state.server = "down";
  setServerState("down", "The server cannot be reached; the page keeps asking.");
  scheduleHealth(1000);
}

function scheduleHealth(ms) {
  clearTimeout(healthTimer);
  healthTimer = setTimeout(refreshHealth, ms);
}

async function refreshHealth() {
  let health;
  try {
    // With the token the answer says how the last refresh went; without it, only "ready".
    const response = await fetch("/api/health", { headers: authorization(token()) });
    if (!response.ok) throw new ApiError(response.status, response.statusText);
    health = await response.json();
  } catch (error) {
    noteServerDown();
    scheduleHealth(2000);
    return;
  }
  const wasDown = state.server === "down";
  state.server = health.ready ? "ready" : "loading";
  const last = health.last_ingest;
  let text = health.ready ? "The server is ready." : "The server is loading its data…";
  if (health.database === "down") text = "The server is up, but its database does not answer.";
  if (last && last.finished_at) {
    const when = last.finished_at.slice(0, 16).replace("T", " ");
    text += last.ok
      ? ` Data last refreshed ${when} UTC.`
      : ` The last refresh (${when} UTC) failed: ${last.error}.`;
  }
  setServerState(health.database === "down" ? "down" : state.server, text);
  if (wasDown) checkSession();
  scheduleHealth(health.ready ? HEALTH_MS : 2000);
}

// ---------------------------------------------------------------- the address

function hashParams() {
  return new URLSearchParams(location.hash.slice(1));
}

// The address of a view: the report, maybe a store, and the reading settings in force.
function hashFor(reportId, storeId = null) {
  const params = new URLSearchParams({ report: reportId });
  if (storeId !== null) params.set("store", storeId);
  if (state.target !== DEFAULT_TARGET) params.set("target", String(state.target));
  if (state.show !== "all") params.set("show", state.show);
  return params.toString();
}

// Keep the reading settings in the address without a new history entry (or a route).
function rememberSettings() {
  const params = hashParams();
  const reportId = params.get("report");
  if (!reportId) return;
  history.replaceState(null, "", `#${hashFor(reportId, params.get("store"))}`);
}

function readSettings(params) {
  const target = Number(params.get("target"));
  const newTarget = params.has("target") && Number.isFinite(target) && target >= 0 && target <= 100 ? target : DEFAULT_TARGET;
  const show = params.get("show");
  const newShow = show && Object.hasOwn(SHOW, show) ? show : "all";
  if (newTarget === state.target && newShow === state.show) return false;
  state.target = newTarget;
  state.show = newShow;
  $("#target").value = String(newTarget);
  $("#show").value = newShow;
  return true;
}

// ---------------------------------------------------------------- report

function setReportState(name, message) {
  const badge = $("#report-state");
  badge.dataset.state = name.toLowerCase();
  badge.textContent = name;
  $("#report-status").textContent = message;
}

function stillShown() {
  if (!state.report) return "";
  return ` The table still shows report ${state.report.id} (as of ${asOfText(state.report.asOf)}).`;
}

function asOfText(asOf) {
  return asOf ? `${asOf.slice(0, 19).replace("T", " ")} UTC` : "an unknown time";
}

async function trigger() {
  const button = $("#trigger");
  setEnabled(button, false);
  try {
    const body = await apiJson("/api/trigger_report", { method: "POST" });
    setReportState("Running", `Report ${body.report_id} is being computed…${stillShown()}`);
    location.hash = hashFor(body.report_id);
  } catch (error) {
    // A refused token is said once, at the token field (see api).
    if (error.status !== 401) {
      const advice = isTransient(error) ? " Try again in a few seconds." : "";
      setReportState("Error", `The report could not start: ${error.message}${advice}${stillShown()}`);
    }
  } finally {
    setEnabled(button, true);
  }
}

// Ask about a report until it completes or fails. The server may go away meanwhile (a
// restart): the page then asks less and less often, up to every POLL_MAX_MS, and goes on
// when it is back. The report shown so far stays shown until the new one is complete.
async function loadReport(reportId) {
  if (state.report && state.report.id === reportId) return true;
  if (state.pendingId === reportId) return false;
  const load = ++state.reportLoad;
  state.pendingId = reportId;
  const started = Date.now();
  const done = (result) => {
    if (load === state.reportLoad) state.pendingId = null;
    return result;
  };
  sessionStorage.setItem(REPORT_KEY, reportId);
  const query = new URLSearchParams({ report_id: reportId, format: "json" });
  let pause = POLL_MS;
  for (;;) {
    let body;
    try {
      body = await apiJson(`/api/get_report?${query}`);
      pause = POLL_MS;
    } catch (error) {
      if (load !== state.reportLoad) return done(false);
      if (isTransient(error)) {
        // The server line says what is wrong; this line says what the page does about it.
        setReportState("Waiting", `Waiting for the server to answer about report ${reportId}…${stillShown()}`);
        await sleep(pause);
        pause = Math.min(pause * 2, POLL_MAX_MS);
        if (load !== state.reportLoad) return done(false);
        continue;
      }
      // A refused token is said at the token field; accepting one asks again (route).
      if (error.status !== 401) {
        if (error.status === 404) sessionStorage.removeItem(REPORT_KEY);
        const name = error.status === 500 ? "Failed" : "Error";
        setReportState(name, `Report ${reportId}: ${error.message}.${stillShown()}`);
      }
      return done(false);
    }
    if (load !== state.reportLoad) return done(false);
    if (body.status === "Complete") {
      setReport(reportId, body);
      return done(true);
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    setReportState("Running", `Report ${reportId} is being computed… ${seconds} s${stillShown()}`);
    await sleep(pause);
    if (load !== state.reportLoad) return done(false);
  }
}

// A window is closed when it had no business time: the report writes 0.00 up and 0.00
// down (its values are rounded to two decimals, so less than 0.005 of either reads so too).
function isClosed(row, window) {
  return row.up[window] === 0 && row.down[window] === 0;
}

function isBelow(row, window, target) {
  return !isClosed(row, window) && row.share[window] < target / 100;
}

function prepareRow(row) {
  const up = {};
  const down = {};
  const share = {};
  for (const { key } of WINDOWS) {
    up[key] = Number(row[`uptime_${key}`]);
    down[key] = Number(row[`downtime_${key}`]);
    share[key] = up[key] + down[key] > 0 ? up[key] / (up[key] + down[key]) : null;
  }
  return { ...row, up, down, share };
}

function setReport(reportId, body) {
  const rows = body.rows.map(prepareRow);
  state.report = { id: reportId, asOf: body.as_of, rows };
  state.page = 0;
  setReportState(
    "Complete",
    `Report ${reportId}: ${numberFormat.format(rows.length)} stores, as of ${asOfText(body.as_of)}.`,
  );
  setEnabled($("#download"), true);
  renderSummary();
  applyView();
  if (!hashParams().get("store")) showReportView();
}

async function downloadCsv() {
  if (!state.report) return;
  const button = $("#download");
  setEnabled(button, false);
  try {
    const response = await api(`/api/get_report?${new URLSearchParams({ report_id: state.report.id })}`);
    if (!response.ok) throw new ApiError(response.status, response.statusText);
    saveFile(`report-${state.report.id}.csv`, await response.blob());
  } catch (error) {
    if (error.status !== 401) $("#report-status").textContent = `The download failed: ${error.message}.`;
  } finally {
    setEnabled(button, true);
  }
}

// ---------------------------------------------------------------- summary

// Counts of one report at one target: pure, so the numbers shown are the numbers counted.
function summarise(rows, target) {
  const windows = {};
  for (const { key } of WINDOWS) {
    let open = 0;
    let below = 0;
    for (const row of rows) {
      if (isClosed(row, key)) continue;
      open++;
      if (row.share[key] < target / 100) below++;
    }
    windows[key] = { open, below };
  }
  const bins = new Array(BIN_COUNT).fill(0);
  for (const row of rows) {
    const share = row.share.last_week;
    if (share === null) continue;
    bins[Math.min(BIN_COUNT - 1, Math.floor(share * BIN_COUNT))]++;
  }
  return { stores: rows.length, windows, bins };
}

function renderSummary() {
  const report = state.report;
  $("#summary").hidden = !report || !$("#store-view").hidden;
  if (!report) return;
  const summary = summarise(report.rows, state.target);
  report.summary = summary;
  const closedWeek = summary.stores - summary.windows.last_week.open;
  const total = $("#summary-total");
  total.dataset.stores = String(summary.stores);
  total.textContent =
    `${numberFormat.format(summary.stores)} stores in the report` +
    (closedWeek ? `; ${numberFormat.format(closedWeek)} had no business hours all week.` : ".");
  const body = $("#summary-table tbody");
  // The counts are rebuilt: a focus on one of them stays on its window's new button.
  const focusedWindow = body.contains(document.activeElement)
    ? document.activeElement.closest("tr").dataset.window
    : null;
  body.replaceChildren();
  for (const window of WINDOWS) {
    const counts = summary.windows[window.key];
    const tr = document.createElement("tr");
    tr.dataset.window = window.key;
    const below = document.createElement("td");
    below.className = "num";
    below.dataset.count = String(counts.below);
    const button = cell("button", numberFormat.format(counts.below), {
      type: "button",
      class: "link",
      "aria-label": `${counts.below} below target in the ${window.label.toLowerCase()}: show them`,
    });
    button.addEventListener("click", () => setShow(`below_${window.key}`));
    below.append(button, ` (${counts.open ? percentFormat.format(counts.below / counts.open) : "—"})`);
    tr.append(
      cell("th", window.label, { scope: "row" }),
      cell("td", numberFormat.format(counts.open), { class: "num", "data-count": String(counts.open) }),
      below,
    );
    body.append(tr);
    if (window.key === focusedWindow) button.focus();
  }
  drawHistogram(summary.bins);
}

function drawHistogram(bins) {
  const width = 420;
  const height = 150;
  const left = 36;
  const bottom = 30;
  const top = 16;
  const plot = width - left - 18;
  const barWidth = plot / BIN_COUNT;
  const highest = Math.max(1, ...bins);
  const y = (count) => top + (height - top - bottom) * (1 - count / highest);
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": "histogram-caption histogram-desc",
  });
  const described = bins
    .map((count, index) => (count ? `${index * 5}–${index * 5 + 5} %: ${count}` : null))
    .filter(Boolean);
  root.append(svg("desc", { id: "histogram-desc" }, `Stores by weekly uptime share: ${described.join("; ") || "none"}.`));
  root.append(svg("line", { x1: left, x2: left + plot, y1: height - bottom, y2: height - bottom, class: "axis-line" }));
  root.append(svg("text", { x: left - 4, y: top + 4, "text-anchor": "end" }, numberFormat.format(highest)));
  root.append(svg("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, "0"));
  bins.forEach((count, index) => {
    const x0 = left + index * barWidth;
    const fullyBelow = (index + 1) * 5 <= state.target;
    const bar = svg("rect", {
      x: x0 + 1,
      y: y(count),
      width: barWidth - 2,
      height: height - bottom - y(count),
      class: fullyBelow ? "bin below" : "bin",
      "data-count": count,
    });
    root.append(titled(bar, `${index * 5}–${index * 5 + 5} %: ${count} stores`));
  });
  for (const tick of [0, 25, 50, 75, 100]) {
    const x = left + (tick / 100) * plot;
    root.append(svg("text", { x, y: height - bottom + 14, "text-anchor": "middle" }, `${tick}%`));
  }
  const targetX = left + (state.target / 100) * plot;
  root.append(svg("line", { x1: targetX, x2: targetX, y1: top - 6, y2: height - bottom, class: "target" }));
  root.append(svg("text", { x: targetX - 3, y: top - 4, class: "target-label", "text-anchor": "end" }, `target ${state.target}%`));
  root.append(svg("text", { x: left + plot / 2, y: height - 2, "text-anchor": "middle", class: "lane" }, "share of business time up, last week"));
  $("#histogram").replaceChildren(root);
}

const TARGET_NOTE = "Below target: up for a smaller share of the window's business time.";

function setUpSummary() {
  let pending = 0;
  $("#target").addEventListener("input", (event) => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      const value = Number(event.target.value);
      const note = $("#target-note");
      if (event.target.value === "" || !Number.isFinite(value) || value < 0 || value > 100) {
        event.target.setAttribute("aria-invalid", "true");
        note.textContent = "Enter a share from 0 to 100; the counts keep the last valid one.";
        return;
      }
      event.target.removeAttribute("aria-invalid");
      note.textContent = TARGET_NOTE;
      state.target = value;
      rememberSettings();
      renderSummary();
      applyView();
    }, 150);
  });
}

// ---------------------------------------------------------------- table

// Column groups: the store, then each window's share (with the uptime) and downtime.
// A window's header shows "Up" or "Down" under the window's name; the button's name says
// it all ("Up share, last week"), as a screen reader may read one header at a time.
const COLUMNS = [
  { key: "store_id", label: "Store id", more: "" },
  ...WINDOWS.flatMap((window) => [
    { key: `share_${window.key}`, window, label: "Up", more: ` share, ${window.label.toLowerCase()}` },
    { key: `downtime_${window.key}`, window, label: "Down", more: `, ${window.label.toLowerCase()}` },
  ]),
];

function sortValue(row, key) {
  if (key.startsWith("share_")) return row.share[key.slice(6)];
  const window = key.slice(9);
  return isClosed(row, window) ? null : row.down[window];
}

function buildHeader() {
  const groups = $("#report-table thead tr.groups");
  const columns = $("#report-table thead tr.columns");
  for (const column of COLUMNS) {
    const th = document.createElement("th");
    th.dataset.key = column.key;
    const button = cell("button", column.label, { type: "button", class: "sort" });
    if (column.window) {
      th.scope = "col";
      th.className = column.key.startsWith("share_") ? "share" : "num";
      button.setAttribute("aria-label", `${column.label}${column.more}`);
      columns.append(th);
    } else {
      th.scope = "col";
      th.rowSpan = 2;
      th.className = "store";
      groups.append(th);
    }
    button.addEventListener("click", () => sortBy(column.key));
    th.append(button);
  }
  for (const window of WINDOWS) {
    const th = cell("th", `${window.label} (${window.unitName})`, { scope: "colgroup", colspan: "2" });
    th.dataset.window = window.key;
    groups.append(th);
  }
}

function sortBy(key) {
  if (state.sortKey === key) state.sortDir = -state.sortDir;
  else {
    state.sortKey = key;
    // Store ids and shares read best from the smallest; downtime from the largest.
    state.sortDir = key.startsWith("downtime_") ? -1 : 1;
  }
  state.page = 0;
  applyView();
}

function setShow(show) {
  state.show = show;
  $("#show").value = show;
  state.page = 0;
  rememberSettings();
  applyView();
  $("#table-heading").scrollIntoView({ block: "start" });
}

function compareIds(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function applyView() {
  const rows = state.report ? state.report.rows : [];
  const needle = state.filter.trim();
  const keep = SHOW[state.show];
  const view = [];
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    if ((!needle || row.store_id.includes(needle)) && keep(row, state.target)) view.push(index);
  }
  const key = state.sortKey;
  const dir = state.sortDir;
  if (key === "store_id") {
    view.sort((a, b) => dir * compareIds(rows[a].store_id, rows[b].store_id));
  } else {
    const values = new Map(view.map((index) => [index, sortValue(rows[index], key)]));
    // Closed windows (no value) go last in either direction; ties keep store-id order.
    view.sort((a, b) => {
      const va = values.get(a);
      const vb = values.get(b);
      if (va === null || vb === null) {
        if (va !== vb) return va === null ? 1 : -1;
      } else if (va !== vb) return dir * (va - vb);
      return compareIds(rows[a].store_id, rows[b].store_id);
    });
  }
  state.view = view;
  renderTable();
}

function renderTable() {
  const rows = state.report ? state.report.rows : [];
  const total = rows.length;
  const shown = state.view.length;
  const pages = Math.max(1, Math.ceil(shown / state.pageSize));
  state.page = Math.min(state.page, pages - 1);
  const from = state.page * state.pageSize;
  const to = Math.min(shown, from + state.pageSize);

  for (const th of document.querySelectorAll("#report-table th[data-key]")) {
    if (th.dataset.key === state.sortKey) {
      th.setAttribute("aria-sort", state.sortDir > 0 ? "ascending" : "descending");
    } else th.removeAttribute("aria-sort");
  }

  const fragment = document.createDocumentFragment();
  for (let position = from; position < to; position++) {
    fragment.append(tableRow(rows[state.view[position]]));
  }
  const body = $("#report-table tbody");
  // Rows are replaced: a focus on one of them goes to the table's heading, not to <body>.
  const hadFocus = body.contains(document.activeElement);
  body.replaceChildren(fragment);
  if (hadFocus) $("#table-heading").focus();

  const count = $("#row-count");
  count.dataset.total = String(total);
  count.dataset.shown = String(shown);
  count.textContent =
    shown === total
      ? `${numberFormat.format(total)} stores`
      : `${numberFormat.format(shown)} of ${numberFormat.format(total)} stores match`;
  $("#page-info").textContent = shown
    ? `Rows ${numberFormat.format(from + 1)}–${numberFormat.format(to)} of ${numberFormat.format(shown)} · page ${state.page + 1} of ${pages}`
    : "No store matches";
  setEnabled($("#first-page"), state.page > 0);
  setEnabled($("#prev-page"), state.page > 0);
  setEnabled($("#next-page"), state.page < pages - 1);
  setEnabled($("#last-page"), state.page < pages - 1);
  setEnabled($("#export"), shown > 0);
}

function shareCell(row, window) {
  const share = row.share[window.key];
  const td = cell("td", "", { class: "share", "data-key": `share_${window.key}`, "data-value": row[`uptime_${window.key}`] });
  const bar = cell("span", "", { class: "bar", "aria-hidden": "true" });
  const fill = document.createElement("span");
  fill.style.width = `${(share * 100).toFixed(2)}%`;
  if (share < state.target / 100) fill.className = "below";
  bar.append(fill);
  td.append(
    bar,
    cell("span", percentFormat.format(share), { class: "pct" }),
    cell("span", row[`uptime_${window.key}`], { class: "up" }),
  );
  return td;
}

function tableRow(row) {
  const tr = document.createElement("tr");
  tr.dataset.storeId = row.store_id;
  const idCell = cell("th", "", { scope: "row" });
  const link = cell("a", row.store_id, {
    href: `#${hashFor(state.report.id, row.store_id)}`,
    "aria-label": `Store ${row.store_id}: show its week`,
  });
  idCell.append(link);
  tr.append(idCell);
  for (const window of WINDOWS) {
    if (isClosed(row, window.key)) {
      tr.append(cell("td", "closed", { class: "closed", colspan: "2", "data-key": `closed_${window.key}` }));
      continue;
    }
    tr.append(
      shareCell(row, window),
      cell("td", row[`downtime_${window.key}`], {
        class: row.down[window.key] > 0 ? "num down" : "num",
        "data-key": `downtime_${window.key}`,
      }),
    );
  }
  return tr;
}

function csvField(text) {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// The rows of the view (every page), in its order, as the report's CSV writes them.
function exportView() {
  const rows = state.report.rows;
  const lines = [REPORT_HEADER.join(",")];
  for (const index of state.view) lines.push(REPORT_HEADER.map((key) => csvField(rows[index][key])).join(","));
  const suffix = state.show === "all" ? "" : `-${state.show.replaceAll("_", "-")}`;
  const filtered = state.filter.trim() ? "-filtered" : "";
  saveFile(
    `report-${state.report.id}${suffix}${filtered}.csv`,
    new Blob([`${lines.join("\n")}\n`], { type: "text/csv" }),
  );
}

function setUpTable() {
  buildHeader();
  let pending = 0;
  $("#filter").addEventListener("input", (event) => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      state.filter = event.target.value;
      state.page = 0;
      applyView();
    }, 120);
  });
  $("#show").addEventListener("change", (event) => {
    state.show = event.target.value;
    state.page = 0;
    rememberSettings();
    applyView();
  });
  $("#page-size").addEventListener("change", (event) => {
    state.pageSize = Number(event.target.value);
    state.page = 0;
    renderTable();
  });
  const turn = (to) => () => {
    state.page = to();
    renderTable();
  };
  onPress($("#first-page"), turn(() => 0));
  onPress($("#prev-page"), turn(() => Math.max(0, state.page - 1)));
  onPress($("#next-page"), turn(() => state.page + 1));
  onPress($("#last-page"), turn(() => Number.MAX_SAFE_INTEGER));
  onPress($("#export"), exportView);
}

// ---------------------------------------------------------------- store view

// Add up business time and status inside [from, to): microseconds up and down.
function measure(timeline, from, to) {
  let up = 0;
  let down = 0;
  for (const business of timeline.business) {
    const lo = Math.max(business.start.us, from);
    const hi = Math.min(business.end.us, to);
    if (lo >= hi) continue;
    for (const span of timeline.status) {
      const start = Math.max(span.start.us, lo);
      const end = Math.min(span.end.us, hi);
      if (start < end) {
        if (span.active) up += end - start;
        else down += end - start;
      }
    }
  }
  return { up, down };
}

// Two decimals, half up, from exact microseconds (as the report rounds its fractions).
function twoDecimals(us, unitUs) {
  const hundredths = Math.floor((200 * us + unitUs) / (2 * unitUs));
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, "0")}`;
}

function parseOffset(local) {
  const match = /([+-])(\d\d):(\d\d)$/.exec(local);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === "-" ? -minutes : minutes) * MINUTE_US;
}

// The store's UTC offset at an instant, from the offsets the server sent (no tz database).
function offsetAt(timeline, us) {
  for (const change of timeline.offset_changes) {
    if (us < change.at.us) return parseOffset(change.offset_before);
  }
  return parseOffset(timeline.as_of.local);
}

function wallClock(timeline, us) {
  const date = new Date(Math.floor((us + offsetAt(timeline, us)) / 1000));
  const hh = String(date.getUTCHours()).padStart(2, "0");
  const mm = String(date.getUTCMinutes()).padStart(2, "0");
  return `${hh}:${mm}`;
}

function localText(instant) {
  return instant.local.slice(0, 16).replace("T", " ");
}

function formatOffset(text) {
  return `UTC${text.replace("-", "−")}`;
}

async function showStore(reportId, storeId) {
  const load = ++state.storeLoad;
  showStoreView();
  $("#back").href = `#${hashFor(reportId)}`;
  $("#store-heading").textContent = `Store ${storeId}`;
  $("#store-zone").textContent = "";
  $("#store-status").textContent = "Loading the store's week…";
  $("#charts").replaceChildren();
  $("#store-numbers tbody").replaceChildren();
  $("#outage-table tbody").replaceChildren();
  $("#outages-summary").textContent = "";
  $("#report-check").textContent = "";
  $("#timeline-check").textContent = "";
  $("#store-heading").focus();
  let timeline;
  try {
    const path = `/api/reports/${encodeURIComponent(reportId)}/stores/${encodeURIComponent(storeId)}`;
    timeline = await apiJson(path);
  } catch (error) {
    // A refused token is said at the token field (see api).
    if (load === state.storeLoad && error.status !== 401) $("#store-status").textContent = `${error.message}.`;
    return;
  }
  if (load !== state.storeLoad) return;
  state.timeline = timeline;
  $("#store-status").textContent = "";
  const offset = formatOffset(timeline.as_of.local.slice(-6));
  $("#store-zone").textContent =
    `Times are local to ${timeline.zone_key} (${offset} at the report's time, ` +
    `${localText(timeline.as_of)}).` + dstSentence(timeline);
  renderNumbers(timeline);
  renderOutages(timeline);
  drawCharts();
}

function dstSentence(timeline) {
  if (!timeline.offset_changes.length) return " No clock change this week.";
  const changes = timeline.offset_changes.map(
    (change) =>
      `${localText(change.at)} (${formatOffset(change.offset_before)} → ${formatOffset(change.offset_after)})`,
  );
  return ` Clocks changed this week: ${changes.join("; ")}.`;
}

function renderNumbers(timeline) {
  const row = timeline.row;
  const body = $("#store-numbers tbody");
  const mismatches = [];
  for (const window of WINDOWS) {
    const up = row[`uptime_${window.key}`];
    const down = row[`downtime_${window.key}`];
    const business = Number(up) + Number(down);
    const measured = measure(timeline, timeline.windows[window.key].us, timeline.as_of.us);
    const measuredUp = twoDecimals(measured.up, window.unitUs);
    const measuredDown = twoDecimals(measured.down, window.unitUs);
    if (measuredUp !== up) mismatches.push(`${window.label} up ${measuredUp} ≠ ${up}`);
    if (measuredDown !== down) mismatches.push(`${window.label} down ${measuredDown} ≠ ${down}`);
    const tr = document.createElement("tr");
    tr.dataset.window = window.key;
    tr.dataset.uptime = up;
    tr.dataset.downtime = down;
    tr.append(cell("th", window.label, { scope: "row" }));
    if (up === "0.00" && down === "0.00") {
      tr.append(cell("td", "closed: no business hours", { colspan: "4", class: "closed" }));
    } else {
      tr.append(
        cell("td", `${up} ${window.unit}`),
        cell("td", `${down} ${window.unit}`),
        cell("td", `${business.toFixed(2)} ${window.unit}`),
        cell("td", percentFormat.format(Number(up) / business)),
      );
    }
    body.append(tr);
  }
  const reportCheck = $("#report-check");
  if (timeline.matches_report === true) {
    reportCheck.textContent = "✓ Equal to this store's row in the report.";
    reportCheck.dataset.ok = "true";
  } else if (timeline.matches_report === false) {
    reportCheck.textContent =
      "⚠ The stored report says otherwise: polls up to its time arrived after it was computed. " +
      "Generate a new report to include them.";
    reportCheck.dataset.ok = "false";
  } else {
    reportCheck.textContent = "The report is not complete, so there is no stored row to compare.";
    reportCheck.dataset.ok = "pending";
  }
  const timelineCheck = $("#timeline-check");
  timelineCheck.dataset.ok = String(mismatches.length === 0);
  timelineCheck.textContent = mismatches.length
    ? `⚠ The drawing does not add up: ${mismatches.join(", ")}.`
    : "✓ The timeline adds up to these numbers (active and inactive time inside business hours).";
}

// The stretches of business time the store was inactive in [from, to), each with its
// instants as the server sent them (so with their local times); pieces that touch, such as
// an outage across two business spans that meet at midnight, are one outage.
function outages(timeline, from, to) {
  const pieces = [];
  for (const business of timeline.business) {
    for (const span of timeline.status) {
      if (span.active) continue;
      const start = [span.start, business.start, timeline.windows.last_week].reduce(later);
      const end = [span.end, business.end].reduce(earlier);
      if (start.us < end.us && start.us >= from && end.us <= to) pieces.push({ start, end });
    }
  }
  pieces.sort((a, b) => a.start.us - b.start.us);
  const merged = [];
  for (const piece of pieces) {
    const last = merged[merged.length - 1];
    if (last && last.end.us === piece.start.us) last.end = piece.end;
    else merged.push({ ...piece });
  }
  return merged;
}

function later(a, b) {
  return b.us > a.us ? b : a;
}

function earlier(a, b) {
  return b.us < a.us ? b : a;
}

// "2 h 05 min", "12 min 30 s", "40 s": whole seconds, rounded half up.
function durationText(us) {
  const seconds = Math.floor((us + 500_000) / 1_000_000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  if (minutes) return rest ? `${minutes} min ${String(rest).padStart(2, "0")} s` : `${minutes} min`;
  return `${rest} s`;
}

function renderOutages(timeline) {
  const list = outages(timeline, timeline.windows.last_week.us, timeline.as_of.us);
  const body = $("#outage-table tbody");
  body.replaceChildren(
    ...list.map((outage) => {
      const tr = document.createElement("tr");
      tr.append(
        cell("td", localText(outage.start), { "data-us": String(outage.start.us) }),
        cell("td", localText(outage.end), { "data-us": String(outage.end.us) }),
        cell("td", durationText(outage.end.us - outage.start.us), { class: "num" }),
      );
      return tr;
    }),
  );
  const totalUs = list.reduce((sum, outage) => sum + outage.end.us - outage.start.us, 0);
  const summary = $("#outages-summary");
  summary.dataset.count = String(list.length);
  summary.textContent = list.length
    ? `${list.length} ${list.length === 1 ? "outage" : "outages"}, ${durationText(totalUs)} in all ` +
      `(${twoDecimals(totalUs, HOUR_US)} h, the week's downtime), local to ${timeline.zone_key}.`
    : "No outage in business hours this week.";
  $("#outage-table").hidden = list.length === 0;
  $("#to-outages").textContent = `Go to the list of outages (${list.length})`;
}

// ---------------------------------------------------------------- SVG timeline

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  if (text !== undefined) element.textContent = text;
  return element;
}

function titled(element, text) {
  element.append(svg("title", {}, text));
  return element;
}

function drawCharts() {
  const timeline = state.timeline;
  if (!timeline || $("#store-view").hidden) return;
  const container = $("#charts");
  const width = Math.max(300, Math.floor(container.clientWidth || 600));
  const asOf = timeline.as_of.us;
  const charts = [
    { title: "Last week", from: timeline.windows.last_week.us, marks: ["last_day", "last_hour"], ticks: "days" },
    { title: "Last day", from: timeline.windows.last_day.us, marks: ["last_hour"], ticks: 3 * HOUR_US },
    { title: "Last hour", from: timeline.windows.last_hour.us, marks: [], ticks: 10 * MINUTE_US },
  ];
  container.replaceChildren(
    ...charts.map((chart, index) => drawChart(timeline, { ...chart, to: asOf, width, index })),
  );
}

// Three rows of labels on top (clock change, last day, last hour), then the three lanes.
const LABEL_ROWS = { dst: 10, last_day: 21, last_hour: 32 };
const LANES = { top: 37, business: [37, 51], status: [57, 87], polls: [93, 115], axis: 119, height: 147 };

function drawChart(timeline, chart) {
  const { from, to, width } = chart;
  const left = 52;
  const right = 10;
  const plot = width - left - right;
  const x = (us) => left + ((Math.min(Math.max(us, from), to) - from) / (to - from)) * plot;
  const clipped = (start, end) => start < to && end > from;
  const figure = document.createElement("figure");
  figure.className = "chart";
  const captionId = `chart-${chart.index}-caption`;
  const measured = measure(timeline, from, to);
  const closedNote = measured.up + measured.down === 0 ? " (closed)" : "";
  const caption = cell("figcaption", `${chart.title}, ${localRange(timeline, from)}${closedNote}`);
  caption.id = captionId;
  const root = svg("svg", {
    width,
    height: LANES.height,
    viewBox: `0 0 ${width} ${LANES.height}`,
    role: "img",
    "aria-labelledby": captionId,
    "data-window": chart.title,
  });
  root.append(
    svg("desc", {}, `Business hours, status and polls of store ${timeline.store_id} in ${timeline.zone_key}: ` +
      `${(measured.up / HOUR_US).toFixed(2)} h active and ${(measured.down / HOUR_US).toFixed(2)} h inactive within business hours.`),
  );
  const defs = svg("defs");
  const pattern = svg("pattern", { id: `hatch-${chart.index}`, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  pattern.append(svg("rect", { width: 6, height: 6, class: "hatch-ground" }), svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch" }));
  defs.append(pattern);
  root.append(defs);

  // Lane labels.
  for (const [name, lane] of [["Open", LANES.business], ["Status", LANES.status], ["Polls", LANES.polls]]) {
    root.append(svg("text", { x: 4, y: (lane[0] + lane[1]) / 2 + 4, class: "lane" }, name));
  }

  // Business hours: a band in their lane and a light column behind everything.
  const business = svg("g", { class: "business" });
  for (const span of timeline.business) {
    if (!clipped(span.start.us, span.end.us)) continue;
    const x0 = x(span.start.us);
    const w = Math.max(0.5, x(span.end.us) - x0);
    business.append(svg("rect", { x: x0, y: LANES.top, width: w, height: LANES.polls[1] - LANES.top, class: "open-column" }));
    business.append(titled(
      svg("rect", { x: x0, y: LANES.business[0], width: w, height: LANES.business[1] - LANES.business[0], class: "open" }),
      `Open ${localText(span.start)} – ${localText(span.end)}`,
    ));
  }
  root.append(business);

  // Status spans, then a veil over the time outside business hours (it does not count).
  const status = svg("g", { class: "status" });
  for (const span of timeline.status) {
    if (!clipped(span.start.us, span.end.us)) continue;
    const x0 = x(span.start.us);
    const rect = svg("rect", {
      x: x0,
      y: LANES.status[0],
      width: Math.max(0.5, x(span.end.us) - x0),
      height: LANES.status[1] - LANES.status[0],
      class: span.active ? "active" : "inactive",
    });
    // Inactive is hatched as well as red, for readers who cannot tell the colours apart.
    if (!span.active) rect.style.fill = `url(#hatch-${chart.index})`;
    status.append(titled(
      rect,
      `${span.active ? "Active" : "Inactive"} ${localText(span.start)} – ${localText(span.end)}`,
    ));
  }
  // Unknown time and special days: once the store route sends them (the engine's
  // work), draw them here, between the status spans and the veil below, with a legend item
  // each in index.html. Nothing is drawn for them before the data exists.
  let cursor = from;
  const closed = [];
  for (const span of timeline.business) {
    if (span.start.us > cursor) closed.push([cursor, Math.min(span.start.us, to)]);
    cursor = Math.max(cursor, span.end.us);
  }
  if (cursor < to) closed.push([cursor, to]);
  for (const [start, end] of closed) {
    if (start >= end) continue;
    status.append(svg("rect", {
      x: x(start),
      y: LANES.status[0],
      width: Math.max(0, x(end) - x(start)),
      height: LANES.status[1] - LANES.status[0],
      class: "veil",
    }));
  }
  root.append(status);
  if (measured.up + measured.down === 0) {
    // No business time in the whole window: say so in words, not only in pale colours.
    const middle = (LANES.status[0] + LANES.status[1]) / 2 + 5;
    root.append(svg("text", { x: left + plot / 2, y: middle, class: "closed-label", "text-anchor": "middle" },
      "closed: no business hours in this window"));
  }

  // Polls: active ticks above the middle line, inactive below.
  const middle = (LANES.polls[0] + LANES.polls[1]) / 2;
  const polls = svg("g", { class: "polls" });
  polls.append(svg("line", { x1: left, x2: left + plot, y1: middle, y2: middle, class: "poll-axis" }));
  for (const poll of timeline.polls) {
    const at = poll.at.us;
    if (at < from || at > to) continue;
    const px = x(at);
    polls.append(titled(
      svg("line", {
        x1: px,
        x2: px,
        y1: poll.active ? LANES.polls[0] : middle,
        y2: poll.active ? middle : LANES.polls[1],
        class: poll.active ? "poll active" : "poll inactive",
      }),
      `Poll at ${poll.at.local.slice(0, 19).replace("T", " ")}: ${poll.active ? "active" : "inactive"}`,
    ));
  }
  root.append(polls);

  // Axis with local wall-clock labels.
  const axis = svg("g", { class: "axis" });
  axis.append(svg("line", { x1: left, x2: left + plot, y1: LANES.axis, y2: LANES.axis }));
  const ticks = chart.ticks === "days" ? timeline.days.map((day) => ({ us: day.us, label: day.label })) : localTicks(timeline, from, to, chart.ticks);
  let lastLabelX = -Infinity;
  for (const tick of ticks) {
    const px = x(tick.us);
    axis.append(svg("line", { x1: px, x2: px, y1: LANES.axis, y2: LANES.axis + 4 }));
    const labelWidth = tick.label.length * 6.5;
    if (px - lastLabelX >= labelWidth + 8 && px + 2 + labelWidth <= width) {
      axis.append(svg("text", { x: px + 2, y: LANES.axis + 16 }, tick.label));
      lastLabelX = px;
    }
  }
  root.append(axis);

  // Window boundaries and clock changes.
  const marks = svg("g", { class: "marks" });
  for (const key of chart.marks) {
    const px = x(timeline.windows[key].us);
    const label = key === "last_day" ? "last day" : "last hour";
    const labelY = LABEL_ROWS[key];
    marks.append(titled(
      svg("line", { x1: px, x2: px, y1: 2, y2: LANES.polls[1], class: "window" }),
      `The ${label} starts ${localText(timeline.windows[key])}`,
    ));
    marks.append(svg("text", { x: px - 3, y: labelY, class: "window-label", "text-anchor": "end" }, label));
  }
  for (const change of timeline.offset_changes) {
    if (change.at.us < from || change.at.us > to) continue;
    const px = x(change.at.us);
    marks.append(titled(
      svg("line", { x1: px, x2: px, y1: 2, y2: LANES.polls[1], class: "dst" }),
      `Clock change at ${localText(change.at)}: ${formatOffset(change.offset_before)} → ${formatOffset(change.offset_after)}`,
    ));
    const text = `DST ${formatOffset(change.offset_before)} → ${formatOffset(change.offset_after)}`;
    const fits = px + 3 + text.length * 6.5 <= width;
    marks.append(svg("text", {
      x: fits ? px + 3 : px - 3,
      y: LABEL_ROWS.dst,
      class: "dst-label",
      "text-anchor": fits ? "start" : "end",
    }, text));
  }
  root.append(marks);

  figure.append(caption, root);
  return figure;
}

function localRange(timeline, from) {
  const fromLocal = new Date(Math.floor((from + offsetAt(timeline, from)) / 1000)).toISOString();
  return `${fromLocal.slice(0, 16).replace("T", " ")} – ${localText(timeline.as_of)} (${timeline.zone_key})`;
}

// Instants in [from, to] where the local wall clock shows a multiple of step.
function localTicks(timeline, from, to, step) {
  const ticks = [];
  let offset = offsetAt(timeline, from);
  let wall = Math.ceil((from + offset) / step) * step;
  for (let guard = 0; guard < 500; guard++) {
    const us = wall - offset;
    if (us > to) break;
    const actual = offsetAt(timeline, us);
    if (actual !== offset) {
      offset = actual;
      wall = Math.ceil((us + offset) / step) * step;
      continue;
    }
    if (us >= from) ticks.push({ us, label: wallClock(timeline, us) });
    wall += step;
  }
  return ticks;
}

// ---------------------------------------------------------------- views and routing

function showReportView() {
  state.storeLoad++;
  state.timeline = null;
  const wasStore = !$("#store-view").hidden;
  $("#store-view").hidden = true;
  $("#summary").hidden = !state.report;
  $("#table-view").hidden = !state.report;
  if (wasStore) {
    // Back from a store: focus its link again when it is on the page shown, else the
    // table's heading, never <body>.
    const link = state.lastStore && document.querySelector(`tr[data-store-id="${CSS.escape(state.lastStore)}"] a`);
    if (link) link.focus();
    else if (state.report) $("#table-heading").focus();
    else $("#main").focus();
  }
}

function showStoreView() {
  $("#summary").hidden = true;
  $("#table-view").hidden = true;
  $("#store-view").hidden = false;
}

async function route() {
  const params = hashParams();
  const reportId = params.get("report") || "";
  const storeId = params.get("store");
  if (readSettings(params) && state.report) {
    renderSummary();
    applyView();
  }
  if (!reportId) {
    const saved = sessionStorage.getItem(REPORT_KEY);
    if (saved) {
      history.replaceState(null, "", `#${hashFor(saved)}`);
      route();
      return;
    }
    showReportView();
    return;
  }
  if (storeId) {
    state.lastStore = storeId;
    showStore(reportId, storeId);
    // The report loads too (for the way back), without taking the store view away.
    loadReport(reportId);
    return;
  }
  showReportView();
  loadReport(reportId);
}

function main() {
  setUpToken();
  setUpSummary();
  setUpTable();
  onPress($("#trigger"), trigger);
  onPress($("#download"), downloadCsv);
  $("#to-outages").addEventListener("click", () => {
    $("#outages").focus();
    $("#outages").scrollIntoView({ block: "start" });
  });
  window.addEventListener("hashchange", route);
  let resizing = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(drawCharts, 150);
  });
  checkSession();
  refreshHealth();
  route();
}

main();
