"""
The page in real headless Chromium against a live ``storemon serve`` on sample data.

Needs the Debian package ``chromium`` (``/usr/bin/chromium``) and Playwright's Python
package (never ``playwright install``: the system browser is used). Without them the tests
skip, unless ``STOREMON_REQUIRE_BROWSER=1`` (set by ``.ci/run``), when they fail.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
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

CHROMIUM = Path(os.environ.get("STOREMON_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "browser-test-token-0123456789"
STORES = 60
MEASURES = REPORT_HEADER[1:]

pytestmark = pytest.mark.slow


def _unavailable(reason: str) -> None:
    if os.environ.get("STOREMON_REQUIRE_BROWSER") == "1":
        pytest.fail(f"STOREMON_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """
    Headless Chromium from the system, driven by Playwright.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """
    ``storemon serve`` on a sample of 60 stores over SQLite, with an API token.
    """
    workdir = tmp_path_factory.mktemp("web")
    write_sample(workdir / "data", stores=STORES, seed=20)
    server = Server(
        workdir,
        "--data-dir",
        str(workdir / "data"),
        "--db",
        f"sqlite:///{workdir}/storemon.db",
        # Each report takes at least 0.6 s, so that the page is seen Running first.
        env={"STOREMON_API_TOKEN": TOKEN},
        report_delay=0.6,
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def console_errors() -> list[str]:
    """
    The script errors and console errors of the test's page (none allowed at its end).
    """
    return []


@pytest.fixture
def page(browser: Any, server: Server, console_errors: list[str]) -> Iterator[Any]:
    """
    A fresh tab (its own session storage) that fails the test on a script error or on a
    request to any other origin.
    """
    context = browser.new_context(viewport={"width": 1200, "height": 800}, accept_downloads=True)
    page = context.new_page()
    foreign: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    def on_request(request: Any) -> None:
        if not request.url.startswith((server.base, "data:", "blob:")):
            foreign.append(request.url)

    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.on("console", on_console)
    page.on("request", on_request)
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert foreign == []
    assert console_errors == []


def report(page: Any, server: Server) -> tuple[str, dict[str, dict[str, str]]]:
    """
    Enter the token, generate a report, wait for Complete, download the CSV; return the
    report id and the CSV rows by store id.
    """
    page.goto(server.base + "/")
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Use token").click()
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


def table_rows(page: Any) -> list[dict[str, str]]:
    """
    The rows the table shows: store id and the six measures as displayed.
    """
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        "#report-table tbody tr",
        """trs => trs.map(tr => {
            const row = {store_id: tr.dataset.storeId};
            for (const td of tr.querySelectorAll("td[data-key]")) {
                row[td.dataset.key] = td.textContent;
            }
            return row;
        })""",
    )
    return rows


def test_trigger_complete_and_table_equal_the_csv(page: Any, server: Server) -> None:
    """Trigger, wait for Complete: the table holds every CSV row with the CSV's values."""
    report_id, csv_rows = report(page, server)
    assert len(csv_rows) == STORES
    count = page.locator("#row-count")
    assert count.get_attribute("data-total") == str(STORES)
    assert count.inner_text() == f"{STORES} stores"
    page.get_by_label("Rows per page").select_option("100")
    shown = table_rows(page)
    assert len(shown) == STORES
    for row in shown:
        expected = csv_rows[row["store_id"]]
        assert {key: row[key] for key in MEASURES} == {key: expected[key] for key in MEASURES}
    assert [row["store_id"] for row in shown] == sorted(csv_rows)

    # Sorted by last week's uptime, highest first, with the keyboard.
    page.get_by_role("button", name="Up, last week (h)", exact=True).focus()
    page.keyboard.press("Enter")
    header = page.locator("#report-table th[data-key=uptime_last_week]")
    assert header.get_attribute("aria-sort") == "descending"
    weeks = [float(row["uptime_last_week"]) for row in table_rows(page)]
    assert weeks == sorted(weeks, reverse=True)

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
    page.screenshot(path=str(ARTIFACTS / "web-table.png"))
    assert report_id


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
            """trs => Object.fromEntries(trs.flatMap(tr =>
                [...tr.querySelectorAll("td[data-field]")]
                    .map(td => [`${td.dataset.field}_${tr.dataset.window}`, td.dataset.value])))""",
        )
        assert numbers == {key: csv_rows[store_id][key] for key in MEASURES}
        assert page.locator("#timeline-check").get_attribute("data-ok") == "true"
        assert page.locator("#report-check").get_attribute("data-ok") == "true"
        assert "Times are local to " in page.locator("#store-zone").inner_text()
        charts = page.locator("#charts svg[role=img]")
        assert charts.count() == 3
        assert page.locator("#charts svg").first.locator("line.poll").count() > 0
        assert page.locator("#charts svg").first.locator("line.window").count() == 2
        page.screenshot(path=str(ARTIFACTS / "web-store.png"), full_page=True)
        page.get_by_role("link", name="← All stores").click()
        page.locator("#table-view").wait_for(state="visible")
        focused = page.evaluate("document.activeElement.closest('tr')?.dataset.storeId")
        assert focused == store_id


def test_narrow_screen_has_no_sideways_scrolling(page: Any, server: Server) -> None:
    """On a 390 px wide screen neither the table view nor a store view scrolls sideways."""
    _, csv_rows = report(page, server)
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = "document.documentElement.scrollWidth - window.innerWidth"
    assert page.evaluate(overflow) <= 0
    page.get_by_role("link", name=f"Store {sorted(csv_rows)[0]}: show its week").click()
    page.locator("#timeline-check[data-ok]").wait_for()
    assert page.evaluate(overflow) <= 0
    page.screenshot(path=str(ARTIFACTS / "web-store-narrow.png"), full_page=True)


def test_missing_token_is_asked_for(page: Any, server: Server, console_errors: list[str]) -> None:
    """Without the token a trigger is refused and the token field asks for it, focused."""
    page.goto(server.base + "/")
    page.get_by_role("button", name="Generate a new report").click()
    page.locator("#report-state[data-state=error]").wait_for()
    assert "API token" in page.locator("#report-status").inner_text()
    assert page.evaluate("document.activeElement.id") == "token"
    assert page.locator("#token").get_attribute("aria-invalid") == "true"
    # The browser logs the refused request itself; nothing else may be logged.
    assert all("status of 401" in error for error in console_errors)
    console_errors.clear()


@pytest.fixture(scope="module", autouse=True)
def _artifacts() -> None:
    ARTIFACTS.mkdir(exist_ok=True)


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
    timings: dict[str, float] = {}
    steps: tuple[tuple[str, Callable[[], object], str], ...] = (
        (
            "sort",
            lambda: page.get_by_role("button", name="Up share, last week").click(),
            "th[data-key=share][aria-sort]",
        ),
        (
            "filter",
            lambda: page.get_by_label("Filter by store id").fill("79"),
            "#row-count:not([data-shown='14092'])",
        ),
        (
            "page",
            lambda: page.get_by_role("button", name="Last page").click(),
            "#last-page:disabled",
        ),
    )
    for name, action, done in steps:
        started = time.perf_counter()
        action()
        page.locator(done).wait_for()
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
    page.screenshot(path=str(ARTIFACTS / "web-store-dst.png"), full_page=True)
