"""
``read_batches`` (the chunked, regex-accelerated reader) equals ``read_rows`` line by line.
"""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from storemon.lines import LineBuffer
from storemon.model import Rejected
from storemon.sources import SourceKind, read_batches, read_rows

_GOOD = [
    "8419537941919820732,active,2023-01-22 12:09:39.388884 UTC",
    "54515546588432327,inactive,2023-01-24 09:06:42.6 UTC",
    "s1,active,2023-01-24 09:06:42 UTC",
    "7" * 128 + ",active,2023-01-24 09:06:42 UTC",  # the longest id of the fast reader
]
_ODD = [
    "s2,ACTIVE,2023-01-24T09:06:42Z",  # good, but not the common spelling
    "s3,active,2023-02-30 09:06:42 UTC",  # impossible date
    "s4,maybe,2023-01-24 09:06:42 UTC",
    "s5,active",
    " s6 ,active,2023-01-24 09:06:42.5 UTC",
    '"s,7",active,2023-01-24 09:06:42 UTC',
    "",
    "s8,active,2023-01-24 09:06:42.1234567 UTC",
    "9" * 129 + ",active,2023-01-24 09:06:42 UTC",  # read line by line
]


def _lines(kind: SourceKind, data: bytes):
    records, rejected = [], []
    for item in read_rows(kind, io.BytesIO(data), "f.csv"):
        (rejected if isinstance(item, Rejected) else records).append(item)
    return records, rejected


def _batches(kind: SourceKind, data: bytes, chunk_size: int):
    lines = LineBuffer(io.BytesIO(data).read, chunk_size=chunk_size)
    records, rejected, offsets = [], [], []
    for batch in read_batches(kind, lines, "f.csv"):
        records.extend(batch.records)
        rejected.extend(batch.rejected)
        offsets.append(lines.offset + len(lines.tail))
    return records, rejected, offsets


@given(
    body=st.lists(st.sampled_from(_GOOD + _ODD), max_size=30),
    header=st.sampled_from(
        [
            "store_id,status,timestamp_utc",
            "\ufefftimestamp_utc,store_id,status",
            "store_id,status,timestamp_utc,extra",
        ]
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
    chunk_size=st.integers(min_value=1, max_value=200),
)
def test_batches_equal_line_reader(body, header, newline, final_newline, chunk_size):
    """Whatever the chunking, batches hold the same records and rejects, with the same lines."""
    columns = header.lstrip("\ufeff").split(",")

    def reorder(line: str) -> str:
        fields = line.split(",")
        if len(fields) != 3 or '"' in line:
            return line
        by_name = dict(zip(["store_id", "status", "timestamp_utc"], fields, strict=True))
        return ",".join(by_name.get(name, "x") for name in columns)

    text = newline.join([header, *map(reorder, body)]) + (newline if final_newline else "")
    data = text.encode("utf-8")
    expected = _lines(SourceKind.STATUS, data)
    records, rejected, offsets = _batches(SourceKind.STATUS, data, chunk_size)
    assert (records, rejected) == expected
    assert offsets == sorted(offsets)
    assert not offsets or offsets[-1] == len(data)


def test_undecodable_line_is_rejected_alone():
    """A line that is not UTF-8 is rejected by number while its neighbours are kept."""
    data = b"store_id,status,timestamp_utc\ns1,active,2023-01-24 09:06:42 UTC\n\xff\xfe,active,x\n"
    records, rejected, _ = _batches(SourceKind.STATUS, data, 1 << 20)
    assert records == [("s1", 1674551202000000, True)]
    assert [(r.line, r.reason) for r in rejected] == [(3, "the line is not UTF-8 text")]
