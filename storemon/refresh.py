"""
Incremental refresh: how to read a source again, decided from what its last ingest
recorded (``SourceState``) and what the source shows now (``docs/ingestion.md``).

Pure: fed metadata and hashes, it returns a mode; ``storemon.ingest`` does the reading.

- **unchanged**: an HTTP 304, an unchanged strong ``ETag``, or unchanged
  ``Last-Modified`` and ``Content-Length``; otherwise the SHA-256 of every byte equals
  the recorded one. Nothing is parsed or written.
- **appended** (status files only): the first ``offset`` bytes, the complete lines read
  last time, still hash to the recorded SHA-256. Only what follows is parsed, with line
  numbers counted on from there.
- **full**: anything else; the whole source is parsed again (still idempotent) and its
  old rejected rows are replaced by the new ones.
"""

from __future__ import annotations

import attrs

from storemon.model import SourceInfo, SourceState
from storemon.sources import SourceKind

UNCHANGED = "unchanged"
APPENDED = "appended"
FULL = "full"


def _validators_match(info: SourceInfo, previous: SourceState) -> bool:
    if info.etag and not info.etag.startswith("W/") and info.etag == previous.etag:
        return True
    return bool(
        info.last_modified
        and info.size is not None
        and info.last_modified == previous.last_modified
        and info.size == previous.size
    )


def plan_from_info(previous: SourceState | None, info: SourceInfo, *, url: bool) -> str | None:
    """
    Decide from what the source says about itself, or return ``None`` when its bytes must
    decide (``plan_from_hashes``).

    Args:
        previous: The state the last ingest recorded, if any.
        info: What the source says now (a server that answered 304 Not Modified to the
            recorded validators has said it is unchanged).
        url: Whether the source is a URL (whose validators can be trusted).
    """
    if previous is None:
        return FULL
    if url and _validators_match(info, previous):
        return UNCHANGED
    if info.size is not None and info.size < previous.offset:
        return FULL  # it shrank: what was read is gone
    return None


def plan_from_hashes(
    kind: SourceKind,
    previous: SourceState,
    *,
    prefix_hash: str | None,
    content_hash: str | None,
) -> str:
    """
    Decide from the source's bytes, hashed.

    Args:
        kind: The source's kind: only status files are read from where the last ingest
            stopped; business hours and time zones are snapshots, read whole.
        previous: The state the last ingest recorded.
        prefix_hash: SHA-256 (hex) of the source's first ``previous.offset`` bytes;
            ``None`` when the source is shorter.
        content_hash: SHA-256 (hex) of every byte of the source, when it was read to its
            end; ``None`` when it goes on.
    """
    if prefix_hash != previous.prefix_hash:
        return FULL
    if content_hash is not None and content_hash == previous.content_hash:
        return UNCHANGED
    if kind is not SourceKind.STATUS or previous.lines < 1:
        return FULL  # a snapshot, or a file whose header was not complete last time
    return APPENDED


def refreshed_state(previous: SourceState | None, info: SourceInfo | None) -> SourceState | None:
    """
    Return the recorded state of an unchanged source updated with its new modification
    time or HTTP validators, so that the next check can be answered without hashing;
    ``None`` when there is nothing new to record.
    """
    if previous is None or info is None:
        return None
    refreshed = attrs.evolve(
        previous, mtime_ns=info.mtime_ns, etag=info.etag, last_modified=info.last_modified
    )
    return None if refreshed == previous else refreshed


def shrinks_too_much(stored: int, remaining: int) -> bool:
    """
    Return whether replacing a snapshot (business hours, time zones, ...) of ``stored``
    rows by one that leaves ``remaining`` removes more than half of them.

    An empty or all-rejected export of a snapshot would otherwise turn every store into
    one open all the time in the default zone, silently; a snapshot that really shrank
    that much is stored only when the operator says so (``--allow-shrink``).
    """
    return 2 * (stored - remaining) > stored
