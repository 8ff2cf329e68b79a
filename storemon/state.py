"""
What the last ingest of a source saw: the record behind incremental refresh.

A ``SourceState`` is saved in the same transaction as the rows it describes, so it never
claims rows that were not stored. ``storemon.ingest`` decides from it whether a source is
unchanged (skip), grew at its end (read from ``offset``) or changed (read in full).
"""

from __future__ import annotations

import datetime as dt

import attrs


@attrs.frozen
class SourceState:
    """
    One source as its last successful ingest read it.
    """

    #: The input kind: ``status``, ``business_hours`` or ``timezones``.
    kind: str
    #: The absolute path of a file, or the URL.
    source: str
    #: Bytes read in total.
    size: int
    #: SHA-256 (hex) of all ``size`` bytes.
    content_hash: str
    #: The end of the last complete line (one ending in a line feed) read.
    offset: int
    #: SHA-256 (hex) of the bytes before ``offset``.
    prefix_hash: str
    #: How many lines (the header included) end at or before ``offset``.
    lines: int
    ingested_at: dt.datetime
    #: A file's modification time in nanoseconds; ``None`` for a URL.
    mtime_ns: int | None = None
    #: A URL's ``ETag`` header, if it sent one.
    etag: str | None = None
    #: A URL's ``Last-Modified`` header, if it sent one.
    last_modified: str | None = None
