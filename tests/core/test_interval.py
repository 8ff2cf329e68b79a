"""
``normalise`` against a brute-force grid: a span ``[a, b)`` of integers is the set of unit
cells ``a, a + 1, ..., b - 1``.
"""

from __future__ import annotations

import itertools

from hypothesis import given

from storemon.interval import difference, normalise
from tests.strategies import span_lists

Spans = list[tuple[int, int]]


def cells(spans: Spans) -> set[int]:
    """
    The unit cells covered by raw spans; an empty or reversed span covers none.
    """
    return {cell for start, end in spans for cell in range(start, end)}


@given(spans=span_lists())
def test_normal_form_covers_the_same_cells(spans: Spans) -> None:
    """normalise covers exactly the cells of its raw spans, sorted, disjoint and merged."""
    normal = normalise(spans)
    assert cells(list(normal)) == cells(spans)
    assert all(start < end for start, end in normal)
    # Sorted, disjoint and not touching: each span ends strictly before the next starts.
    assert all(left[1] < right[0] for left, right in itertools.pairwise(normal))


@given(left=span_lists(), right=span_lists())
def test_normal_forms_are_equal_exactly_when_the_cells_are(left: Spans, right: Spans) -> None:
    """Two normal forms are equal exactly when their raw spans cover the same cells."""
    assert (normalise(left) == normalise(right)) == (cells(left) == cells(right))


def test_normalise_merges_touching_and_drops_empty_spans() -> None:
    """Touching spans merge, empty and reversed ones vanish, the rest come sorted."""
    assert normalise([(12, 13), (10, 11), (11, 12), (20, 20), (30, 25)]) == ((10, 13),)
    assert normalise([(5, 7), (1, 2), (6, 9)]) == ((1, 2), (5, 9))
    assert normalise([]) == ()


@given(left=span_lists(), right=span_lists())
def test_difference_is_the_set_difference(left: Spans, right: Spans) -> None:
    """difference() of two normal forms covers exactly the cells of left not in right."""
    result = list(difference(normalise(left), normalise(right)))
    assert cells(result) == cells(left) - cells(right)
    assert all(start < end for start, end in result)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(result))
