"""
Ingestion: the three CSV sources, from files or http(s) URLs, into a repository.

Each source is read as a stream of byte lines (never whole into memory) and stored in
one transaction together with its rejected rows and its ``SourceState``: a source that
fails (missing header, unreadable file, failing URL) leaves the repository exactly as it
was. Polls are upserted, so reading a row twice changes nothing; business hours and time
zones are snapshots, replaced whole.

Incremental refresh (``docs/ingestion.md``), decided from the previous ``SourceState``:

- **unchanged**: an HTTP 304, an unchanged strong ``ETag``, or unchanged
  ``Last-Modified`` and ``Content-Length``; otherwise the SHA-256 of every byte equals
  the recorded one. Nothing is parsed or written.
- **appended** (status files only): the first ``offset`` bytes, the complete lines read
  last time, still hash to the recorded SHA-256. Only what follows is parsed, with line
  numbers counted on from there.
- **full**: anything else; the whole source is parsed again (still idempotent) and its
  old rejected rows are replaced by the new ones.

Hashing every byte costs about 0.1 s per 100 MB, so the check is sound (a touched or
rewritten file with the same size and time is still caught) and still quick.
"""

from __future__ import annotations

import array
import asyncio
import collections
import concurrent.futures
import datetime as dt
import hashlib
import http.client
import io
import multiprocessing
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import attrs

from storemon.errors import SourceError
from storemon.model import PollRecord, Rejected, SourceState
from storemon.repository import IngestStore, MetadataSink, PollSink
from storemon.sources import (
    SourceKind,
    read_batches,
    read_header,
    read_rows,
)

#: Bytes per read from a file or a URL.
CHUNK_BYTES = 1 << 20

#: Seconds to wait for an HTTP server to answer or send more data.
HTTP_TIMEOUT_S = 60.0

_URL = re.compile(r"https?://", re.IGNORECASE)


class IngestRepository(PollSink, MetadataSink, IngestStore, Protocol):
    """
    What ingestion needs of a backend.
    """


class ByteStream(Protocol):
    """
    A readable binary stream: an open file or an HTTP response.
    """

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@attrs.frozen
class SourceInfo:
    """
    What is known about a source before reading it.
    """

    #: Bytes in the source, when known (file size, ``Content-Length``).
    size: int | None = None
    mtime_ns: int | None = None
    etag: str | None = None
    last_modified: str | None = None


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


def is_url(location: str) -> bool:
    """
    Return whether ``location`` is an http(s) URL rather than a file path.
    """
    return _URL.match(location) is not None


def source_name(location: str | os.PathLike[str]) -> str:
    """
    Return the name a source is recorded under: the URL, or the file's absolute path.
    """
    text = os.fspath(location)
    return text if is_url(text) else os.path.abspath(text)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Opening sources


def fetch_url(
    url: str, *, etag: str | None = None, last_modified: str | None = None
) -> tuple[ByteStream, SourceInfo] | None:
    """
    Start an HTTP GET of ``url``; return the response stream and its validators, or
    ``None`` when the server answers 304 Not Modified to the validators given.

    Blocking (stdlib ``urllib``): call it in a thread.

    Raises:
        SourceError: the URL cannot be fetched or answers with an error status.
    """
    headers = {"User-Agent": "storemon", "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 304:
            return None
        raise SourceError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise SourceError(f"{url}: cannot fetch: {reason}") from None
    length = response.headers.get("Content-Length")
    info = SourceInfo(
        size=int(length) if length and length.isdigit() else None,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )
    return _Body(response, url, info.size), info


class _Body:
    """
    An HTTP response body that fails when it ends before its ``Content-Length``.

    ``http.client`` returns a short read silently when asked for a number of bytes.
    """

    def __init__(self, response: ByteStream, url: str, length: int | None) -> None:
        self._response = response
        self._url = url
        self._length = length
        self._received = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._response.read(size)
        self._received += len(data)
        length = self._length
        if not data and size != 0 and length is not None and self._received < length:
            raise SourceError(
                f"{self._url}: cannot read: the connection closed after "
                f"{self._received} of {length} bytes"
            )
        return data

    def close(self) -> None:
        self._response.close()


def open_file(path: str) -> tuple[ByteStream, SourceInfo]:
    """
    Open a file for reading; return it with its size and modification time.

    Raises:
        SourceError: the file cannot be opened.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the caller
        stat = os.fstat(handle.fileno())
    except OSError as error:
        raise SourceError(f"{path}: cannot open: {error.strerror or error}") from None
    return handle, SourceInfo(size=stat.st_size, mtime_ns=stat.st_mtime_ns)


def open_source(source: str, previous: SourceState | None) -> tuple[ByteStream, SourceInfo] | None:
    """
    Open a file or start fetching a URL (conditionally, given the previous state).
    """
    if not is_url(source):
        return open_file(source)
    if previous is None:
        return fetch_url(source)
    return fetch_url(source, etag=previous.etag, last_modified=previous.last_modified)


def _read_chunk(stream: ByteStream, size: int, source: str) -> bytes:
    try:
        return stream.read(size)
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise SourceError(f"{source}: cannot read: {error}") from None


def _read_exact(stream: ByteStream, size: int, source: str) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        chunk = _read_chunk(stream, min(size, CHUNK_BYTES), source)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


class LineReader:
    """
    Split a byte stream into lines while hashing and counting what was read.

    ``offset`` and ``prefix`` cover complete lines only (those ending in a line feed), so a
    last line without one is read again when the source grows.
    """

    def __init__(
        self,
        stream: ByteStream,
        source: str,
        *,
        pending: bytes = b"",
        offset: int = 0,
        lines: int = 0,
        prefix: Any = None,
    ) -> None:
        self.stream = stream
        self.source = source
        self.offset = offset
        self.lines = lines
        self.prefix = prefix if prefix is not None else hashlib.sha256()
        self.tail = b""
        self._pending = pending
        #: Bytes after the last line feed, counted once the next one arrives (``read``).
        self._partial = b""
        #: Bytes handed back by ``readline``, already counted.
        self._unread = b""

    def __iter__(self) -> Iterator[bytes]:
        pending = self._pending
        self._pending = b""
        while True:
            chunk = _read_chunk(self.stream, CHUNK_BYTES, self.source)
            data = pending + chunk
            cut = data.rfind(b"\n") + 1
            if cut:
                complete = data[:cut]
                self.prefix.update(complete)
                self.offset += cut
                self.lines += complete.count(b"\n")
                pending = data[cut:]
                yield from complete.split(b"\n")[:-1]
            else:
                pending = data
            if not chunk:
                break
        if pending:
            self.tail = pending
            yield pending

    def read(self, size: int = -1, /) -> bytes:
        """
        Return the next bytes of the source (the chunked readers' way in), with the same
        bookkeeping as iterating; ``b""`` at the end.
        """
        if self._unread:
            data, self._unread = self._unread, b""
            return data
        if self._pending:
            data, self._pending = self._pending, b""
        else:
            data = _read_chunk(self.stream, CHUNK_BYTES if size < 0 else size, self.source)
        if not data:
            self.tail = self._partial
            return b""
        cut = data.rfind(b"\n") + 1
        if cut:
            self.prefix.update(self._partial)
            self.prefix.update(data[:cut] if cut < len(data) else data)
            self.offset += len(self._partial) + cut
            self.lines += data.count(b"\n")
            self._partial = data[cut:]
        else:
            self._partial += data
        return data

    def readline(self) -> bytes:
        """
        Return the next line with its line feed (the header line), as a binary file does.
        """
        line = b""
        while True:
            data = self.read()
            end = data.find(b"\n") + 1
            if end:
                self._unread = data[end:]
                return line + data[:end]
            line += data
            if not data:
                return line

    @property
    def size(self) -> int:
        """
        Bytes read so far.
        """
        return self.offset + len(self.tail)

    def content_hash(self) -> str:
        """
        SHA-256 of every byte read.
        """
        digest = self.prefix.copy()
        digest.update(self.tail)
        return str(digest.hexdigest())


@attrs.define
class _Plan:
    mode: str
    #: What the source said about itself; ``None`` after a 304 (nothing new to record).
    info: SourceInfo | None
    reader: LineReader | None = None
    positions: dict[str, int] | None = None


def _validators_match(info: SourceInfo, previous: SourceState) -> bool:
    if info.etag and not info.etag.startswith("W/") and info.etag == previous.etag:
        return True
    return bool(
        info.last_modified
        and info.size is not None
        and info.last_modified == previous.last_modified
        and info.size == previous.size
    )


def plan_read(kind: SourceKind, source: str, previous: SourceState | None) -> _Plan:
    """
    Open a source and decide how to read it (blocking: call it in a thread).
    """
    opened = open_source(source, previous)
    if opened is None:
        return _Plan("unchanged", None)  # 304 Not Modified: the validators still hold
    stream, info = opened
    try:
        if previous is None:
            return _Plan("full", info, LineReader(stream, source))
        if is_url(source) and _validators_match(info, previous):
            stream.close()
            return _Plan("unchanged", info)
        if info.size is None or info.size >= previous.offset:
            plan = _check_prefix(kind, source, stream, info, previous)
            if plan is not None:
                return plan
            stream.close()
            reopened = open_source(source, None)
            assert reopened is not None  # no validators were sent
            stream, info = reopened
        return _Plan("full", info, LineReader(stream, source))
    except BaseException:
        stream.close()
        raise


def _check_prefix(
    kind: SourceKind, source: str, stream: ByteStream, info: SourceInfo, previous: SourceState
) -> _Plan | None:
    """
    Return an ``unchanged`` or ``appended`` plan if the bytes read last time are intact.
    """
    prefix = hashlib.sha256()
    header = b""
    remaining = previous.offset
    while remaining > 0:
        chunk = _read_chunk(stream, min(remaining, CHUNK_BYTES), source)
        if not chunk:
            return None
        if b"\n" not in header:
            header += chunk[: chunk.find(b"\n") + 1 or len(chunk)]
        prefix.update(chunk)
        remaining -= len(chunk)
    if prefix.hexdigest() != previous.prefix_hash:
        return None
    rest = _read_exact(stream, CHUNK_BYTES, source)
    if len(rest) < CHUNK_BYTES:
        whole = prefix.copy()
        whole.update(rest)
        if whole.hexdigest() == previous.content_hash:
            stream.close()
            return _Plan("unchanged", info)
    if kind is not SourceKind.STATUS or previous.lines < 1:
        return None  # snapshots are read whole; so is a file whose header was incomplete
    positions = read_header(kind, header, source)
    reader = LineReader(
        stream, source, pending=rest, offset=previous.offset, lines=previous.lines, prefix=prefix
    )
    return _Plan("appended", info, reader, positions)


# Storing


class _Tally:
    def __init__(self) -> None:
        self.good = 0
        self.rejects: list[Rejected] = []

    def split(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            if isinstance(item, Rejected):
                self.rejects.append(item)
            else:
                self.good += 1
                yield item


def _status_records(
    reader: LineReader,
    source: str,
    positions: dict[str, int] | None,
    first_line: int,
    tally: _Tally,
) -> Iterator[PollRecord]:
    # Status files are millions of rows: read them a chunk at a time, each chunk parsed in
    # one regular-expression pass when all its lines have the common spelling.
    for batch in read_batches(
        SourceKind.STATUS,
        reader,
        source,
        positions=positions,
        first_line=first_line,
        chunk_size=CHUNK_BYTES,
    ):
        tally.rejects.extend(batch.rejected)
        tally.good += len(batch.records)
        yield from batch.records


#: A status source with at least this many bytes left to read (when its size is known) is
#: parsed in a second process while this one stores the rows: the two cores split parsing
#: and SQLite's inserts, which cannot overlap in one process (both need the GIL per row).
PARALLEL_PARSE_BYTES = 16 << 20

#: Chunks handed to the parsing process ahead of the rows being stored. Four keep both
#: cores busy (two do not); each waiting chunk costs this process about 2 MB, which counts
#: with the parsing process's own memory against the ingest's goal (docs/benchmarks.md).
_CHUNKS_AHEAD = 4


def parse_status_chunk(
    positions: dict[str, int], chunk: bytes, first_line: int, source: str
) -> tuple[list[str], bytes, bytes, list[Rejected]]:
    """
    Parse whole status lines (the parsing process's side of ``_parsed_aside``).

    Returns the good rows as columns, store ids, instants (``array("q")`` bytes) and
    statuses (a byte each), which cost half the memory of tuples while they wait.
    """
    store_ids: list[str] = []
    instants = array.array("q")
    actives = bytearray()
    rejected: list[Rejected] = []
    for batch in read_batches(
        SourceKind.STATUS,
        io.BytesIO(chunk),
        source,
        positions=positions,
        first_line=first_line,
        chunk_size=len(chunk) + 1,
    ):
        for store_id, at_us, active in batch.records:
            store_ids.append(store_id)
            instants.append(at_us)
            actives.append(active)
        rejected.extend(batch.rejected)
    return store_ids, instants.tobytes(), bytes(actives), rejected


_BOOLS = (False, True)


def _parsed_aside(
    reader: LineReader,
    source: str,
    positions: dict[str, int] | None,
    first_line: int,
    tally: _Tally,
) -> Iterator[PollRecord]:
    """
    Yield what ``_status_records`` yields, in the same order, parsed in a child process.

    This process still reads the source (so ``reader`` hashes and counts every byte) and
    cuts it into chunks of whole lines, numbered as ``read_batches`` numbers them.
    """
    if positions is None:
        header = reader.readline()
        positions = read_header(SourceKind.STATUS, header or None, source)
        first_line += 1
    context = multiprocessing.get_context("spawn")  # no fork: aiosqlite runs a thread
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        ahead: collections.deque[concurrent.futures.Future[Any]] = collections.deque()
        line = first_line
        leftover = b""
        while True:
            data = reader.read(CHUNK_BYTES)
            buffer = leftover + data
            cut = buffer.rfind(b"\n") + 1 if data else len(buffer)
            if cut:
                chunk, leftover = buffer[:cut], buffer[cut:]
                ahead.append(pool.submit(parse_status_chunk, positions, chunk, line, source))
                line += chunk.count(b"\n")
            else:
                leftover = buffer
            while ahead and (len(ahead) >= _CHUNKS_AHEAD or not data):
                store_ids, instants, actives, rejected = ahead.popleft().result()
                tally.rejects.extend(rejected)
                tally.good += len(store_ids)
                times = array.array("q")
                times.frombytes(instants)
                yield from zip(store_ids, times, map(_BOOLS.__getitem__, actives), strict=True)
            if not data:
                return


async def _store(
    repository: IngestRepository, kind: SourceKind, rows: Iterator[Any], tally: _Tally
) -> int:
    if kind is SourceKind.STATUS:
        return await repository.add_polls(rows)
    if kind is SourceKind.HOURS:
        return await repository.replace_hours(rows)
    return await repository.replace_zones(rows)


async def ingest_source(
    repository: IngestRepository,
    kind: SourceKind,
    location: str | os.PathLike[str],
    *,
    clock: Callable[[], dt.datetime] = _utc_now,
    parse_aside: bool = False,
) -> SourceSummary:
    """
    Ingest one source in one transaction and say what it did.

    With ``parse_aside``, a large status file is parsed in a second process (``spawn``):
    only for programs whose main module is safe to import again (it has an
    ``if __name__ == "__main__":`` guard), as ``storemon ingest`` and the server are.

    Raises:
        SourceError: the source was refused (nothing of it was stored).
        StorageError: the backend failed (nothing of the source was stored).
    """
    started = time.perf_counter()
    source = source_name(location)
    async with repository.transaction():
        previous = await repository.source_state(kind.label, source)
        plan = await asyncio.to_thread(plan_read, kind, source, previous)
        info = plan.info
        if plan.reader is None:
            if previous is not None and info is not None:
                # The same bytes with a new modification time or new HTTP validators:
                # record them, so the next check can be answered without hashing.
                refreshed = attrs.evolve(
                    previous,
                    mtime_ns=info.mtime_ns,
                    etag=info.etag,
                    last_modified=info.last_modified,
                )
                if refreshed != previous:
                    await repository.save_source_state(refreshed)
            return SourceSummary(
                kind.label, source, "unchanged", seconds=time.perf_counter() - started
            )
        reader = plan.reader
        try:
            tally = _Tally()
            first_line = reader.lines + 1 if plan.positions is not None else 1
            remaining = None if info is None or info.size is None else info.size - reader.offset
            if kind is SourceKind.STATUS and remaining is not None:
                parallel = parse_aside and remaining >= PARALLEL_PARSE_BYTES
                status_records = _parsed_aside if parallel else _status_records
                records = status_records(reader, source, plan.positions, first_line, tally)
            elif kind is SourceKind.STATUS:
                records = _status_records(reader, source, plan.positions, first_line, tally)
            else:
                items = read_rows(
                    kind, reader, source, positions=plan.positions, first_line=first_line
                )
                records = tally.split(items)
            stored = await _store(repository, kind, records, tally)
        finally:
            await asyncio.to_thread(reader.stream.close)
        ingested_at = clock()
        if plan.mode == "full":
            await repository.clear_rejects(source)
        await repository.add_rejects(tally.rejects, ingested_at=ingested_at)
        await repository.save_source_state(
            SourceState(
                kind=kind.label,
                source=source,
                size=reader.size,
                content_hash=reader.content_hash(),
                offset=reader.offset,
                prefix_hash=str(reader.prefix.hexdigest()),
                lines=reader.lines,
                ingested_at=ingested_at,
                mtime_ns=info.mtime_ns if info else None,
                etag=info.etag if info else None,
                last_modified=info.last_modified if info else None,
            )
        )
    return SourceSummary(
        kind=kind.label,
        source=source,
        mode=plan.mode,
        read=tally.good + len(tally.rejects),
        stored=stored,
        present=tally.good - stored,
        rejects=tuple(tally.rejects),
        seconds=time.perf_counter() - started,
    )


async def ingest(
    repository: IngestRepository,
    *,
    status: str | os.PathLike[str] | None = None,
    business_hours: str | os.PathLike[str] | None = None,
    timezones: str | os.PathLike[str] | None = None,
    clock: Callable[[], dt.datetime] = _utc_now,
    parse_aside: bool = False,
) -> list[SourceSummary]:
    """
    Ingest the sources given, each in its own transaction, and summarise each.

    ``parse_aside``: see ``ingest_source``.

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
    ):
        if location is None:
            continue
        started = time.perf_counter()
        try:
            summaries.append(
                await ingest_source(
                    repository, kind, location, clock=clock, parse_aside=parse_aside
                )
            )
        except SourceError as error:
            summaries.append(
                SourceSummary(
                    kind.label,
                    source_name(location),
                    "failed",
                    seconds=time.perf_counter() - started,
                    error=str(error),
                )
            )
    return summaries
