"""
Polls a day per row: the pure part of the SQL backends' ``poll_days`` table.

A store's polls of one UTC day are one row: ``times``, the instants in increasing order,
each once, as 16 hexadecimal digits (64-bit two's complement, most significant digit
first); ``statuses``, one character per instant, ``1`` active and ``0`` inactive; and
``last_us``, the day's latest instant. Hexadecimal text turns into integers in one step
of C (``bytes.fromhex`` into an ``array``), SQLite can concatenate a store's days into
one string without reading them, and the migration from a row per poll writes it in SQL
(``printf('%016x')``).

An ingest gathers its polls here by store (``PollBuffer``), cuts them into days in time
order, and the merge with the stored days (``merge_day``) keeps the rule of a row per
poll: rows for one instant are applied in file order, the later wins, and a row counts
as changed when its instant is new or its status differs from the one stored.
"""

from __future__ import annotations

import array
import bisect
import functools
import itertools
import operator
import sys
from collections.abc import Iterable, Iterator, Sequence

from storemon.model import PollColumns, PollRecord
from storemon.uptime import kept_polls

#: Microseconds in a UTC day: a poll's day is ``at_us // DAY_US``.
DAY_US = 86_400_000_000

#: Hexadecimal digits per instant.
TIME_DIGITS = 16

#: Status bytes (0 or 1) as the characters stored.
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")

#: A status byte (0 or 1) as the text stored.
_STATUS_TEXT = ("0", "1")

_LITTLE_ENDIAN = sys.byteorder == "little"

#: A day row as staged: store id, day, times, statuses, latest instant, and whether
#: every instant is there once (no two rows of the file for one instant).
StagedDay = tuple[str, int, str, str, int, bool]

#: A day row as stored: store id, day, times, statuses, latest instant.
StoredDay = tuple[str, int, str, str, int]

#: A store's polls as staged by ``PollBuffer.drain_stores``: store id, times, statuses,
#: and whether every instant is there once, over any number of days.
StagedStore = tuple[str, str, str, bool]

#: A piece of one store's staged polls, as ``merge_store`` takes it: times, statuses,
#: and whether every instant is there once.
Piece = tuple[str, str, bool]

#: A day of one store: day, times, statuses, latest instant.
Day = tuple[int, str, str, int]


def encode_times(instants: array.array[int]) -> str:
    """
    The instants as stored (consumes ``instants``: it is byte-swapped in place).
    """
    if _LITTLE_ENDIAN:
        instants.byteswap()
    return instants.tobytes().hex()


def decode_times(times: str) -> tuple[array.array[int], bytes]:
    """
    The stored instants as integers, and as their big-endian bytes.

    Raises ``ValueError`` when ``times`` is not a whole number of 16-digit instants.
    """
    packed = bytes.fromhex(times)
    if 2 * len(packed) != len(times) or len(packed) % 8:
        raise ValueError("stored poll times are not 16 hexadecimal digits each")
    instants = array.array("q", packed)
    if _LITTLE_ENDIAN:
        instants.byteswap()
    return instants, packed


def first_instant(times: str) -> int:
    return int.from_bytes(bytes.fromhex(times[:TIME_DIGITS]), "big", signed=True)


#: At most this many polls a store on average, a stage that was never flushed is an
#: append (an hour's poll a store, or a few after a pause): each backend first tries to
#: write it in one statement, and else stages it for the stores that only lengthen a day
#: to be merged in SQL. More (a first ingest, a re-export) are merged from the buffer on
#: SQLite, staged on PostgreSQL.
APPEND_POLLS_PER_STORE = 4


class PollBuffer:
    """
    Polls gathered by store in file order, then handed out as day rows.

    Memory: 9 bytes per poll (an 8-byte instant and a status byte) and a little per store.
    """

    def __init__(self) -> None:
        self._stores = _StorePolls()
        #: Polls gathered.
        self.size = 0
        #: The earliest and latest instant gathered (``None`` when nothing is), kept as
        #: batches come: a batch's column is one C-level pass, while the whole buffer
        #: after the gathering would be another pass over every poll, with none beside it.
        self._span: tuple[int, int] | None = None

    @property
    def stores(self) -> int:
        """
        The stores with polls gathered.
        """
        return len(self._stores)

    def day_span(self) -> tuple[int, int] | None:
        """
        The first and last UTC day of the polls gathered, or ``None`` without any.
        """
        if not self.size or self._span is None:
            return None
        first, last = self._span
        return first // DAY_US, last // DAY_US

    def take(self, rows: Iterator[PollRecord], limit: int) -> int:
        """
        Gather up to ``limit`` rows from ``rows``; return how many there were.
        """
        batch = list(itertools.islice(rows, limit))
        self._gather(batch)
        return len(batch)

    def take_batches(self, batches: Iterator[Sequence[PollRecord]], limit: int) -> int:
        """
        Gather whole batches from ``batches`` until at least ``limit`` rows are taken or
        they end; return how many rows (0 only at their end).
        """
        taken = 0
        while taken < limit:
            batch = next(batches, None)
            if batch is None:
                break
            self._gather(batch)
            taken += len(batch)
        return taken

    def _gather(self, records: Sequence[PollRecord]) -> None:
        # The hot loop of an ingest, once per row: the columns of a parsed batch are
        # walked at once, without making its tuples.
        if not records:
            return
        rows: Iterable[tuple[str, int, bool | int]]
        if isinstance(records, PollColumns):
            store_ids, times, actives = records.columns()
            rows = zip(store_ids, times, actives, strict=True)
            first, last = min(times), max(times)
        else:
            rows = records
            first = min(at_us for _, at_us, _ in records)
            last = max(at_us for _, at_us, _ in records)
        stores = self._stores
        for store_id, at_us, active in rows:
            instants, statuses = stores[store_id]
            instants.append(at_us)
            statuses.append(active)  # a bool is the int 0 or 1
        self.size += len(records)
        if self._span is not None:
            first, last = min(first, self._span[0]), max(last, self._span[1])
        self._span = first, last

    def drain(self) -> Iterator[StagedDay]:
        """
        Hand out the gathered polls as day rows in key order (store id, day), forgetting
        each store's polls as its rows are made (the buffer is empty at the end). Within
        a day, instants are in increasing order and rows for one instant in the order
        they were gathered.
        """
        for store_id, ordered, text, distinct in self._sorted_stores():
            yield from _days(store_id, ordered, text, distinct)

    def drain_stores(self) -> Iterator[StagedStore]:
        """
        Hand out the gathered polls a row per store, in store-id order: ``(store id,
        times, statuses, distinct)`` as a day row holds them but over any number of days
        (``merge_store`` cuts them into days). The buffer is empty at the end.
        """
        for store_id, ordered, text, distinct in self._sorted_stores():
            yield store_id, encode_times(ordered), text, distinct

    def _sorted_stores(self) -> Iterator[tuple[str, array.array[int], str, bool]]:
        # Each store's polls in time order (rows for one instant in the order gathered),
        # its statuses as characters, and whether each instant is there once; a store's
        # polls are forgotten as it is handed out.
        stores = self._stores
        self.size = 0
        self._span = None
        for store_id in sorted(stores):
            instants, statuses = stores.pop(store_id)
            if len(instants) == 1:  # an hourly append: one poll a store, nothing to sort
                yield store_id, instants, _STATUS_TEXT[statuses[0]], True
                continue
            latest = dict(zip(instants, statuses, strict=True))
            if len(latest) == len(instants):  # each instant once: sort the instants alone
                ordered = array.array("q", sorted(latest))
                flags = bytes(map(latest.__getitem__, ordered))
                distinct = True
            else:  # a stable sort keeps the rows for one instant in the order they came
                order = sorted(range(len(instants)), key=instants.__getitem__)
                ordered = array.array("q", map(instants.__getitem__, order))
                flags = bytes(map(statuses.__getitem__, order))
                distinct = False
            yield store_id, ordered, flags.translate(_DIGITS).decode("ascii"), distinct


class _StorePolls(dict[str, tuple["array.array[int]", bytearray]]):
    """
    Each store's instants and status bytes, in the order gathered; empty for a new store.
    """

    def __missing__(self, store_id: str) -> tuple[array.array[int], bytearray]:
        polls = self[store_id] = (array.array("q"), bytearray())
        return polls


def _days(
    store_id: str, instants: array.array[int], statuses: str, distinct: bool
) -> Iterator[StagedDay]:
    """
    Cut one store's polls, in time order, into day rows; ``distinct``: every instant is
    there once (else each day is checked).
    """
    for day, start, end in _day_ranges(instants):
        times = instants[start:end]
        last_us = times[-1]
        once = distinct or len(set(times)) == len(times)
        yield store_id, day, encode_times(times), statuses[start:end], last_us, once


def _day_ranges(instants: Sequence[int]) -> Iterator[tuple[int, int, int]]:
    """
    ``(day, start, end)`` of each day of instants in increasing order: they are
    ``instants[start:end]``.
    """
    start = 0
    while start < len(instants):
        day = instants[start] // DAY_US
        end = bisect.bisect_left(instants, (day + 1) * DAY_US, start)
        yield day, start, end
        start = end


def merge_store(
    stored: dict[int, tuple[str, str, int]], pieces: Sequence[Piece]
) -> tuple[int, list[Day]]:
    """
    Merge the staged pieces of one store (``PollBuffer.drain_stores`` rows, in staging
    order) into its stored days: the rule of ``merge_day``, day by day.

    Args:
        stored: The store's stored ``(times, statuses, last_us)`` by day; days the
            pieces do not touch may be left out.
        pieces: ``(times, statuses, distinct)`` of each piece.

    Returns:
        How many rows were new or changed, and the days to write.
    """
    appended = _appended(stored, pieces)
    if appended is not None:
        return len(pieces[0][1]), [appended]
    later = _later_than_stored(stored, pieces)
    if later is not None:
        times, statuses, last_day = later
        if not statuses:
            return 0, []
        return merge_store({last_day: stored[last_day]}, [(times, statuses, True)])
    decoded = [decode_times(times)[0] for times, _s, _d in pieces]
    if all(distinct for _t, _s, distinct in pieces):
        instants = decoded[0]
        flags = pieces[0][1]
        once = True
        if len(pieces) > 1:  # each piece is in time order, the whole is not
            latest = dict(
                zip(itertools.chain(*decoded), "".join(p[1] for p in pieces), strict=True)
            )
            once = len(latest) == sum(map(len, decoded))
            instants = array.array("q", sorted(latest))
            flags = "".join(map(latest.__getitem__, instants))
        ranges = list(_day_ranges(instants))
        if once and not any(day in stored for day, _start, _end in ranges):
            # New days only (a first ingest): every row is new, written as it is.
            times = pieces[0][0] if len(pieces) == 1 else encode_times(instants[:])
            return len(flags), [
                (day, times[TIME_DIGITS * a : TIME_DIGITS * b], flags[a:b], instants[b - 1])
                for day, a, b in ranges
            ]
    by_day: dict[int, list[tuple[str, str, bool]]] = {}
    for (times, statuses, distinct), piece in zip(pieces, decoded, strict=True):
        for day, a, b in _day_ranges(piece):
            part = (times[TIME_DIGITS * a : TIME_DIGITS * b], statuses[a:b], distinct)
            by_day.setdefault(day, []).append(part)
    changed = 0
    days: list[Day] = []
    for day in sorted(by_day):
        count, row = merge_day(stored.get(day), by_day[day])
        changed += count
        if row is not None:
            days.append((day, *row))
    return changed, days


def _appended(
    stored: dict[int, tuple[str, str, int]], pieces: Sequence[tuple[str, str, bool]]
) -> Day | None:
    """
    The one day to write when the store's polls are one piece of distinct instants, all
    in one stored day and after its latest poll (an hourly append), else ``None``: what
    ``merge_day`` writes then, the stored row lengthened, found from the first and last
    instants alone (the merge of an hour into weeks does this for every store).
    """
    if len(pieces) != 1 or not pieces[0][2]:
        return None
    times, statuses, _distinct = pieces[0]
    first = first_instant(times)
    day = first // DAY_US
    row = stored.get(day)
    if row is None or first <= row[2] or not _well_formed(row[0], row[1]):
        return None
    last = last_instant(times)
    if last // DAY_US != day:
        return None
    return day, row[0] + times, row[1] + statuses, last


def _later_than_stored(
    stored: dict[int, tuple[str, str, int]], pieces: Sequence[Piece]
) -> tuple[str, str, int] | None:
    """
    When the store's polls are one piece of distinct instants that starts with every
    stored poll given, as stored (a file re-exported whole, with more at its end): the
    polls after them (maybe none) and the last stored day, else ``None``. Those stored
    polls change nothing, and the rest all come after them: found with two string
    comparisons instead of a merge of each day.
    """
    if len(pieces) != 1 or not pieces[0][2] or not stored:
        return None
    days = sorted(stored)
    rows = [stored[day] for day in days]
    if not all(_well_formed(times, statuses) for times, statuses, _last in rows):
        return None
    stored_times = "".join(times for times, _statuses, _last in rows)
    stored_statuses = "".join(statuses for _times, statuses, _last in rows)
    times, statuses, _distinct = pieces[0]
    if not (times.startswith(stored_times) and statuses.startswith(stored_statuses)):
        return None
    return times[len(stored_times) :], statuses[len(stored_statuses) :], days[-1]


def merge_day(
    stored: tuple[str, str, int] | None, pieces: Sequence[tuple[str, str, bool]]
) -> tuple[int, tuple[str, str, int] | None]:
    """
    Merge staged pieces of one store's day (in staging order) into its stored row.

    Args:
        stored: The stored ``(times, statuses, last_us)``, or ``None``.
        pieces: ``(times, statuses, distinct)`` of each piece, as ``PollBuffer.drain``
            made them.

    Returns:
        How many rows were new or changed the status stored at their instant (the rows
        applied one by one in order), and the new ``(times, statuses, last_us)``, or
        ``None`` when nothing changed.
    """
    if stored is not None and not _well_formed(stored[0], stored[1]):
        stored = None  # a row no version of storemon writes: the new polls replace it
    if len(pieces) == 1 and pieces[0][2]:
        times, statuses, _distinct = pieces[0]
        if stored is None:
            return len(statuses), (times, statuses, last_instant(times))
        if (times, statuses) == stored[:2]:
            return 0, None
        if first_instant(times) > stored[2]:  # after every stored poll: an append
            return len(statuses), (stored[0] + times, stored[1] + statuses, last_instant(times))
    if stored is None and all(distinct for _times, _statuses, distinct in pieces):
        # A new day in several pieces (a file in no order over more polls than a flush
        # holds): read them as one; when no instant is in two pieces, every row is new.
        instants = decode_times("".join(times for times, _s, _d in pieces))[0]
        flags = "".join(statuses for _t, statuses, _d in pieces)
        latest = dict(zip(instants, flags, strict=True))
        if len(latest) == len(instants):
            ordered = sorted(latest)
            text = "".join(map(latest.__getitem__, ordered))
            return len(instants), (encode_times(array.array("q", ordered)), text, ordered[-1])
    merged: dict[int, str] = {}
    if stored is not None:
        try:
            merged.update(zip(decode_times(stored[0])[0], stored[1], strict=True))
        except ValueError:  # not hexadecimal: as above
            merged.clear()
    changed = 0
    for times, statuses, distinct in pieces:
        instants = decode_times(times)[0]
        if distinct:
            # Each instant once: the rows that change something are those whose status
            # differs from the one held, counted and applied without a Python step each.
            same = sum(map(operator.eq, map(merged.get, instants), statuses))
            changed += len(statuses) - same
            merged.update(zip(instants, statuses, strict=True))
            continue
        for at_us, status in zip(instants, statuses, strict=True):
            if merged.get(at_us) != status:
                merged[at_us] = status
                changed += 1
    if not changed:
        return 0, None
    ordered = sorted(merged)
    flags = "".join(map(merged.__getitem__, ordered))
    return changed, (encode_times(array.array("q", ordered)), flags, ordered[-1])


def _well_formed(times: str, statuses: str) -> bool:
    # The cheap checks of a stored row (its hexadecimal digits are checked when decoded).
    return bool(statuses) and len(times) == TIME_DIGITS * len(statuses) and not statuses.strip("01")


def last_instant(times: str) -> int:
    return int.from_bytes(bytes.fromhex(times[-TIME_DIGITS:]), "big", signed=True)


def window(
    times: str, statuses: str, since_us: int, as_of_us: int
) -> tuple[array.array[int], bytes, str]:
    """
    The polls a report reads of one store's consecutive days: those in
    ``[since_us, as_of_us]`` and the latest before ``since_us`` (which decides the status
    at the start of the week), as instants, their big-endian bytes, and statuses.

    Raises ``ValueError`` when the times cannot be read or do not match the statuses.
    """
    instants, packed = decode_times(times)
    if len(instants) != len(statuses):
        raise ValueError("stored poll times and statuses differ in number")
    start = max(bisect.bisect_left(instants, since_us) - 1, 0)
    end = bisect.bisect_right(instants, as_of_us)
    if start == 0 and end == len(instants):
        return instants, packed, statuses
    return instants[start:end], packed[8 * start : 8 * end], statuses[start:end]


def pruned(
    days: Sequence[tuple[int, str, str]], before_us: int
) -> tuple[int, list[int], list[tuple[int, str, str, int]]]:
    """
    One store's days up to the day of ``before_us``, in day order, without the polls
    before ``before_us`` but the latest of them (what a report whose week starts at or
    after the cut reads of the past).

    Returns:
        The polls removed, the days to delete, and the days to rewrite as
        ``(day, times, statuses, last_us)``.
    """
    # The latest poll before the cut is in the last day that has a poll before it.
    keep_day: int | None = None
    keep_from = 0
    for day, times, _statuses in reversed(days):
        instants, _packed = decode_times(times)
        if not instants:
            raise ValueError("a stored day without polls")
        if instants[0] < before_us:
            keep_day = day
            keep_from = bisect.bisect_left(instants, before_us) - 1
            break
    if keep_day is None:
        return 0, [], []
    removed = 0
    deleted: list[int] = []
    rewritten: list[tuple[int, str, str, int]] = []
    for day, times, statuses in days:
        if day < keep_day:
            removed += len(statuses)
            deleted.append(day)
        elif day == keep_day and keep_from > 0:
            removed += keep_from
            kept = times[TIME_DIGITS * keep_from :]
            rewritten.append((day, kept, statuses[keep_from:], last_instant(kept)))
    return removed, deleted, rewritten


def polls_of(
    rows: Iterable[tuple[str, str]], since_us: int, as_of_us: int
) -> tuple[list[int], list[bool]]:
    """
    Every poll a report reads of one store, from its day rows in day order (``window``).
    """
    rows = list(rows)
    if not rows:
        return [], []
    times = "".join(row[0] for row in rows)
    statuses = "".join(row[1] for row in rows)
    instants, _packed, flags = window(times, statuses, since_us, as_of_us)
    return list(instants), [flag == "1" for flag in flags]


def each_poll(rows: Iterable[tuple[str, int, str, str]]) -> Iterator[tuple[str, int, int]]:
    """
    The polls of stored day rows ``(store id, day, times, statuses)``, a row per poll as
    versions before 6 stored them: ``(store id, instant, 1 or 0)``.
    """
    for store_id, _day, times, statuses in rows:
        instants, _packed = decode_times(times)
        for at_us, flag in zip(instants, statuses, strict=True):
            yield store_id, at_us, int(flag)


#: What ``kept`` returns: the kept instants and statuses, and where the gaps are among
#: them (``StoreSnapshot.gap_after``; ``None`` without a maximum gap).
Kept = tuple[list[int], list[bool], tuple[int, ...] | None]


def kept(
    times: str, statuses: str, since_us: int, as_of_us: int, max_gap_us: int | None
) -> Kept | None:
    """
    The polls that decide a store's numbers, from its consecutive days (``window``):
    ``kept_polls`` of its polls in the report's range, or with a maximum gap
    ``kept_polls_with_gaps``, with where the gaps are among the kept polls
    (``StoreSnapshot.gap_after``); ``None`` when it has no poll in the range.

    Raises ``ValueError`` when the times cannot be read.

    The instants are read at once (``bytes.fromhex`` into a signed 64-bit array) and the
    gaps found by ``gaps_over``: one Python step per poll would cost more than the rest
    of the report's work on it.
    """
    instants, packed, flags = window(times, statuses, since_us, as_of_us)
    if not instants:
        return None
    indices: Sequence[int] = kept_polls(flags)
    gap_after: tuple[int, ...] | None = None
    if max_gap_us is not None:
        gap_after = ()
        gaps = gaps_over(packed, instants, max_gap_us)
        if gaps:
            indices = sorted({*indices, *gaps, *map((1).__add__, gaps)})
            gap_after = tuple(map(bisect.bisect_left, itertools.repeat(indices), gaps))
    return (
        list(map(instants.__getitem__, indices)),
        list(map("1".__eq__, map(flags.__getitem__, indices))),
        gap_after,
    )


#: One 64-bit lane of ``gaps_over``'s packed integer: its top bit, and the bytes of it.
_LANE_BITS = 64
_LANE_TOP = b"\x80" + bytes(7)


def gaps_over(packed: bytes, instants: Sequence[int], max_gap_us: int) -> list[int]:
    """
    Return the indices ``i`` where ``instants[i + 1] - instants[i] > max_gap_us``, given
    the same instants as ``packed``, 64-bit big-endian two's complement each.

    Those bytes read as one integer holds the instants in 64-bit lanes, the first on top, so
    a few operations on it act on every lane at once: less itself shifted down one lane,
    each lane below the top holds one step between consecutive instants (increasing and
    not negative, so no lane borrows from the next); adding ``2**63 - 1 - max_gap_us`` to
    every lane sets a lane's top bit exactly when its step is over the maximum gap (a step
    is under ``2**63``, so no lane carries into the next). Instants before 1970 or a gap of
    ``2**62`` microseconds or more take one step per poll instead.
    """
    count = len(instants)
    if count < 2 or instants[-1] - instants[0] <= max_gap_us:
        return []
    if instants[0] < 0 or max_gap_us >= 2**62:
        steps = map(operator.sub, itertools.islice(instants, 1, None), instants)
        return list(itertools.compress(itertools.count(), map(max_gap_us.__lt__, steps)))
    lanes = int.from_bytes(packed, "big")
    add, top = _lane_constants(count, max_gap_us)
    flags = (((lanes - (lanes >> _LANE_BITS)) + add) & top).to_bytes(8 * count, "big")
    # Lane 0 holds the first instant itself, not a step: start at lane 1 (byte 8).
    gaps: list[int] = []
    found = flags.find(0x80, 8)
    while found != -1:
        gaps.append(found // 8 - 1)
        found = flags.find(0x80, found + 8)
    return gaps


@functools.lru_cache(maxsize=256)
def _lane_constants(count: int, max_gap_us: int) -> tuple[int, int]:
    """
    ``gaps_over``'s ``2**63 - 1 - max_gap_us`` and top bit in each of ``count`` lanes.
    """
    add = (2**63 - 1 - max_gap_us).to_bytes(8, "big")
    return int.from_bytes(add * count, "big"), int.from_bytes(_LANE_TOP * count, "big")
