"""
``storemon.refresh``: how a source is read again, decided from states and hashes alone.
"""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
import pytest

from storemon.model import SourceInfo, SourceState
from storemon.refresh import (
    APPENDED,
    FULL,
    SAMPLE_BLOCK_BYTES,
    SAMPLE_BLOCKS,
    SAMPLE_END_BYTES,
    SAMPLED,
    UNCHANGED,
    content_fingerprint,
    is_sampled,
    plan_from_hashes,
    plan_from_info,
    refreshed_state,
    sample_ranges,
    sampled_fingerprint,
)
from storemon.sources import SourceKind

PREVIOUS = SourceState(
    kind="status",
    source="https://example.com/status.csv",
    size=120,
    content_hash="whole",
    offset=100,
    prefix_hash="prefix",
    lines=4,
    ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    mtime_ns=None,
    etag='"v1"',
    last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
)


@pytest.mark.parametrize(
    ("previous", "info", "url", "mode"),
    [
        (None, SourceInfo(size=10), False, FULL),  # never read
        (PREVIOUS, SourceInfo(size=999, etag='"v1"'), True, UNCHANGED),  # strong ETag
        (PREVIOUS, SourceInfo(size=120, etag='W/"v1"'), True, None),  # weak: hash it
        (PREVIOUS, SourceInfo(size=120, last_modified=PREVIOUS.last_modified), True, UNCHANGED),
        (PREVIOUS, SourceInfo(size=121, last_modified=PREVIOUS.last_modified), True, None),
        (PREVIOUS, SourceInfo(size=120, etag='"v1"'), False, None),  # a file has no ETag
        (PREVIOUS, SourceInfo(size=99), False, FULL),  # shorter than what was read
        (PREVIOUS, SourceInfo(size=100), False, None),
        (PREVIOUS, SourceInfo(size=None), True, None),  # no length: hash it
    ],
)
def test_plan_from_info(
    previous: SourceState | None, info: SourceInfo, url: bool, mode: str | None
) -> None:
    """Matching validators or a shrunk size decide alone; otherwise the bytes decide."""
    assert plan_from_info(previous, info, url=url) == mode


@pytest.mark.parametrize(
    ("kind", "lines", "prefix_hash", "content_hash", "mode"),
    [
        (SourceKind.STATUS, 4, "prefix", "whole", UNCHANGED),
        (SourceKind.HOURS, 4, "prefix", "whole", UNCHANGED),
        (SourceKind.STATUS, 4, "prefix", None, APPENDED),  # it goes on past what was read
        (SourceKind.STATUS, 4, "prefix", "other", APPENDED),  # the last line grew
        (SourceKind.HOURS, 4, "prefix", "other", FULL),  # a snapshot is read whole
        (SourceKind.ZONES, 4, "prefix", None, FULL),
        (SourceKind.STATUS, 0, "prefix", None, FULL),  # the header was never complete
        (SourceKind.STATUS, 4, "changed", "whole", FULL),  # what was read has changed
        (SourceKind.STATUS, 4, None, None, FULL),  # shorter than what was read
    ],
)
def test_plan_from_hashes(
    kind: SourceKind, lines: int, prefix_hash: str | None, content_hash: str | None, mode: str
) -> None:
    """Same bytes: unchanged; same prefix of a status file: appended; anything else: full."""
    previous = attrs.evolve(PREVIOUS, lines=lines)
    assert (
        plan_from_hashes(kind, previous, prefix_hash=prefix_hash, content_hash=content_hash) == mode
    )


def test_refreshed_state_records_new_validators_only() -> None:
    """New validators on the same bytes are recorded; the same ones, or a 304, record nothing."""
    same = SourceInfo(size=120, etag=PREVIOUS.etag, last_modified=PREVIOUS.last_modified)
    assert refreshed_state(PREVIOUS, same) is None
    assert refreshed_state(PREVIOUS, None) is None
    assert refreshed_state(None, same) is None
    touched = SourceInfo(size=120, mtime_ns=5, etag='"v2"')
    assert refreshed_state(PREVIOUS, touched) == attrs.evolve(
        PREVIOUS, mtime_ns=5, etag='"v2"', last_modified=None
    )


@pytest.mark.parametrize(
    "length", [0, 1, 100, 5 << 20, (5 << 20) + 1, 100 << 20, 1_300_000_000, 10 << 40]
)
def test_sample_ranges_are_bounded_ordered_and_hold_the_ends(length: int) -> None:
    """The samples are sorted, disjoint, at most about 5 MiB, and hold the first and last bytes."""
    ranges = sample_ranges(length)
    whole = SAMPLE_BLOCKS * SAMPLE_BLOCK_BYTES + SAMPLE_END_BYTES
    assert sum(end - start for start, end in ranges) == min(length, whole)
    assert all(start < end for start, end in ranges)
    assert all(a_end < b_start for (_, a_end), (b_start, _) in itertools.pairwise(ranges))
    if length:
        assert ranges[0][0] == 0
        assert ranges[-1][1] == length
        assert ranges[-1][1] - ranges[-1][0] >= min(length, SAMPLE_END_BYTES)
        assert ranges[0][1] >= min(length, SAMPLE_BLOCK_BYTES)
    if length > whole:
        assert len(ranges) <= SAMPLE_BLOCKS + 1
        gaps = [b_start - a_end for (_, a_end), (b_start, _) in itertools.pairwise(ranges)]
        assert max(gaps) - min(gaps) <= 1  # spread evenly


def test_fingerprints_bind_the_length_the_samples_and_the_tail() -> None:
    """The fingerprints change with the length, any sampled byte, and the tail."""
    print_ = sampled_fingerprint(10, [b"abc", b"def"])
    assert is_sampled(print_)
    assert not is_sampled("ab" * 32)
    assert print_ != sampled_fingerprint(11, [b"abc", b"def"])
    assert print_ != sampled_fingerprint(10, [b"abc", b"deF"])
    assert content_fingerprint(print_, b"") != content_fingerprint(print_, b"x")
    assert content_fingerprint(print_, b"x") == content_fingerprint(print_, b"x")


def test_a_sampled_fingerprint_is_compared_like_a_hash() -> None:
    """plan_from_hashes compares recorded and new fingerprints, whatever their kind."""
    previous = attrs.evolve(
        PREVIOUS, prefix_hash=SAMPLED + "p", content_hash=SAMPLED + "c", kind="status"
    )
    plan = plan_from_hashes(
        SourceKind.STATUS, previous, prefix_hash=SAMPLED + "p", content_hash=None
    )
    assert plan == APPENDED
    plan = plan_from_hashes(
        SourceKind.STATUS, previous, prefix_hash=SAMPLED + "q", content_hash=None
    )
    assert plan == FULL
