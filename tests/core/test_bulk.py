"""
``gc_paused`` turns the cyclic collector off while any pause lasts, and restores it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from storemon.bulk import gc_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_pause_turns_the_collector_off_and_back_on() -> None:
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_end_with_the_last() -> None:
    """Pauses overlapping out of order (threads of a server) restore it once, at the end."""
    gc.enable()
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_an_error_inside_still_restores_it() -> None:
    gc.enable()
    with pytest.raises(ValueError, match="boom"), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_pauses_in_threads_at_once() -> None:
    gc.enable()
    inside = threading.Barrier(4)
    states: list[bool] = []

    def pause() -> None:
        with gc_paused():
            inside.wait()
            states.append(gc.isenabled())
            inside.wait()

    threads = [threading.Thread(target=pause) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert states == [False] * 4
    assert gc.isenabled()
