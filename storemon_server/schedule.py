"""
Tick maths for the refresh loop: pure, never sleeps, never reads a clock.
"""

from __future__ import annotations

import datetime as dt


def next_run(after: dt.datetime, every: dt.timedelta, *, anchor: dt.datetime) -> dt.datetime:
    """
    Return the first tick ``anchor + k * every`` (k >= 1) strictly after ``after``.

    Ticks stay on the grid set by ``anchor`` however long a run takes: a run that overruns
    one or more ticks skips them instead of running back to back.

    Raises:
        ValueError: ``every`` is not positive.
    """
    if every <= dt.timedelta(0):
        raise ValueError(f"the interval must be positive, got {every}")
    if after < anchor:
        return anchor + every
    elapsed_ticks = (after - anchor) // every
    return anchor + (elapsed_ticks + 1) * every
