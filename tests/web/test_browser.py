"""
The page in real headless Chromium against a live ``storemon serve`` on sample data.

The browser, its fixtures and the shared helpers are in ``tests/web/browser.py`` and
``conftest.py``.

The expected numbers are counted here, in Python, from the report's JSON and the store
route's JSON, never read back from the page's own code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storemon.csvformat import REPORT_HEADER
from storemon.explain import explain_store
from storemon.model import HoursRow, StoreSnapshot, to_epoch_us
from storemon.sample import write_sample
from storemon_server.render import row_fields, timeline_body
from tests.server.process import Server
from tests.web.browser import (
    DESKTOP,
    PHONE,
    TOKEN,
    Keyboard,
    api_json,
    axe_violations,
    enter_token,
    no_sideways_scroll,
    save_screenshot,
)

STORES = 60
MEASURES = REPORT_HEADER[1:]
WINDOWS = ("last_hour", "last_day", "last_week")
HOUR_US = 3_600_000_000

pytestmark = pytest.mark.slow


def start_server(
    workdir: Path,
    *,
    delay: float,
    port: int | None = None,
    fresh: bool = True,
    lease: float | None = None,
) -> Server:
    """
    ``storemon serve`` on a sample of 60 stores over SQLite in ``workdir``, with a token,
    each report taking at least ``delay`` seconds (so that the page sees it Running), and
    with ``lease``, claimed reports held that many seconds without a renewal.
    """
    if fresh:
        write_sample(workdir / "data", stores=STORES, seed=20)
    server = Server(
        workdir,
        "--data-dir",
        str(workdir / "data"),
        "--db",
        f"sqlite:///{workdir}/storemon.db",
        env={
            "STOREMON_API_TOKEN": TOKEN,
            **({} if lease is None else {"STOREMON_REPORT_LEASE": str(lease)}),
        },
        port=port,
        report_delay=delay,
    )
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """
    The module's server (reports take at least 0.6 s).
    """
    server = start_server(tmp_path_factory.mktemp("web"), delay=0.6)
    try:
        yield server
    finally:
        server.stop()


def report(page: Any, server: Server) -> tuple[str, dict[str, dict[str, str]]]:
    """
    Enter the token, generate a report, wait for Complete, download the CSV; return the
    report id and the CSV rows by store id.
    """
    page.goto(server.base + "/")
    enter_token(page)
    page.get_by_role("button", name="Generate a new report").click()
    state = page.locator("#report-state")
    state.filter(has_text="Running").wait_for()
    assert "is being computed" in page.locator("#report-status").inner_text()
    state.filter(has_text="Complete").wait_for()
    assert page.locator("#report-state").get_attribute("data-state") == "complete"
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("report-")
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = {row["store_id"]: row for row in csv.DictReader(io.StringIO(text))}
    report_id = download.suggested_filename.removeprefix("report-").removesuffix(".csv")
    return report_id, rows


def report_rows(page: Any, server: Server, report_id: str) -> list[dict[str, str]]:
    """
    The report's rows as ``GET /api/get_report?format=json`` sends them.
    """
    body = api_json(page, server, f"/api/get_report?report_id={report_id}&format=json")
    assert body["status"] == "Complete"
    rows: list[dict[str, str]] = body["rows"]
    return rows


def is_closed(row: dict[str, str], window: str) -> bool:
    """
    No business time in the window: 0.00 up and 0.00 down.
    """
    return row[f"uptime_{window}"] == "0.00" and row[f"downtime_{window}"] == "0.00"


def share(row: dict[str, str], window: str) -> float:
    """
    Uptime as a share of business time in the window (not closed).
    """
    up, down = float(row[f"uptime_{window}"]), float(row[f"downtime_{window}"])
    return up / (up + down)


def is_below(row: dict[str, str], window: str, target: float) -> bool:
    """
    Open in the window and up for less than ``target`` percent of its business time.
    """
    return not is_closed(row, window) and share(row, window) < target / 100


def worst_first(rows: list[dict[str, str]]) -> list[str]:
    """
    Store ids by weekly share, lowest first, stores closed all week last, ties by id.
    """

    def key(row: dict[str, str]) -> tuple[bool, float, str]:
        closed = is_closed(row, "last_week")
        return (closed, 0.0 if closed else share(row, "last_week"), row["store_id"])

    return [row["store_id"] for row in sorted(rows, key=key)]


def table_rows(page: Any) -> list[dict[str, str]]:
    """
    The rows the table shows: the store id and, per window, "closed" or the uptime and
    downtime as displayed.
    """
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        "#report-table tbody tr",
        """trs => trs.map(tr => {
            const row = {store_id: tr.dataset.storeId};
            for (const td of tr.querySelectorAll("td[data-key]")) {
                const [kind, ...rest] = td.dataset.key.split("_");
                const window = rest.join("_");
                if (kind === "closed") row[`closed_${window}`] = td.textContent;
                if (kind === "share") row[`uptime_${window}`] = td.dataset.value;
                if (kind === "downtime") row[`downtime_${window}`] = td.textContent;
            }
            return row;
        })""",
    )
    return rows


def expected_cells(row: dict[str, str]) -> dict[str, str]:
    """
    What the table should show for a report row: "closed", never 0.00 and 0.00.
    """
    cells = {"store_id": row["store_id"]}
    for window in WINDOWS:
        if is_closed(row, window):
            cells[f"closed_{window}"] = "closed"
        else:
            cells[f"uptime_{window}"] = row[f"uptime_{window}"]
            cells[f"downtime_{window}"] = row[f"downtime_{window}"]
    return cells


def download_csv(page: Any, button: str) -> tuple[str, list[dict[str, str]]]:
    """
    Press a download button; return the file's name and its rows.
    """
    with page.expect_download() as download_info:
        page.get_by_role("button", name=button).click()
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == REPORT_HEADER
    return download.suggested_filename, list(reader)


# ---------------------------------------------------------------- table


def test_trigger_complete_and_table_equal_the_csv(page: Any, server: Server) -> None:
    """Trigger, wait for Complete: the table holds every CSV row, worst weekly share first."""
    report_id, csv_rows = report(page, server)
    assert len(csv_rows) == STORES
    count = page.locator("#row-count")
    assert count.get_attribute("data-total") == str(STORES)
    assert count.inner_text() == f"{STORES} stores"
    page.get_by_label("Rows per page").select_option("100")
    shown = table_rows(page)
    assert shown == [expected_cells(csv_rows[row["store_id"]]) for row in shown]
    assert [row["store_id"] for row in shown] == worst_first(list(csv_rows.values()))
    header = page.locator("#report-table th[data-key=share_last_week]")
    assert header.get_attribute("aria-sort") == "ascending"

    # Sorted by last week's downtime, largest first, with the keyboard.
    page.get_by_role("button", name="Down, last week", exact=True).focus()
    page.keyboard.press("Enter")
    header = page.locator("#report-table th[data-key=downtime_last_week]")
    assert header.get_attribute("aria-sort") == "descending"
    downs = [csv_rows[row["store_id"]]["downtime_last_week"] for row in table_rows(page)]
    open_downs = [float(value) for value in downs if value != "0.00"]
    assert open_downs == sorted(open_downs, reverse=True)

    # Pages of 25, then a filter by part of a store id.
    page.get_by_label("Rows per page").select_option("25")
    assert len(table_rows(page)) == 25
    page.get_by_role("button", name="Last page").click()
    assert len(table_rows(page)) == STORES - 50
    some_id = sorted(csv_rows)[7]
    page.get_by_label("Filter by store id").fill(some_id[-9:])
    page.locator("#row-count").filter(has_text="match").wait_for()
    assert some_id in [row["store_id"] for row in table_rows(page)]
    assert all(some_id[-9:] in row["store_id"] for row in table_rows(page))
    assert report_id


def test_every_column_header_is_visible_at_1280(page: Any, server: Server) -> None:
    """At 1280x800 every column's header is inside the window: nothing scrolls sideways."""
    report(page, server)
    headers = page.locator("#report-table thead th")
    assert headers.count() == 10  # the store, three window groups, six columns
    for index in range(headers.count()):
        header = headers.nth(index)
        assert header.is_visible()
        box = header.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= DESKTOP["width"], header.inner_text()
    assert no_sideways_scroll(page)
    frame_overflow = page.evaluate(
        "(() => { const w = document.querySelector('#table-view .table-wrap');"
        " return w.scrollWidth - w.clientWidth; })()"
    )
    assert frame_overflow <= 0
    page.locator("#summary").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, "web-desktop.png")


def header_in_view(page: Any) -> bool:
    """
    Whether every header cell is inside the window and is what the window shows there.
    """
    in_view: bool = page.evaluate(
        """() => [...document.querySelectorAll('#report-table thead th')].every(th => {
            const box = th.getBoundingClientRect();
            if (box.top < 0 || box.bottom > window.innerHeight) return false;
            if (box.left < 0 || box.right > window.innerWidth) return true;  // off sideways
            const x = box.left + box.width / 2;
            const hit = document.elementFromPoint(x, box.top + box.height / 2);
            return th.contains(hit);
        })"""
    )
    return in_view


def test_headers_stay_visible_after_scrolling(page: Any, server: Server) -> None:
    """Scrolled far down the table (desktop) or inside its frame (phone), the headers stay."""
    report(page, server)
    page.get_by_label("Rows per page").select_option("100")
    table_top = page.evaluate("document.querySelector('#report-table').getBoundingClientRect().top")
    page.evaluate(f"window.scrollTo(0, {table_top + 1200})")
    first_row = page.locator("#report-table tbody tr").first.bounding_box()
    assert first_row is not None
    assert first_row["y"] < 0
    assert header_in_view(page)
    save_screenshot(page, "web-desktop-scrolled.png")

    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#table-view .table-wrap").scroll_into_view_if_needed()
    page.evaluate(
        "(() => { const w = document.querySelector('#table-view .table-wrap');"
        " w.scrollTop = 900; w.scrollLeft = 400; })()"
    )
    wrap = page.locator("#table-view .table-wrap").bounding_box()
    head = page.locator("#report-table thead th.store").bounding_box()
    store_cell = page.locator("#report-table tbody tr th").nth(25).bounding_box()
    assert wrap is not None
    assert head is not None
    assert store_cell is not None
    # The header row sits at the frame's top and the store id at its left edge.
    assert abs(head["y"] - wrap["y"]) <= 2
    assert abs(store_cell["x"] - wrap["x"]) <= 2
    assert page.evaluate("document.querySelector('#table-view .table-wrap').scrollTop") > 0
    assert no_sideways_scroll(page)


def test_closed_windows_read_closed(page: Any, server: Server) -> None:
    """A window without business time reads "closed" in the table and in the store view."""
    report_id, _ = report(page, server)
    rows = report_rows(page, server, report_id)
    closed_hour = [row for row in rows if is_closed(row, "last_hour")]
    assert closed_hour, "the sample has stores closed in the last hour"
    page.get_by_label("Rows per page").select_option("100")
    shown = {row["store_id"]: row for row in table_rows(page)}
    for row in rows:
        assert shown[row["store_id"]] == expected_cells(row)
    for row in shown.values():
        for window in WINDOWS:
            pair = (row.get(f"uptime_{window}"), row.get(f"downtime_{window}"))
            assert pair != ("0.00", "0.00"), row
    closed_cells = page.locator("#report-table td[data-key=closed_last_hour]")
    assert closed_cells.count() == len(closed_hour)
    assert set(closed_cells.all_text_contents()) == {"closed"}

    store_id = closed_hour[0]["store_id"]
    page.get_by_role("link", name=f"Store {store_id}: show its week").click()
    page.locator("#timeline-check[data-ok]").wait_for()
    hour_row = page.locator("#store-numbers tr[data-window=last_hour]")
    assert "closed" in hour_row.inner_text()
    assert "0.00" not in hour_row.inner_text()
    last_hour_chart = page.locator("#charts figure").nth(2)
    assert last_hour_chart.locator("figcaption").inner_text().endswith("(closed)")
    assert last_hour_chart.locator("text.closed-label").text_content() == (
        "closed: no business hours in this window"
    )


def test_summary_counts_equal_the_json_report(page: Any, server: Server) -> None:
    """The fleet summary's counts and histogram equal counts made here from the JSON report."""
    report_id, _ = report(page, server)
    rows = report_rows(page, server, report_id)

    def shown_counts() -> dict[str, tuple[int, int]]:
        counts: dict[str, list[str]] = page.eval_on_selector_all(
            "#summary-table tbody tr",
            """trs => Object.fromEntries(trs.map(tr => [tr.dataset.window,
                [...tr.querySelectorAll('td[data-count]')].map(td => td.dataset.count)]))""",
        )
        return {window: (int(pair[0]), int(pair[1])) for window, pair in counts.items()}

    def expected_counts(target: float) -> dict[str, tuple[int, int]]:
        return {
            window: (
                sum(not is_closed(row, window) for row in rows),
                sum(is_below(row, window, target) for row in rows),
            )
            for window in WINDOWS
        }

    assert page.locator("#summary-total").get_attribute("data-stores") == str(len(rows))
    assert shown_counts() == expected_counts(99)
    assert any(below for _, below in expected_counts(99).values())
    bins = [0] * 20
    for row in rows:
        if not is_closed(row, "last_week"):
            bins[min(19, math.floor(share(row, "last_week") * 20))] += 1
    shown_bins = page.locator("#histogram rect.bin").evaluate_all(
        "rects => rects.map(rect => Number(rect.dataset.count))"
    )
    assert shown_bins == bins

    # Another target: the counts follow, and the address keeps it across a reload.
    page.get_by_label("Uptime target, % of business time").fill("90")
    page.wait_for_function("() => location.hash.includes('target=90')")
    assert shown_counts() == expected_counts(90)
    page.reload()
    page.locator("#report-state[data-state=complete]").wait_for()
    assert page.get_by_label("Uptime target, % of business time").input_value() == "90"
    assert shown_counts() == expected_counts(90)

    # The week's "below target" count shows exactly those stores, worst first.
    below_week = [row for row in rows if is_below(row, "last_week", 90)]
    page.locator("#summary-table tr[data-window=last_week] button").click()
    assert page.get_by_label("Show", exact=True).input_value() == "below_last_week"
    page.get_by_label("Rows per page").select_option("100")
    assert [row["store_id"] for row in table_rows(page)] == worst_first(below_week)
    assert page.locator("#row-count").get_attribute("data-shown") == str(len(below_week))


def test_value_filters_and_export_of_the_view(page: Any, server: Server) -> None:
    """ "Down in the last hour" keeps exactly the stores down then; export writes those rows."""
    report_id, _ = report(page, server)
    rows = report_rows(page, server, report_id)
    page.get_by_label("Show", exact=True).select_option("down_last_hour")
    down_hour = [row for row in rows if float(row["downtime_last_hour"]) > 0]
    assert 0 < len(down_hour) < len(rows)
    page.locator(f"#row-count[data-shown='{len(down_hour)}']").wait_for()
    assert "show=down_last_hour" in page.evaluate("location.hash")
    name, exported = download_csv(page, "Export these rows (CSV)")
    assert name == f"report-{report_id}-down-last-hour.csv"
    by_id = {row["store_id"]: row for row in rows}
    assert [row["store_id"] for row in exported] == worst_first(down_hour)
    assert exported == [by_id[row["store_id"]] for row in exported]

    # Values and ids together: the filter narrows the view, and the export with it.
    some_id = worst_first(down_hour)[0]
    page.get_by_label("Filter by store id").fill(some_id)
    page.locator("#row-count[data-shown='1']").wait_for()
    name, exported = download_csv(page, "Export these rows (CSV)")
    assert name == f"report-{report_id}-down-last-hour-filtered.csv"
    assert exported == [by_id[some_id]]


# ---------------------------------------------------------------- no dead ends


def test_the_server_state_tells_the_refresh_only_with_the_token(page: Any, server: Server) -> None:
    """Without the token health says only "ready"; with it the line tells the last refresh."""
    page.goto(server.base + "/")
    state = page.locator("#server-state")
    state.filter(has_text="The server is ready.").wait_for()
    assert "refreshed" not in (state.text_content() or "")
    enter_token(page)
    state.filter(has_text="Data last refreshed").wait_for()


def test_wrong_token_is_refused_at_entry(page: Any, server: Server) -> None:
    """On load the page says a token is needed; a wrong one is refused when entered."""
    page.goto(server.base + "/")
    state = page.locator("#token-state")
    state.filter(has_text="This server needs an API token").wait_for()
    page.get_by_label("API token").fill("not-the-token")
    page.get_by_role("button", name="Use token").click()
    state.filter(has_text="refused this token").wait_for()
    assert page.locator("#token").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "token"
    assert page.evaluate("sessionStorage.getItem('storemon.token')") is None
    enter_token(page)
    assert page.locator("#token").get_attribute("aria-invalid") is None
    assert page.evaluate("sessionStorage.getItem('storemon.token')") == TOKEN


def test_missing_token_is_asked_for_once(
    page: Any, server: Server, console_errors: list[str]
) -> None:
    """Without the token a trigger is refused with one message, at the focused token field."""
    page.goto(server.base + "/")
    page.locator("#token-state").filter(has_text="needs an API token").wait_for()
    before = page.locator("#report-status").inner_text()
    page.get_by_role("button", name="Generate a new report").click()
    page.wait_for_function("() => document.activeElement.id === 'token'")
    assert page.locator("#token").get_attribute("aria-invalid") == "true"
    assert "needs an API token" in page.locator("#token-state").inner_text()
    assert page.locator("#report-status").inner_text() == before
    assert page.locator("#report-state").get_attribute("data-state") == "none"
    # The browser logs the refused requests itself; nothing else may be logged.
    assert all("status of 401" in error for error in console_errors)
    console_errors.clear()


def test_previous_table_stays_while_a_report_runs_and_fails(
    page: Any, server: Server, console_errors: list[str]
) -> None:
    """While a new report runs, and after it fails, the previous report's table stays."""
    first_id, _ = report(page, server)
    page.get_by_role("button", name="Generate a new report").click()
    page.locator("#report-state[data-state=running]").wait_for()
    assert page.locator("#table-view").is_visible()
    assert f"still shows report {first_id}" in page.locator("#report-status").inner_text()
    page.locator("#report-state[data-state=complete]").wait_for()
    second_id = page.evaluate("new URLSearchParams(location.hash.slice(1)).get('report')")
    assert second_id != first_id
    assert second_id in page.locator("#report-status").inner_text()

    failing = "FailingFailingFailingQ"
    page.route(
        f"**/api/get_report?report_id={failing}*",
        lambda route: route.fulfill(
            status=500,
            content_type="application/json",
            body=json.dumps({"report_id": failing, "status": "Failed", "error": "disk full"}),
        ),
    )
    page.evaluate(f"location.hash = 'report={failing}'")
    page.locator("#report-state[data-state=failed]").wait_for()
    status = page.locator("#report-status").inner_text()
    assert "disk full" in status
    assert f"still shows report {second_id}" in status
    assert page.locator("#table-view").is_visible()
    assert page.locator("#row-count").get_attribute("data-total") == str(STORES)
    # The browser logs the failed report's 500 itself; nothing else may be logged.
    assert console_errors
    assert all("status of 500" in error for error in console_errors)
    console_errors.clear()


def test_report_survives_a_server_restart(
    browser: Any, tmp_path: Path, console_errors: list[str]
) -> None:
    """A server killed and restarted during a report: the page shows the table, no reload."""
    # A killed server's report is taken over once its lease runs out: 2 s here, not 30.
    first = start_server(tmp_path, delay=6, lease=2)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("pageerror", lambda error: console_errors.append(str(error)))

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/api/session"):
            console_errors.append(message.text)

    page.on("console", on_console)
    second = None
    try:
        page.goto(first.base + "/")
        enter_token(page)
        page.locator("#server-state[data-state=ready]").wait_for()
        page.get_by_role("button", name="Generate a new report").click()
        page.locator("#report-state[data-state=running]").wait_for()
        page.evaluate("window.sameDocument = true")
        first.kill()
        page.locator("#server-state[data-state=down]").wait_for()
        assert "ready" not in page.locator("#server-state").inner_text()
        page.locator("#report-state[data-state=waiting]").wait_for()

        second = start_server(tmp_path, delay=0.2, port=first.port, fresh=False, lease=2)
        page.locator("#report-state[data-state=complete]").wait_for()
        page.locator("#table-view").wait_for(state="visible")
        page.locator("#server-state[data-state=ready]").wait_for()
        assert page.evaluate("window.sameDocument") is True
        assert page.locator("#row-count").get_attribute("data-total") == str(STORES)
    finally:
        context.close()
        first.stop()
        if second is not None:
            second.stop()
    # The browser logs the refused connections itself; nothing else may be logged.
    assert console_errors
    assert all("ERR_CONNECTION_REFUSED" in error for error in console_errors), console_errors
    console_errors.clear()


# ---------------------------------------------------------------- keyboard, store view


def outages_of(body: dict[str, Any]) -> list[tuple[int, int]]:
    """
    The week's inactive stretches inside business hours, touching pieces merged.
    """
    week_start, as_of = body["windows"]["last_week"]["us"], body["as_of"]["us"]
    pieces = []
    for business in body["business"]:
        for span in body["status"]:
            if span["active"]:
                continue
            start = max(business["start"]["us"], span["start"]["us"], week_start)
            end = min(business["end"]["us"], span["end"]["us"], as_of)
            if start < end:
                pieces.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def local_times(body: dict[str, Any]) -> dict[int, str]:
    """
    Every instant of a store route's body: microseconds to local wall clock.
    """
    instants = [body["as_of"], *body["windows"].values()]
    for span in (*body["business"], *body["status"]):
        instants += [span["start"], span["end"]]
    return {instant["us"]: instant["local"] for instant in instants}


def test_keyboard_only_flow_never_drops_focus(page: Any, server: Server) -> None:
    """Token, generate, table, store, outage list and back by keyboard; focus never on <body>."""
    page.goto(server.base + "/")
    page.locator("#token-state").filter(has_text="needs an API token").wait_for()
    keys = Keyboard(page)
    press, tab_to = keys.press, keys.tab_to

    tab_to("document.activeElement.id === 'token'")
    page.keyboard.type(TOKEN)
    press("Enter")
    page.locator("#token-state").filter(has_text="Token accepted").wait_for()
    tab_to("document.activeElement.id === 'trigger'")
    press("Enter")
    page.locator("#report-state[data-state=running]").wait_for()
    assert page.evaluate("document.activeElement.id") == "trigger"
    page.locator("#report-state[data-state=complete]").wait_for()
    assert page.evaluate("document.activeElement.id") == "trigger"

    # Through the summary and the controls to a sort header: its ring is inside the cell.
    tab_to("document.activeElement.classList.contains('sort')")
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineOffset]; })()"
    )
    assert ring[0] == "solid"
    assert ring[1] == "3px"
    assert int(ring[2].removesuffix("px")) <= -3
    tab_to("!!document.activeElement.closest('#report-table tbody a')")
    store_id = page.evaluate("document.activeElement.closest('tr').dataset.storeId")
    press("Enter")
    page.locator("#outages-summary[data-count]").wait_for()
    assert page.evaluate("document.activeElement.id") == "store-heading"

    tab_to("document.activeElement.id === 'to-outages'", limit=3)
    press("Enter")
    assert page.evaluate("document.activeElement.id") == "outages"
    assert page.locator("#outages").get_attribute("role") == "region"

    # The list is the week's outages, each in the store's local time.
    report_id = page.evaluate("new URLSearchParams(location.hash.slice(1)).get('report')")
    body = api_json(page, server, f"/api/reports/{report_id}/stores/{store_id}")
    expected = outages_of(body)
    local = local_times(body)
    shown = page.locator("#outage-table tbody tr").evaluate_all(
        "trs => trs.map(tr => [...tr.cells].map(td => [td.dataset.us || '', td.textContent]))"
    )
    assert len(shown) == len(expected)
    for (start, end), cells in zip(expected, shown, strict=True):
        assert cells[0] == [str(start), local[start][:16].replace("T", " ")]
        assert cells[1] == [str(end), local[end][:16].replace("T", " ")]
    total_us = sum(end - start for start, end in expected)
    hundredths = (200 * total_us + HOUR_US) // (2 * HOUR_US)
    assert f"{hundredths // 100}.{hundredths % 100:02d}" == body["row"]["downtime_last_week"]
    assert f"({body['row']['downtime_last_week']} h, the week's downtime)" in (
        page.locator("#outages-summary").inner_text()
    )

    # Back to the table: the focus returns to the store's link.
    for _ in range(4):
        press("Shift+Tab")
        if page.evaluate("document.activeElement.id") == "back":
            break
    press("Enter")
    page.locator("#table-view").wait_for(state="visible")
    assert page.evaluate("document.activeElement.closest('tr')?.dataset.storeId") == store_id


def test_store_timeline_totals_equal_its_row(page: Any, server: Server) -> None:
    """A store's view shows its zone, a drawn week whose totals equal its CSV row."""
    _, csv_rows = report(page, server)
    page.get_by_label("Rows per page").select_option("100")
    for store_id in sorted(csv_rows)[3:6]:
        page.get_by_role("link", name=f"Store {store_id}: show its week").click()
        heading = page.get_by_role("heading", name=f"Store {store_id}")
        heading.wait_for()
        page.locator("#timeline-check[data-ok]").wait_for()
        assert page.evaluate("document.activeElement.id") == "store-heading"
        numbers: dict[str, str] = page.eval_on_selector_all(
            "#store-numbers tbody tr",
            """trs => Object.fromEntries(trs.flatMap(tr => [
                [`uptime_${tr.dataset.window}`, tr.dataset.uptime],
                [`downtime_${tr.dataset.window}`, tr.dataset.downtime]]))""",
        )
        assert numbers == {key: csv_rows[store_id][key] for key in MEASURES}
        assert page.locator("#timeline-check").get_attribute("data-ok") == "true"
        assert page.locator("#report-check").get_attribute("data-ok") == "true"
        assert "Times are local to " in page.locator("#store-zone").inner_text()
        charts = page.locator("#charts svg[role=img]")
        assert charts.count() == 3
        assert page.locator("#charts svg").first.locator("line.poll").count() > 0
        assert page.locator("#charts svg").first.locator("line.window").count() == 2
        # The legend is beside the charts (in their row), not below all three.
        legend = page.locator(".legend").bounding_box()
        charts_box = page.locator("#charts").bounding_box()
        assert legend is not None
        assert charts_box is not None
        assert legend["x"] > charts_box["x"] + charts_box["width"]
        assert legend["y"] < charts_box["y"] + charts_box["height"]
        page.get_by_role("link", name="← All stores").click()
        page.locator("#table-view").wait_for(state="visible")
        focused = page.evaluate("document.activeElement.closest('tr')?.dataset.storeId")
        assert focused == store_id
    # The worst store (first in the table) for the picture: it has outages to list.
    page.locator("#report-table tbody a").first.click()
    page.locator("#timeline-check[data-ok]").wait_for()
    page.evaluate("document.querySelector('#back').scrollIntoView()")
    save_screenshot(page, "web-desktop-store.png")


def test_legend_names_every_colour(page: Any, server: Server) -> None:
    """The legend names faded red (inactive outside business hours) and the other marks."""
    page.goto(server.base + "/")
    legend = page.locator(".legend li").all_text_contents()
    for words in (
        "Business hours",
        "Active in business hours",
        "Inactive in business hours",
        "Active outside business hours",
        "Inactive outside business hours",
        "A poll",
        "Start of the last day",
        "Clock change",
        "No business hours in the whole window",
    ):
        assert any(words in item for item in legend), words


def test_phone_has_no_sideways_scrolling(page: Any, server: Server) -> None:
    """On a 390 px wide screen neither the report view nor a store view scrolls sideways."""
    _, csv_rows = report(page, server)
    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    assert no_sideways_scroll(page)
    page.evaluate("document.querySelector('#table-heading').scrollIntoView()")
    page.evaluate("document.querySelector('#table-view .table-wrap').scrollLeft = 160")
    save_screenshot(page, "web-phone.png")
    page.get_by_role("link", name=f"Store {sorted(csv_rows)[0]}: show its week").click()
    page.locator("#timeline-check[data-ok]").wait_for()
    assert no_sideways_scroll(page)
    save_screenshot(page, "web-phone-store.png", full_page=True)


def test_axe_finds_no_wcag_violation(page: Any, server: Server) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation in the report view or a store view."""
    _, csv_rows = report(page, server)
    assert axe_violations(page) == []
    page.get_by_role("link", name=f"Store {sorted(csv_rows)[1]}: show its week").click()
    page.locator("#timeline-check[data-ok]").wait_for()
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert axe_violations(page) == []
    page.get_by_role("link", name="← All stores").click()
    page.locator("#table-view").wait_for(state="visible")
    assert axe_violations(page) == []


def test_table_stays_fast_with_a_full_size_report(page: Any, server: Server) -> None:
    """With 14,092 rows (the real data's size) sorting, filtering and paging each take < 1 s."""
    rows = [
        {
            "store_id": str(1_000_000_000_000_000_000 + number * 7_919),
            **{
                key: f"{(number * 37 + index * 11) % 6000 / 100:.2f}"
                for index, key in enumerate(MEASURES)
            },
        }
        for number in range(14_092)
    ]
    body = json.dumps({"report_id": "x", "status": "Complete", "as_of": None, "rows": rows})
    page.route(
        "**/api/get_report?*format=json*",
        lambda route: route.fulfill(status=200, content_type="application/json", body=body),
    )
    page.goto(server.base + "/#report=AAAAAAAAAAAAAAAAAAAAAA")
    page.locator("#report-state[data-state=complete]").wait_for()
    assert page.locator("#row-count").get_attribute("data-total") == "14092"
    assert page.locator("#summary-total").get_attribute("data-stores") == "14092"
    timings: dict[str, float] = {}
    steps: tuple[tuple[str, Callable[[], object], str], ...] = (
        (
            "sort",
            lambda: page.get_by_role("button", name="Down, last week", exact=True).click(),
            "() => document.querySelector('th[data-key=downtime_last_week]')"
            ".hasAttribute('aria-sort')",
        ),
        (
            "filter",
            lambda: page.get_by_label("Filter by store id").fill("79"),
            "() => document.querySelector('#row-count').dataset.shown !== '14092'",
        ),
        (
            "show",
            lambda: page.get_by_label("Show", exact=True).select_option("below_last_week"),
            "() => location.hash.includes('show=below_last_week')",
        ),
        (
            "target",
            lambda: page.get_by_label("Uptime target, % of business time").fill("50"),
            "() => location.hash.includes('target=50')",  # set once recounted
        ),
        (
            "page",
            lambda: page.get_by_role("button", name="Last page").click(),
            "() => document.querySelector('#last-page').getAttribute('aria-disabled') === 'true'",
        ),
    )
    for name, action, done in steps:
        started = time.perf_counter()
        action()
        page.wait_for_function(done)
        timings[name] = time.perf_counter() - started
    assert max(timings.values()) < 1.0, timings
    assert page.locator("#report-table tbody tr").count() <= 50


def dst_week() -> dict[str, Any]:
    """
    The route's body for a Chicago store whose week holds the 2024-03-10 clock change.
    """
    as_of = dt.datetime(2024, 3, 12, 15, 0, tzinfo=dt.UTC)
    times = [to_epoch_us(as_of - dt.timedelta(minutes=41 * k)) for k in range(8 * 24 * 60 // 41)]
    snapshot = StoreSnapshot(
        store_id="dst-store",
        zone_key="America/Chicago",
        hours=tuple(HoursRow(day, dt.time(1, 0), dt.time(4, 0)) for day in range(7)),
        poll_at_us=sorted(times),
        poll_active=[k % 5 != 2 for k in range(len(times))],
    )
    timeline = explain_store(snapshot, as_of=as_of)
    assert timeline is not None
    row = row_fields(timeline.row)
    return timeline_body(timeline, report_id="x", stored_row=row)


def test_clock_change_is_marked_in_local_time(page: Any, server: Server) -> None:
    """A week across a DST change shows the change, local hours, and still adds up."""
    report_id, _ = report(page, server)
    body = dst_week()
    page.route(
        "**/api/reports/*/stores/dst-store",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(body)
        ),
    )
    page.evaluate(f"location.hash = 'report={report_id}&store=dst-store'")
    page.locator("#timeline-check[data-ok]").wait_for()
    assert page.locator("#timeline-check").get_attribute("data-ok") == "true"
    zone = page.locator("#store-zone").inner_text()
    assert "America/Chicago" in zone
    assert "Clocks changed this week: 2024-03-10 03:00 (UTC−06:00 → UTC−05:00)" in zone
    week = page.locator("#charts svg").first
    assert week.locator("line.dst").count() == 1
    assert week.locator("text.dst-label").text_content() == "DST UTC−06:00 → UTC−05:00"
    labels = week.locator("g.axis text").all_text_contents()
    assert "Sun 10 Mar" in labels
    day_labels = page.locator("#charts svg").nth(1).locator("g.axis text").all_text_contents()
    assert all(label.endswith(":00") for label in day_labels)
    save_screenshot(page, "web-store-dst.png", full_page=True)
