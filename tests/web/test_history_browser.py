"""
Report history and comparing two reports, in real headless Chromium against a live
``storemon serve`` whose database holds a pinned history (``history_data.py``).

The expected list and the expected changes are computed here, in Python, from the pinned
reports and from the two reports' CSV as the API sends them, never read from the page's
code.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest

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
from tests.web.history_data import (
    EARLIER,
    FAILED,
    LATER,
    RUNNING,
    PinnedReport,
    newest_first,
    write_history,
)

pytestmark = pytest.mark.slow

PAGE = 10  # reports per page of the history
MINUS = "\u2212"


@pytest.fixture(scope="module")
def history(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, list[PinnedReport]]]:
    """
    ``storemon serve`` (with a token, without sources) on a database holding the pinned
    history; the server and the pinned reports.
    """
    workdir = tmp_path_factory.mktemp("history")
    database = workdir / "storemon.db"
    reports = write_history(database)
    server = Server(workdir, "--db", f"sqlite:///{database}", env={"STOREMON_API_TOKEN": TOKEN})
    try:
        server.wait_ready()
        yield server, reports
    finally:
        server.stop()


def open_page(page: Any, server: Server, address: str) -> None:
    """
    Enter the token, then load the page afresh at ``address``, as a link or a bookmark
    opens it in a tab that has the token.
    """
    page.goto(f"{server.base}/")
    enter_token(page)
    page.goto(f"{server.base}/{address}")
    page.reload()


def listed_ids(page: Any) -> list[str]:
    """
    The report ids of the history page shown, once its rows are there.
    """
    page.locator("#history-status[data-count]").wait_for(state="attached")
    ids: list[str] = page.locator("#history-table tbody tr").evaluate_all(
        "trs => trs.map(tr => tr.dataset.reportId)"
    )
    return ids


def turn_history(page: Any, button: str, first: str) -> list[str]:
    """
    Press a history pager button; return the ids of the page it shows, whose first is
    ``first``.
    """
    page.get_by_role("button", name=button, exact=True).click()
    page.locator(f"#history-table tbody tr:first-child[data-report-id='{first}']").wait_for()
    return listed_ids(page)


def utc_text(iso: str | None) -> str:
    """
    An instant as the history writes it: date and time to the second, in UTC.
    """
    return "—" if iso is None else iso[:19].replace("T", " ")


# ---------------------------------------------------------------- expected changes


def week(row: dict[str, str] | None) -> tuple[int, int] | None:
    """
    Weekly uptime and downtime in hundredths of an hour, or None when not in the report.
    """
    if row is None:
        return None
    return round(float(row["uptime_last_week"]) * 100), round(
        float(row["downtime_last_week"]) * 100
    )


def share_text(hundredths: tuple[int, int] | None) -> str:
    """
    The share of business time up, cut to a tenth of a percent; "closed" or "—".
    """
    if hundredths is None:
        return "—"
    up, down = hundredths
    if up + down == 0:
        return "closed"
    tenths = 1000 * up // (up + down)
    return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}%"


def points_text(change: Fraction) -> str:
    """
    A change of share in percentage points, one decimal, half away from zero, signed.
    """
    if change == 0:
        return "0.0"
    tenths = math.floor(abs(change) * 1000 + Fraction(1, 2))
    return f"{MINUS if change < 0 else '+'}{tenths // 10}.{tenths % 10}"


def hours_text(change: int) -> str:
    """
    A change of uptime in hundredths of an hour as hours, two decimals, signed.
    """
    sign = MINUS if change < 0 else "+" if change > 0 else ""
    return f"{sign}{abs(change) // 100}.{abs(change) % 100:02d}"


def expected_comparison(earlier_csv: str, later_csv: str) -> list[dict[str, str]]:
    """
    Every store of either report, as the comparison should show it, in its order: share
    changes from the biggest drop up (ties by store id), then the stores without one by id.
    """
    before = {row["store_id"]: row for row in csv.DictReader(io.StringIO(earlier_csv))}
    after = {row["store_id"]: row for row in csv.DictReader(io.StringIO(later_csv))}
    rows = []
    for store_id in before.keys() | after.keys():
        a, b = week(before.get(store_id)), week(after.get(store_id))
        change: Fraction | None = None
        if a is None or b is None:
            kind = "only_earlier" if b is None else "only_later"
        elif sum(a) == 0 or sum(b) == 0:
            kind = "closed"
        else:
            change = Fraction(b[0], sum(b)) - Fraction(a[0], sum(a))
            kind = "fell" if change < 0 else "rose" if change > 0 else "same"
        hours = None if a is None or b is None else b[0] - a[0]
        rows.append(
            {
                "store_id": store_id,
                "kind": kind,
                "cells": [
                    share_text(a),
                    share_text(b),
                    "—" if change is None else points_text(change),
                    "—" if a is None else before[store_id]["uptime_last_week"],
                    "—" if b is None else after[store_id]["uptime_last_week"],
                    "—" if hours is None else hours_text(hours),
                ],
                "order": (change is None, change or Fraction(0), store_id),
            }
        )
    rows.sort(key=lambda row: row["order"])
    return [{key: row[key] for key in ("store_id", "kind", "cells")} for row in rows]


def shown_comparison(page: Any) -> list[dict[str, Any]]:
    """
    The rows of the comparison table: store id, kind and the six cells' texts.
    """
    rows: list[dict[str, Any]] = page.locator("#compare-table tbody tr").evaluate_all(
        """trs => trs.map(tr => ({
            store_id: tr.dataset.storeId,
            kind: tr.dataset.kind,
            cells: [...tr.querySelectorAll('td')].map(td => td.textContent),
        }))"""
    )
    return rows


def report_csv(page: Any, server: Server, report_id: str) -> str:
    """
    The report's CSV as ``GET /api/get_report`` sends it.
    """
    response = page.request.get(
        f"{server.base}/api/get_report?report_id={report_id}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status == 200
    text: str = response.text()
    return text


# ---------------------------------------------------------------- tests


def test_history_lists_reports_newest_first_in_pages(
    page: Any, history: tuple[Server, list[PinnedReport]]
) -> None:
    """The history lists every report once, newest first, ten a page, with its details."""
    server, reports = history
    expected = newest_first(reports)
    assert len(expected) == 27
    open_page(page, server, "#history")
    first = listed_ids(page)
    assert first == expected[:PAGE]
    assert page.evaluate("document.activeElement.id") == "history-heading"

    # Each row: id, created, as of, status and stores, as the API lists the report.
    by_id = {
        report["report_id"]: report
        for report in api_json(page, server, "/api/reports?limit=100")["reports"]
    }
    cells = page.locator("#history-table tbody tr").evaluate_all(
        "trs => trs.map(tr => [...tr.cells].map(c => c.textContent.trim()))"
    )
    for report_id, row in zip(first, cells, strict=True):
        listed = by_id[report_id]
        stores = "—" if listed["stores"] is None else str(listed["stores"])
        assert row == [
            report_id,
            utc_text(listed["created_at"]),
            utc_text(listed["as_of"]),
            listed["status"],
            stores,
        ]
    assert page.locator(f"tr[data-report-id='{FAILED}'] input").count() == 0
    assert page.locator(f"tr[data-report-id='{LATER}'] input").count() == 1
    assert page.locator("#history-page-info").inner_text() == "Reports 1–10"
    assert page.locator("#history-newer").get_attribute("aria-disabled") == "true"
    save_screenshot(page, "web-desktop-history.png")

    # Older, older (the last page), then back: newer, newest.
    second = turn_history(page, "Older", expected[PAGE])
    assert second == expected[PAGE : 2 * PAGE]
    assert "before=" in page.evaluate("location.hash")
    third = turn_history(page, "Older", expected[2 * PAGE])
    assert third == expected[2 * PAGE :]
    assert RUNNING in third
    assert page.locator("#history-older").get_attribute("aria-disabled") == "true"
    assert page.locator("#history-page-info").inner_text() == "Reports 21–27"
    assert first + second + third == expected
    assert turn_history(page, "Newer", expected[PAGE]) == second
    assert turn_history(page, "Newest", expected[0]) == first
    assert page.locator("#history-newest").get_attribute("aria-disabled") == "true"

    # A running report is asked about again while it is listed.
    turn_history(page, "Older", expected[PAGE])
    turn_history(page, "Older", expected[2 * PAGE])
    # A running report is asked about again while it is listed; a focus on a listed
    # report's link stays on it through the refresh.
    running = page.locator(f"tr[data-report-id='{RUNNING}'] .badge")
    assert running.inner_text() == "Running"
    page.get_by_role("link", name=f"Open report {expected[-1]}").focus()
    for _ in range(2):
        with page.expect_response(lambda response: "/api/reports?" in response.url):
            pass
        page.wait_for_timeout(100)  # the rows are rebuilt after the answer
        label = page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert label == f"Open report {expected[-1]}"


def test_compare_shows_each_stores_change(
    page: Any, history: tuple[Server, list[PinnedReport]]
) -> None:
    """Two reports chosen on different pages compare store by store, biggest drops first."""
    server, reports = history
    expected_ids = newest_first(reports)
    assert expected_ids.index(LATER) < PAGE <= expected_ids.index(EARLIER) < 2 * PAGE
    open_page(page, server, "#history")
    listed_ids(page)
    page.get_by_label(f"Choose report {LATER} to compare").check()
    assert page.locator("#compare-chosen").get_attribute("aria-disabled") == "true"
    turn_history(page, "Older", expected_ids[PAGE])
    page.get_by_label(f"Choose report {EARLIER} to compare").check()
    assert page.locator("#chosen-note").inner_text() == "2 reports chosen."
    page.get_by_role("button", name="Compare the two chosen").click()
    page.locator("#compare-body").wait_for(state="visible")
    params = page.evaluate("Object.fromEntries(new URLSearchParams(location.hash.slice(1)))")
    assert params == {"compare": EARLIER, "to": LATER}
    assert page.evaluate("document.activeElement.id") == "compare-heading"

    earlier_csv = report_csv(page, server, EARLIER)
    later_csv = report_csv(page, server, LATER)
    expected = expected_comparison(earlier_csv, later_csv)
    assert shown_comparison(page) == expected
    kinds = [row["kind"] for row in expected]
    for kind in ("fell", "rose", "same", "closed", "only_earlier", "only_later"):
        count = page.locator(f"#compare-headline [data-kind={kind}]").get_attribute("data-count")
        assert count == str(kinds.count(kind)), kind
    assert page.locator("#compare-count").get_attribute("data-total") == str(len(expected))

    # The side by side figures, counted here from the two CSVs.
    def figures(text: str) -> dict[str, int]:
        rows = list(csv.DictReader(io.StringIO(text)))
        weeks = [week(row) for row in rows]
        open_weeks = [w for w in weeks if w is not None and sum(w) > 0]
        return {
            "stores": len(rows),
            "open": len(open_weeks),
            "below": sum(Fraction(up, up + down) < Fraction(99, 100) for up, down in open_weeks),
            "down": sum(w is not None and w[1] > 0 for w in weeks),
        }

    for line, (earlier_count, later_count) in {
        name: (figures(earlier_csv)[name], figures(later_csv)[name])
        for name in ("stores", "open", "below", "down")
    }.items():
        shown = page.locator(f"#compare-summary tr[data-line={line}] td").evaluate_all(
            "tds => tds.map(td => Number(td.dataset.count))"
        )
        assert shown == [earlier_count, later_count], line
    save_screenshot(page, "web-desktop-compare.png", full_page=True)

    # On a phone nothing scrolls sideways but the table's frame, where the ids stay pinned.
    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    assert no_sideways_scroll(page)
    page.evaluate(
        "(() => { const wrap = document.querySelector('#compare-body .table-wrap');"
        " wrap.scrollIntoView(); wrap.scrollLeft = 250; })()"
    )
    frame = page.locator("#compare-body .table-wrap").bounding_box()
    pinned = page.locator("#compare-table tbody th").first.bounding_box()
    assert frame is not None
    assert pinned is not None
    assert abs(pinned["x"] - frame["x"]) <= 2
    save_screenshot(page, "web-phone-compare.png")
    page.set_viewport_size(DESKTOP)

    # By the change in hours, drops first, those in one report only last.
    page.get_by_role("button", name="Change of uptime, last week").click()
    hours_order = [row["store_id"] for row in shown_comparison(page)]
    with_hours = [row for row in expected if row["cells"][5] != "—"]

    def hundredths(text: str) -> int:
        return round(float(text.replace(MINUS, "-")) * 100)

    assert hours_order == [
        row["store_id"]
        for row in sorted(
            with_hours, key=lambda row: (hundredths(row["cells"][5]), row["store_id"])
        )
    ] + sorted(row["store_id"] for row in expected if row["cells"][5] == "—")
    header = page.locator("#compare-table th[data-key=hours]")
    assert header.get_attribute("aria-sort") == "ascending"

    # Only the stores in one report, then a store id filter.
    page.get_by_label("Show changes").select_option("only")
    assert [row["kind"] for row in shown_comparison(page)] == ["only_earlier", "only_later"]
    page.get_by_label("Show changes").select_option("all")
    page.get_by_label("Find a store id").fill("92223674")
    page.locator("#compare-count[data-shown='1']").wait_for()
    assert [row["store_id"] for row in shown_comparison(page)] == ["9222367421889482050"]


def test_deep_links_open_a_past_report_and_a_comparison(
    page: Any, history: tuple[Server, list[PinnedReport]], console_errors: list[str]
) -> None:
    """Links to a comparison (either order), a history page and a past report open directly."""
    server, reports = history
    earlier_csv = report_csv(page, server, EARLIER)
    later_csv = report_csv(page, server, LATER)
    expected = expected_comparison(earlier_csv, later_csv)

    # In a tab without the token: the page asks for it, then opens the comparison. The
    # later report first in the address: the page still compares earlier to later.
    page.goto(f"{server.base}/#compare={LATER}&to={EARLIER}&target=90")
    page.wait_for_function("() => document.activeElement.id === 'token'")
    assert page.locator("#compare-body").is_hidden()
    enter_token(page)
    page.locator("#compare-body").wait_for(state="visible")
    assert shown_comparison(page) == expected
    assert "90% target" in page.locator("#compare-summary tr[data-line=below]").inner_text()
    # The browser logs the refused requests itself; nothing else may be logged.
    assert all("status of 401" in error for error in console_errors), console_errors
    console_errors.clear()
    page.reload()
    page.locator("#compare-body").wait_for(state="visible")
    assert shown_comparison(page) == expected

    # A history page from its address: the API's cursor after the first ten.
    cursor = api_json(page, server, "/api/reports?limit=10")["next"]
    page.goto(f"{server.base}/#history&before={cursor}")
    page.reload()
    assert listed_ids(page) == newest_first(reports)[PAGE : 2 * PAGE]
    assert page.locator("#history-newer").get_attribute("aria-disabled") == "true"
    assert page.locator("#history-newest").get_attribute("aria-disabled") == "false"
    assert page.locator("#history-page-info").inner_text() == "10 older reports"

    # A past report: its table opens, its rows the report's.
    page.goto(f"{server.base}/#report={EARLIER}")
    page.reload()
    page.locator("#report-state[data-state=complete]").wait_for()
    rows = list(csv.DictReader(io.StringIO(earlier_csv)))
    assert page.locator("#row-count").get_attribute("data-total") == str(len(rows))
    assert EARLIER in page.locator("#report-status").inner_text()
    # Shares are cut to a tenth from the exact hundredths: 0.02 h of 0.10 h is 20%.
    page.get_by_label("Filter by store id").fill("1000000000000000016")
    page.locator("#row-count[data-shown='1']").wait_for()
    share = page.locator("#report-table td[data-key=share_last_week] .pct")
    assert share.inner_text() == "20%"
    page.get_by_label("Filter by store id").fill("")

    # From the report to the history: the report shown is marked, and the way back works.
    page.get_by_role("link", name="Report history: open an earlier report, or compare two").click()
    page.locator("#history-status[data-count]").wait_for(state="attached")
    assert page.evaluate("document.activeElement.id") == "history-heading"
    turn_history(page, "Older", newest_first(reports)[PAGE])
    marked = page.locator("#history-table tr[aria-current=true]")
    assert marked.get_attribute("data-report-id") == EARLIER
    page.get_by_role("link", name="← The report shown").click()
    page.locator("#table-view").wait_for(state="visible")
    assert page.evaluate("new URLSearchParams(location.hash.slice(1)).get('report')") == EARLIER


def test_a_comparison_of_unusable_reports_says_why(
    page: Any, history: tuple[Server, list[PinnedReport]], console_errors: list[str]
) -> None:
    """A comparison with a failed report, or of a report with itself, says so in one line."""
    server, _ = history
    open_page(page, server, f"#compare={FAILED}&to={LATER}")
    status = page.locator("#compare-status")
    status.filter(has_text="disk full").wait_for()
    assert status.inner_text() == f"Report {FAILED}: disk full."
    assert page.locator("#compare-body").is_hidden()
    page.evaluate(f"location.hash = 'compare={LATER}&to={LATER}'")
    status.filter(has_text="two different reports").wait_for()
    # The browser logs the failed report's 500 itself; nothing else may be logged.
    assert all("status of 500" in error for error in console_errors)
    console_errors.clear()


def test_history_and_compare_by_keyboard(
    page: Any, history: tuple[Server, list[PinnedReport]], console_errors: list[str]
) -> None:
    """History, choosing two, comparing, sorting and a store, by keyboard; never on <body>."""
    server, reports = history
    page.goto(f"{server.base}/")
    page.locator("#token-state").filter(has_text="needs an API token").wait_for()
    keys = Keyboard(page)
    keys.tab_to("document.activeElement.id === 'token'")
    page.keyboard.type(TOKEN)
    keys.press("Enter")
    page.locator("#token-state").filter(has_text="Token accepted").wait_for()
    keys.tab_to("document.activeElement.id === 'history-link'")
    keys.press("Enter")
    page.locator("#history-status[data-count]").wait_for(state="attached")
    assert page.evaluate("document.activeElement.id") == "history-heading"

    # The two newest complete reports, ticked with the space bar.
    complete = [r.report_id for r in reports if r.status == "Complete"]
    chosen = [report_id for report_id in newest_first(reports) if report_id in complete][:2]
    for report_id in chosen:
        label = f"Choose report {report_id} to compare"
        keys.tab_to(f"document.activeElement.getAttribute('aria-label') === '{label}'")
        keys.press("Space")
    assert page.locator("#chosen-note").inner_text() == "2 reports chosen."
    keys.tab_to("document.activeElement.id === 'compare-chosen'")
    keys.press("Enter")
    page.locator("#compare-body").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "compare-heading"

    # A sort header keeps the focus while the rows change under it.
    keys.tab_to(
        "document.activeElement.getAttribute('aria-label') === 'Change of uptime, last week'"
    )
    keys.press("Enter")
    assert (
        page.locator("#compare-table th[data-key=hours]").get_attribute("aria-sort") == "ascending"
    )
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Change of uptime, last week"
    )
    keys.tab_to("!!document.activeElement.closest('#compare-table tbody a')")
    store_id = page.evaluate("document.activeElement.closest('tr').dataset.storeId")
    keys.press("Enter")
    page.get_by_role("heading", name=f"Store {store_id}").wait_for()
    assert page.evaluate("document.activeElement.id") == "store-heading"
    # The pinned reports have no polls behind them: the store's week is not found.
    page.locator("#store-status").filter(has_text="has no row for store").wait_for()
    assert console_errors
    assert all("status of 404" in error for error in console_errors), console_errors
    console_errors.clear()

    # Back to the comparison with the browser, then to the history by its link.
    page.go_back()
    page.locator("#compare-body").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "compare-heading"
    assert keys.press("Shift+Tab") == "compare-back"
    keys.press("Enter")
    page.locator("#history-view").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "history-heading"
    keys.tab_to("document.activeElement.id === 'history-older'", limit=60)
    keys.press("Enter")
    page.locator(
        f"#history-table tbody tr:first-child[data-report-id='{newest_first(reports)[PAGE]}']"
    ).wait_for()
    assert page.evaluate("document.activeElement.id") == "history-older"


def test_history_and_compare_pass_axe_and_fit_a_phone(
    page: Any, history: tuple[Server, list[PinnedReport]]
) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation in the history and compare views; a phone
    never scrolls sideways in them."""
    server, _ = history
    open_page(page, server, "#history")
    listed_ids(page)
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []
    page.evaluate("document.querySelector('#history-heading').scrollIntoView()")
    save_screenshot(page, "web-phone-history.png")
    page.evaluate(f"location.hash = 'compare={EARLIER}&to={LATER}'")
    page.locator("#compare-body").wait_for(state="visible")
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []
    page.set_viewport_size(DESKTOP)
    assert axe_violations(page) == []
