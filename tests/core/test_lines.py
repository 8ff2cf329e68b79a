"""
``LineBuffer``: whole lines out of a byte stream, counted and numbered, whatever the reads.
"""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from storemon.lines import LineBuffer

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
