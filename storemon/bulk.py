"""
Pausing Python's cyclic garbage collector while millions of objects are made in bulk.

Reference counting frees everything storemon's readers make the moment it is dropped:
parsed rows, their tuples, the per-store lists. The cyclic collector is only for
reference cycles, which these loops never make, yet it runs every few hundred
allocations and its older generations walk every live container, so the more rows are
held, the more each pass costs. Measured on the full-size status file (1.8M rows), it
took 2.8 s of the 6.6 s that reading the file into per-store lists took, and 0.65 s of
an ingest's parse and gathering (docs/benchmarks.md).

``gc_paused`` turns it off for the duration of such a loop and back on after (a cycle
made meanwhile is collected then). Pauses may overlap, in one thread or several (the
server ingests in worker threads): the collector comes back on when the last one ends,
and only if it was on when the first began.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """
    Keep the cyclic garbage collector off inside the ``with`` block.
    """
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
