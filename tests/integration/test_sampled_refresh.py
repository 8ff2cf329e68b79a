"""
A status file that only grew is proved so by samples of the bytes read before, not by
hashing them all (``storemon.refresh.sample_ranges``): the check reads a bounded number
of bytes, and every change it must catch still makes the file read in full.

The samples are shrunk here (``small_samples``) so that files of a few hundred KB are
sampled, not taken whole as the default sizes would take them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import attrs
import pytest

from storemon import ingest as ingest_module
from storemon import refresh
from storemon.fetch import Stream
from storemon.ingest import ingest_source
from storemon.sources import SourceKind

HEADER = b"store_id,status,timestamp_utc\n"
#: Rows of the first ingest: about 300 KB, far more than the shrunk samples.
ROWS = 6000


def _row(index: int) -> bytes:
    hour, store = divmod(index, 100)
    status = "active" if index % 3 else "inactive"
    return (
        f"s{store:03d},{status},2023-01-{1 + hour // 24:02d} {hour % 24:02d}:00:00 UTC\n".encode()
    )


def _rows(start: int, count: int) -> bytes:
    return b"".join(_row(index) for index in range(start, start + count))


@pytest.fixture
def small_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Sample 8 blocks of 256 bytes and the last 1 KiB: 3 KiB of a 300 KB prefix.
    """
    monkeypatch.setattr(refresh, "SAMPLE_BLOCK_BYTES", 256)
    monkeypatch.setattr(refresh, "SAMPLE_BLOCKS", 8)
    monkeypatch.setattr(refresh, "SAMPLE_END_BYTES", 1024)


@attrs.define
class ReadCounter:
    """
    The bytes read from sources, however (in order, or at offsets).
    """

    read: int = 0


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> ReadCounter:
    """
    Count every byte ingestion reads from a source.
    """
    counted = ReadCounter()
    read, read_at = Stream.read, Stream.read_at

    def counting_read(self: Stream, size: int = -1, /) -> bytes:
        data = read(self, size)
        counted.read += len(data)
        return data

    def counting_read_at(self: Stream, offset: int, size: int) -> bytes:
        data = read_at(self, offset, size)
        counted.read += len(data)
        return data

    monkeypatch.setattr(Stream, "read", counting_read)
    monkeypatch.setattr(Stream, "read_at", counting_read_at)
    return counted


@pytest.fixture
def status(tmp_path: Path) -> Path:
    path = tmp_path / "status.csv"
    path.write_bytes(HEADER + _rows(0, ROWS))
    return path


async def _ingest(repository: Any, path: Path, **options: Any) -> Any:
    return await ingest_source(repository, SourceKind.STATUS, path, **options)


async def _state(repository: Any, path: Path) -> Any:
    return await repository.source_state(SourceKind.STATUS.label, str(path))


def _size(path: Path) -> int:
    return path.stat().st_size


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def _rewrite(path: Path, offset: int, new: bytes) -> None:
    """
    Overwrite bytes of ``path`` at ``offset`` in place, keeping its size.
    """
    data = bytearray(path.read_bytes())
    data[offset : offset + len(new)] = new
    path.write_bytes(bytes(data))


def _unsampled_row_start(path: Path, length: int) -> int:
    """
    The offset of a row whose bytes lie outside every sample of the first ``length``.
    """
    data = path.read_bytes()
    ranges = refresh.sample_ranges(length)
    offset = data.index(b"\n", ranges[1][1] + 1) + 1
    assert offset + 200 < ranges[2][0]
    return offset


@pytest.mark.usefixtures("small_samples")
async def test_appended_file_reads_the_new_bytes_and_a_few_samples(
    repository: Any, status: Path, counter: ReadCounter
) -> None:
    """An appended hour is read alone: the check reads the samples, not the prefix."""
    first = await _ingest(repository, status)
    assert (first.mode, first.stored) == ("full", ROWS)
    state = await _state(repository, status)
    assert refresh.is_sampled(state.prefix_hash)
    assert state.offset == _size(status)
    appended = _rows(ROWS, 100)
    _append(status, appended)
    counter.read = 0
    summary = await _ingest(repository, status)
    assert (summary.mode, summary.read, summary.stored) == ("appended", 100, 100)
    sampled = sum(end - start for start, end in refresh.sample_ranges(state.offset))
    header_read = ingest_module.HEADER_READ_BYTES  # the header line is looked for once more
    # Reading the new bytes and the samples of the old ones (twice: checked, then recorded).
    assert counter.read <= len(appended) + 2 * sampled + header_read
    assert counter.read < state.offset // 10
    assert (await _state(repository, status)).offset == _size(status)


@pytest.mark.usefixtures("small_samples")
async def test_unchanged_touched_file_is_skipped_by_its_samples(
    repository: Any, status: Path, counter: ReadCounter
) -> None:
    """A file with a new modification time and the same bytes is unchanged, checked by samples."""
    await _ingest(repository, status)
    os.utime(status, ns=(1, 1))
    counter.read = 0
    summary = await _ingest(repository, status)
    assert summary.mode == "unchanged"
    assert counter.read < _size(status) // 10
    assert (await _state(repository, status)).mtime_ns == 1


@pytest.mark.usefixtures("small_samples")
@pytest.mark.parametrize(
    "where",
    ["header", "first block", "middle block", "last stretch", "last line"],
)
async def test_a_byte_changed_in_a_sample_reads_the_file_in_full(
    repository: Any, status: Path, where: str
) -> None:
    """A status flipped inside any sampled range, the header included, makes the read full."""
    await _ingest(repository, status)
    length = _size(status)
    ranges = refresh.sample_ranges(length)
    at = {
        "header": 0,
        "first block": len(HEADER) + 10,
        "middle block": ranges[len(ranges) // 2][0] + 100,
        "last stretch": ranges[-1][0] + 200,
        "last line": length - 40,
    }[where]
    if _read(status)[at : at + 1] == b"\n":
        at -= 1  # a byte of a row, so that the file keeps its lines
    assert any(start <= at < end for start, end in ranges)
    _rewrite(status, at, b"S")  # "store_id" -> "Store_id": the same columns
    _append(status, _rows(ROWS, 10))
    summary = await _ingest(repository, status)
    assert (summary.mode, summary.read) == ("full", ROWS + 10)


@pytest.mark.usefixtures("small_samples")
async def test_shrunk_reordered_and_rewritten_files_are_read_in_full(
    repository: Any, status: Path
) -> None:
    """A file cut short, re-exported in another order, or rewritten longer is read in full."""
    await _ingest(repository, status)
    lines = _read(status).splitlines(keepends=True)
    _write(status, b"".join(lines[:-5]))  # shrank
    assert (await _ingest(repository, status)).mode == "full"
    _write(status, HEADER + b"".join(reversed(lines[1:])) + _rows(ROWS, 10))  # new order
    summary = await _ingest(repository, status)
    assert (summary.mode, summary.stored) == ("full", 10)
    rows = _read(status)[len(HEADER) :]
    _write(status, HEADER + _row(5).replace(b"s005", b"s905") + rows)
    summary = await _ingest(repository, status)  # one row more at the start: all shifted
    assert (summary.mode, summary.stored) == ("full", 1)


@pytest.mark.usefixtures("small_samples")
async def test_an_edit_between_samples_is_missed_until_a_full_read(
    repository: Any, status: Path
) -> None:
    """The trade-off, pinned: an edit of the same size between samples is read by --full only."""
    await _ingest(repository, status)
    offset = _unsampled_row_start(status, _size(status))
    _rewrite(status, offset, b"s9")  # a row's store id s0NN becomes s9NN
    _append(status, _rows(ROWS, 10))
    summary = await _ingest(repository, status)
    assert (summary.mode, summary.stored) == ("appended", 10)
    summary = await _ingest(repository, status, full=True)
    assert (summary.mode, summary.stored) == ("full", 1)  # the edited row, read at last


@pytest.mark.usefixtures("small_samples")
async def test_a_recorded_sha256_is_checked_byte_for_byte_once(
    repository: Any, status: Path
) -> None:
    """An older version's state (SHA-256 of all bytes) proves an append, then is sampled."""
    await _ingest(repository, status)
    state = await _state(repository, status)
    data = _read(status)
    legacy = attrs.evolve(
        state,
        prefix_hash=hashlib.sha256(data[: state.offset]).hexdigest(),
        content_hash=hashlib.sha256(data).hexdigest(),
    )
    await repository.save_source_state(legacy)
    assert (await _ingest(repository, status)).mode == "unchanged"

    _append(status, _rows(ROWS, 10))
    summary = await _ingest(repository, status)
    assert (summary.mode, summary.read, summary.stored) == ("appended", 10, 10)
    assert refresh.is_sampled((await _state(repository, status)).prefix_hash)

    await repository.save_source_state(legacy)  # the old state again, and a changed prefix
    _rewrite(status, _unsampled_row_start(status, state.offset), b"x")
    assert (await _ingest(repository, status)).mode == "full"


async def test_default_samples_take_a_small_file_whole(repository: Any, status: Path) -> None:
    """Under about 5 MiB the samples are every byte: any edit before the end is caught."""
    assert refresh.sample_ranges(_size(status)) == ((0, _size(status)),)
    await _ingest(repository, status)
    _rewrite(status, _middle_of(status), b"x")
    _append(status, _rows(ROWS, 10))
    assert (await _ingest(repository, status)).mode == "full"


def _middle_of(path: Path) -> int:
    data = path.read_bytes()
    return data.index(b"\n", len(data) // 2) + 1
