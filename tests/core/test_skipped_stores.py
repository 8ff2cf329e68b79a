"""
A report never fails for one store: what cannot be read of a store leaves it out, named.
"""

from __future__ import annotations

import datetime as dt

import pytest

from storemon.errors import DataError
from storemon.explain import explain_store
from storemon.model import SkippedStore, StoreSnapshot
from storemon.report import ReportBuilder, compute_report, report_line

AS_OF = dt.datetime(2024, 1, 8, tzinfo=dt.UTC)
POLL_US = int((AS_OF - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds()) * 10**6 - 10**9


def snapshot(
    store_id: str, zone_key: str | None = None, problem: str | None = None
) -> StoreSnapshot:
    return StoreSnapshot(
        store_id=store_id,
        zone_key=zone_key,
        hours=(),
        poll_at_us=[POLL_US],
        poll_active=[True],
        problem=problem,
    )


STORES = [
    snapshot("good"),
    snapshot("nul\x00id"),
    snapshot("moon", zone_key="Moon/Tranquility"),
    snapshot("host", zone_key="localtime"),
    snapshot("hand", problem="a stored business-hours row cannot be read"),
    snapshot("=cmd|calc!A1"),
    snapshot("also good", zone_key="Asia/Kolkata"),
]


def test_unreadable_stores_are_left_out_and_named_and_the_rest_reported() -> None:
    """Invalid ids, unknown zones and rows a backend could not read skip one store each."""
    report = compute_report(STORES, as_of=AS_OF)
    assert [row.store_id for row in report.rows] == ["also good", "good"]
    assert [item.store_id for item in report.skipped] == [
        "nul\x00id",
        "moon",
        "host",
        "hand",
        "=cmd|calc!A1",
    ]
    reasons = [item.reason for item in report.skipped]
    assert "control character (U+0000" in reasons[0]
    assert "unknown time zone 'Moon/Tranquility'" in reasons[1]
    assert "not an IANA zone name" in reasons[2]
    assert reasons[3] == "a stored business-hours row cannot be read"
    assert "spreadsheets read as a formula" in reasons[4]
    assert str(report.skipped[0]).startswith("store 'nul\\x00id' left out of the report: ")


def test_the_csv_path_leaves_the_same_stores_out() -> None:
    """The CSV a server writes has the same rows and the builder names the same stores."""
    builder = ReportBuilder(AS_OF, keep=report_line).extend(STORES)
    assert builder.csv() == compute_report(STORES, as_of=AS_OF).to_csv()
    assert "=cmd" not in builder.csv()
    assert builder.skipped == list(compute_report(STORES, as_of=AS_OF).skipped)
    assert all(isinstance(item, SkippedStore) for item in builder.skipped)


@pytest.mark.parametrize("store", STORES[1:-1], ids=lambda store: repr(store.store_id))
def test_a_store_left_out_cannot_be_explained(store: StoreSnapshot) -> None:
    """explain_store refuses each store the report leaves out, with the report's reason."""
    [skipped] = compute_report([store], as_of=AS_OF).skipped
    with pytest.raises(DataError) as refused:
        explain_store(store, as_of=AS_OF)
    assert skipped.reason in str(refused.value)
