"""
Sets of half-open integer spans ``[start, end)``, always normalised.

The engine measures time in integer units (microseconds, or half-microseconds once poll
midpoints are involved), so a span is a pair of ints. ``SpanSet`` keeps its spans sorted,
disjoint and with touching spans merged, so two sets are equal exactly when they cover the
same points and ``repr`` shows the set itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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


class SpanSet:
    """
    A normalised, immutable set of half-open integer spans.
    """

    __slots__ = ("spans",)
    spans: tuple[Span, ...]

    def __init__(self, spans: Iterable[Span] = ()) -> None:
        object.__setattr__(self, "spans", normalise(spans))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SpanSet is immutable")

    @classmethod
    def _trusted(cls, spans: tuple[Span, ...]) -> SpanSet:
        """
        Wrap spans that are already normalised.
        """
        new = cls.__new__(cls)
        object.__setattr__(new, "spans", spans)
        return new

    def __iter__(self) -> Iterator[Span]:
        return iter(self.spans)

    def __len__(self) -> int:
        return len(self.spans)

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpanSet) and self.spans == other.spans

    def __hash__(self) -> int:
        return hash(self.spans)

    def __repr__(self) -> str:
        inner = ", ".join(f"{start}..{end}" for start, end in self.spans)
        return f"SpanSet[{inner}]"

    @property
    def duration(self) -> int:
        """
        The total length of the spans.
        """
        return sum(end - start for start, end in self.spans)

    def __or__(self, other: SpanSet) -> SpanSet:
        return SpanSet(self.spans + other.spans)

    def __and__(self, other: SpanSet) -> SpanSet:
        return SpanSet._trusted(tuple(intersect(self.spans, other.spans)))

    def __sub__(self, other: SpanSet) -> SpanSet:
        return self & other.complement(self.bounds())

    def bounds(self) -> Span:
        """
        The smallest span holding the set; ``(0, 0)`` when empty.
        """
        if not self.spans:
            return (0, 0)
        return (self.spans[0][0], self.spans[-1][1])

    def complement(self, within: Span) -> SpanSet:
        """
        Return the points of ``within`` that are not in the set.
        """
        lo, hi = within
        gaps: list[Span] = []
        cursor = lo
        for start, end in self.spans:
            if start > cursor:
                gaps.append((cursor, min(start, hi)))
            cursor = max(cursor, end)
            if cursor >= hi:
                break
        if cursor < hi:
            gaps.append((cursor, hi))
        return SpanSet(gaps)

    def clip(self, lo: int, hi: int) -> SpanSet:
        """
        Return the part of the set inside ``[lo, hi)``.
        """
        return self & SpanSet._trusted(((lo, hi),) if lo < hi else ())


def intersect(left: Iterable[Span], right: Iterable[Span]) -> Iterator[Span]:
    """
    Yield the intersection of two sorted, disjoint span sequences, sorted.
    """
    left_iter, right_iter = iter(left), iter(right)
    a = next(left_iter, None)
    b = next(right_iter, None)
    while a is not None and b is not None:
        start, end = max(a[0], b[0]), min(a[1], b[1])
        if start < end:
            yield (start, end)
        if a[1] <= b[1]:
            a = next(left_iter, None)
        else:
            b = next(right_iter, None)


def difference(left: Iterable[Span], right: Iterable[Span]) -> Iterator[Span]:
    """
    Yield the points of ``left`` not in ``right``, both sorted, disjoint span sequences.

    One merge pass, for the hot path; ``SpanSet.__sub__`` is the general operation.
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
