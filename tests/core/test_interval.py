"""
``SpanSet`` against a brute-force grid: a span ``[a, b)`` of integers is the set of unit
cells ``a, a + 1, ..., b - 1``.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon.interval import SpanSet, difference
from tests.strategies import span_lists

Spans = list[tuple[int, int]]


def cells(spans: Spans) -> set[int]:
    """
    The unit cells covered by raw spans; an empty or reversed span covers none.
    """
    return {cell for start, end in spans for cell in range(start, end)}


def cells_of(span_set: SpanSet) -> set[int]:
    return cells(list(span_set))


def assert_normalised(span_set: SpanSet) -> None:
    spans = list(span_set)
    assert all(start < end for start, end in spans)
    # Sorted, disjoint and not touching: each span ends strictly before the next starts.
    assert all(left[1] < right[0] for left, right in itertools.pairwise(spans))


@given(spans=span_lists())
def test_construction_normalises(spans: Spans) -> None:
    """A SpanSet covers exactly the cells of its raw spans, sorted, disjoint and merged."""
    span_set = SpanSet(spans)
    assert_normalised(span_set)
    assert cells_of(span_set) == cells(spans)
    assert span_set.duration == len(cells(spans))
    assert len(span_set) == len(list(span_set))
    assert bool(span_set) == bool(cells(spans))


@given(left=span_lists(), right=span_lists())
def test_equality_is_equality_of_cells(left: Spans, right: Spans) -> None:
    """Two SpanSets are equal, with equal hashes, exactly when they cover the same cells."""
    a, b = SpanSet(left), SpanSet(right)
    assert (a == b) == (cells(left) == cells(right))
    if a == b:
        assert hash(a) == hash(b)


@given(left=span_lists(), right=span_lists())
def test_union_intersection_difference(left: Spans, right: Spans) -> None:
    """|, & and - agree with union, intersection and difference of the cell sets."""
    a, b = SpanSet(left), SpanSet(right)
    for result, expected in (
        (a | b, cells(left) | cells(right)),
        (a & b, cells(left) & cells(right)),
        (a - b, cells(left) - cells(right)),
        (b - a, cells(right) - cells(left)),
    ):
        assert_normalised(result)
        assert cells_of(result) == expected
        assert result.duration == len(expected)


@given(spans=span_lists(), lo=st.integers(-5, 45), hi=st.integers(-5, 45))
def test_complement_and_clip(spans: Spans, lo: int, hi: int) -> None:
    """complement(within) and clip(lo, hi) agree with the cell sets of [lo, hi)."""
    span_set = SpanSet(spans)
    within = set(range(lo, hi))
    complement = span_set.complement((lo, hi))
    clipped = span_set.clip(lo, hi)
    assert_normalised(complement)
    assert_normalised(clipped)
    assert cells_of(complement) == within - cells(spans)
    assert cells_of(clipped) == within & cells(spans)


@given(spans=span_lists())
def test_bounds(spans: Spans) -> None:
    """bounds() is the smallest span holding the set, or (0, 0) when it is empty."""
    covered = cells(spans)
    expected = (min(covered), max(covered) + 1) if covered else (0, 0)
    assert SpanSet(spans).bounds() == expected


def test_repr_shows_the_normalised_set() -> None:
    """repr shows the merged spans in order."""
    assert repr(SpanSet([(12, 13), (10, 11), (11, 12), (20, 20), (30, 25)])) == "SpanSet[10..13]"
    assert repr(SpanSet([(5, 7), (1, 2)])) == "SpanSet[1..2, 5..7]"
    assert repr(SpanSet()) == "SpanSet[]"


def test_span_sets_are_immutable() -> None:
    """Assigning to a SpanSet raises AttributeError."""
    span_set = SpanSet([(1, 2)])
    with pytest.raises(AttributeError):
        span_set.spans = ((3, 4),)
    assert list(span_set) == [(1, 2)]


@given(left=span_lists(), right=span_lists())
def test_difference_is_the_set_difference(left: Spans, right: Spans) -> None:
    """difference() of two normalised span lists covers exactly the cells of left not in right."""
    left_set, right_set = SpanSet(left), SpanSet(right)
    result = list(difference(left_set.spans, right_set.spans))
    assert cells(result) == cells(left) - cells(right)
    assert SpanSet(result) == left_set - right_set
    assert all(start < end for start, end in result)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(result))
