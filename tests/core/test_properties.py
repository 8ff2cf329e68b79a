"""
Properties of the report engine, checked against the brute-force reference.

Inputs come from ``tests.strategies``: random zones and zones with a DST change inside the
week, overnight, 24-hour, overlapping and end-of-day hours, missing days or no rows, polls
before the week, after ``as_of`` and at the same instant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

from hypothesis import given, note
from hypothesis import strategies as st

from storemon import ReportRow, compute_report, load_csv
from tests.core.support import case_files, epoch_us, row_seconds, snapshot_of
from tests.reference import reference_store
from tests.strategies import TIMESTAMP_STYLES, StoreCase, store_cases

WINDOW_FIELDS = {
    "hour": ("uptime_last_hour", "downtime_last_hour", Fraction(60)),
    "day": ("uptime_last_day", "downtime_last_day", Fraction(24)),
    "week": ("uptime_last_week", "downtime_last_week", Fraction(168)),
}


def _only_row(rows: tuple[ReportRow, ...], store_id: str) -> ReportRow | None:
    matching = [row for row in rows if row.store_id == store_id]
    assert len(matching) <= 1
    return matching[0] if matching else None


def _dedupe(case: StoreCase) -> StoreCase:
    """
    Keep one poll per instant (the later row), so that row order cannot matter.
    """
    by_instant: dict[dt.datetime, bool] = {}
    for at, active in case.polls:
        by_instant[at] = active
    return dataclasses.replace(case, polls=list(by_instant.items()))


@given(
    case=store_cases(),
    styles=st.lists(st.sampled_from(TIMESTAMP_STYLES), min_size=1, max_size=4),
    day_column=st.sampled_from(["day", "dayOfWeek"]),
)
def test_engine_matches_reference(case: StoreCase, styles: list[str], day_column: str) -> None:
    """The engine (via load_csv and StoreSnapshot) equals the reference within its error bound."""
    status, hours, zones = case_files([case], styles=styles, day_column=day_column)
    dataset = load_csv(status, hours, zones)
    assert dataset.rejected == []
    from_csv = _only_row(dataset.report(case.as_of).rows, case.store_id)
    from_snapshot = _only_row(
        compute_report([snapshot_of(case)], as_of=case.as_of).rows, case.store_id
    )
    assert from_csv == from_snapshot

    expected = reference_store(case.polls, case.hours, case.zone_key, case.as_of)
    if expected is None:
        assert from_csv is None
        return
    assert from_csv is not None
    actual = row_seconds(from_csv)
    for window, result in expected.items():
        up, down = actual[window]
        note(f"{window}: engine up={up}s down={down}s; reference {result}")
        assert abs(up - result.uptime_s) <= result.tolerance_s
        assert abs(down - result.downtime_s) <= result.tolerance_s
        assert abs(up + down - result.business_s) <= result.business_tolerance_s


@given(case=store_cases(aligned=True))
def test_uptime_plus_downtime_is_business_time(case: StoreCase) -> None:
    """Uptime plus downtime equals the business time the wall-clock reference measures."""
    row = _only_row(compute_report([snapshot_of(case)], as_of=case.as_of).rows, case.store_id)
    # Status does not matter for business time: one poll decides nothing about it.
    expected = reference_store(
        [(case.as_of, True)], case.hours, case.zone_key, case.as_of, steps={"hour": 60, "day": 60}
    )
    if row is None:
        assert all(at > case.as_of for at, _ in case.polls)
        return
    assert expected is not None
    actual = row_seconds(row)
    for window, result in expected.items():
        up, down = actual[window]
        note(f"{window}: engine {up + down}s; reference {result}")
        assert abs(up + down - result.business_s) <= result.business_tolerance_s


@given(case=store_cases())
def test_values_stay_within_their_window(case: StoreCase) -> None:
    """Every value lies between zero and the window length, and so does uptime plus downtime."""
    for row in compute_report([snapshot_of(case)], as_of=case.as_of).rows:
        for up_field, down_field, length in WINDOW_FIELDS.values():
            up, down = getattr(row, up_field), getattr(row, down_field)
            assert isinstance(up, Fraction)
            assert isinstance(down, Fraction)
            assert 0 <= up <= length
            assert 0 <= down <= length
            assert up + down <= length


@given(
    cases=st.lists(store_cases(), min_size=1, max_size=3, unique_by=lambda c: c.store_id),
    data=st.data(),
)
def test_shuffling_input_rows_changes_nothing(cases: list[StoreCase], data: st.DataObject) -> None:
    """Permuting the rows of the status and hours files gives the same report."""
    cases = [_dedupe(case) for case in cases]
    as_of = cases[0].as_of
    poll_count = sum(len(case.polls) for case in cases)
    hours_count = sum(len(case.hours) for case in cases)
    poll_order = data.draw(st.permutations(range(poll_count)))
    hours_order = data.draw(st.permutations(range(hours_count)))
    in_order = load_csv(*case_files(cases)).report(as_of)
    shuffled = load_csv(*case_files(cases, poll_order=poll_order, hours_order=hours_order)).report(
        as_of
    )
    assert shuffled == in_order


@given(case=store_cases(), later=st.integers(0, 3 * 86_400 * 10**6))
def test_rows_after_as_of_change_nothing(case: StoreCase, later: int) -> None:
    """A report for an earlier as_of equals the report of the same data without the later polls."""
    as_of = case.as_of - dt.timedelta(microseconds=later)
    kept = dataclasses.replace(
        case, polls=[(at, active) for at, active in case.polls if at <= as_of]
    )
    with_later = load_csv(*case_files([case])).report(as_of)
    without_later = load_csv(*case_files([kept])).report(as_of)
    assert with_later == without_later


@given(cases=st.lists(store_cases(), min_size=2, max_size=4, unique_by=lambda c: c.store_id))
def test_stores_are_independent_and_sorted(cases: list[StoreCase]) -> None:
    """A report over several stores holds each store's own row, sorted by store id."""
    as_of = cases[0].as_of
    together = compute_report([snapshot_of(case) for case in cases], as_of=as_of).rows
    alone = [row for case in cases for row in compute_report([snapshot_of(case)], as_of=as_of).rows]
    assert list(together) == sorted(alone, key=lambda row: row.store_id)
    assert [row.store_id for row in together] == sorted(row.store_id for row in together)


@given(case=store_cases())
def test_missing_zone_means_america_chicago(case: StoreCase) -> None:
    """A store without a zone row gets exactly the numbers of the same store in America/Chicago."""
    without = dataclasses.replace(case, zone_key=None)
    chicago = dataclasses.replace(case, zone_key="America/Chicago")
    assert compute_report([snapshot_of(without)], as_of=case.as_of) == compute_report(
        [snapshot_of(chicago)], as_of=case.as_of
    )


@given(case=store_cases())
def test_default_as_of_is_the_latest_poll(case: StoreCase) -> None:
    """Without as_of the report is the one for the latest poll instant in the data."""
    dataset = load_csv(*case_files([case]))
    latest = max(at for at, _ in case.polls)
    assert dataset.report() == dataset.report(latest)
    assert epoch_us(dataset.report().as_of) == epoch_us(latest)
