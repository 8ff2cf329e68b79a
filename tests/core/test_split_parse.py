"""
A status file parsed in two halves (``load_csv(parse_aside=True)``) equals one sequential
read: the same polls per store in the same order, the same rejected rows, same line numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon import dataset as dataset_module
from storemon.dataset import group_polls, load_csv
from storemon.errors import SourceError
from storemon.parallel import collect_range
from storemon.sources import SourceKind, read_header

#: Status lines under the header ``timestamp_utc,store_id,status``.
_LINES = [
    "2023-01-22 12:09:39.388884 UTC,8419537941919820732,active",
    "2023-01-22 13:09:39 UTC,8419537941919820732,inactive",
    "2023-01-24 09:06:42.6 UTC,54515546588432327,inactive",
    "2023-01-24 09:06:42.6 UTC,54515546588432327,active",  # the same instant: later wins
    "2023-01-24T09:06:42Z,s1,ACTIVE",
    "2023-02-30 09:06:42 UTC,s1,active",  # rejected: impossible date
    "2023-01-24 09:06:42 UTC,s2,maybe",  # rejected: unknown status
    "2023-01-24 09:06:42 UTC,s3",  # rejected: two fields
    "",
    '2023-01-24 09:06:42 UTC,"s,4",active',
]
_LAST_REJECTED = 7  # the index in _LINES of the last rejected line
#: With a record whose quoted field runs on to a later line, which a cut may fall inside.
_LINES_WITH_RUNAWAY_QUOTES = [*_LINES, '2023-01-24 09:06:42 UTC,"s9', 'x",active']


def _write(path: Path, lines: list[str], *, crlf: bool, final_newline: bool) -> Path:
    end = "\r\n" if crlf else "\n"
    text = end.join(["timestamp_utc,store_id,status", *lines])
    path.write_bytes(("\ufeff" + text + (end if final_newline else "")).encode("utf-8"))
    return path


@given(
    lines=st.lists(st.sampled_from(_LINES_WITH_RUNAWAY_QUOTES), max_size=30),
    crlf=st.booleans(),
    final_newline=st.booleans(),
)
@settings(max_examples=40)
def test_every_cut_of_a_file_merges_to_the_sequential_read(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], crlf: bool, final_newline: bool
) -> None:
    """Cut at any line start, the halves (open records carried over) merge to one read."""
    path = _write(
        tmp_path_factory.mktemp("split") / "status.csv",
        lines,
        crlf=crlf,
        final_newline=final_newline,
    )
    whole = load_csv(path)
    data = path.read_bytes()
    header_end = data.find(b"\n") + 1 or len(data)
    positions = read_header(SourceKind.STATUS, data[:header_end], str(path))
    cuts = [header_end] + [i + 1 for i in range(header_end, len(data)) if data[i] == 10]
    for middle in sorted(set(cuts)):
        first, left_open = collect_range(
            str(path), positions, header_end, header_end, middle, group_polls
        )
        second, _ = collect_range(
            str(path), positions, header_end, middle, len(data), group_polls, None, left_open
        )
        polls = {store: list(packed) for store, packed in first[0].items()}
        for store, packed in second[0].items():
            polls.setdefault(store, []).extend(packed)
        assert polls == whole.polls
        assert list(polls) == list(whole.polls)  # stores in first-appearance order too
        assert first[1] + second[1] == whole.rejected


def test_load_csv_parse_aside_equals_sequential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through a real second process: the same dataset, rejects and line numbers."""
    lines = _LINES * 50
    path = _write(tmp_path / "status.csv", lines, crlf=False, final_newline=False)
    hours = tmp_path / "hours.csv"
    hours.write_text("store_id,day,start_time_local,end_time_local\ns1,0,09:00,17:00\ns2,9,x,y\n")
    zones = tmp_path / "zones.csv"
    zones.write_text("store_id,timezone_str\ns1,Asia/Beirut\ns2,Mars/Olympus\n")
    sequential = load_csv(path, hours, zones)
    monkeypatch.setattr(dataset_module, "SPLIT_PARSE_BYTES", 0)
    split_reads: list[str] = []
    read_split = dataset_module._read_status_split

    def spy(path: str, **kwargs: Any) -> Any:
        split_reads.append(path)
        return read_split(path, **kwargs)

    monkeypatch.setattr(dataset_module, "_read_status_split", spy)
    split = load_csv(path, hours, zones, parse_aside=True)
    assert split_reads == [str(path)]
    assert split == sequential
    assert split.zones == {"s1": "Asia/Beirut"}
    assert [item.source for item in split.rejected[-2:]] == [str(hours), str(zones)]
    split.rejected = split.rejected[:-2]
    # The header is line 1, so the line of lines[i] is i + 2.
    assert split.rejected[-1].line == len(lines) - len(_LINES) + _LAST_REJECTED + 2
    assert split.report_csv() == sequential.report_csv()
    assert len(split.rejected) == 3 * 50


def test_parse_aside_of_a_missing_file_is_a_source_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path that cannot be read fails as the sequential read does."""
    monkeypatch.setattr(dataset_module, "SPLIT_PARSE_BYTES", 0)
    with pytest.raises(SourceError, match="cannot open"):
        load_csv(tmp_path / "missing.csv", parse_aside=True)


def test_group_polls_packs_columns_as_tuples() -> None:
    """A batch of columns (statuses as bools or as bytes) groups as the same rows as tuples."""
    import array

    from storemon.dataset import group_polls
    from storemon.model import PollColumns
    from storemon.sources import Batch

    rows = [("b", 5, True), ("a", 3, False), ("b", -1, False), ("a", 3, True)]
    ids = [r[0] for r in rows]
    as_tuples = group_polls([Batch(rows, [])])
    as_bools = group_polls(
        [Batch(PollColumns(ids, [r[1] for r in rows], [r[2] for r in rows]), [])]
    )
    as_bytes = group_polls(
        [Batch(PollColumns(ids, array.array("q", [r[1] for r in rows]), b"\x01\x00\x00\x01"), [])]
    )
    assert as_tuples == as_bools == as_bytes == ({"b": [11, -2], "a": [6, 7]}, [])
