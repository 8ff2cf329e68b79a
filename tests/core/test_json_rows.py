"""
Rows as JSON (``sources.ObjectReader``, ``sources.read_json_lines``): the same records and
the same rejects, column and reason, as the CSV readers give for the same fields.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from storemon.lines import LineBuffer
from storemon.model import HoursRow, Rejected, to_epoch_us
from storemon.sources import ObjectReader, SourceKind, read_json_lines, read_rows
from tests.strategies import TIMESTAMP_STYLES, instants, store_ids, timestamp_text

LATEST = to_epoch_us(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))

# Field texts without a comma, quote or line end, so that a CSV line holds them as they are.
_odd_texts = st.text(
    st.characters(blacklist_characters=',"\r\n', blacklist_categories=("Cs",)), max_size=12
)
_store_ids = st.one_of(store_ids(), st.sampled_from(["", " ", "=1", "+x", "-", "@a", "a\x01b"]))
_statuses = st.one_of(st.sampled_from(["active", "inactive", "Active", "up", ""]), _odd_texts)
_instant_texts = st.one_of(
    st.builds(timestamp_text, instants(), st.sampled_from(TIMESTAMP_STYLES)),
    st.sampled_from(["2023-02-30 00:00:00 UTC", "2099-01-01 00:00:00 UTC", "yesterday", ""]),
)


def _csv_item(kind: SourceKind, fields: dict[str, str]) -> Any:
    header = ",".join(fields).encode()
    line = ",".join(fields.values()).encode()
    [item] = list(read_rows(kind, [header + b"\n", line + b"\n"], "s", latest_at_us=LATEST))
    return item


def _same(from_csv: Any, from_json: Any) -> None:
    if isinstance(from_csv, Rejected):
        assert isinstance(from_json, Rejected)
        assert (from_json.column, from_json.reason) == (from_csv.column, from_csv.reason)
    else:
        assert from_json == from_csv


@given(
    _store_ids.filter(lambda text: "," not in text and '"' not in text), _statuses, _instant_texts
)
def test_a_poll_as_json_reads_as_the_same_poll_as_csv(
    store_id: str, status: str, instant: str
) -> None:
    """Any status row gives the same poll, or the same rejection, from CSV and from JSON."""
    fields = {"store_id": store_id, "status": status, "timestamp_utc": instant}
    reader = ObjectReader(SourceKind.STATUS, "s", latest_at_us=LATEST)
    _same(_csv_item(SourceKind.STATUS, fields), reader.read(fields, 2, json.dumps(fields)))


_days = st.one_of(st.integers(-1, 8).map(str), st.sampled_from(["Monday", "", "1.0"]))
_times = st.one_of(
    st.builds(
        lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}",
        st.integers(0, 25),
        st.integers(0, 60),
        st.integers(0, 59),
    ),
    st.sampled_from(["24:00:00", "9am", "", "7:5"]),
)


@given(_days, _times, _times)
def test_a_weekly_row_as_json_reads_as_the_same_row_as_csv(day: str, start: str, end: str) -> None:
    """Any weekly row gives the same HoursRow, or the same rejection, from CSV and JSON."""
    fields = {"day": day, "start_time_local": start, "end_time_local": end}
    reader = ObjectReader(SourceKind.STORE_HOURS, "s")
    json_fields = {"day_of_week": day, "start_time_local": start, "end_time_local": end}
    _same(_csv_item(SourceKind.STORE_HOURS, fields), reader.read(json_fields, 2, ""))
    with_store = _csv_item(SourceKind.HOURS, {"store_id": "1", **fields})
    _same(
        with_store if isinstance(with_store, Rejected) else with_store[1],
        reader.read(fields, 2, ""),
    )


def test_a_day_may_be_a_json_number_but_not_true() -> None:
    """A day is a string or a whole number; true, a fraction or null are refused."""
    reader = ObjectReader(SourceKind.STORE_HOURS, "s")
    row = {"start_time_local": "09:00", "end_time_local": "17:00"}
    assert reader.read({"day_of_week": 3, **row}, 1, "") == HoursRow(3, dt.time(9), dt.time(17))
    for bad in (True, 1.5, None):
        refused = reader.read({"day_of_week": bad, **row}, 1, "")
        assert isinstance(refused, Rejected)
        assert refused.column == "day"
        assert refused.reason.startswith("must be a JSON string")


def test_json_lines_are_numbered_and_long_lines_rejected_unread() -> None:
    """JSON lines keep their line numbers across chunks; blank lines are skipped; a line
    over the limit is rejected with its size, as a CSV line is."""
    good = json.dumps(
        {"store_id": "7", "status": "active", "timestamp_utc": "2023-01-01T00:00:00Z"}
    )
    long = json.dumps({"store_id": "7", "status": "x" * 300, "timestamp_utc": "t"})
    data = f"{good}\n\n{long}\n{good}".encode()
    lines = LineBuffer(io.BytesIO(data).read, chunk_size=64, max_line=200)
    records: list[Any] = []
    rejects: list[Rejected] = []
    for batch in read_json_lines(SourceKind.STATUS, lines, "body"):
        records += batch.records
        rejects += batch.rejected
    at = to_epoch_us(dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    assert records == [("7", at, True), ("7", at, True)]
    assert [(item.line, item.column) for item in rejects] == [(3, None)]
    assert (
        rejects[0].reason == f"the line is {len(long) + 1} bytes long, over the limit of 200 bytes"
    )
