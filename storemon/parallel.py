"""
Parsing status lines in a second process, so that two cores share a large file.

Two ways, one per caller, both exactly equal to one sequential read (the same records in
the same order, the same rejected rows with the same line numbers):

- ``batches_aside`` (ingestion): this process reads the source, so that its
  ``LineBuffer`` counts and hashes every byte, and hands chunks of whole lines to the
  child, which parses them while this process stores the rows of the earlier ones.
- ``read_halves`` (``load_csv``): the file is cut at the first line start after its
  middle; the child collects the second half while this process collects the first.

The child is a plain ``python -c`` process (``ParseProcess``) fed through its standard
input and answering on its standard output, one pickled call at a time, in order. It
never outlives this process: it ends at the end of its input, which the system closes
when this process dies however it dies, and a thread of the child checks every
``PARENT_CHECK_S`` that its parent is still the process that started it, for the moment
it is busy parsing. There is no ``multiprocessing`` here, so no resource tracker to leave
behind, and nothing imports the caller's main module again.
"""

from __future__ import annotations

import array
import collections
import contextlib
import importlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, Self, TypeVar

from storemon.bulk import gc_paused
from storemon.errors import SourceError
from storemon.lines import CHUNK_BYTES, MAX_LINE_BYTES, LineBuffer, LongLine, SourceProgress
from storemon.model import PollColumns, PollRecord, Rejected
from storemon.sources import (
    Batch,
    OpenRecord,
    SourceKind,
    fast_status_columns,
    parse_lines,
    read_batches,
    read_header,
    record_after_chunk,
)

#: Chunks handed to the parsing process ahead of the rows being stored. Four keep both
#: cores busy (two do not); each waiting chunk costs this process about 2 MB, which counts
#: with the parsing process's own memory against the ingest's goal (docs/benchmarks.md).
CHUNKS_AHEAD = 4

#: Seconds between two looks of the parsing process at whether its parent is alive.
PARENT_CHECK_S = 0.1

#: Seconds the parsing process has to end by itself after its input is closed.
CLOSE_WAIT_S = 5.0

_Collected = TypeVar("_Collected")
_BOOLS = (False, True)
_LENGTH = struct.Struct("!Q")

#: What the child runs: ``serve`` with the pid of its parent.
_CHILD_CODE = "import sys; from storemon.parallel import serve; serve(int(sys.argv[1]))"


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> bytes | None:
    """
    Return the next frame, or ``None`` at the end of the stream.
    """
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return payload


class ParseProcess:
    """
    A second Python process that runs module-level functions for this one, in order.

    ``submit`` queues a call (a thread writes it to the child, so that this thread can
    read answers meanwhile and neither pipe can fill up for good); ``result`` returns the
    answers in the order of the calls. Used as a context manager, it closes the child's
    input on exit and waits for it to end (or kills it).
    """

    def __init__(self, imports: Sequence[str] = ()) -> None:
        """
        Start the child; it imports the modules named in ``imports`` before any call
        (one that cannot be imported is skipped: the call that needs it says why).
        """
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            # A process group of its own: a Ctrl-C at the terminal interrupts this
            # process, which ends the child, and never prints the child's traceback.
            process_group=0,
        )
        self._calls: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(
            target=self._write_calls, name="storemon-parse-writer", daemon=True
        )
        # Where the child finds the functions, and what it imports before any call.
        self._calls.put(pickle.dumps((list(sys.path), list(imports))))
        self._writer.start()

    def _write_calls(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        with contextlib.suppress(OSError):  # the child ended; result() says so
            while (call := self._calls.get()) is not None:
                _write_frame(stdin, call)
        with contextlib.suppress(OSError):
            stdin.close()

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """
        Queue ``function(*args)`` for the child; ``function`` must be module-level.
        """
        self._calls.put(pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL))

    def result(self) -> Any:
        """
        Return the answer to the oldest call not answered yet, or raise its exception.

        Raises:
            SourceError: the parsing process ended without answering.
        """
        assert self.process.stdout is not None
        frame = _read_frame(self.process.stdout)
        if frame is None:
            raise SourceError(
                f"the parsing process ended unexpectedly (status {self.process.poll()})"
            )
        ok, value = pickle.loads(frame)
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """
        End the child's input and wait for it to end; kill it if it does not.
        """
        self._calls.put(None)
        self._writer.join(CLOSE_WAIT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()
        try:
            self.process.wait(CLOSE_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is not None:  # no use finishing the work: stop at once
            with contextlib.suppress(OSError):
                self.process.kill()
        self.close()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def serve(parent_pid: int) -> None:
    """
    The child's side of ``ParseProcess``: answer calls until the end of standard input,
    and end at once if the parent dies.
    """
    if os.getppid() != parent_pid:  # it died while this process started
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # answers only on the real standard output
    frame = _read_frame(stdin)
    if frame is None:
        os._exit(0)
    sys.path[:], imports = pickle.loads(frame)
    for module in imports:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    while (frame := _read_frame(stdin)) is not None:
        try:
            function, args = pickle.loads(frame)
            with gc_paused():  # every call works in bulk (storemon.bulk)
                answer: tuple[bool, Any] = (True, function(*args))
        except Exception as error:
            answer = (False, error)
        _write_frame(stdout, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    # Every answer is written and flushed: end without tearing down the interpreter's
    # objects one by one, which the parent would wait for (tens of milliseconds).
    os._exit(0)


def parse_columns(
    positions: dict[str, int],
    chunk: bytes,
    first_line: int,
    source: str,
    open_record: OpenRecord | None,
    latest_at_us: int | None,
) -> tuple[Sequence[str], bytes, bytes, list[Rejected]]:
    """
    Parse whole status lines (the child's side of ``batches_aside``).

    Returns the good rows as columns, store ids, instants (``array("q")`` bytes) and
    statuses (a byte each), which cost half the memory of tuples while they wait.
    """
    fast = fast_status_columns(
        SourceKind.STATUS,
        chunk,
        positions=positions,
        open_record=open_record,
        latest_at_us=latest_at_us,
    )
    if fast is not None:
        store_ids, instants, actives = fast
        return store_ids, array.array("q", instants).tobytes(), bytes(actives), []
    batch = parse_lines(
        SourceKind.STATUS,
        chunk,
        source,
        positions=positions,
        first_line=first_line,
        open_record=open_record,
        latest_at_us=latest_at_us,
    )
    records: Sequence[PollRecord] = batch.records
    return (
        [store_id for store_id, _, _ in records],
        array.array("q", [at_us for _, at_us, _ in records]).tobytes(),
        bytes(active for _, _, active in records),
        batch.rejected,
    )


def _batch(columns: tuple[Sequence[str], bytes, bytes, list[Rejected]]) -> Batch:
    store_ids, instants, actives, rejected = columns
    times = array.array("q")
    times.frombytes(instants)
    if not len(store_ids) == len(times) == len(actives):
        raise SourceError("the parsing process sent columns of different lengths")
    return Batch(PollColumns(store_ids, times, actives), rejected)


def batches_aside(
    lines: LineBuffer,
    source: str,
    positions: dict[str, int] | None,
    *,
    latest_at_us: int | None = None,
) -> Iterator[Batch]:
    """
    Yield what ``read_batches(SourceKind.STATUS, lines, ...)`` yields, in the same order,
    parsed in a child process.

    Raises:
        SourceError: the header is missing or lacks a column.
    """
    if positions is None:
        positions = read_header(SourceKind.STATUS, lines.readline() or None, source)
    with ParseProcess() as child:
        # A parsed batch, or None for one the child is parsing (answers come in order).
        ahead: collections.deque[Batch | None] = collections.deque()
        open_record: OpenRecord | None = None

        def next_batch() -> Batch:
            batch = ahead.popleft()
            return _batch(child.result()) if batch is None else batch

        for first_line, chunk in lines.chunks():
            if isinstance(chunk, LongLine):  # nothing to parse: its reject is made here
                ahead.append(
                    parse_lines(
                        SourceKind.STATUS,
                        chunk,
                        source,
                        positions=positions,
                        first_line=first_line,
                    )
                )
                open_record = None
            else:
                child.submit(
                    parse_columns, positions, chunk, first_line, source, open_record, latest_at_us
                )
                ahead.append(None)
                open_record = record_after_chunk(open_record, chunk, first_line)
            if len(ahead) >= CHUNKS_AHEAD:
                yield next_batch()
        while ahead:
            yield next_batch()


def collect_range(
    path: str,
    positions: dict[str, int],
    header_end: int,
    start: int,
    end: int,
    collect: Callable[[Iterator[Batch]], _Collected],
    latest_at_us: int | None = None,
    open_record: OpenRecord | None = None,
    max_line: int = MAX_LINE_BYTES,
    *,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[_Collected, OpenRecord | None]:
    """
    ``collect`` the batches of the status lines in bytes ``[start, end)`` of ``path``
    (the child's side of ``read_halves``), numbering them as a whole-file read would,
    going on with the record ``open_record`` left open before ``start``; return what was
    collected and the record left open at ``end``. ``progress`` is told the bytes and
    lines read of the range.
    """
    with open(path, "rb") as handle:
        handle.seek(header_end)
        before = LineBuffer(handle.read, limit=start - header_end, lines=1, max_line=max_line)
        for _ in before.chunks():
            pass
        lines = LineBuffer(
            handle.read,
            limit=end - start,
            lines=before.lines,
            progress=progress,
            max_line=max_line,
        )
        batches = read_batches(
            SourceKind.STATUS,
            lines,
            path,
            positions=positions,
            latest_at_us=latest_at_us,
            open_record=open_record,
        )
        last: list[OpenRecord | None] = [open_record]

        def noting_the_open_record() -> Iterator[Batch]:
            for batch in batches:
                last[0] = batch.open_record
                yield batch

        return collect(noting_the_open_record()), last[0]


def _next_line_start(handle: IO[bytes], position: int) -> int:
    """
    Return where the first line starting after ``position`` starts (or the end), reading
    a block at a time: the line there may be very long.
    """
    handle.seek(position)
    while block := handle.read(CHUNK_BYTES):
        found = block.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(block)
    return position


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
    latest_at_us: int | None = None,
    max_line: int = MAX_LINE_BYTES,
) -> tuple[_Collected, _Collected]:
    """
    ``collect`` a status file's batches in two halves, the second in a child process;
    ``meanwhile`` runs here first, while that process starts (starting takes a moment).
    ``progress`` is told the first half's reading scaled to the whole file: the halves
    are about equal and read at once, and the child cannot tell this process how far it is.

    ``collect`` must be a module-level function (it is sent to the child). Lines are
    independent, so the file is cut at the first line start after its middle; the two
    results, in file order, hold what one sequential read holds. When a record whose
    quoted field spans lines runs across the cut (rare: such records are broken), the
    second half is read again here, going on with it.

    Raises:
        SourceError: the file cannot be read, or its header lacks a column.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise SourceError(f"{path}: cannot open: {error.strerror or error}") from None
    with handle:
        try:
            header = LineBuffer(handle.read, max_line=max_line).readline()
            positions = read_header(SourceKind.STATUS, header or None, path)
            assert isinstance(header, bytes)
            size = os.fstat(handle.fileno()).st_size
            middle = _next_line_start(handle, (len(header) + size) // 2)

            def arguments(start: int, end: int, open_record: OpenRecord | None = None) -> Any:
                return (
                    path,
                    positions,
                    len(header),
                    start,
                    end,
                    collect,
                    latest_at_us,
                    open_record,
                    max_line,
                )

            with ParseProcess() as child:
                child.submit(collect_range, *arguments(middle, size))
                meanwhile()
                told = _scaled(progress, path, size, len(header), middle)
                first, open_at_middle = collect_range(
                    *arguments(len(header), middle), progress=told
                )
                second, _ = child.result()
            if open_at_middle is not None:
                second, _ = collect_range(*arguments(middle, size, open_at_middle))
            return first, second
        except OSError as error:
            raise SourceError(f"{path}: cannot read: {error.strerror or error}") from None
