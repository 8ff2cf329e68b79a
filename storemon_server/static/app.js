// storemon's page: trigger a report, read it as a table, see one store's week.
//
// Plain ES module, no dependencies, no build. The server computes every number and every
// local time (with the store's zone); this file only draws and adds durations up, in
// microseconds (exact integers in a JavaScript number), to check the picture against the row.

const TOKEN_KEY = "storemon.token";
const REPORT_KEY = "storemon.report";
const POLL_MS = 500;
const SVG_NS = "http://www.w3.org/2000/svg";
const MINUTE_US = 60_000_000;
const HOUR_US = 60 * MINUTE_US;

const WINDOWS = [
  { key: "last_hour", label: "Last hour", unit: "min", unitUs: MINUTE_US },
  { key: "last_day", label: "Last day", unit: "h", unitUs: HOUR_US },
  { key: "last_week", label: "Last week", unit: "h", unitUs: HOUR_US },
];

const COLUMNS = [
  { key: "store_id", label: "Store id", numeric: false },
  { key: "share", label: "Up share, last week", numeric: true },
  { key: "uptime_last_hour", label: "Up, last hour (min)", numeric: true },
  { key: "downtime_last_hour", label: "Down, last hour (min)", numeric: true },
  { key: "uptime_last_day", label: "Up, last day (h)", numeric: true },
  { key: "downtime_last_day", label: "Down, last day (h)", numeric: true },
  { key: "uptime_last_week", label: "Up, last week (h)", numeric: true },
  { key: "downtime_last_week", label: "Down, last week (h)", numeric: true },
];
const MEASURES = COLUMNS.slice(2).map((column) => column.key);

const $ = (selector) => document.querySelector(selector);
const numberFormat = new Intl.NumberFormat("en");
const percentFormat = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });

const state = {
  report: null, // { id, asOf, rows, csvName }
  reportLoad: 0, // bumps to abandon an older report load
  storeLoad: 0, // bumps to abandon an older store load
  sortKey: "store_id",
  sortDir: 1,
  filter: "",
  page: 0,
  pageSize: 50,
  view: [], // indexes into report.rows, filtered and sorted
  timeline: null, // the store shown, for redrawing on resize
};

// ---------------------------------------------------------------- API and token

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const saved = token();
  if (saved) headers.set("Authorization", `Bearer ${saved}`);
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (error) {
    throw new ApiError(0, "The server cannot be reached. Is storemon serve running?");
  }
  if (response.status === 401) {
    askForToken(saved ? "The server refused this token. Enter the right one." : null);
    throw new ApiError(401, "The server needs an API token: enter it above.");
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

function showTokenState() {
  const saved = token();
  $("#token-state").textContent = saved
    ? "A token is kept for this browser tab until you close it."
    : "No token: fine if the server has none.";
  $("#token-forget").hidden = !saved;
}

function askForToken(message) {
  const input = $("#token");
  $("#token-state").textContent = message || "The server needs an API token: enter it here.";
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

function setUpToken() {
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("#token").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
    $("#token").value = "";
    $("#token").removeAttribute("aria-invalid");
    showTokenState();
    refreshHealth();
    route();
  });
  $("#token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showTokenState();
    $("#token").focus();
  });
  showTokenState();
}

async function refreshHealth() {
  try {
    const health = await apiJson("/api/health");
    const last = health.last_ingest;
    let text = health.ready ? "The server is ready." : "The server is loading its data…";
    if (last && last.finished_at) {
      const when = last.finished_at.slice(0, 16).replace("T", " ");
      text += last.ok
        ? ` Data last refreshed ${when} UTC.`
        : ` The last refresh (${when} UTC) failed: ${last.error}.`;
    }
    $("#server-state").textContent = text;
    if (!health.ready) setTimeout(refreshHealth, 2000);
  } catch (error) {
    $("#server-state").textContent = error.message;
  }
}

// ---------------------------------------------------------------- report

function setReportState(name, message) {
  const badge = $("#report-state");
  badge.dataset.state = name.toLowerCase();
  badge.textContent = name;
  $("#report-status").textContent = message;
}

async function trigger() {
  const button = $("#trigger");
  button.disabled = true;
  try {
    const body = await apiJson("/api/trigger_report", { method: "POST" });
    setReportState("Running", `Report ${body.report_id} is being computed…`);
    location.hash = new URLSearchParams({ report: body.report_id }).toString();
  } catch (error) {
    const advice = error.status === 503 ? " Try again in a few seconds." : "";
    setReportState("Error", `The report could not start: ${error.message}${advice}`);
  } finally {
    button.disabled = false;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function loadReport(reportId) {
  if (state.report && state.report.id === reportId) return true;
  const load = ++state.reportLoad;
  const started = Date.now();
  // Another report's rows must not pass for this one's while it is computed.
  state.report = null;
  $("#table-view").hidden = true;
  $("#download").disabled = true;
  sessionStorage.setItem(REPORT_KEY, reportId);
  const query = new URLSearchParams({ report_id: reportId, format: "json" });
  for (;;) {
    let body;
    try {
      body = await apiJson(`/api/get_report?${query}`);
    } catch (error) {
      if (load !== state.reportLoad) return false;
      if (error.status === 404) sessionStorage.removeItem(REPORT_KEY);
      const name = error.status === 500 ? "Failed" : "Error";
      setReportState(name, `Report ${reportId}: ${error.message}`);
      return false;
    }
    if (load !== state.reportLoad) return false;
    if (body.status === "Complete") {
      setReport(reportId, body);
      return true;
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    setReportState("Running", `Report ${reportId} is being computed… ${seconds} s`);
    await sleep(POLL_MS);
    if (load !== state.reportLoad) return false;
  }
}

function setReport(reportId, body) {
  const rows = body.rows.map((row) => {
    const numbers = {};
    for (const key of MEASURES) numbers[key] = Number(row[key]);
    const business = numbers.uptime_last_week + numbers.downtime_last_week;
    numbers.share = business > 0 ? numbers.uptime_last_week / business : -1;
    return { ...row, numbers };
  });
  state.report = { id: reportId, asOf: body.as_of, rows, csvName: `report-${reportId}.csv` };
  state.page = 0;
  const asOf = body.as_of ? `${body.as_of.slice(0, 19).replace("T", " ")} UTC` : "unknown";
  setReportState(
    "Complete",
    `Report ${reportId}: ${numberFormat.format(rows.length)} stores, as of ${asOf}.`,
  );
  $("#download").disabled = false;
  applyView();
}

async function downloadCsv() {
  if (!state.report) return;
  const button = $("#download");
  button.disabled = true;
  try {
    const response = await api(`/api/get_report?${new URLSearchParams({ report_id: state.report.id })}`);
    if (!response.ok) throw new ApiError(response.status, response.statusText);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = state.report.csvName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    $("#report-status").textContent = `The download failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- table

function buildHeader() {
  const row = $("#report-table thead tr");
  for (const column of COLUMNS) {
    const th = document.createElement("th");
    th.scope = "col";
    th.dataset.key = column.key;
    if (column.numeric) th.className = "num";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = column.label;
    button.addEventListener("click", () => sortBy(column.key));
    th.append(button);
    row.append(th);
  }
}

function sortBy(key) {
  if (state.sortKey === key) state.sortDir = -state.sortDir;
  else {
    state.sortKey = key;
    state.sortDir = key === "store_id" ? 1 : -1;
  }
  state.page = 0;
  applyView();
}

function applyView() {
  const rows = state.report ? state.report.rows : [];
  const needle = state.filter.trim();
  const view = [];
  for (let index = 0; index < rows.length; index++) {
    if (!needle || rows[index].store_id.includes(needle)) view.push(index);
  }
  const key = state.sortKey;
  const dir = state.sortDir;
  if (key === "store_id") {
    view.sort((a, b) => dir * (rows[a].store_id < rows[b].store_id ? -1 : rows[a].store_id > rows[b].store_id ? 1 : 0));
  } else {
    // Ties keep store-id order, so a sort is stable whatever the direction.
    view.sort((a, b) => dir * (rows[a].numbers[key] - rows[b].numbers[key]) || (rows[a].store_id < rows[b].store_id ? -1 : 1));
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

  for (const th of document.querySelectorAll("#report-table th")) {
    if (th.dataset.key === state.sortKey) {
      th.setAttribute("aria-sort", state.sortDir > 0 ? "ascending" : "descending");
    } else th.removeAttribute("aria-sort");
  }

  const fragment = document.createDocumentFragment();
  for (let position = from; position < to; position++) {
    fragment.append(tableRow(rows[state.view[position]]));
  }
  $("#report-table tbody").replaceChildren(fragment);

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
  $("#first-page").disabled = $("#prev-page").disabled = state.page === 0;
  $("#next-page").disabled = $("#last-page").disabled = state.page >= pages - 1;
}

function storeHash(storeId) {
  return new URLSearchParams({ report: state.report.id, store: storeId }).toString();
}

function tableRow(row) {
  const tr = document.createElement("tr");
  tr.dataset.storeId = row.store_id;
  const idCell = document.createElement("th");
  idCell.scope = "row";
  const link = document.createElement("a");
  link.href = `#${storeHash(row.store_id)}`;
  link.textContent = row.store_id;
  link.setAttribute("aria-label", `Store ${row.store_id}: show its week`);
  idCell.append(link);
  tr.append(idCell);

  const shareCell = document.createElement("td");
  shareCell.className = "share";
  shareCell.dataset.key = "share";
  const share = row.numbers.share;
  if (share < 0) {
    shareCell.textContent = "no business time";
  } else {
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.style.width = `${(share * 100).toFixed(2)}%`;
    bar.append(fill);
    const text = document.createElement("span");
    text.className = "pct";
    text.textContent = percentFormat.format(share);
    shareCell.append(bar, text);
  }
  tr.append(shareCell);

  for (const key of MEASURES) {
    const td = document.createElement("td");
    td.className = "num";
    td.dataset.key = key;
    td.textContent = row[key];
    tr.append(td);
  }
  return tr;
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
  $("#page-size").addEventListener("change", (event) => {
    state.pageSize = Number(event.target.value);
    state.page = 0;
    renderTable();
  });
  const turn = (to) => () => {
    state.page = to();
    renderTable();
  };
  $("#first-page").addEventListener("click", turn(() => 0));
  $("#prev-page").addEventListener("click", turn(() => Math.max(0, state.page - 1)));
  $("#next-page").addEventListener("click", turn(() => state.page + 1));
  $("#last-page").addEventListener("click", turn(() => Number.MAX_SAFE_INTEGER));
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
  $("#table-view").hidden = true;
  $("#store-view").hidden = false;
  $("#back").href = `#${new URLSearchParams({ report: reportId }).toString()}`;
  $("#store-heading").textContent = `Store ${storeId}`;
  $("#store-zone").textContent = "";
  $("#store-status").textContent = "Loading the store's week…";
  $("#charts").replaceChildren();
  $("#store-numbers tbody").replaceChildren();
  $("#report-check").textContent = "";
  $("#timeline-check").textContent = "";
  $("#store-heading").focus();
  let timeline;
  try {
    const path = `/api/reports/${encodeURIComponent(reportId)}/stores/${encodeURIComponent(storeId)}`;
    timeline = await apiJson(path);
  } catch (error) {
    if (load === state.storeLoad) $("#store-status").textContent = error.message;
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

function cell(tag, text, attributes = {}) {
  const element = document.createElement(tag);
  element.textContent = text;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
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
    tr.append(
      cell("th", window.label, { scope: "row" }),
      cell("td", `${up} ${window.unit}`, { "data-field": "uptime", "data-value": up }),
      cell("td", `${down} ${window.unit}`, { "data-field": "downtime", "data-value": down }),
      cell("td", `${business.toFixed(2)} ${window.unit}`),
      cell("td", business > 0 ? percentFormat.format(Number(up) / business) : "—"),
    );
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
  const caption = cell("figcaption", `${chart.title}, ${localRange(timeline, from)}`);
  caption.id = captionId;
  const measured = measure(timeline, from, to);
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

// ---------------------------------------------------------------- routing

function showTableView() {
  state.storeLoad++;
  state.timeline = null;
  const wasStore = !$("#store-view").hidden;
  $("#store-view").hidden = true;
  $("#table-view").hidden = !state.report;
  if (wasStore && state.lastStore) {
    // Back from a store: focus its link again when it is on the page shown.
    const link = document.querySelector(`tr[data-store-id="${CSS.escape(state.lastStore)}"] a`);
    if (link) link.focus();
  }
}

async function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const reportId = params.get("report") || "";
  const storeId = params.get("store");
  if (!reportId) {
    const saved = sessionStorage.getItem(REPORT_KEY);
    if (saved) {
      history.replaceState(null, "", `#${new URLSearchParams({ report: saved })}`);
      route();
      return;
    }
    showTableView();
    return;
  }
  if (storeId) {
    state.lastStore = storeId;
    showStore(reportId, storeId);
    // The report loads too (for the way back), without taking the store view away.
    if (!state.report || state.report.id !== reportId) loadReport(reportId);
    return;
  }
  showTableView();
  const ready = await loadReport(reportId);
  if (ready && !new URLSearchParams(location.hash.slice(1)).get("store")) showTableView();
}

function main() {
  setUpToken();
  setUpTable();
  $("#trigger").addEventListener("click", trigger);
  $("#download").addEventListener("click", downloadCsv);
  window.addEventListener("hashchange", route);
  let resizing = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(drawCharts, 150);
  });
  refreshHealth();
  route();
}

main();
