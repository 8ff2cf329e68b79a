"""
Incremental refresh: how to read a source again, decided from what its last ingest
recorded (``SourceState``) and what the source shows now (``docs/ingestion.md``).

Pure: fed metadata and hashes, it returns a mode; ``storemon.ingest`` does the reading.

- **unchanged**: an HTTP 304, an unchanged strong ``ETag``, or unchanged
  ``Last-Modified`` and ``Content-Length``; otherwise the bytes read last time still
  give the recorded fingerprint and the bytes after them are the same. Nothing is
  parsed or written.
- **appended** (status sources only): the first ``offset`` bytes, the complete lines
  read last time, still give the recorded fingerprint. Only what follows is parsed, with
  line numbers counted on from there.
- **full**: anything else; the whole source is parsed again (still idempotent) and its
  old rejected rows are replaced by the new ones.

The fingerprint of the bytes read last time is, for a file, a **sampled** one
(``sample_ranges``): the SHA-256 of its length, its first block (the header), 64 blocks
spread evenly over it and its last MiB, so proving that a 1.3 GB file only grew reads
about 5 MiB of it, not 1.3 GB. A URL is read whole anyway, so its fingerprint is the
SHA-256 of every byte, as every fingerprint was before sampling; such a recorded hash
(no ``sampled1:`` tag) is still checked byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import attrs

from storemon.model import SourceInfo, SourceState
from storemon.sources import SourceKind

UNCHANGED = "unchanged"
APPENDED = "appended"
FULL = "full"

#: The tag of a sampled fingerprint; a recorded hash without it is the SHA-256 (hex) of
#: every byte. Another sampling would be another tag, never a silent change of this one.
SAMPLED = "sampled1:"
#: Bytes in each sampled block.
SAMPLE_BLOCK_BYTES = 64 << 10
#: Blocks spread evenly from the first byte to the last stretch (``SAMPLE_END_BYTES``).
SAMPLE_BLOCKS = 64
#: The last bytes before the end, taken whole: the rows of the latest hours, which an
#: export that corrects its recent rows rewrites.
SAMPLE_END_BYTES = 1 << 20


def sample_ranges(length: int) -> tuple[tuple[int, int], ...]:
    """
    Return the ranges ``[start, end)`` of the first ``length`` bytes of a file that its
    sampled fingerprint covers, in order and disjoint: all of them when they are no more
    than the samples would be, else ``SAMPLE_BLOCKS`` blocks spread evenly from the
    first byte on (the first holds the header) and the last ``SAMPLE_END_BYTES``.
    """
    if length <= SAMPLE_BLOCKS * SAMPLE_BLOCK_BYTES + SAMPLE_END_BYTES:
        return ((0, length),) if length else ()
    end_start = length - SAMPLE_END_BYTES
    last_block = end_start - SAMPLE_BLOCK_BYTES
    ranges: list[tuple[int, int]] = []
    for index in range(SAMPLE_BLOCKS):
        start = index * last_block // (SAMPLE_BLOCKS - 1)
        ranges.append((start, start + SAMPLE_BLOCK_BYTES))
    ranges.append((end_start, length))
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def sampled_fingerprint(length: int, samples: Iterable[bytes]) -> str:
    """
    Return the sampled fingerprint of the first ``length`` bytes of a file, given the
    bytes of its ``sample_ranges(length)`` in order.
    """
    digest = hashlib.sha256(b"%d\n" % length)
    for sample in samples:
        digest.update(sample)
    return SAMPLED + digest.hexdigest()


def content_fingerprint(prefix_hash: str, tail: bytes) -> str:
    """
    Return the fingerprint of a whole file: the sampled one of its complete lines
    (``prefix_hash``) and every byte of what follows them (a last line without a line
    feed, or nothing).
    """
    return SAMPLED + hashlib.sha256(prefix_hash.encode() + b"\n" + tail).hexdigest()


def is_sampled(recorded_hash: str) -> bool:
    """
    Return whether a recorded fingerprint is a sampled one (else the SHA-256 of every
    byte, as recorded for URLs and by versions before sampling).
    """
    return recorded_hash.startswith(SAMPLED)


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
        prefix_hash: The fingerprint of the source's first ``previous.offset`` bytes, of
            the recorded kind (sampled, or SHA-256); ``None`` when the source is shorter.
        content_hash: The fingerprint of every byte of the source, of the same kind,
            when it was read to its end; ``None`` when it goes on.
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
