"""
Whole lines out of a byte stream: the one place that cuts at the last line feed.

Every reader of a source (the CSV readers, ingestion's hashing and counting, the parse in
a second process, the split read of ``load_csv``) takes its lines from a ``LineBuffer``.

A line longer than the limit (``max_line``, 1 MiB unless set) is never held whole: once
the partial line passes the limit, only its first bytes are kept, the rest is read,
counted, hashed and told to ``progress`` as it passes, and the line comes out as a
``LongLine``, which its reader rejects. Memory stays flat whatever the file holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

#: Bytes asked of the stream per read.
CHUNK_BYTES = 1 << 20

#: Told how far the reading of a source is: its name, its size in bytes when known, and
#: the bytes and lines (the header included) read from its start so far. Readers that
#: take one call it after every chunk of lines; ``storemon.progress`` draws it.
SourceProgress = Callable[[str, int | None, int, int], object]

#: The longest line read as a line, in bytes (its line end included).
MAX_LINE_BYTES = 1 << 20

#: Bytes kept of a line over the limit, to show in its reject.
LONG_LINE_HEAD = 1024


@attrs.frozen
class LongLine:
    """
    A line longer than the limit, in place of its bytes: its start and its length.
    """

    #: Its first ``LONG_LINE_HEAD`` bytes.
    head: bytes
    #: Its length in bytes, its line feed included.
    size: int
    #: The limit it is over.
    limit: int


class LineBuffer:
    """
    Read a byte stream as chunks of whole lines, counting the complete lines handed out.

    Every chunk ends with a line feed except the last, which is the stream's final line
    when it has none (``tail``). ``offset``, ``lines`` and ``on_lines`` cover complete
    lines only, so a last line without a line feed is read again when the source grows.
    A line over the limit is a chunk of its own, a ``LongLine``, and complete even when
    the stream ends inside it.
    """

    def __init__(
        self,
        read: Callable[[int], bytes],
        *,
        limit: int | None = None,
        chunk_size: int = CHUNK_BYTES,
        pending: bytes = b"",
        offset: int = 0,
        lines: int = 0,
        on_lines: Callable[[bytes], object] | None = None,
        progress: Callable[[int, int], object] | None = None,
        max_line: int = MAX_LINE_BYTES,
    ) -> None:
        """
        Args:
            read: Returns up to the given number of bytes; ``b""`` at the end.
            limit: Read at most this many bytes of the stream.
            chunk_size: Bytes per read.
            pending: Bytes already read from the stream, which come first.
            offset: Bytes of complete lines before this buffer's first byte.
            lines: Complete lines before this buffer's first byte.
            on_lines: Called with every run of complete lines handed out (ingestion
                hashes them), the bytes of long lines included, in stream order.
            progress: Called after every run of complete lines handed out with
                ``offset`` and ``lines`` (a progress display reads them), and after
                every part of a long line skipped, whose bytes count as read.
            max_line: The longest line, in bytes; a longer one is a ``LongLine``.
        """
        self._read = read
        self._left = limit
        self.chunk_size = chunk_size
        self.max_line = max_line
        self._pending = pending
        self._ended = False
        #: Where the last complete line handed out ends, counted from the stream's start.
        self.offset = offset
        #: Complete lines handed out, counting those before this buffer: the next line's
        #: number is ``lines + 1``.
        self.lines = lines
        self._on_lines = on_lines
        self._progress = progress
        #: Once the stream has ended: the bytes after its last line feed.
        self.tail = b""
        #: The line over the limit being read: its head, and its bytes so far.
        self._long: tuple[bytes, int] | None = None

    def _read_more(self) -> bytes:
        size = self.chunk_size if self._left is None else min(self.chunk_size, self._left)
        data = self._read(size) if size > 0 else b""
        if self._left is not None:
            self._left -= len(data)
        return data

    def _hand_out(self, complete: bytes) -> None:
        self.offset += len(complete)
        self.lines += complete.count(b"\n")
        if self._on_lines is not None:
            self._on_lines(complete)
        self._tell_progress()

    def _tell_progress(self) -> None:
        if self._progress is not None:
            self._progress(self.offset, self.lines)

    def _skip(self, part: bytes) -> None:
        """
        Hand out a part of the long line being read, keeping only its head.
        """
        assert self._long is not None
        head, size = self._long
        if len(head) < LONG_LINE_HEAD:
            head += part[: LONG_LINE_HEAD - len(head)]
        self._long = (head, size + len(part))
        self.offset += len(part)
        if self._on_lines is not None:
            self._on_lines(part)
        self._tell_progress()

    def _end_long(self) -> tuple[int, LongLine]:
        """
        End the long line being read; return its number and the line.
        """
        assert self._long is not None
        head, size = self._long
        self._long = None
        self.lines += 1
        self._tell_progress()
        return self.lines, LongLine(head, size, self.max_line)

    def _end(self, rest: bytes) -> bytes:
        self._ended = True
        self._pending = b""
        self.tail = rest
        return rest

    def readline(self) -> bytes | LongLine:
        """
        Return the next line with its line feed (a header), the last line without one,
        a ``LongLine`` when it is over the limit, or ``b""`` at the end.
        """
        while not self._ended and b"\n" not in self._pending:
            if len(self._pending) > self.max_line:
                return self._skip_rest_of_line(self._pending)
            data = self._read_more()
            if not data:
                return self._end(self._pending)
            self._pending += data
        end = self._pending.find(b"\n") + 1
        if end - 1 > self.max_line:
            line, self._pending = self._pending[:end], self._pending[end:]
            self._long = (b"", 0)
            self._skip(line)
            return self._end_long()[1]
        line, self._pending = self._pending[:end], self._pending[end:]
        self._hand_out(line)
        return line

    def _skip_rest_of_line(self, start: bytes) -> LongLine:
        """
        Skip a long line that starts with ``start`` to its line feed or the stream's end.
        """
        self._long, self._pending = (b"", 0), b""
        self._skip(start)
        while True:
            data = self._read_more()
            if not data:
                self._ended = True
                return self._end_long()[1]
            cut = data.find(b"\n") + 1
            if cut:
                self._skip(data[:cut])
                self._pending = data[cut:]
                return self._end_long()[1]
            self._skip(data)

    def chunks(self) -> Iterator[tuple[int, bytes | LongLine]]:
        """
        Yield the rest of the stream in chunks of whole lines, each with the number of its
        first line; a line over the limit comes alone, as a ``LongLine``.
        """
        if self._ended:  # readline met the end
            return
        pending = b""
        data = self._pending + self._read_more()
        self._pending = b""
        complete: list[bytes] = []  # whole lines of this read, handed out together

        def flush() -> Iterator[tuple[int, bytes]]:
            if complete:
                chunk = b"".join(complete)
                complete.clear()
                first_line = self.lines + 1
                self._hand_out(chunk)
                yield first_line, chunk

        while True:
            # Pieces of at most max_line bytes: a line that begins in one piece and is
            # not over the limit ends in the next, so only the first line of each
            # buffer can be too long.
            for start in range(0, len(data), self.max_line):
                piece = data[start : start + self.max_line]
                if self._long is not None:
                    end = piece.find(b"\n") + 1
                    if not end:
                        self._skip(piece)
                        continue
                    self._skip(piece[:end])
                    yield self._end_long()
                    piece = piece[end:]
                buffer = pending + piece
                first_end = buffer.find(b"\n") + 1
                if first_end - 1 > self.max_line:  # a line begun in pending, too long
                    yield from flush()
                    self._long = (b"", 0)
                    self._skip(buffer[:first_end])
                    yield self._end_long()
                    buffer = buffer[first_end:]
                cut = buffer.rfind(b"\n") + 1
                if cut:
                    complete.append(buffer[:cut])
                pending = buffer[cut:]
                if len(pending) > self.max_line:  # a line too long: skip it from here
                    yield from flush()
                    self._long = (b"", 0)
                    self._skip(pending)
                    pending = b""
            yield from flush()
            if not data:  # the stream has ended
                self._ended = True
                if self._long is not None:
                    yield self._end_long()
                elif self._end(pending):
                    yield self.lines + 1, pending
                return
            data = self._read_more()
