"""
Helpers for the web tests: the page's own check of a timeline, in Python.
"""

from __future__ import annotations

from typing import Any


def measure(body: dict[str, Any], start_us: int, end_us: int) -> tuple[int, int]:
    """
    Return microseconds active and inactive inside business hours in [start_us, end_us).

    The same sum as ``measure`` in ``storemon_server/static/app.js``.
    """
    up = down = 0
    for business in body["business"]:
        lo, hi = max(business["start"]["us"], start_us), min(business["end"]["us"], end_us)
        for span in body["status"]:
            start, end = max(span["start"]["us"], lo), min(span["end"]["us"], hi)
            if start < end:
                if span["active"]:
                    up += end - start
                else:
                    down += end - start
    return up, down
