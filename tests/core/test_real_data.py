"""
The real Loop data files (see PROFILE.md beside them) load cleanly and report sensibly.

Skipped, with the reason, when the folder is absent (``STOREMON_REAL_DATA`` names it).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from storemon import Dataset, load_csv
from tests.core.support import row_seconds
from tests.reference import reference_store

UTC = dt.UTC
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def v1(real_data_dir: Path) -> Dataset:
    return load_csv(
        real_data_dir / "store_status.csv",
        real_data_dir / "business_hours.csv",
        real_data_dir / "timezones.csv",
    )


@pytest.fixture(scope="module")
def v2(real_data_dir: Path) -> Dataset:
    folder = real_data_dir / "v2_2024"
    if not folder.is_dir():
        pytest.skip(f"the v2 data is not in {folder}")
    return load_csv(
        folder / "store_status.csv", folder / "business_hours.csv", folder / "timezones.csv"
    )


def test_v1_loads_without_rejects(v1: Dataset) -> None:
    """The v1 files load with no rejected row and the store counts of PROFILE.md."""
    assert v1.rejected == []
    assert len(v1.polls) == 7_668
    assert len(v1.hours) == 11_116
    assert sum(len(rows) for rows in v1.hours.values()) == 86_198
    assert len(v1.zones) == 13_559
    assert v1.latest_poll_at() == dt.datetime(2023, 1, 25, 18, 13, 18, 647_069, tzinfo=UTC)


def test_v1_report_keeps_ids_and_has_no_downtime(v1: Dataset, real_data_dir: Path) -> None:
    """The v1 report has one row per polled store, ids as written, and no downtime (all active)."""
    report = v1.report()
    lines = report.to_csv().splitlines()
    assert len(lines) == 1 + 7_668
    ids = [line.split(",")[0] for line in lines[1:]]
    assert ids == sorted(ids)
    with (real_data_dir / "store_status.csv").open(encoding="utf-8") as handle:
        assert set(ids) == {line.split(",")[0] for line in list(handle)[1:]}
    assert all(id_.isdigit() and 15 <= len(id_) <= 19 for id_ in ids)
    for line in lines[1:]:
        assert line.split(",")[4:] == ["0.00", "0.00", "0.00"]
    for row in report.rows:
        assert 0 <= row.uptime_last_hour <= 60
        assert 0 <= row.uptime_last_day <= 24
        assert 0 <= row.uptime_last_week <= 168


def test_v1_stores_agree_with_the_reference(v1: Dataset) -> None:
    """For a spread of real stores and their real hours, the engine agrees with the reference."""
    report = v1.report()
    rows = {row.store_id: row for row in report.rows}
    with_hours = sorted(store for store in v1.polls if store in v1.hours)
    chosen = with_hours[:: max(1, len(with_hours) // 6)][:6]
    chosen += ["1481966498820158979"] if "1481966498820158979" in v1.polls else []
    for snapshot in v1.snapshots(as_of=report.as_of):
        if snapshot.store_id not in chosen:
            continue
        polls = [
            (dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=at), active)
            for at, active in zip(snapshot.poll_at_us, snapshot.poll_active, strict=True)
        ]
        hours = [(row.day, row.start_local, row.end_local) for row in snapshot.hours]
        assert not any(row.end_is_midnight for row in snapshot.hours)
        expected = reference_store(polls, hours, snapshot.zone_key, report.as_of)
        assert expected is not None
        actual = row_seconds(rows[snapshot.store_id])
        for window, result in expected.items():
            up, down = actual[window]
            assert abs(up - result.uptime_s) <= result.tolerance_s
            assert abs(down - result.downtime_s) <= result.tolerance_s


def test_v2_loads_with_bom_day_of_week_and_no_final_newline(v2: Dataset) -> None:
    """The v2 files (BOM, dayOfWeek, no final newline, UUID ids) load with no rejected row."""
    assert v2.rejected == []
    assert sum(len(rows) for rows in v2.hours.values()) == 35_457
    assert len(v2.hours) == 4_466
    assert len(v2.zones) == 4_559
    assert all(UUID.fullmatch(store_id) for store_id in v2.polls)
    report = v2.report()
    assert report.as_of == dt.datetime(2024, 10, 3, 23, 55, 1, 605_873, tzinfo=UTC)
    assert [row.store_id for row in report.rows] == sorted(v2.polls)


#: The hole in the v1 polls (PROFILE.md): no store has a poll from 2023-01-22 18:00 to
#: 2023-01-24 05:00 UTC.
HOLE = (dt.datetime(2023, 1, 22, 18, tzinfo=UTC), dt.datetime(2023, 1, 24, 5, tzinfo=UTC))


def test_v1_hole_is_unknown_with_a_two_hour_maximum_gap(v1: Dataset) -> None:
    """
    With ``--max-gap 2h`` the 35-hour hole is unknown, never up or down: for a store polled
    on both sides of it, everything from an hour after its start to an hour before its end
    is an unknown stretch, and that part of its business time is counted as unknown.
    """
    gap = dt.timedelta(hours=2)
    plain = {row.store_id: row for row in v1.report().rows}
    report = v1.report(max_gap=gap)
    assert report.max_gap == gap
    header = report.to_csv().splitlines()[0]
    assert header.endswith(",unknown_last_hour,unknown_last_day,unknown_last_week")
    assert v1.report_csv(max_gap=gap) == report.to_csv()
    for row in report.rows:  # the same business time, split three ways instead of two
        before = plain[row.store_id]
        assert row.uptime_last_week + row.downtime_last_week + row.unknown_last_week == (
            before.uptime_last_week + before.downtime_last_week
        )
    surely_unknown = (HOLE[0] + gap / 2, HOLE[1] - gap / 2)
    stores = sorted(v1.polls)[::60]
    checked = 0
    for store_id in stores:
        timeline = v1.explain(store_id, max_gap=gap)
        instants = [at for at, _ in timeline.polls]
        if not (instants[0] < HOLE[0] and instants[-1] > HOLE[1]):
            continue
        assert not any(HOLE[0] < at < HOLE[1] for at in instants)
        assert any(
            start <= surely_unknown[0] and end >= surely_unknown[1]
            for start, end in timeline.unknown
        ), store_id
        in_hole = sum(
            (
                min(end, surely_unknown[1]) - max(start, surely_unknown[0])
                for start, end in timeline.business
                if start < surely_unknown[1] and end > surely_unknown[0]
            ),
            dt.timedelta(0),
        )
        row = next(r for r in report.rows if r.store_id == store_id)
        assert row.unknown_last_week * 3600 >= in_hole.total_seconds()
        checked += 1
    assert checked >= 20
    assert sum(row.unknown_last_week for row in report.rows) > 0
