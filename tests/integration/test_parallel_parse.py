"""
A large status file parsed in a second process stores and rejects exactly what the
in-process reader does.
"""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from pathlib import Path

import pytest

from storemon import ingest as ingest_module
from storemon.storage import open_repository, polldays

STATUS = (
    "\ufeffstore_id,status,timestamp_utc\r\n"
    "1,active,2023-01-22 12:09:39.388884 UTC\r\n"
    "2,inactive,2023-01-22 12:09:39 UTC\n"
    '"3,x",ACTIVE,2023-01-22T12:09:39Z\n'
    "\n"
    "4,maybe,2023-01-22 12:09:39 UTC\n"
    "5,active,2023-02-30 12:09:39 UTC\n"
    "1,inactive,2023-01-22 12:09:39.388884 UTC\n"
    "6,active\n"
    '"8,active,2023-01-22 12:09:39 UTC\n'  # a quoted field running on: a broken record
    'x",active,2023-01-22 12:09:39 UTC\n'
    "9,active,9999-01-01 00:00:00 UTC\n"  # in the future
    f"10,{'L' * 100},2023-01-22 12:09:39 UTC\n"  # over the line limit of the test
    "7,active,2023-01-22 13:00:00 UTC"
)


def _fixed_clock() -> dt.datetime:
    # Both ingests judge "the future" from one instant, so their reasons read the same.
    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


async def _ingest(path: Path, db: Path) -> tuple[list[tuple[object, ...]], list[object]]:
    async with open_repository(f"sqlite:///{db}") as repository:
        summaries = await ingest_module.ingest(
            repository, status=str(path), parse_aside=True, max_line=80, clock=_fixed_clock
        )
    connection = sqlite3.connect(db)
    days = connection.execute("SELECT store_id, day, times, statuses FROM poll_days")
    rows: list[tuple[object, ...]] = sorted(polldays.each_poll(days))
    connection.close()
    return rows, [(r.line, r.column, r.reason) for s in summaries for r in s.rejects]


async def test_parsing_aside_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows, statuses and rejected lines (with their numbers) are the same either way."""
    path = tmp_path / "store_status.csv"
    # Many chunks: the chunk size is shrunk so that lines straddle the cuts.
    path.write_text(STATUS * 3, encoding="utf-8", newline="")
    monkeypatch.setattr(ingest_module, "CHUNK_BYTES", 37)
    in_process = await _ingest(path, tmp_path / "a.db")  # below the size: in process
    monkeypatch.setattr(ingest_module, "PARALLEL_PARSE_BYTES", 0)
    calls = []
    batches_aside = ingest_module.batches_aside

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return batches_aside(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module, "batches_aside", spy)
    aside = await _ingest(path, tmp_path / "b.db")
    assert calls
    assert aside == in_process
    assert len(in_process[0]) > 3
    reasons = [reason for _, _, reason in in_process[1]]
    assert sum("quoted field" in reason for reason in reasons) == 3 * 2
    assert sum("in the future" in reason for reason in reasons) == 3
    assert sum("over the limit of 80 bytes" in reason for reason in reasons) == 3


def test_batches_aside_equal_one_read() -> None:
    """
    The batches parsed by the child hold the same records, in the same order, and the
    same rejects as one read.
    """
    from storemon import parallel
    from storemon.lines import LineBuffer
    from storemon.sources import SourceKind, read_batches

    data = (STATUS * 4).encode("utf-8")
    latest = 1_800_000_000_000_000

    def read(batches: object) -> tuple[list[object], list[object]]:
        records: list[object] = []
        rejects: list[object] = []
        for batch in batches:  # type: ignore[attr-defined]
            records.extend(batch.records)
            rejects.extend((r.line, r.column, r.reason) for r in batch.rejected)
        return records, rejects

    one_read = read(
        read_batches(
            SourceKind.STATUS,
            LineBuffer(io.BytesIO(data).read, chunk_size=53, max_line=80),
            "f.csv",
            latest_at_us=latest,
        )
    )
    aside = read(
        parallel.batches_aside(
            LineBuffer(io.BytesIO(data).read, chunk_size=53, max_line=80),
            "f.csv",
            None,
            latest_at_us=latest,
        )
    )
    assert aside == one_read
    # Five good rows a copy, but three copies' last row runs into the next copy's header.
    assert len(one_read[0]) == 4 * 5 - 3
    assert all(type(record) is tuple and type(record[2]) is bool for record in aside[0])


def test_poll_columns_read_as_records() -> None:
    """The child's columns read as the tuples a batch holds: by index, slice and in order."""
    import array

    from storemon.model import PollColumns

    columns = PollColumns(("a", "b", "c"), array.array("q", [3, -1, 7]), b"\x01\x00\x01")
    records = [("a", 3, True), ("b", -1, False), ("c", 7, True)]
    assert list(columns) == records
    assert len(columns) == 3
    assert columns[1] == records[1]
    assert columns[-1] == records[-1]
    assert columns[1:] == records[1:]


def test_a_helper_imports_first_answers_in_order_and_ends_with_its_input() -> None:
    from storemon.parallel import ParseProcess

    # A module that cannot be imported is skipped: the call needing it would say why.
    with ParseProcess(imports=["json", "storemon.no_such_module"]) as child:
        child.submit(sorted, [3, 1, 2])
        child.submit(divmod, 7, 0)
        child.submit(max, "a", "b")
        assert child.result() == [1, 2, 3]
        with pytest.raises(ZeroDivisionError):
            child.result()
        assert child.result() == "b"
    assert child.process.returncode == 0
