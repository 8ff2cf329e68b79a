"""
``kept_polls``: dropping a poll whose status equals both neighbours' changes no number.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storemon.uptime import kept_polls, status_changes


@given(
    st.lists(st.tuples(st.integers(1, 10**7), st.booleans()), min_size=1, max_size=60),
)
def test_kept_polls_keep_the_timeline(draws: list[tuple[int, bool]]) -> None:
    """The kept polls give the same status timeline as all polls, first and last kept."""
    times: list[int] = []
    at = 0
    for gap, _ in draws:
        at += gap
        times.append(at)
    actives = [active for _, active in draws]
    kept = kept_polls("".join("1" if active else "0" for active in actives))
    assert kept == sorted(set(kept))
    assert kept[0] == 0
    assert kept[-1] == len(times) - 1
    assert status_changes(
        [times[index] for index in kept], [actives[index] for index in kept], times[-1]
    ) == status_changes(times, actives, times[-1])


def test_kept_polls_drop_only_polls_inside_a_run() -> None:
    """Polls inside a run of one status go; both polls of each change stay."""
    assert kept_polls("1111") == [0, 3]
    assert kept_polls("11100111") == [0, 2, 3, 4, 5, 7]
    assert kept_polls("010") == [0, 1, 2]
    assert kept_polls("1") == [0]
    assert kept_polls("") == []
