"""
Ingestion: the CSV sources (status, business hours, time zones, special hours), from
files or http(s) URLs, into a repository.

Each source is read as a stream of lines (never whole into memory) and stored in one
transaction together with its rejected rows and its ``SourceState``: a source that fails
(missing header, unreadable file, failing URL) leaves the repository exactly as it was.
A status source is staged first, holding no write lock, and that transaction is only
the short merge of the stage (``PollSink.stage_polls``).
Polls are upserted, so reading a row twice changes nothing; business hours, time zones
and special hours are snapshots, replaced whole, unless the new file would remove more than half of
the stored rows of its kind (``refresh.shrinks_too_much``; ``allow_shrink`` says it is
meant). A poll later than the clock plus ``future_tolerance`` is rejected, so that "now"
comes from believable data. Sources are shown (summaries, messages, rejected rows) by
``fetch.display_name``: a URL without its user info and query string.

This module only sequences the steps; each lives where it can be read alone:
``storemon.fetch`` opens files and URLs, ``storemon.refresh`` decides whether a source is
unchanged, appended to or read in full (``docs/ingestion.md``), ``storemon.lines`` cuts
it into lines, ``storemon.sources`` parses them, ``storemon.parallel`` parses a large
status file in a second process.

A file is recognised as unchanged or only grown by a sampled fingerprint of the bytes
read last time (``storemon.refresh.sample_ranges``: about 5 MiB of it, read at their
offsets) and every byte after them, so the hourly check of a file of months of history
costs what the new hour costs; a URL, read whole anyway, by the SHA-256 of every byte.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

import attrs

from storemon.bulk import gc_paused
from storemon.errors import ShrinkRefused, SourceError, StorageBusy
from storemon.fetch import Stream, display_name, is_url, open_source, source_name
from storemon.lines import CHUNK_BYTES, MAX_LINE_BYTES, LineBuffer, SourceProgress
from storemon.model import Rejected, SourceInfo, SourceState, to_epoch_us
from storemon.parallel import batches_aside
from storemon.refresh import (
    APPENDED,
    FULL,
    UNCHANGED,
    content_fingerprint,
    is_sampled,
    plan_from_hashes,
    plan_from_info,
    refreshed_state,
    sample_ranges,
    sampled_fingerprint,
    shrinks_too_much,
)
from storemon.repository import IngestStore, MetadataSink, PollSink
from storemon.sources import (
    DEFAULT_FUTURE_TOLERANCE,
    Batch,
    SourceKind,
    read_batches,
    read_header,
)

#: A status source with at least this many bytes left to read (when its size is known) is
#: parsed in a second process while this one stores the rows: the two cores split parsing
#: and SQLite's inserts, which cannot overlap in one process (both need the GIL per row).
PARALLEL_PARSE_BYTES = 16 << 20


class IngestRepository(PollSink, MetadataSink, IngestStore, Protocol):
    """
    What ingestion needs of a backend.
    """


@attrs.frozen
class SourceSummary:
    """
    What the ingest of one source did.
    """

    kind: str
    source: str
    #: ``full``, ``appended``, ``unchanged`` or ``failed``.
    mode: str
    #: Data lines read (not the header, not blank lines).
    read: int = 0
    #: Rows new or changed.
    stored: int = 0
    #: Rows identical to what was already stored.
    present: int = 0
    rejects: tuple[Rejected, ...] = ()
    seconds: float = 0.0
    #: Why the source was refused (mode ``failed``).
    error: str | None = None

    @property
    def rejected(self) -> int:
        """
        How many rows were rejected.
        """
        return len(self.rejects)

    def to_json(self) -> dict[str, Any]:
        """
        Return the summary as a JSON-ready dict.
        """
        return {
            "kind": self.kind,
            "source": self.source,
            "mode": self.mode,
            "read": self.read,
            "stored": self.stored,
            "present": self.present,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@attrs.frozen
class _Reading:
    """
    A source opened to be read, from where the plan says.
    """

    mode: str
    info: SourceInfo
    stream: Stream
    #: The source's lines from where reading starts; they update ``digest``, if any.
    lines: LineBuffer
    #: SHA-256 of the complete lines read so far, for a URL; ``None`` for a file, whose
    #: fingerprint is taken from samples of it once it is read (``_fingerprints``).
    digest: hashlib._Hash | None
    #: The header's columns, when the header was read last time (``appended``).
    positions: dict[str, int] | None = None


def _sampled_prefix(stream: Stream, length: int) -> str:
    """
    Return the sampled fingerprint of a file's first ``length`` bytes.
    """
    samples = (stream.read_at(start, end - start) for start, end in sample_ranges(length))
    return sampled_fingerprint(length, samples)


def _fingerprints(reading: _Reading) -> tuple[str, str]:
    """
    Return the fingerprints to record of what was read: of its complete lines, and of
    all of it (blocking: a file's samples are read from it, so call it before closing).

    The samples are read through the descriptor that was read, so a file replaced by a
    new one meanwhile (renamed over it) does not mix into them.
    """
    lines = reading.lines
    if reading.digest is None:
        prefix_hash = _sampled_prefix(reading.stream, lines.offset)
        return prefix_hash, content_fingerprint(prefix_hash, lines.tail)
    whole = reading.digest.copy()
    whole.update(lines.tail)
    return reading.digest.hexdigest(), whole.hexdigest()


def _read_rest(stream: Stream) -> bytes:
    """
    Read up to ``CHUNK_BYTES`` bytes: fewer means the source ends in them.
    """
    rest = b""
    while len(rest) < CHUNK_BYTES and (more := stream.read(CHUNK_BYTES - len(rest))):
        rest += more
    return rest


#: Bytes read at a time while looking for the end of a file's header line.
HEADER_READ_BYTES = 4 << 10


def _header_at_start(stream: Stream, length: int) -> bytes:
    """
    Return a file's header line as found in its first ``length`` bytes (at most
    ``MAX_LINE_BYTES`` and a byte, which ``read_header`` refuses as too long).
    """
    limit = min(length, MAX_LINE_BYTES + 1)
    header = b""
    while len(header) < limit and b"\n" not in header:
        block = stream.read_at(len(header), min(HEADER_READ_BYTES, limit - len(header)))
        if not block:
            break
        header += block
    return header[: header.find(b"\n") + 1 or len(header)]


def _read_prefix(stream: Stream, length: int) -> tuple[hashlib._Hash, bytes, bytes] | None:
    """
    Read the first ``length`` bytes and up to ``CHUNK_BYTES`` more; return the hash of the
    first ``length``, the header line among them, and the bytes after them. ``None`` when
    the source is shorter than ``length``.
    """
    digest = hashlib.sha256()
    header = b""
    while length > 0:
        chunk = stream.read(min(length, CHUNK_BYTES))
        if not chunk:
            return None
        if b"\n" not in header and len(header) <= MAX_LINE_BYTES:  # read_header refuses more
            header += chunk[: chunk.find(b"\n") + 1 or len(chunk)]
        digest.update(chunk)
        length -= len(chunk)
    return digest, header, _read_rest(stream)


def _plan_from_bytes(
    kind: SourceKind,
    source: str,
    stream: Stream,
    info: SourceInfo,
    previous: SourceState,
    max_line: int,
    progress: Callable[[int, int], object] | None = None,
) -> str | _Reading:
    """
    Fingerprint the bytes read last time the way they were recorded, and the bytes after
    them: return the reading of what was appended to them, or the plan (``unchanged``, or
    ``full``: read it again from the start).

    A sampled fingerprint is checked by reading its samples and the header at their
    offsets, then reading on from the end of what was read; a SHA-256 (a URL, or a file
    recorded by an older version) by reading and hashing every byte before it.
    """
    digest: hashlib._Hash | None
    if is_sampled(previous.prefix_hash) and stream.random_access:
        prefix_hash = _sampled_prefix(stream, previous.offset)
        header = _header_at_start(stream, previous.offset)
        stream.seek(previous.offset)
        rest = _read_rest(stream)
        at_end = len(rest) < CHUNK_BYTES
        content_hash = content_fingerprint(prefix_hash, rest) if at_end else None
        digest = None
    else:
        prefix = _read_prefix(stream, previous.offset)
        if prefix is None:
            return plan_from_hashes(kind, previous, prefix_hash=None, content_hash=None)
        digest, header, rest = prefix
        whole = digest.copy()
        whole.update(rest)
        prefix_hash = digest.hexdigest()
        content_hash = whole.hexdigest() if len(rest) < CHUNK_BYTES else None  # at the end
        if stream.random_access:
            digest = None  # a file read by an older version: record a sampled fingerprint
    plan = plan_from_hashes(kind, previous, prefix_hash=prefix_hash, content_hash=content_hash)
    if plan != APPENDED:
        return plan
    lines = LineBuffer(
        stream.read,
        chunk_size=CHUNK_BYTES,
        pending=rest,
        offset=previous.offset,
        lines=previous.lines,
        on_lines=None if digest is None else digest.update,
        progress=progress,
        max_line=max_line,
    )
    positions = read_header(kind, header, display_name(source))
    return _Reading(plan, info, stream, lines, digest, positions)


def _told(
    progress: SourceProgress | None, source: str, info: SourceInfo
) -> Callable[[int, int], object] | None:
    """
    Return what tells ``progress`` of the reading of ``source``, under its shown name (a
    URL's user info and query string are no one's business on a terminal).
    """
    if progress is None:
        return None
    return functools.partial(progress, display_name(source), info.size)


def _open(
    kind: SourceKind,
    source: str,
    previous: SourceState | None,
    max_line: int,
    progress: SourceProgress | None = None,
    *,
    full: bool = False,
) -> tuple[SourceInfo | None, _Reading | None]:
    """
    Open a source and plan how to read it (blocking: call it in a thread). Return what
    the source said about itself (``None`` after a 304), and how to read it (``None``:
    it is unchanged, and closed). With ``full``, it is read whole whatever was recorded.
    """
    if full:
        previous = None  # planned as never read; the caller still compares the state
    validators = (
        {} if previous is None else {"etag": previous.etag, "last_modified": previous.last_modified}
    )
    opened = open_source(source, **validators)
    if opened is None:  # 304 Not Modified
        return None, None
    stream, info = opened
    try:
        plan = plan_from_info(previous, info, url=is_url(source))
        if plan is None:  # the bytes decide
            assert previous is not None
            told = _told(progress, source, info)
            planned = _plan_from_bytes(kind, source, stream, info, previous, max_line, told)
            if not isinstance(planned, str):
                return info, planned
            plan = planned
            if plan == FULL:  # read it again from the start, without validators
                stream.close()
                reopened = open_source(source)
                assert reopened is not None  # only validators bring a 304
                stream, info = reopened
        if plan == UNCHANGED:
            stream.close()
            return info, None
        # A file is fingerprinted from samples once read; a URL hashed as it streams.
        digest = None if stream.random_access else hashlib.sha256()
        lines = LineBuffer(
            stream.read,
            chunk_size=CHUNK_BYTES,
            on_lines=None if digest is None else digest.update,
            progress=_told(progress, source, info),
            max_line=max_line,
        )
        return info, _Reading(FULL, info, stream, lines, digest)
    except BaseException:
        stream.close()
        raise


class _Tally:
    """
    The good rows counted and the rejected rows kept while a source's records stream.
    """

    def __init__(self) -> None:
        self.good = 0
        self.rejects: list[Rejected] = []

    def batches(self, batches: Iterable[Batch]) -> Iterator[Sequence[Any]]:
        for batch in batches:
            self.rejects.extend(batch.rejected)
            self.good += len(batch.records)
            yield batch.records

    def records(self, batches: Iterable[Batch]) -> Iterator[Any]:
        for records in self.batches(batches):
            yield from records


async def _store(repository: IngestRepository, kind: SourceKind, records: Iterator[Any]) -> int:
    """
    Store a source's records; return how many rows were new or changed.
    """
    if kind is SourceKind.STATUS:
        return await repository.add_polls(records)
    if kind is SourceKind.HOURS:
        return await repository.replace_hours(records)
    if kind is SourceKind.SPECIAL:
        return await repository.replace_special_hours(records)
    return await repository.replace_zones(records)


def _shrink_message(
    kind: SourceKind, shown: str, stored: int, remaining: int, tally: _Tally
) -> str:
    rejected = len(tally.rejects)
    first = f"; the first: {tally.rejects[0]}" if rejected else ""
    what = kind.label.replace("_", " ")
    return (
        f"{shown}: refused: it would leave {remaining} of the {stored} stored {what} rows "
        f"({stored - remaining} would go, more than half); it has {tally.good} good rows "
        f"and {rejected} rejected{first}. Nothing was changed; if the data really "
        "shrank, ingest it with --allow-shrink"
    )


async def ingest_source(
    repository: IngestRepository,
    kind: SourceKind,
    location: str | os.PathLike[str],
    *,
    clock: Callable[[], dt.datetime] = _utc_now,
    parse_aside: bool = False,
    allow_shrink: bool = False,
    future_tolerance: dt.timedelta = DEFAULT_FUTURE_TOLERANCE,
    max_line: int = MAX_LINE_BYTES,
    progress: SourceProgress | None = None,
    full: bool = False,
) -> SourceSummary:
    """
    Ingest one source and say what it did: all of it is stored in one transaction, or
    nothing is.

    A status source is read, parsed and staged first (``PollSink.stage_polls``), holding
    no write lock, then merged with its rejected rows and its state in one short
    transaction; should another ingest of the same source commit in between, the source
    is planned and read again (up to ``STAGE_ATTEMPTS`` times). A snapshot source (a few
    thousand rows, to be counted against what is stored) is read inside its transaction.

    With ``parse_aside``, a large status file is parsed in a second process
    (``storemon.parallel``).

    Args:
        allow_shrink: Store a snapshot source (business hours, time zones, ...) even when
            it removes more than half of the stored rows of its kind.
        future_tolerance: Reject polls later than ``clock()`` plus this.
        max_line: Reject lines longer than this many bytes (without holding them).
        progress: Told how far the reading is, under the source's shown name (from
            another thread: call it only for what is thread-safe).
        full: Read the source whole, even when its recorded state says it is unchanged
            or only grew: the check of a grown file samples the bytes read before
            (``storemon.refresh``), so an edit among them can go unseen until then.

    Raises:
        SourceError: the source was refused (nothing of it was stored).
        ShrinkRefused: a snapshot source would remove most stored rows of its kind.
        StorageBusy: other ingests of the same source committed while this one read it,
            ``STAGE_ATTEMPTS`` times (nothing of it was stored).
        StorageError: the backend failed (nothing of the source was stored).
    """
    started = time.perf_counter()
    options = _Options(
        latest_at_us=to_epoch_us(clock() + future_tolerance),
        clock=clock,
        parse_aside=parse_aside,
        allow_shrink=allow_shrink,
        max_line=max_line,
        progress=progress,
        full=full,
    )
    source = source_name(location)
    if kind is not SourceKind.STATUS:
        async with repository.transaction():
            summary = await _ingest_once(repository, kind, source, options)
    else:
        for _attempt in range(STAGE_ATTEMPTS):
            summary = await _ingest_once(repository, kind, source, options)
            if summary is not None:
                break
    if summary is None:
        raise StorageBusy(
            f"{display_name(source)}: other ingests of this source committed while this one "
            f"read it, {STAGE_ATTEMPTS} times; nothing was stored, try again"
        )
    return attrs.evolve(summary, seconds=time.perf_counter() - started)


#: How many times a status source is read again when another ingest of it commits while
#: this one stages it (``ingest_source``).
STAGE_ATTEMPTS = 3


@attrs.frozen
class _Options:
    """
    What the caller of ``ingest_source`` asked for, beside the source.
    """

    latest_at_us: int
    clock: Callable[[], dt.datetime]
    parse_aside: bool
    allow_shrink: bool
    max_line: int
    progress: SourceProgress | None
    full: bool


def _batches(kind: SourceKind, reading: _Reading, shown: str, options: _Options) -> Iterable[Batch]:
    remaining = None if reading.info.size is None else reading.info.size - reading.lines.offset
    if (
        kind is SourceKind.STATUS
        and options.parse_aside
        and remaining is not None
        and remaining >= PARALLEL_PARSE_BYTES
    ):
        return batches_aside(
            reading.lines, shown, reading.positions, latest_at_us=options.latest_at_us
        )
    return read_batches(
        kind,
        reading.lines,
        shown,
        positions=reading.positions,
        latest_at_us=options.latest_at_us,
    )


async def _ingest_once(
    repository: IngestRepository, kind: SourceKind, source: str, options: _Options
) -> SourceSummary | None:
    """
    Plan, read and store a source once; ``None`` when another ingest of it committed
    between the plan and the merge (nothing was stored: plan again).

    Status rows are staged and merged in a transaction of their own; a snapshot source
    must be read inside the caller's transaction.
    """
    shown = display_name(source)
    previous = await repository.source_state(kind.label, source)
    info, reading = await asyncio.to_thread(
        _open, kind, source, previous, options.max_line, options.progress, full=options.full
    )
    if reading is None:
        refreshed = refreshed_state(previous, info)
        if refreshed is not None:
            async with repository.transaction():
                if await repository.source_state(kind.label, source) != previous:
                    return None
                await repository.save_source_state(refreshed)
        return SourceSummary(kind.label, shown, UNCHANGED)
    tally = _Tally()
    if kind is SourceKind.STATUS:
        async with repository.stage_polls() as stage:
            try:
                with gc_paused():  # millions of rows made and dropped (storemon.bulk)
                    await stage.add_batches(tally.batches(_batches(kind, reading, shown, options)))
                hashes = await asyncio.to_thread(_fingerprints, reading)
            finally:
                await asyncio.to_thread(reading.stream.close)
            async with repository.transaction():
                if await repository.source_state(kind.label, source) != previous:
                    return None
                stored = await stage.merge()
                await _keep(repository, kind, source, reading, hashes, tally, options.clock())
    else:
        guarded = not options.allow_shrink
        try:
            stored_before = await repository.snapshot_rows(kind.label) if guarded else 0
            records = tally.records(_batches(kind, reading, shown, options))
            stored = await _store(repository, kind, records)
            hashes = await asyncio.to_thread(_fingerprints, reading)
        finally:
            await asyncio.to_thread(reading.stream.close)
        if guarded:
            stored_after = await repository.snapshot_rows(kind.label)
            if shrinks_too_much(stored_before, stored_after):
                raise ShrinkRefused(
                    _shrink_message(kind, shown, stored_before, stored_after, tally)
                )
        await _keep(repository, kind, source, reading, hashes, tally, options.clock())
    return SourceSummary(
        kind=kind.label,
        source=shown,
        mode=reading.mode,
        read=tally.good + len(tally.rejects),
        stored=stored,
        present=tally.good - stored,
        rejects=tuple(tally.rejects),
    )


async def _keep(
    repository: IngestRepository,
    kind: SourceKind,
    source: str,
    reading: _Reading,
    hashes: tuple[str, str],
    tally: _Tally,
    ingested_at: dt.datetime,
) -> None:
    """
    Keep what an ingest saw beside the data, in its transaction: the rejected rows (all
    of them anew after a full read) and the source's state, for the next refresh, with
    its fingerprints (``_fingerprints``: of the complete lines, and of all of it).
    """
    lines = reading.lines
    prefix_hash, content_hash = hashes
    if reading.mode == FULL:
        await repository.clear_rejects(display_name(source))
    await repository.add_rejects(tally.rejects, ingested_at=ingested_at)
    await repository.save_source_state(
        SourceState(
            kind=kind.label,
            source=source,
            size=lines.offset + len(lines.tail),
            content_hash=content_hash,
            offset=lines.offset,
            prefix_hash=prefix_hash,
            lines=lines.lines,
            ingested_at=ingested_at,
            mtime_ns=reading.info.mtime_ns,
            etag=reading.info.etag,
            last_modified=reading.info.last_modified,
        )
    )


async def ingest(
    repository: IngestRepository,
    *,
    status: str | os.PathLike[str] | None = None,
    business_hours: str | os.PathLike[str] | None = None,
    timezones: str | os.PathLike[str] | None = None,
    special_hours: str | os.PathLike[str] | None = None,
    clock: Callable[[], dt.datetime] = _utc_now,
    parse_aside: bool = False,
    allow_shrink: bool = False,
    future_tolerance: dt.timedelta = DEFAULT_FUTURE_TOLERANCE,
    max_line: int = MAX_LINE_BYTES,
    progress: SourceProgress | None = None,
    full: bool = False,
) -> list[SourceSummary]:
    """
    Ingest the sources given, each in its own transaction, and summarise each.

    ``parse_aside``, ``allow_shrink``, ``future_tolerance``, ``max_line``, ``progress``,
    ``full``: see ``ingest_source``.

    A refused source (``SourceError``) is summarised with mode ``failed`` and its error;
    the other sources are still ingested.

    Raises:
        StorageError: the backend failed.
    """
    summaries: list[SourceSummary] = []
    for kind, location in (
        (SourceKind.STATUS, status),
        (SourceKind.HOURS, business_hours),
        (SourceKind.ZONES, timezones),
        (SourceKind.SPECIAL, special_hours),
    ):
        if location is None:
            continue
        started = time.perf_counter()
        try:
            summaries.append(
                await ingest_source(
                    repository,
                    kind,
                    location,
                    clock=clock,
                    parse_aside=parse_aside,
                    allow_shrink=allow_shrink,
                    future_tolerance=future_tolerance,
                    max_line=max_line,
                    progress=progress,
                    full=full,
                )
            )
        except SourceError as error:
            summaries.append(
                SourceSummary(
                    kind.label,
                    display_name(source_name(location)),
                    "failed",
                    seconds=time.perf_counter() - started,
                    error=str(error),
                )
            )
    return summaries
