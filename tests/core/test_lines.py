"""
``LineBuffer``: whole lines out of a byte stream, counted and numbered, whatever the reads.
"""

from __future__ import annotations

import io
import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from storemon.lines import LONG_LINE_HEAD, MAX_LINE_BYTES, LineBuffer, LongLine

_BYTES = st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r\n", b"\xff"]), max_size=30).map(
    b"".join
)


@given(data=_BYTES, chunk_size=st.integers(1, 12), header=st.booleans())
def test_chunks_are_the_stream_cut_at_line_ends(data: bytes, chunk_size: int, header: bool) -> None:
    """The chunks join to the stream; each ends a line but the tail; numbers and counts agree."""
    seen: list[bytes] = []
    lines = LineBuffer(io.BytesIO(data).read, chunk_size=chunk_size, on_lines=seen.append)
    first = lines.readline() if header else b""
    chunks = list(lines.chunks())
    assert first + b"".join(chunk for _, chunk in chunks) == data
    end = data.rfind(b"\n") + 1
    assert (lines.offset, lines.lines, lines.tail) == (end, data.count(b"\n"), data[end:])
    assert b"".join(seen) == data[:end]
    consumed = first
    for number, chunk in chunks:
        assert chunk
        assert number == consumed.count(b"\n") + 1
        consumed += chunk
    assert all(chunk.endswith(b"\n") for _, chunk in chunks[:-1])
    if header:
        assert first == data[: data.find(b"\n") + 1 or len(data)]


def test_a_buffer_goes_on_from_where_an_earlier_read_stopped() -> None:
    """Pending bytes come first; offsets and line numbers continue from the counts given."""
    stream = io.BytesIO(b"d\ne\nfinal")
    lines = LineBuffer(stream.read, pending=b"c\n", offset=100, lines=7, limit=4)
    assert list(lines.chunks()) == [(8, b"c\nd\ne\n")]
    assert (lines.offset, lines.lines, lines.tail) == (106, 10, b"")
    assert stream.read() == b"final"  # the limit stopped the reads


def test_readline_returns_a_last_line_without_its_line_feed() -> None:
    """A header-only source without a line end is its tail; nothing is counted as complete."""
    lines = LineBuffer(io.BytesIO(b"store_id,status").read, chunk_size=4)
    assert lines.readline() == b"store_id,status"
    assert list(lines.chunks()) == []
    assert (lines.offset, lines.lines, lines.tail) == (0, 0, b"store_id,status")
    assert lines.readline() == b""


def _reference_lines(data: bytes, max_line: int) -> tuple[list[object], bytes]:
    """
    The lines of ``data`` as a ``LineBuffer`` should hand them out: whole lines, and
    ``("long", head, size)`` for each over ``max_line``; and the tail.
    """
    items: list[object] = []
    parts = data.split(b"\n")
    for part in parts[:-1]:
        line = part + b"\n"
        items.append(("long", line[:LONG_LINE_HEAD], len(line)) if len(part) > max_line else line)
    last = parts[-1]
    if len(last) > max_line:
        items.append(("long", last[:LONG_LINE_HEAD], len(last)))
        return items, b""
    return items, last


_LONG_BYTES = st.lists(
    st.sampled_from([b"a", b"bc", b"\n", b"\r\n", b"x" * 7, b"y" * 30]), max_size=30
).map(b"".join)


@given(data=_LONG_BYTES, chunk_size=st.integers(1, 12), max_line=st.integers(1, 20))
def test_lines_over_the_limit_come_alone_and_the_rest_is_unchanged(
    data: bytes, chunk_size: int, max_line: int
) -> None:
    """Whatever the reads, a line is long exactly when over the limit; counts and hashes agree."""
    seen: list[bytes] = []
    lines = LineBuffer(
        io.BytesIO(data).read, chunk_size=chunk_size, max_line=max_line, on_lines=seen.append
    )
    got: list[object] = []
    for number, chunk in lines.chunks():
        assert number == len(got) + 1
        if isinstance(chunk, LongLine):
            assert chunk.limit == max_line
            got.append(("long", chunk.head, chunk.size))
        else:
            got.extend(_split(chunk))
    expected, tail = _reference_lines(data, max_line)
    if tail:
        assert got[-1] == tail
        got = got[:-1]
    assert got == expected
    assert (lines.offset, lines.lines, lines.tail) == (len(data) - len(tail), len(expected), tail)
    assert b"".join(seen) == data[: len(data) - len(tail)]


def _split(chunk: bytes) -> list[bytes]:
    # Lines ending in b"\n" (splitlines would also cut at a lone b"\r"), and a tail.
    parts = chunk.split(b"\n")
    return [part + b"\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def test_a_200_mib_line_is_read_in_flat_memory() -> None:
    """A line far over the limit is skipped read by read: the buffer never holds it."""
    size = 200 << 20
    sent = 0

    def read(want: int) -> bytes:
        nonlocal sent
        if sent >= size:
            return b""
        sent += want
        return b"z" * want if sent < size else b"z" * (want - (sent - size)) + b"\nok\n"

    tracemalloc.start()
    try:
        lines = LineBuffer(read)
        items = list(lines.chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(number, type(chunk).__name__) for number, chunk in items] == [
        (1, "LongLine"),
        (2, "bytes"),
    ]
    assert items[0][1] == LongLine(b"z" * LONG_LINE_HEAD, size + 1, MAX_LINE_BYTES)
    assert peak < 8 << 20


@given(data=_LONG_BYTES, chunk_size=st.integers(1, 12), max_line=st.integers(1, 20))
def test_progress_counts_the_bytes_of_long_lines_too(
    data: bytes, chunk_size: int, max_line: int
) -> None:
    """Progress is told every byte as it is hashed, a skipped long line's too, and the end."""
    hashed: list[bytes] = []
    told: list[tuple[int, int, int]] = []
    lines = LineBuffer(
        io.BytesIO(data).read,
        chunk_size=chunk_size,
        max_line=max_line,
        on_lines=hashed.append,
        progress=lambda offset, count: told.append((offset, count, len(b"".join(hashed)))),
    )
    for _ in lines.chunks():
        pass
    assert all(offset == hashed_bytes for offset, _, hashed_bytes in told)
    assert [offset for offset, _, _ in told] == sorted(offset for offset, _, _ in told)
    assert bool(told) == (lines.offset > 0)
    if told:
        assert told[-1][:2] == (lines.offset, lines.lines)
