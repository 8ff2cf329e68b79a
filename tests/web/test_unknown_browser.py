"""
Unknown time and special days on the page, in real headless Chromium against a live
``storemon serve`` whose data dir holds a ten-hour hole in half of the stores' polls and
``special_hours.csv``.

The expected values are the report's CSV and the store route's JSON as the API sends them,
counted here in Python, never read from the page's code.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storemon.csvformat import REPORT_HEADER, REPORT_HEADER_WITH_UNKNOWN
from tests.server.process import Server
from tests.server.support import holey_data, write_holey_data_dir
from tests.web.browser import (
    PHONE,
    TOKEN,
    api_json,
    axe_violations,
    enter_token,
    no_sideways_scroll,
    save_screenshot,
)

pytestmark = pytest.mark.slow

WINDOWS = ("last_hour", "last_day", "last_week")
UNITS = {"last_hour": "min", "last_day": "h", "last_week": "h"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    """
    The server (with a token, no default gap), a report triggered with ?max_gap=2h and
    one without; the server and the two report ids.
    """
    workdir = tmp_path_factory.mktemp("unknown")
    write_holey_data_dir(workdir / "data")
    server = Server(
        workdir,
        *("--data-dir", str(workdir / "data"), "--db", f"sqlite:///{workdir}/storemon.db"),
        env={"STOREMON_API_TOKEN": TOKEN},
    )
    try:
        server.wait_ready()
        ids = []
        for query in ("?max_gap=2h", ""):
            post = urllib.request.Request(
                server.base + f"/api/trigger_report{query}",
                method="POST",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            with urllib.request.urlopen(post, timeout=10) as response:
                ids.append(json.loads(response.read())["report_id"])
        yield server, ids[0], ids[1]
    finally:
        server.stop()


def open_report(page: Any, server: Server, report_id: str, store_id: str | None = None) -> None:
    """Enter the token, then show the report (or one of its stores) once complete."""
    page.goto(server.base + "/")
    enter_token(page)
    address = f"report={report_id}" + ("" if store_id is None else f"&store={store_id}")
    page.evaluate(f"location.hash = '{address}'")
    page.locator("#report-state[data-state=complete]").wait_for()
    if store_id is not None:
        page.locator("#timeline-check[data-ok]").wait_for()


def csv_rows(page: Any, server: Server, report_id: str) -> dict[str, dict[str, str]]:
    """The report's CSV rows by store id, as the API sends it once complete."""
    deadline = time.monotonic() + 30
    while True:
        response = page.request.get(
            f"{server.base}/api/get_report?report_id={report_id}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status == 200
        if response.headers.get("x-report-status") == "Complete":
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return {row["store_id"]: row for row in csv.DictReader(io.StringIO(response.text()))}


def holed_store() -> str:
    """The first store: it has the hole and a closed special date (2023-01-23)."""
    polls, *_ = holey_data()
    return polls[0][0]


def test_table_and_summary_have_unknown_columns_only_with_a_max_gap(
    page: Any, served: tuple[Server, str, str]
) -> None:
    """A report with a gap: an Unknown column per window equal to the CSV, and the
    summary's unknown counts; a report without: neither."""
    server, gap_id, plain_id = served
    rows = csv_rows(page, server, gap_id)
    assert tuple(next(iter(rows.values()))) == REPORT_HEADER_WITH_UNKNOWN
    open_report(page, server, gap_id)
    page.get_by_label("Rows per page").select_option("100")
    for window in WINDOWS:
        label = f"Unknown, {window.replace('_', ' ')}"
        assert page.get_by_role("button", name=label, exact=True).is_visible()
    assert page.locator("#report-table thead th").count() == 13
    # Still every header inside the window at 1280 px.
    for index in range(13):
        box = page.locator("#report-table thead th").nth(index).bounding_box()
        assert box is not None
        assert 0 <= box["x"] <= box["x"] + box["width"] <= 1280
    assert no_sideways_scroll(page)
    page.evaluate("document.querySelector('#summary').scrollIntoView()")
    save_screenshot(page, "web-desktop-unknown.png")
    shown = page.eval_on_selector_all(
        "#report-table tbody tr",
        """trs => trs.map(tr => [tr.dataset.storeId, Object.fromEntries(
            [...tr.querySelectorAll('td[data-key^=unknown_]')]
                .map(td => [td.dataset.key, td.textContent]))])""",
    )
    assert len(shown) == len(rows)
    for store_id, cells in shown:
        expected = {
            f"unknown_{window}": rows[store_id][f"unknown_{window}"]
            for window in WINDOWS
            if (rows[store_id][f"uptime_{window}"], rows[store_id][f"downtime_{window}"])
            != ("0.00", "0.00")
            or rows[store_id][f"unknown_{window}"] != "0.00"
        }
        assert cells == expected, store_id
    assert any(cells.get("unknown_last_week", "0.00") != "0.00" for _, cells in shown)

    # The summary: stores with unknown time in each window, and their total.
    assert page.locator("#summary-unknown-head").is_visible()
    counted = page.eval_on_selector_all(
        "#summary-table tbody td[data-key=unknown]",
        "tds => tds.map(td => [td.closest('tr').dataset.window, td.dataset.count,"
        " td.dataset.total, td.textContent])",
    )
    for window, count, total, text in counted:
        values = [rows[s][f"unknown_{window}"] for s in rows]
        stores = sum(value != "0.00" for value in values)
        hundredths = sum(round(float(value) * 100) for value in values)
        expected_total = f"{hundredths // 100}.{hundredths % 100:02d}"
        assert (int(count), total) == (stores, expected_total)
        assert text == f"{stores} ({expected_total} {UNITS[window]})"
    assert [window for window, *_ in counted] == list(WINDOWS)
    assert "Maximum gap 2 h" in page.locator("#summary-total").inner_text()
    assert "maximum gap 2 h" in page.locator("#report-status").inner_text()
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 800})

    # The report without a gap: six columns, no unknown anywhere.
    plain = csv_rows(page, server, plain_id)
    assert tuple(next(iter(plain.values()))) == REPORT_HEADER
    page.evaluate(f"location.hash = 'report={plain_id}'")
    page.locator("#report-status").filter(has_text=plain_id).wait_for()
    page.locator("#report-state[data-state=complete]").wait_for()
    assert page.locator("#report-table thead th").count() == 10
    assert page.get_by_role("button", name="Unknown, last week", exact=True).count() == 0
    assert page.locator("#report-table td[data-key^=unknown_]").count() == 0
    assert not page.locator("#summary-unknown-head").is_visible()
    assert page.locator("#summary-table td[data-key=unknown]").count() == 0
    assert "Maximum gap" not in page.locator("#summary-total").inner_text()


def test_store_timeline_draws_unknown_time_and_names_it(
    page: Any, served: tuple[Server, str, str]
) -> None:
    """The store with the hole: unknown stretches drawn in the week, distinct from status,
    named in the legend, and its numbers (with unknown) equal to its CSV row."""
    server, gap_id, _ = served
    store_id = holed_store()
    row = csv_rows(page, server, gap_id)[store_id]
    body = api_json(page, server, f"/api/reports/{gap_id}/stores/{store_id}")
    assert body["unknown"], "the hole is unknown with a 2 h gap"
    open_report(page, server, gap_id, store_id)
    assert page.locator("#timeline-check").get_attribute("data-ok") == "true"
    assert page.locator("#report-check").get_attribute("data-ok") == "true"
    numbers = page.eval_on_selector_all(
        "#store-numbers tbody tr",
        "trs => Object.fromEntries(trs.map(tr => [tr.dataset.window,"
        " [tr.dataset.uptime, tr.dataset.downtime, tr.dataset.unknown]]))",
    )
    assert numbers == {
        window: [row[f"uptime_{window}"], row[f"downtime_{window}"], row[f"unknown_{window}"]]
        for window in WINDOWS
    }
    headers = page.locator("#store-numbers thead th").all_text_contents()
    assert "Unknown" in headers
    week = page.locator("#charts svg").first
    drawn = week.locator("rect.unknown")
    in_week = [
        span for span in body["unknown"] if span["end"]["us"] > body["windows"]["last_week"]["us"]
    ]
    assert drawn.count() == len(in_week)
    # Drawn with its own pattern, not the status colours.
    fill = drawn.first.evaluate("rect => rect.style.fill")
    assert fill.startswith('url("#dots-0")') or fill.startswith("url(#dots-0)")
    assert drawn.first.locator("title").text_content().startswith("Unknown")
    # Where it is drawn no status span is.
    assert week.locator("rect.active, rect.inactive").count() >= 1
    legend = page.locator(".legend li").all_text_contents()
    assert any(item.strip().startswith("Unknown:") for item in legend)
    swatch = page.locator(".legend .swatch.unknown")
    assert "radial-gradient" in swatch.evaluate("s => getComputedStyle(s).backgroundImage")
    assert "Maximum gap 2 h" in page.locator("#store-zone").inner_text()
    assert axe_violations(page) == []
    page.evaluate("document.querySelector('#store-heading').scrollIntoView()")
    save_screenshot(page, "web-desktop-store-unknown.png")
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []


def test_special_closed_date_is_marked_with_its_local_date(
    page: Any, served: tuple[Server, str, str]
) -> None:
    """A closed special date is marked in the week over its local date, named "closed"
    with the date, in words under the heading too; a date with special hours likewise."""
    server, _, plain_id = served
    store_id = holed_store()
    body = api_json(page, server, f"/api/reports/{plain_id}/stores/{store_id}")
    [closed] = body["special_days"]
    assert (closed["date"], closed["closed"]) == ("2023-01-23", True)
    open_report(page, server, plain_id, store_id)
    week = page.locator("#charts svg").first
    band = week.locator("rect.special.closed[data-date='2023-01-23']")
    assert band.count() == 1
    assert band.locator("title").text_content() == "Special date Mon 23 Jan 2023: closed all day"
    label = week.locator("text.special-label[data-date='2023-01-23']").text_content()
    assert label in ("23 Jan closed", "23 Jan")
    # The band spans the local date: from its local midnight to the next.
    box = band.bounding_box()
    svg_box = week.bounding_box()
    assert box is not None
    assert svg_box is not None
    span_us = body["as_of"]["us"] - body["windows"]["last_week"]["us"]
    width = float(week.get_attribute("width") or 0) - 52 - 10
    expected = width * (closed["end"]["us"] - closed["start"]["us"]) / span_us
    assert abs(box["width"] - expected) < 2
    special = page.locator("#store-special")
    assert special.is_visible()
    assert (
        special.inner_text() == "Special dates this week (local): Mon 23 Jan 2023: closed all day."
    )
    # The legend names special dates (not by colour alone: the band carries words).
    legend = page.locator(".legend li").all_text_contents()
    assert any("Special date" in item for item in legend)

    # A store with special hours on a date: the band says so.
    polls, *_ = holey_data()
    second = list(dict.fromkeys(store for store, _, _ in polls))[1]
    page.evaluate(f"location.hash = 'report={plain_id}&store={second}'")
    page.locator("#store-heading").filter(has_text=second).wait_for()
    page.locator("#timeline-check[data-ok]").wait_for()
    hours_band = page.locator("#charts svg").first.locator(
        "rect.special.hours[data-date='2023-01-24']"
    )
    assert hours_band.count() == 1
    assert (
        hours_band.locator("title").text_content()
        == "Special date Tue 24 Jan 2023: open 10:00–02:00"
    )
    assert "Tue 24 Jan 2023: open 10:00–02:00" in page.locator("#store-special").inner_text()
    assert axe_violations(page) == []


def test_a_window_all_unknown_is_neither_closed_nor_below_and_exports_nine_columns(
    page: Any, served: tuple[Server, str, str]
) -> None:
    """A window whose business time is all unknown reads "unknown", not "closed"; it counts
    as having business time but never as below the target; the export keeps nine columns."""
    server, _, _ = served
    rows = [
        {  # the last hour all unknown, the week half known
            "store_id": "all-unknown-hour",
            "uptime_last_hour": "0.00",
            "uptime_last_day": "5.00",
            "uptime_last_week": "30.00",
            "downtime_last_hour": "0.00",
            "downtime_last_day": "0.00",
            "downtime_last_week": "0.00",
            "unknown_last_hour": "60.00",
            "unknown_last_day": "3.00",
            "unknown_last_week": "30.00",
        },
        {  # closed in the last hour, down a little in the week
            "store_id": "closed-hour",
            "uptime_last_hour": "0.00",
            "uptime_last_day": "8.00",
            "uptime_last_week": "50.00",
            "downtime_last_hour": "0.00",
            "downtime_last_day": "1.00",
            "downtime_last_week": "10.00",
            "unknown_last_hour": "0.00",
            "unknown_last_day": "0.00",
            "unknown_last_week": "0.00",
        },
    ]
    body = json.dumps(
        {"report_id": "x", "status": "Complete", "as_of": None, "max_gap": "PT2H", "rows": rows}
    )
    page.route(
        "**/api/get_report?*format=json*",
        lambda route: route.fulfill(status=200, content_type="application/json", body=body),
    )
    page.goto(server.base + "/#report=AAAAAAAAAAAAAAAAAAAAAA")
    page.locator("#report-state[data-state=complete]").wait_for()
    hour = page.locator("tr[data-store-id=all-unknown-hour] td[data-key=share_last_hour]")
    assert hour.locator(".pct").text_content() == "unknown"
    closed = page.locator("tr[data-store-id=closed-hour] td[data-key=closed_last_hour]")
    assert closed.text_content() == "closed"
    assert closed.get_attribute("colspan") == "3"
    # Shares of known time: 100 % and 83.3 % last week.
    week = page.locator("tr[data-store-id=all-unknown-hour] td[data-key=share_last_week] .pct")
    assert week.text_content() == "100%"
    counts = page.eval_on_selector_all(
        "#summary-table tbody tr",
        "trs => Object.fromEntries(trs.map(tr => [tr.dataset.window,"
        " [...tr.querySelectorAll('td[data-count]')].map(td => Number(td.dataset.count))]))",
    )
    # [with business time, below the 99 % target, with unknown time]
    assert counts == {"last_hour": [1, 0, 1], "last_day": [2, 1, 1], "last_week": [2, 1, 1]}
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export these rows (CSV)").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert tuple(exported[0]) == REPORT_HEADER_WITH_UNKNOWN
    assert sorted(exported, key=lambda row: row["store_id"]) == rows
