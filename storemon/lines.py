"""
Whole lines out of a byte stream: the one place that cuts at the last line feed.

Every reader of a source (the CSV readers, ingestion's hashing and counting, the parse in
a second process, the split read of ``load_csv``) takes its lines from a ``LineBuffer``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

#: Bytes asked of the stream per read.
CHUNK_BYTES = 1 << 20

#: Told how far the reading of a source is: its name, its size in bytes when known, and
#: the bytes and lines (the header included) read from its start so far. Readers that
#: take one call it after every chunk of lines; ``storemon.progress`` draws it.
SourceProgress = Callable[[str, int | None, int, int], object]


class LineBuffer:
    """
    Read a byte stream as chunks of whole lines, counting the complete lines handed out.

    Every chunk ends with a line feed except the last, which is the stream's final line
    when it has none (``tail``). ``offset``, ``lines`` and ``on_lines`` cover complete
    lines only, so a last line without a line feed is read again when the source grows.
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
                hashes them).
            progress: Called after every run of complete lines handed out with
                ``offset`` and ``lines`` (a progress display reads them).
        """
        self._read = read
        self._left = limit
        self.chunk_size = chunk_size
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
        if self._progress is not None:
            self._progress(self.offset, self.lines)

    def _end(self, rest: bytes) -> bytes:
        self._ended = True
        self._pending = b""
        self.tail = rest
        return rest

    def readline(self) -> bytes:
        """
        Return the next line with its line feed (a header), the last line without one, or
        ``b""`` at the end.
        """
        while not self._ended and b"\n" not in self._pending:
            data = self._read_more()
            if not data:
                return self._end(self._pending)
            self._pending += data
        end = self._pending.find(b"\n") + 1
        line, self._pending = self._pending[:end], self._pending[end:]
        self._hand_out(line)
        return line

    def chunks(self) -> Iterator[tuple[int, bytes]]:
        """
        Yield the rest of the stream in chunks of whole lines, each with the number of its
        first line.
        """
        pending, self._pending = self._pending, b""
        while not self._ended:
            data = self._read_more()
            buffer = pending + data
            cut = buffer.rfind(b"\n") + 1
            if cut:
                chunk, pending = buffer[:cut], buffer[cut:]
                first_line = self.lines + 1
                self._hand_out(chunk)
                yield first_line, chunk
            else:
                pending = buffer
            if not data and self._end(pending):
                yield self.lines + 1, pending
