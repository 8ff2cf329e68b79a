"""
Half-open integer spans ``[start, end)``, and their normal form.

The engine measures time in integer units (microseconds, or half-microseconds once poll
midpoints are involved), so a span is a pair of ints. A sequence of spans in normal form
is sorted, disjoint, without empty spans and with touching spans merged: two sequences
in normal form are equal exactly when they cover the same points.
"""

from __future__ import annotations

from collections.abc import Iterable

Span = tuple[int, int]


def normalise(spans: Iterable[Span]) -> tuple[Span, ...]:
    """
    Return spans sorted, with empty ones dropped and overlapping or touching ones merged.
    """
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)
