// storemon's page: trigger a report, see the fleet at a glance, read the table, see one
// store's week and its outages, list earlier reports and compare two of them.
//
// Plain ES module, no dependencies, no build. The server computes every number and every
// local time (with the store's zone); this file only counts, draws and adds durations up, in
// microseconds (exact integers in a JavaScript number), to check the picture against the row.
//
// The views, chosen by the address (`route`), each with the reading settings
// [&target=PCT][&show=FILTER]: the report (#report=ID: summary and table), one store
// (#report=ID&store=STORE), the report history (#history[&before=CURSOR]) and the
// comparison of two reports (#compare=ID&to=ID).

const TOKEN_KEY = "storemon.token";
const REPORT_KEY = "storemon.report";
const POLL_MS = 500; // asking about a running report
const POLL_MAX_MS = 8000; // the longest pause between two asks while the server is away
const HEALTH_MS = 5000; // asking the server how it is, while the page is open
const HISTORY_PAGE = 10; // reports per page of the history
const HISTORY_REFRESH_MS = 2000; // asking again while a listed report is unfinished
const COMPARE_PAGE = 50; // stores per page of a comparison
const CACHED_REPORTS = 4; // complete reports kept in memory, for comparing back and forth
const DEFAULT_TARGET = 99;
const SVG_NS = "http://www.w3.org/2000/svg";
const MINUTE_US = 60_000_000;
const HOUR_US = 60 * MINUTE_US;

const WINDOWS = [
  { key: "last_hour", label: "Last hour", unit: "min", unitName: "minutes", unitUs: MINUTE_US },
  { key: "last_day", label: "Last day", unit: "h", unitName: "hours", unitUs: HOUR_US },
  { key: "last_week", label: "Last week", unit: "h", unitName: "hours", unitUs: HOUR_US },
];

// The report's CSV columns, in its order (the export writes them so); a report with a
// maximum gap has the three unknown columns after them.
const REPORT_HEADER = [
  "store_id",
  ...WINDOWS.map((window) => `uptime_${window.key}`),
  ...WINDOWS.map((window) => `downtime_${window.key}`),
];
const UNKNOWN_HEADER = WINDOWS.map((window) => `unknown_${window.key}`);

// What "Show" keeps: a row's numbers and the target decide.
const SHOW = {
  all: () => true,
  ...Object.fromEntries(
    WINDOWS.flatMap((window) => [
      [`down_${window.key}`, (row) => row.down[window.key] > 0],
      [`below_${window.key}`, (row, target) => isBelow(row, window.key, target)],
      [`unknown_${window.key}`, (row) => row.unknown[window.key] > 0],
    ]),
  ),
};

// Histogram of weekly shares: 20 bins of 5 points, the last one closed (95–100 %).
const BIN_COUNT = 20;

const $ = (selector) => document.querySelector(selector);
const numberFormat = new Intl.NumberFormat("en");
// A share num / den (whole numbers, den > 0) as a percentage cut, not rounded, to a tenth,
// so that 99.97 % never reads 100 % (nor passes a target). Exact: integer arithmetic on the
// report's hundredths, never a float quotient that could land a tenth low.
function cutPercent(num, den) {
  const tenths = Math.floor((1000 * num) / den);
  return tenths % 10 ? `${Math.floor(tenths / 10)}.${tenths % 10}%` : `${tenths / 10}%`;
}

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
  tableUnknown: false, // whether the table's header has the unknown columns
  timeline: null, // the store shown, for redrawing on resize
  lastStore: null,
  server: "unknown", // ready, loading, down
  reports: new Map(), // complete reports by id, newest use last: { id, asOf, rows }
  history: {
    load: 0, // bumps to abandon an older list load
    cursor: "", // the page shown: "" for the newest, else the `before` it was asked with
    cursors: [""], // the pages from the newest known one to the one shown, for "Newer"
    next: null, // the cursor of the page after the one shown
    timer: 0, // asks again while a listed report is unfinished
  },
  chosen: new Map(), // reports chosen for comparing, by id: { report_id, as_of, created_at }
  compare: {
    load: 0, // bumps to abandon an older comparison load
    key: "", // the two ids of the comparison shown
    earlier: null,
    later: null,
    changes: [], // one per store in either report (see storeChange)
    view: [], // the changes shown, filtered and sorted
    sortKey: "share", // biggest drops first
    sortDir: 1,
    show: "all",
    filter: "",
    page: 0,
  },
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

// The reading settings in force, added to a view's address.
function withSettings(params) {
  if (state.target !== DEFAULT_TARGET) params.set("target", String(state.target));
  if (state.show !== "all") params.set("show", state.show);
  return params.toString();
}

// The address of a view: the report, maybe a store, and the reading settings in force.
function hashFor(reportId, storeId = null) {
  const params = new URLSearchParams({ report: reportId });
  if (storeId !== null) params.set("store", storeId);
  return withSettings(params);
}

// The address of a page of the report history ("" for the newest).
function historyHash(cursor = "") {
  const rest = withSettings(new URLSearchParams(cursor ? { before: cursor } : {}));
  return rest ? `history&${rest}` : "history";
}

// The address of the comparison of two reports, the earlier first.
function compareHash(earlierId, laterId) {
  return withSettings(new URLSearchParams({ compare: earlierId, to: laterId }));
}

// The view the address asks for: report, store, history or compare.
function currentView(params = hashParams()) {
  if (params.has("history")) return "history";
  if (params.has("compare")) return "compare";
  return params.get("report") && params.get("store") ? "store" : "report";
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

// A window is closed when it had no business time: the report writes 0.00 up, 0.00 down
// and, with a maximum gap, 0.00 unknown (its values are rounded to two decimals, so less
// than 0.005 of each reads so too).
function isClosed(row, window) {
  return row.up[window] === 0 && row.down[window] === 0 && row.unknown[window] === 0;
}

// Below target: a share of the known business time (up or down) under the target. A
// window whose business time is all unknown has no share, so it is never below.
function isBelow(row, window, target) {
  return row.share[window] !== null && row.share[window] < target / 100;
}

// `share` is the part of the business time whose status is known (up or down) that was
// up: unknown time counts neither way (SEMANTICS.md, "Unknown time"). Null when none is
// known (closed, or all unknown).
function prepareRow(row) {
  const up = {};
  const down = {};
  const unknown = {};
  const share = {};
  for (const { key } of WINDOWS) {
    up[key] = Number(row[`uptime_${key}`]);
    down[key] = Number(row[`downtime_${key}`]);
    unknown[key] = Number(row[`unknown_${key}`] ?? 0);
    share[key] = up[key] + down[key] > 0 ? up[key] / (up[key] + down[key]) : null;
  }
  return { ...row, up, down, unknown, share };
}

// "PT1H30M" (the API's form of a maximum gap) as "1 h 30 min".
function gapText(iso) {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso || "");
  if (!match) return iso || "";
  const parts = [];
  if (match[1]) parts.push(`${match[1]} h`);
  if (match[2]) parts.push(`${match[2]} min`);
  if (match[3]) parts.push(`${match[3]} s`);
  return parts.join(" ");
}

function setReport(reportId, body) {
  state.report = keepReport(reportId, body);
  const rows = state.report.rows;
  state.page = 0;
  const gap = state.report.maxGap ? `, maximum gap ${gapText(state.report.maxGap)}` : "";
  setReportState(
    "Complete",
    `Report ${reportId}: ${numberFormat.format(rows.length)} stores, as of ${asOfText(body.as_of)}${gap}.`,
  );
  setUnknownShown(state.report.hasUnknown);
  setEnabled($("#download"), true);
  renderSummary();
  applyView();
  if (currentView() === "report") showReportView();
}

// A complete report, its rows prepared, kept for comparing (the few used last).
function keepReport(reportId, body) {
  // The unknown columns are there exactly when the report was computed with a maximum gap.
  const maxGap = body.max_gap ?? null;
  const hasUnknown = maxGap !== null;
  const report = {
    id: reportId,
    asOf: body.as_of,
    maxGap,
    hasUnknown,
    columns: hasUnknown ? [...REPORT_HEADER, ...UNKNOWN_HEADER] : REPORT_HEADER,
    rows: body.rows.map(prepareRow),
  };
  state.reports.delete(reportId);
  state.reports.set(reportId, report);
  for (const id of state.reports.keys()) {
    if (state.reports.size <= CACHED_REPORTS) break;
    if (id !== state.report?.id) state.reports.delete(id);
  }
  return report;
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
    let unknownStores = 0;
    let unknownHundredths = 0; // exact: the sum of the report's two-decimal values
    for (const row of rows) {
      if (isClosed(row, key)) continue;
      open++;
      if (isBelow(row, key, target)) below++;
      if (row.unknown[key] > 0) {
        unknownStores++;
        unknownHundredths += hundredths(row[`unknown_${key}`]);
      }
    }
    windows[key] = { open, below, unknownStores, unknownHundredths };
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
  $("#summary").hidden = !report || currentView() !== "report";
  if (!report) return;
  const summary = summarise(report.rows, state.target);
  report.summary = summary;
  const closedWeek = summary.stores - summary.windows.last_week.open;
  const total = $("#summary-total");
  total.dataset.stores = String(summary.stores);
  total.textContent =
    `${numberFormat.format(summary.stores)} stores in the report` +
    (closedWeek ? `; ${numberFormat.format(closedWeek)} had no business hours all week.` : ".") +
    (report.hasUnknown
      ? ` Maximum gap ${gapText(report.maxGap)}: time further than half of it from every poll ` +
        "is unknown, neither up nor down, and shares count only the known time."
      : "");
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
    below.append(button, ` (${counts.open ? cutPercent(counts.below, counts.open) : "—"})`);
    tr.append(
      cell("th", window.label, { scope: "row" }),
      cell("td", numberFormat.format(counts.open), { class: "num", "data-count": String(counts.open) }),
      below,
    );
    if (report.hasUnknown) {
      const total = hundredthsText(counts.unknownHundredths);
      tr.append(
        cell("td", `${numberFormat.format(counts.unknownStores)} (${total} ${window.unit})`, {
          class: "num",
          "data-count": String(counts.unknownStores),
          "data-key": "unknown",
          "data-total": total,
        }),
      );
    }
    body.append(tr);
    if (window.key === focusedWindow) button.focus();
  }
  drawHistogram(summary.bins);
}

// Hundredths (a whole number) as the report writes them: "1234" -> "12.34".
function hundredthsText(value) {
  return `${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")}`;
}

// The unknown columns, options and summary column are there only for a report with them.
function setUnknownShown(shown) {
  $("#summary-unknown-head").hidden = !shown;
  for (const option of document.querySelectorAll("#show option[data-unknown]")) option.hidden = !shown;
  if (!shown && state.show.startsWith("unknown_")) {
    state.show = "all";
    $("#show").value = "all";
  }
  if (state.tableUnknown !== shown) buildHeader(shown);
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

// Column groups: the store, then each window's share (with the uptime) and downtime, and
// its unknown time when the report has it. A window's header shows "Up", "Down" or
// "Unknown" under the window's name; the button's name says it all ("Up share, last
// week"), as a screen reader may read one header at a time.
function columnsOf(withUnknown) {
  return [
    { key: "store_id", label: "Store id", more: "" },
    ...WINDOWS.flatMap((window) => [
      { key: `share_${window.key}`, window, label: "Up", more: ` share, ${window.label.toLowerCase()}` },
      { key: `downtime_${window.key}`, window, label: "Down", more: `, ${window.label.toLowerCase()}` },
      ...(withUnknown
        ? [{ key: `unknown_${window.key}`, window, label: "Unknown", more: `, ${window.label.toLowerCase()}` }]
        : []),
    ]),
  ];
}

function sortValue(row, key) {
  if (key.startsWith("share_")) return row.share[key.slice(6)];
  const [kind, ...rest] = key.split("_");
  const window = rest.join("_");
  if (isClosed(row, window)) return null;
  return kind === "unknown" ? row.unknown[window] : row.down[window];
}

// (Re)build the table's header for the report's columns.
function buildHeader(withUnknown) {
  state.tableUnknown = withUnknown;
  if (!withUnknown && state.sortKey.startsWith("unknown_")) {
    state.sortKey = "share_last_week";
    state.sortDir = 1;
  }
  $("#report-table").classList.toggle("with-unknown", withUnknown);
  const groups = $("#report-table thead tr.groups");
  const columns = $("#report-table thead tr.columns");
  groups.replaceChildren();
  columns.replaceChildren();
  for (const column of columnsOf(withUnknown)) {
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
    const th = cell("th", `${window.label} (${window.unitName})`, {
      scope: "colgroup",
      colspan: withUnknown ? "3" : "2",
    });
    th.dataset.window = window.key;
    groups.append(th);
  }
}

function sortBy(key) {
  if (state.sortKey === key) state.sortDir = -state.sortDir;
  else {
    state.sortKey = key;
    // Store ids and shares read best from the smallest; downtime and unknown time from
    // the largest.
    state.sortDir = key.startsWith("downtime_") || key.startsWith("unknown_") ? -1 : 1;
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

// ---------------------------------------------------------------- pages of rows

// The rows of the page shown: `holder.page` (kept in range) of `count` rows, `size` a page.
function pageBounds(holder, size, count) {
  const pages = Math.max(1, Math.ceil(count / size));
  holder.page = Math.min(holder.page, pages - 1);
  const from = holder.page * size;
  return { pages, from, to: Math.min(count, from + size) };
}

// A pager's line and its four buttons, named `${prefix}first-page` and so on.
function showPager(prefix, holder, bounds, count) {
  const { pages, from, to } = bounds;
  $(`#${prefix}page-info`).textContent = count
    ? `Rows ${numberFormat.format(from + 1)}–${numberFormat.format(to)} of ${numberFormat.format(count)} · page ${holder.page + 1} of ${pages}`
    : "No store matches";
  setEnabled($(`#${prefix}first-page`), holder.page > 0);
  setEnabled($(`#${prefix}prev-page`), holder.page > 0);
  setEnabled($(`#${prefix}next-page`), holder.page < pages - 1);
  setEnabled($(`#${prefix}last-page`), holder.page < pages - 1);
}

function setUpPager(prefix, holder, render) {
  const turn = (to) => () => {
    holder.page = to();
    render();
  };
  onPress($(`#${prefix}first-page`), turn(() => 0));
  onPress($(`#${prefix}prev-page`), turn(() => Math.max(0, holder.page - 1)));
  onPress($(`#${prefix}next-page`), turn(() => holder.page + 1));
  onPress($(`#${prefix}last-page`), turn(() => Number.MAX_SAFE_INTEGER));
}

// Rows are replaced: a focus on one of them goes to `heading`, never to <body>.
function replaceRows(body, rows, heading) {
  const hadFocus = body.contains(document.activeElement);
  body.replaceChildren(rows);
  if (hadFocus) heading.focus();
}

// How many stores a table shows, of how many.
function showCount(count, shown, total) {
  count.dataset.total = String(total);
  count.dataset.shown = String(shown);
  count.textContent =
    shown === total
      ? `${numberFormat.format(total)} stores`
      : `${numberFormat.format(shown)} of ${numberFormat.format(total)} stores match`;
}

// aria-sort on the header cell of the sorted column, and on no other.
function markSorted(table, key, dir) {
  for (const th of table.querySelectorAll("th[data-key]")) {
    if (th.dataset.key === key) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
}

function renderTable() {
  const rows = state.report ? state.report.rows : [];
  const total = rows.length;
  const shown = state.view.length;
  const bounds = pageBounds(state, state.pageSize, shown);
  markSorted($("#report-table"), state.sortKey, state.sortDir);

  const fragment = document.createDocumentFragment();
  for (let position = bounds.from; position < bounds.to; position++) {
    fragment.append(tableRow(rows[state.view[position]]));
  }
  replaceRows($("#report-table tbody"), fragment, $("#table-heading"));

  showCount($("#row-count"), shown, total);
  showPager("", state, bounds, shown);
  setEnabled($("#export"), shown > 0);
}

function shareCell(row, window) {
  const share = row.share[window.key];
  const td = cell("td", "", { class: "share", "data-key": `share_${window.key}`, "data-value": row[`uptime_${window.key}`] });
  const bar = cell("span", "", { class: "bar", "aria-hidden": "true" });
  const fill = document.createElement("span");
  fill.style.width = `${((share ?? 0) * 100).toFixed(2)}%`;
  if (isBelow(row, window.key, state.target)) fill.className = "below";
  bar.append(fill);
  // All of the window's business time unknown: no share to show.
  const pct = share === null ? "unknown" : shareText(row[`uptime_${window.key}`], row[`downtime_${window.key}`]);
  td.append(bar, cell("span", pct, { class: "pct" }), cell("span", row[`uptime_${window.key}`], { class: "up" }));
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
  const withUnknown = state.report.hasUnknown;
  for (const window of WINDOWS) {
    if (isClosed(row, window.key)) {
      const span = withUnknown ? "3" : "2";
      tr.append(cell("td", "closed", { class: "closed", colspan: span, "data-key": `closed_${window.key}` }));
      continue;
    }
    tr.append(
      shareCell(row, window),
      cell("td", row[`downtime_${window.key}`], {
        class: row.down[window.key] > 0 ? "num down" : "num",
        "data-key": `downtime_${window.key}`,
      }),
    );
    if (withUnknown) {
      tr.append(
        cell("td", row[`unknown_${window.key}`], {
          class: row.unknown[window.key] > 0 ? "num unknown" : "num",
          "data-key": `unknown_${window.key}`,
        }),
      );
    }
  }
  return tr;
}

function csvField(text) {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// The rows of the view (every page), in its order, as the report's CSV writes them.
function exportView() {
  const { rows, columns } = state.report;
  const lines = [columns.join(",")];
  for (const index of state.view) lines.push(columns.map((key) => csvField(rows[index][key])).join(","));
  const suffix = state.show === "all" ? "" : `-${state.show.replaceAll("_", "-")}`;
  const filtered = state.filter.trim() ? "-filtered" : "";
  saveFile(
    `report-${state.report.id}${suffix}${filtered}.csv`,
    new Blob([`${lines.join("\n")}\n`], { type: "text/csv" }),
  );
}

// A text filter applies once typing pauses (120 ms), not at every key.
function onTyped(input, apply) {
  let pending = 0;
  input.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => apply(input.value), 120);
  });
}

function setUpTable() {
  buildHeader(false);
  onTyped($("#filter"), (value) => {
    state.filter = value;
    state.page = 0;
    applyView();
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
  setUpPager("", state, renderTable);
  onPress($("#export"), exportView);
}

// ---------------------------------------------------------------- store view

// Add up business time and status inside [from, to): microseconds up, down and unknown
// (the status spans leave out the unknown stretches, which the server sends apart).
function measure(timeline, from, to) {
  let up = 0;
  let down = 0;
  let unknown = 0;
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
    for (const span of timeline.unknown || []) {
      const start = Math.max(span.start.us, lo);
      const end = Math.min(span.end.us, hi);
      if (start < end) unknown += end - start;
    }
  }
  return { up, down, unknown };
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
  $("#store-special").textContent = "";
  $("#store-special").hidden = true;
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
    `${localText(timeline.as_of)}).` + dstSentence(timeline) + gapSentence(timeline);
  renderSpecialDays(timeline);
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

function gapSentence(timeline) {
  if (!timeline.max_gap) return "";
  const gap = gapText(timeline.max_gap);
  return ` Maximum gap ${gap}: time further than half of it from every poll is unknown.`;
}

// The week's special dates in words (the drawing marks them too).
function renderSpecialDays(timeline) {
  const days = timeline.special_days || [];
  const line = $("#store-special");
  line.hidden = days.length === 0;
  line.textContent = days.length
    ? `Special dates this week (local): ${days.map(specialText).join("; ")}.`
    : "";
}

// "Tue 24 Jan 2023: closed all day" or "Wed 25 Jan 2023: open 09:00–13:00".
function specialText(day) {
  const date = new Date(`${day.date}T00:00:00Z`);
  const name = date.toLocaleDateString("en-GB", { weekday: "short", day: "2-digit", month: "short", year: "numeric", timeZone: "UTC" });
  if (day.closed) return `${name.replace(",", "")}: closed all day`;
  const hours = day.hours.map((hour) => `${hour.start.slice(0, 5)}–${hour.end.slice(0, 5)}`);
  return `${name.replace(",", "")}: open ${hours.join(", ")}`;
}

function renderNumbers(timeline) {
  const row = timeline.row;
  const withUnknown = Boolean(timeline.max_gap);
  const head = $("#store-numbers thead tr");
  // Shorter names with the fourth measure, so that the table fits beside the charts.
  const headers = withUnknown
    ? ["Window", "Up", "Down", "Unknown", "Business", "Share up"]
    : ["Window", "Uptime", "Downtime", "Business", "Share up"];
  head.replaceChildren(...headers.map((text) => cell("th", text, { scope: "col" })));
  const body = $("#store-numbers tbody");
  const mismatches = [];
  for (const window of WINDOWS) {
    const up = row[`uptime_${window.key}`];
    const down = row[`downtime_${window.key}`];
    const unknown = withUnknown ? row[`unknown_${window.key}`] : "0.00";
    const business = hundredths(up) + hundredths(down) + hundredths(unknown);
    const measured = measure(timeline, timeline.windows[window.key].us, timeline.as_of.us);
    const measuredUp = twoDecimals(measured.up, window.unitUs);
    const measuredDown = twoDecimals(measured.down, window.unitUs);
    const measuredUnknown = twoDecimals(measured.unknown, window.unitUs);
    if (measuredUp !== up) mismatches.push(`${window.label} up ${measuredUp} ≠ ${up}`);
    if (measuredDown !== down) mismatches.push(`${window.label} down ${measuredDown} ≠ ${down}`);
    if (measuredUnknown !== unknown) mismatches.push(`${window.label} unknown ${measuredUnknown} ≠ ${unknown}`);
    const tr = document.createElement("tr");
    tr.dataset.window = window.key;
    tr.dataset.uptime = up;
    tr.dataset.downtime = down;
    if (withUnknown) tr.dataset.unknown = unknown;
    // With the unknown column the unit goes once into the row's header, so that the
    // table still fits beside the charts.
    const unit = withUnknown ? "" : ` ${window.unit}`;
    tr.append(cell("th", withUnknown ? `${window.label} (${window.unit})` : window.label, { scope: "row" }));
    if (business === 0) {
      tr.append(cell("td", "closed: no business hours", { colspan: String(headers.length - 1), class: "closed" }));
    } else {
      const known = hundredths(up) + hundredths(down);
      tr.append(
        cell("td", `${up}${unit}`),
        cell("td", `${down}${unit}`),
        ...(withUnknown ? [cell("td", `${unknown}${unit}`)] : []),
        cell("td", `${hundredthsText(business)}${unit}`),
        cell("td", known ? shareText(up, down) : "unknown"),
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
    : withUnknown
      ? "✓ The timeline adds up to these numbers (active, inactive and unknown time inside business hours)."
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

// Three rows of labels on top (clock change, last day, last hour), then the lanes: special
// dates (only in a chart whose time reaches one), business hours, status, polls, and the
// axis.
const LABEL_ROWS = { dst: 10, last_day: 21, last_hour: 32 };
const SPECIAL_LANE = [37, 53];

// The special dates whose local day reaches into [from, to).
function specialDaysIn(timeline, from, to) {
  return (timeline.special_days || []).filter((day) => day.start.us < to && day.end.us > from);
}

function lanesFor(hasSpecial) {
  const shift = hasSpecial ? SPECIAL_LANE[1] - SPECIAL_LANE[0] + 4 : 0;
  const at = (y) => y + shift;
  return {
    top: at(37),
    business: [at(37), at(51)],
    status: [at(57), at(87)],
    polls: [at(93), at(115)],
    axis: at(119),
    height: at(147),
  };
}

function drawChart(timeline, chart) {
  const { from, to, width } = chart;
  const specialDays = specialDaysIn(timeline, from, to);
  const LANES = lanesFor(specialDays.length > 0);
  const left = 52;
  const right = 10;
  const plot = width - left - right;
  const x = (us) => left + ((Math.min(Math.max(us, from), to) - from) / (to - from)) * plot;
  const clipped = (start, end) => start < to && end > from;
  const figure = document.createElement("figure");
  figure.className = "chart";
  const captionId = `chart-${chart.index}-caption`;
  const measured = measure(timeline, from, to);
  const closedNote = measured.up + measured.down + measured.unknown === 0 ? " (closed)" : "";
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
      `${(measured.up / HOUR_US).toFixed(2)} h active and ${(measured.down / HOUR_US).toFixed(2)} h inactive` +
      (timeline.max_gap ? ` and ${(measured.unknown / HOUR_US).toFixed(2)} h unknown` : "") +
      " within business hours."),
  );
  const defs = svg("defs");
  const pattern = svg("pattern", { id: `hatch-${chart.index}`, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  pattern.append(svg("rect", { width: 6, height: 6, class: "hatch-ground" }), svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch" }));
  // Unknown time: grey with dark dots, told apart from the plain green, the hatched red
  // and the pale veil by its pattern as well as its colour.
  const dots = svg("pattern", { id: `dots-${chart.index}`, width: 5, height: 5, patternUnits: "userSpaceOnUse" });
  dots.append(svg("rect", { width: 5, height: 5, class: "dots-ground" }), svg("circle", { cx: 2.5, cy: 2.5, r: 1.1, class: "dot" }));
  defs.append(pattern, dots);
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
  // Unknown stretches, in the gaps the status spans leave (under the veil outside
  // business hours, like the status).
  for (const span of timeline.unknown || []) {
    if (!clipped(span.start.us, span.end.us)) continue;
    const x0 = x(span.start.us);
    const rect = svg("rect", {
      x: x0,
      y: LANES.status[0],
      width: Math.max(0.5, x(span.end.us) - x0),
      height: LANES.status[1] - LANES.status[0],
      class: "unknown",
    });
    rect.style.fill = `url(#dots-${chart.index})`;
    status.append(titled(rect, `Unknown (no poll near) ${localText(span.start)} – ${localText(span.end)}`));
  }
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
  if (specialDays.length) root.append(drawSpecialDays(specialDays, x, width));
  if (measured.up + measured.down + measured.unknown === 0) {
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

// The special dates in their lane: a band over each local date, named in words ("24 Jan
// closed", "25 Jan special hours"), so that no colour alone tells it.
function drawSpecialDays(days, x, width) {
  const group = svg("g", { class: "special-days" });
  const [top, bottom] = SPECIAL_LANE;
  group.append(svg("text", { x: 4, y: (top + bottom) / 2 + 4, class: "lane" }, "Special"));
  for (const day of days) {
    const x0 = x(day.start.us);
    const x1 = x(day.end.us);
    const kind = day.closed ? "closed" : "hours";
    group.append(titled(
      svg("rect", { x: x0, y: top, width: Math.max(1, x1 - x0), height: bottom - top, class: `special ${kind}`, "data-date": day.date }),
      `Special date ${specialText(day)}`,
    ));
    // The date as the store's calendar names it: "24 Jan" from "2023-01-24".
    const date = new Date(`${day.date}T00:00:00Z`);
    const short = date.toLocaleDateString("en-GB", { day: "2-digit", month: "short", timeZone: "UTC" });
    for (const label of [`${short} ${day.closed ? "closed" : "special hours"}`, `${short} ${day.closed ? "closed" : "special"}`, short]) {
      if (label.length * 6.2 + 6 <= x1 - x0 || label === short) {
        const middle = Math.min(Math.max((x0 + x1) / 2, label.length * 3.1 + 2), width - label.length * 3.1 - 2);
        group.append(svg("text", { x: middle, y: bottom - 4, "text-anchor": "middle", class: `special-label ${kind}`, "data-date": day.date }, label));
        break;
      }
    }
  }
  return group;
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

// ---------------------------------------------------------------- waiting for answers

// Ask until the server answers, through a restart: a transient failure waits (longer each
// time, up to POLL_MAX_MS) after `waiting` says so; any other failure is thrown. Returns
// null once `isCurrent()` is false (the user went elsewhere).
async function untilAnswered(ask, isCurrent, waiting) {
  let pause = POLL_MS;
  for (;;) {
    try {
      return await ask();
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (isCurrent()) waiting();
    }
    await sleep(pause);
    pause = Math.min(pause * 2, POLL_MAX_MS);
    if (!isCurrent()) return null;
  }
}

// A complete report (kept in memory once read), waiting while it is computed. Failures
// are thrown with the report's id in their message.
async function completeReport(reportId, isCurrent, say) {
  if (state.reports.has(reportId)) return state.reports.get(reportId);
  const query = new URLSearchParams({ report_id: reportId, format: "json" });
  for (;;) {
    let body;
    try {
      body = await untilAnswered(() => apiJson(`/api/get_report?${query}`), isCurrent, () =>
        say(`Waiting for the server to answer about report ${reportId}…`),
      );
    } catch (error) {
      throw new ApiError(error.status, `Report ${reportId}: ${error.message}`);
    }
    if (body === null || !isCurrent()) return null;
    if (body.status === "Complete") return keepReport(reportId, body);
    say(`Report ${reportId} is still being computed…`);
    await sleep(POLL_MS);
    if (!isCurrent()) return null;
  }
}

// ---------------------------------------------------------------- report history

function utcText(iso) {
  return iso ? iso.slice(0, 19).replace("T", " ") : "—";
}

async function showHistory(cursor) {
  const history = state.history;
  const load = ++history.load;
  clearTimeout(history.timer);
  const entering = $("#history-view").hidden;
  showOnly(["#history-view"]);
  const back = $("#history-back");
  back.hidden = !state.report;
  if (state.report) back.href = `#${hashFor(state.report.id)}`;
  if (entering) $("#history-heading").focus();
  if (entering || cursor !== history.cursor) $("#history-status").textContent = "Reading the list of reports…";
  const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
  if (cursor) query.set("before", cursor);
  const isCurrent = () => load === history.load;
  let body;
  try {
    body = await untilAnswered(() => apiJson(`/api/reports?${query}`), isCurrent, () => {
      $("#history-status").textContent = "Waiting for the server to answer…";
    });
  } catch (error) {
    // A refused token is said at the token field (see api); accepting one asks again.
    if (isCurrent()) {
      $("#history-status").textContent =
        error.status === 401 ? "" : `The list of reports could not be read: ${error.message}.`;
    }
    return;
  }
  if (body === null || !isCurrent()) return;
  // "Newer" goes back along the pages seen since the newest one; a page opened from a
  // link has no known newer page but the newest.
  const known = history.cursors.indexOf(cursor);
  if (known >= 0) history.cursors = history.cursors.slice(0, known + 1);
  else if (cursor && cursor === history.next) history.cursors.push(cursor);
  else history.cursors = [cursor];
  history.cursor = cursor;
  history.next = body.next;
  renderHistory(body.reports);
  // A report listed as running or queued is asked about again until it ends.
  if (body.reports.some((report) => report.status === "Running")) {
    history.timer = setTimeout(() => {
      if (isCurrent() && currentView() === "history") showHistory(cursor);
    }, HISTORY_REFRESH_MS);
  }
}

function renderHistory(reports) {
  const history = state.history;
  const body = $("#history-table tbody");
  // The rows are rebuilt (a refresh, another page): the focus stays on the same control
  // of the same report when it is still listed, else goes to the heading.
  const focused = body.contains(document.activeElement) ? document.activeElement : null;
  const focusedId = focused?.closest("tr")?.dataset.reportId;
  const focusedKind = focused?.type === "checkbox" ? "input" : "a";
  body.replaceChildren(...reports.map(historyRow));
  if (focused) {
    const again = focusedId && body.querySelector(`tr[data-report-id="${CSS.escape(focusedId)}"] ${focusedKind}`);
    (again || $("#history-heading")).focus();
  }
  const status = $("#history-status");
  status.dataset.count = String(reports.length);
  status.textContent = reports.length ? "" : "No report yet: generate one above.";
  const first = history.cursors[0] === "" ? (history.cursors.length - 1) * HISTORY_PAGE : null;
  $("#history-page-info").textContent = !reports.length
    ? ""
    : first === null
      ? `${reports.length} older reports`
      : `Reports ${first + 1}–${first + reports.length}`;
  setEnabled($("#history-newest"), history.cursor !== "");
  setEnabled($("#history-newer"), history.cursors.length > 1);
  setEnabled($("#history-older"), history.next !== null);
  renderChosen();
}

const STATE_NAMES = { Pending: "Queued", Running: "Running", Complete: "Complete", Failed: "Failed" };

function historyRow(report) {
  const tr = document.createElement("tr");
  tr.dataset.reportId = report.report_id;
  const head = cell("th", "", { scope: "row" });
  if (report.status === "Complete") {
    const box = cell("input", "", {
      type: "checkbox",
      "aria-label": `Choose report ${report.report_id} to compare`,
    });
    box.checked = state.chosen.has(report.report_id);
    box.addEventListener("change", () => {
      if (box.checked) state.chosen.set(report.report_id, report);
      else state.chosen.delete(report.report_id);
      renderChosen();
    });
    head.append(box);
  } else {
    // Keeps the ids in one column when a report cannot be chosen.
    head.append(cell("span", "", { class: "box-space", "aria-hidden": "true" }));
  }
  head.append(
    cell("a", report.report_id, {
      href: `#${hashFor(report.report_id)}`,
      "aria-label": `Open report ${report.report_id}`,
    }),
  );
  if (state.report && state.report.id === report.report_id) {
    tr.setAttribute("aria-current", "true");
    head.append(cell("span", "shown", { class: "tag" }));
  }
  const badge = cell("span", STATE_NAMES[report.state] || report.status, {
    class: "badge",
    "data-state": report.status.toLowerCase(),
  });
  const status = document.createElement("td");
  status.append(badge);
  tr.append(
    head,
    cell("td", utcText(report.created_at)),
    cell("td", utcText(report.as_of)),
    status,
    cell("td", report.stores === null ? "—" : numberFormat.format(report.stores), { class: "num" }),
  );
  return tr;
}

function renderChosen() {
  const count = state.chosen.size;
  setEnabled($("#compare-chosen"), count === 2);
  $("#chosen-note").textContent =
    count === 0
      ? "Choose two complete reports to compare."
      : count === 1
        ? "1 report chosen: choose one more."
        : count === 2
          ? "2 reports chosen."
          : `${count} reports chosen: a comparison takes two, so clear ${count - 2}.`;
}

// The two chosen reports, the earlier data first.
function compareChosen() {
  const [a, b] = [...state.chosen.values()].sort(
    (x, y) => compareIds(x.as_of || "", y.as_of || "") || compareIds(x.created_at, y.created_at),
  );
  location.hash = compareHash(a.report_id, b.report_id);
}

function setUpHistory() {
  onPress($("#compare-chosen"), compareChosen);
  onPress($("#history-newest"), () => {
    location.hash = historyHash();
  });
  onPress($("#history-newer"), () => {
    const cursors = state.history.cursors;
    location.hash = historyHash(cursors[cursors.length - 2]);
  });
  onPress($("#history-older"), () => {
    location.hash = historyHash(state.history.next);
  });
}

// ---------------------------------------------------------------- comparing two reports

// A report's two-decimal value in hundredths, exactly ("12.34" -> 1234).
function hundredths(text) {
  return Math.round(Number(text) * 100);
}

// One store in two reports: its weekly uptime in each, and the change. `share` is the
// change of the share of business time up, an exact fraction num / den of hundredths
// (null unless the store had business hours in both weeks); `hours` the change of
// uptime in hundredths of an hour (null unless the store is in both reports).
function storeChange(storeId, earlier, later) {
  const change = { store_id: storeId, earlier, later, kind: "", share: null, hours: null };
  if (!earlier || !later) {
    change.kind = earlier ? "only_earlier" : "only_later";
    return change;
  }
  const upA = hundredths(earlier.uptime_last_week);
  const upB = hundredths(later.uptime_last_week);
  change.hours = upB - upA;
  if (isClosed(earlier, "last_week") || isClosed(later, "last_week")) {
    change.kind = "closed";
    return change;
  }
  const openA = upA + hundredths(earlier.downtime_last_week);
  const openB = upB + hundredths(later.downtime_last_week);
  if (openA === 0 || openB === 0) {
    // Business time all unknown (a maximum gap): no share to compare.
    change.kind = "unknown";
    return change;
  }
  const num = upB * openA - upA * openB;
  const den = openA * openB;
  change.share = { num, den, value: num / den };
  change.kind = num < 0 ? "fell" : num > 0 ? "rose" : "same";
  return change;
}

// Every store of either report, with its change; pure, so the counts shown are counted.
function compareReports(earlier, later) {
  const before = new Map(earlier.rows.map((row) => [row.store_id, row]));
  const after = new Map(later.rows.map((row) => [row.store_id, row]));
  const changes = [];
  for (const [storeId, row] of before) changes.push(storeChange(storeId, row, after.get(storeId)));
  for (const [storeId, row] of after) if (!before.has(storeId)) changes.push(storeChange(storeId, undefined, row));
  const counts = { fell: 0, rose: 0, same: 0, closed: 0, unknown: 0, only_earlier: 0, only_later: 0 };
  for (const change of changes) counts[change.kind]++;
  return { changes, counts };
}

// Exact order of two share changes (fractions), by their values.
function shareOrder(a, b) {
  if (a.value !== b.value) return a.value - b.value;
  const exact = BigInt(a.num) * BigInt(b.den) - BigInt(b.num) * BigInt(a.den);
  return exact < 0n ? -1 : exact > 0n ? 1 : 0;
}

// Changes in the order asked for; those without the value sorted on go last either way,
// ties by store id.
function changeOrder(key, dir) {
  return (a, b) => {
    if (key !== "store_id") {
      const va = a[key];
      const vb = b[key];
      if (va === null || vb === null) {
        if (va !== vb) return va === null ? 1 : -1;
      } else {
        const order = key === "share" ? shareOrder(va, vb) : va - vb;
        if (order) return dir * order;
      }
      return compareIds(a.store_id, b.store_id);
    }
    return dir * compareIds(a.store_id, b.store_id);
  };
}

const MINUS = "\u2212";

// Percentage points to one decimal, rounded half away from zero, from the exact fraction;
// a change too small to show reads -0.0 or +0.0, never the 0.0 of no change.
function pointsText(share) {
  if (share.num === 0) return "0.0";
  const magnitude = Math.abs(share.num);
  const tenths = Math.floor((2000 * magnitude + share.den) / (2 * share.den));
  return `${share.num < 0 ? MINUS : "+"}${Math.floor(tenths / 10)}.${tenths % 10}`;
}

function hoursText(value) {
  const magnitude = Math.abs(value);
  const sign = value < 0 ? MINUS : value > 0 ? "+" : "";
  return `${sign}${Math.floor(magnitude / 100)}.${String(magnitude % 100).padStart(2, "0")}`;
}

// A week's share up, cut (not rounded) to a tenth of a percent as in the report's table,
// exactly from the hundredths.
function weekShareText(row) {
  if (!row) return "—";
  if (isClosed(row, "last_week")) return "closed";
  if (row.share.last_week === null) return "unknown";
  return shareText(row.uptime_last_week, row.downtime_last_week);
}

// The share of business time up, from the report's two-decimal uptime and downtime texts.
function shareText(upText, downText) {
  const up = hundredths(upText);
  return cutPercent(up, up + hundredths(downText));
}

async function showCompare(firstId, secondId) {
  const compare = state.compare;
  const load = ++compare.load;
  const entering = $("#compare-view").hidden;
  showOnly(["#compare-view"]);
  if (entering) $("#compare-heading").focus();
  const status = $("#compare-status");
  const key = `${firstId} ${secondId}`;
  if (compare.key === key) {
    renderCompareSummary();
    applyCompareView();
    return;
  }
  $("#compare-body").hidden = true;
  if (!firstId || !secondId || firstId === secondId) {
    status.textContent = "A comparison needs two different reports: choose them in the report history.";
    return;
  }
  status.textContent = `Reading reports ${firstId} and ${secondId}…`;
  const isCurrent = () => load === compare.load;
  const say = (message) => {
    if (isCurrent()) status.textContent = message;
  };
  let reports;
  try {
    reports = await Promise.all([firstId, secondId].map((id) => completeReport(id, isCurrent, say)));
  } catch (error) {
    // A refused token is said at the token field (see api); accepting one asks again.
    if (isCurrent()) status.textContent = error.status === 401 ? "" : `${error.message}.`;
    return;
  }
  if (!isCurrent() || reports.includes(null)) return;
  // The earlier data first, whatever the address's order.
  const [earlier, later] = (reports[1].asOf || "") < (reports[0].asOf || "") ? [reports[1], reports[0]] : reports;
  const { changes, counts } = compareReports(earlier, later);
  Object.assign(compare, { key, earlier, later, changes, counts, page: 0 });
  status.textContent = "";
  renderCompareSummary();
  applyCompareView();
  $("#compare-body").hidden = false;
}

function renderCompareSummary() {
  const { earlier, later, counts } = state.compare;
  const n = (count) => numberFormat.format(count);
  const stores = (count) => `${n(count)} ${count === 1 ? "store" : "stores"}`;
  const headline = $("#compare-headline");
  headline.replaceChildren();
  const parts = [
    `From ${asOfText(earlier.asOf)} to ${asOfText(later.asOf)}, each store's share of business time up last week `,
    cell("strong", `fell at ${stores(counts.fell)}`, { "data-count": String(counts.fell), "data-kind": "fell" }),
    ", ",
    cell("span", `rose at ${n(counts.rose)}`, { "data-count": String(counts.rose), "data-kind": "rose" }),
    " and ",
    cell("span", `did not change at ${n(counts.same)}`, { "data-count": String(counts.same), "data-kind": "same" }),
    "; ",
    cell("span", `${stores(counts.closed)} had no business hours all week in one of them or both`, {
      "data-count": String(counts.closed),
      "data-kind": "closed",
    }),
    ". ",
    cell("span", `${stores(counts.only_earlier)} only in the earlier report`, {
      "data-count": String(counts.only_earlier),
      "data-kind": "only_earlier",
    }),
    ", ",
    cell("span", `${n(counts.only_later)} only in the later one`, {
      "data-count": String(counts.only_later),
      "data-kind": "only_later",
    }),
    ".",
  ];
  headline.append(...parts);

  const figures = [earlier, later].map((report) => {
    const summary = summarise(report.rows, state.target);
    return {
      report,
      stores: summary.stores,
      open: summary.windows.last_week.open,
      below: summary.windows.last_week.below,
      down: report.rows.filter((row) => row.down.last_week > 0).length,
    };
  });
  const lines = [
    ["report", "Report", (figure) => cell("a", figure.report.id, { href: `#${hashFor(figure.report.id)}` })],
    ["as_of", "Data as of (UTC)", (figure) => utcText(figure.report.asOf)],
    ["stores", "Stores", (figure) => figure.stores],
    ["open", "With business hours last week", (figure) => figure.open],
    ["below", `Below the ${state.target}% target last week`, (figure) => figure.below],
    ["down", "Down in business hours last week", (figure) => figure.down],
  ];
  const body = $("#compare-summary tbody");
  body.replaceChildren(
    ...lines.map(([name, label, value]) => {
      const tr = document.createElement("tr");
      tr.dataset.line = name;
      tr.append(cell("th", label, { scope: "row" }));
      for (const figure of figures) {
        const shown = value(figure);
        const td = document.createElement("td");
        td.className = "num";
        if (typeof shown === "number") {
          td.dataset.count = String(shown);
          td.textContent = numberFormat.format(shown);
        } else td.append(shown);
        tr.append(td);
      }
      return tr;
    }),
  );
}

const COMPARE_SHOW = {
  all: () => true,
  fell: (change) => change.kind === "fell",
  rose: (change) => change.kind === "rose",
  closed: (change) => change.kind === "closed",
  only: (change) => change.kind === "only_earlier" || change.kind === "only_later",
};

function applyCompareView() {
  const compare = state.compare;
  const keep = COMPARE_SHOW[compare.show];
  const needle = compare.filter.trim();
  compare.view = compare.changes
    .filter((change) => keep(change) && (!needle || change.store_id.includes(needle)))
    .sort(changeOrder(compare.sortKey, compare.sortDir));
  renderCompareTable();
}

function renderCompareTable() {
  const compare = state.compare;
  const shown = compare.view.length;
  const total = compare.changes.length;
  const bounds = pageBounds(compare, COMPARE_PAGE, shown);
  markSorted($("#compare-table"), compare.sortKey, compare.sortDir);
  const fragment = document.createDocumentFragment();
  for (let position = bounds.from; position < bounds.to; position++) {
    fragment.append(compareRow(compare.view[position]));
  }
  replaceRows($("#compare-table tbody"), fragment, $("#compare-heading"));
  showCount($("#compare-count"), shown, total);
  showPager("compare-", compare, bounds, shown);
}

const ONLY_IN = { only_earlier: "only in the earlier report", only_later: "only in the later report" };

function compareRow(change) {
  const { earlier, later } = state.compare;
  const tr = document.createElement("tr");
  tr.dataset.storeId = change.store_id;
  tr.dataset.kind = change.kind;
  const head = cell("th", "", { scope: "row" });
  // The store's week in the later report, or in the only one it is in.
  const report = change.later ? later : earlier;
  head.append(
    cell("a", change.store_id, {
      href: `#${hashFor(report.id, change.store_id)}`,
      "aria-label": `Store ${change.store_id}: show its week in report ${report.id}`,
    }),
  );
  if (ONLY_IN[change.kind]) head.append(cell("span", ONLY_IN[change.kind], { class: "tag" }));
  const changeCell = (text, value, kind) =>
    cell("td", text, { class: `num ${kind}`, "data-value": value });
  const shareKind = change.share === null ? "none" : change.kind;
  const hoursKind = change.hours === null ? "none" : change.hours < 0 ? "fell" : change.hours > 0 ? "rose" : "same";
  const uptime = (row) => (row ? row.uptime_last_week : "—");
  tr.append(
    head,
    cell("td", weekShareText(change.earlier), { class: "num group-start" }),
    cell("td", weekShareText(change.later), { class: "num" }),
    change.share === null
      ? changeCell("—", "", shareKind)
      : changeCell(pointsText(change.share), `${change.share.num}/${change.share.den}`, shareKind),
    cell("td", uptime(change.earlier), { class: "num group-start" }),
    cell("td", uptime(change.later), { class: "num" }),
    change.hours === null ? changeCell("—", "", hoursKind) : changeCell(hoursText(change.hours), String(change.hours), hoursKind),
  );
  return tr;
}

function setUpCompare() {
  const compare = state.compare;
  for (const th of document.querySelectorAll("#compare-table th[data-key]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.key;
      if (compare.sortKey === key) compare.sortDir = -compare.sortDir;
      else {
        compare.sortKey = key;
        compare.sortDir = 1; // drops first; store ids from the smallest
      }
      compare.page = 0;
      applyCompareView();
    });
  }
  $("#compare-show").addEventListener("change", (event) => {
    compare.show = event.target.value;
    compare.page = 0;
    applyCompareView();
  });
  onTyped($("#compare-filter"), (value) => {
    compare.filter = value;
    compare.page = 0;
    applyCompareView();
  });
  setUpPager("compare-", compare, renderCompareTable);
}

// ---------------------------------------------------------------- views and routing

const VIEWS = ["#summary", "#table-view", "#store-view", "#history-view", "#compare-view"];

// Show these sections and hide the other views'; return whether the focus was in a
// section now hidden (the caller then puts it somewhere visible, never on <body>).
function showOnly(shown) {
  let lost = false;
  for (const selector of VIEWS) {
    const section = $(selector);
    const hide = !shown.includes(selector);
    if (hide && !section.hidden && section.contains(document.activeElement)) lost = true;
    section.hidden = hide;
  }
  return lost;
}

function showReportView() {
  state.storeLoad++;
  state.timeline = null;
  const wasStore = !$("#store-view").hidden;
  const lost = showOnly(state.report ? ["#summary", "#table-view"] : []);
  if (wasStore) {
    // Back from a store: focus its link again when it is on the page shown, else the
    // table's heading, never <body>.
    const link = state.lastStore && document.querySelector(`#report-table tr[data-store-id="${CSS.escape(state.lastStore)}"] a`);
    if (link) link.focus();
    else if (state.report) $("#table-heading").focus();
    else $("#main").focus();
  } else if (lost) {
    (state.report ? $("#table-heading") : $("#main")).focus();
  }
}

function showStoreView() {
  showOnly(["#store-view"]);
}

async function route() {
  const params = hashParams();
  const reportId = params.get("report") || "";
  const storeId = params.get("store");
  if (readSettings(params) && state.report) {
    renderSummary();
    applyView();
  }
  const view = currentView(params);
  if (view === "history") {
    showHistory(params.get("before") || "");
    return;
  }
  if (view === "compare") {
    showCompare(params.get("compare") || "", params.get("to") || "");
    return;
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
  setUpHistory();
  setUpCompare();
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
