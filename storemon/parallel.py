"""
Parsing status lines in a second process, so that two cores share a large file.

Two ways, one per caller, both exactly equal to one sequential read (the same records in
the same order, the same rejected rows with the same line numbers):

- ``batches_aside`` (ingestion): this process reads the source, so that its
  ``LineBuffer`` counts and hashes every byte, and hands chunks of whole lines to the
  child, which parses them while this process stores the rows of the earlier ones.
- ``read_halves`` (``load_csv``): the file is cut at the first line start after its
  middle; the child collects the second half while this process collects the first.

Processes are started with ``spawn``, never ``fork``: the caller may run threads
(aiosqlite does). ``spawn`` imports the caller's main module again, so only programs with
an ``if __name__ == "__main__":`` guard may use this module.
"""

from __future__ import annotations

import array
import collections
import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from storemon.errors import SourceError
from storemon.lines import LineBuffer, SourceProgress
from storemon.model import PollRecord, Rejected
from storemon.sources import Batch, SourceKind, parse_lines, read_batches, read_header

#: Chunks handed to the parsing process ahead of the rows being stored. Four keep both
#: cores busy (two do not); each waiting chunk costs this process about 2 MB, which counts
#: with the parsing process's own memory against the ingest's goal (docs/benchmarks.md).
CHUNKS_AHEAD = 4

_Collected = TypeVar("_Collected")
_BOOLS = (False, True)


def _pool() -> concurrent.futures.ProcessPoolExecutor:
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    )


def parse_columns(
    positions: dict[str, int], chunk: bytes, first_line: int, source: str
) -> tuple[list[str], bytes, bytes, list[Rejected]]:
    """
    Parse whole status lines (the child's side of ``batches_aside``).

    Returns the good rows as columns, store ids, instants (``array("q")`` bytes) and
    statuses (a byte each), which cost half the memory of tuples while they wait.
    """
    batch = parse_lines(
        SourceKind.STATUS, chunk, source, positions=positions, first_line=first_line
    )
    records: list[PollRecord] = batch.records
    instants = array.array("q", [at_us for _, at_us, _ in records])
    actives = bytes(active for _, _, active in records)
    return [store_id for store_id, _, _ in records], instants.tobytes(), actives, batch.rejected


def _batch(columns: tuple[list[str], bytes, bytes, list[Rejected]]) -> Batch:
    store_ids, instants, actives, rejected = columns
    times = array.array("q")
    times.frombytes(instants)
    return Batch(
        list(zip(store_ids, times, map(_BOOLS.__getitem__, actives), strict=True)), rejected
    )


def batches_aside(
    lines: LineBuffer, source: str, positions: dict[str, int] | None
) -> Iterator[Batch]:
    """
    Yield what ``read_batches(SourceKind.STATUS, lines, ...)`` yields, in the same order,
    parsed in a child process.

    Raises:
        SourceError: the header is missing or lacks a column.
    """
    if positions is None:
        positions = read_header(SourceKind.STATUS, lines.readline() or None, source)
    with _pool() as pool:
        ahead: collections.deque[concurrent.futures.Future[Any]] = collections.deque()
        for first_line, chunk in lines.chunks():
            ahead.append(pool.submit(parse_columns, positions, chunk, first_line, source))
            if len(ahead) >= CHUNKS_AHEAD:
                yield _batch(ahead.popleft().result())
        while ahead:
            yield _batch(ahead.popleft().result())


def collect_range(
    path: str,
    positions: dict[str, int],
    header_end: int,
    start: int,
    end: int,
    collect: Callable[[Iterator[Batch]], _Collected],
    progress: Callable[[int, int], object] | None = None,
) -> _Collected:
    """
    ``collect`` the batches of the status lines in bytes ``[start, end)`` of ``path``
    (the child's side of ``read_halves``), numbering them as a whole-file read would;
    ``progress`` is told the bytes and lines read of the range.
    """
    with open(path, "rb") as handle:
        handle.seek(header_end)
        before = LineBuffer(handle.read, limit=start - header_end, lines=1)
        for _ in before.chunks():
            pass
        lines = LineBuffer(handle.read, limit=end - start, lines=before.lines, progress=progress)
        return collect(read_batches(SourceKind.STATUS, lines, path, positions=positions))


def _scaled(
    progress: SourceProgress | None, path: str, size: int, header_end: int, middle: int
) -> Callable[[int, int], object] | None:
    """
    Tell ``progress`` the first half's reading (bytes after the header, lines) as if it
    were the whole file's.
    """
    if progress is None:
        return None
    scale = (size - header_end) / max(middle - header_end, 1)

    def told(offset: int, lines: int) -> None:
        progress(path, size, header_end + round(offset * scale), round(lines * scale))

    return told


def read_halves(
    path: str,
    collect: Callable[[Iterator[Batch]], _Collected],
    *,
    meanwhile: Callable[[], None],
    progress: SourceProgress | None = None,
) -> tuple[_Collected, _Collected]:
    """
    ``collect`` a status file's batches in two halves, the second in a child process;
    ``meanwhile`` runs here first, while that process starts (spawning takes a moment).
    ``progress`` is told the first half's reading scaled to the whole file: the halves
    are about equal and read at once, and the child cannot tell this process how far it is.

    ``collect`` must be a module-level function (it is sent to the child). Lines are
    independent, so the file is cut at the first line start after its middle; the two
    results, in file order, hold what one sequential read holds.

    Raises:
        SourceError: the file cannot be read, or its header lacks a column.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise SourceError(f"{path}: cannot open: {error.strerror or error}") from None
    with handle:
        try:
            header = handle.readline()
            positions = read_header(SourceKind.STATUS, header or None, path)
            size = os.fstat(handle.fileno()).st_size
            handle.seek((len(header) + size) // 2)
            handle.readline()
            middle = handle.tell()
            with _pool() as pool:
                second = pool.submit(
                    collect_range, path, positions, len(header), middle, size, collect
                )
                meanwhile()
                told = _scaled(progress, path, size, len(header), middle)
                first = collect_range(
                    path, positions, len(header), len(header), middle, collect, told
                )
                return first, second.result()
        except OSError as error:
            raise SourceError(f"{path}: cannot read: {error.strerror or error}") from None
