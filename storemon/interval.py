"""
Half-open integer spans ``[start, end)``, and their normal form.

The engine measures time in integer units (microseconds, or half-microseconds once poll
midpoints are involved), so a span is a pair of ints. A sequence of spans in normal form
is sorted, disjoint, without empty spans and with touching spans merged: two sequences
in normal form are equal exactly when they cover the same points.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

Span = tuple[int, int]


def normalise(spans: Iterable[Span]) -> tuple[Span, ...]:
    """
    Return spans sorted, with empty ones dropped and overlapping or touching ones merged.
    """
    ordered = sorted(s for s in spans if s[0] < s[1])
    if len(ordered) <= 1:  # most days of most business hours: nothing to merge
        return tuple((start, end) for start, end in ordered)
    merged: list[list[int]] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def difference(left: Iterable[Span], right: Iterable[Span]) -> Iterator[Span]:
    """
    Yield the points of ``left`` not in ``right``, both sorted, disjoint span sequences.

    One merge pass, for the hot path (the unknown stretches cut out of business time).
    """
    right_iter = iter(right)
    cut = next(right_iter, None)
    for start, end in left:
        cursor = start
        # Spans of ``right`` that end before this span starts cut nothing more.
        while cut is not None and cut[1] <= cursor:
            cut = next(right_iter, None)
        while cut is not None and cut[0] < end:
            if cut[0] > cursor:
                yield (cursor, cut[0])
            if cut[1] >= end:
                # This cut may reach into the next span of ``left``: keep it.
                cursor = end
                break
            cursor = cut[1]
            cut = next(right_iter, None)
        if cursor < end:
            yield (cursor, end)
