"""
A one-line progress display on a terminal: what is being read, how far, how fast, how
long is left.

``TerminalProgress`` is a ``storemon.lines.SourceProgress``: readers call it after every
chunk of lines (about 1 MiB). It redraws at most every ``interval`` seconds, over itself
(``\\r`` and erase to the end of the line), and ``clear`` removes it so the lines printed
after it start clean. The command line creates one only when standard error is a terminal
and ``--quiet`` is not given, so pipes, files and scripts never see it.

Written here rather than taken from ``tqdm`` or ``rich``: one line of text for one kind
of work needs a few dozen lines, and storemon keeps its required dependencies to
attrs, tzdata and aiosqlite (docs/design.md).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TextIO

#: Move to the start of the line; erase from the cursor to the end of the line.
_RETURN = "\r"
_ERASE = "\x1b[K"


def count_text(value: float) -> str:
    """
    Return a count for a glance: ``950``, ``12.3k``, ``1.84M``.
    """
    if value < 1_000:
        return f"{value:.0f}"
    if value < 1_000_000:
        return f"{value / 1_000:.1f}k"
    return f"{value / 1_000_000:.2f}M"


def seconds_text(seconds: float) -> str:
    """
    Return a duration for a glance: ``7 s``, ``2 min 05 s``.
    """
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"


def progress_line(
    name: str,
    size: int | None,
    offset: int,
    rows: int,
    *,
    rows_per_s: float | None,
    eta: float | None,
) -> str:
    """
    Return the text of one progress line, such as
    ``reading store_status.csv: 45%, 812.3k rows, 310.2k rows/s, 4 s left``.
    """
    parts = [f"reading {os.path.basename(name.rstrip('/')) or name}:"]
    if size:
        parts.append(f"{min(100, offset * 100 // size)}%,")
    parts.append(f"{count_text(rows)} rows")
    if rows_per_s is not None:
        parts[-1] += ","
        parts.append(f"{count_text(rows_per_s)} rows/s")
    if eta is not None:
        parts[-1] += ","
        parts.append(f"{seconds_text(eta)} left")
    return " ".join(parts)


class TerminalProgress:
    """
    Draw the reading of sources on one terminal line.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._source: str | None = None
        #: Where and when the current source's reading was first told: the rate counts
        #: from there (an appended file starts at its old end).
        self._start: tuple[float, int, int] = (0.0, 0, 0)
        self._drawn_at: float | None = None
        self._shown = False

    def __call__(self, source: str, size: int | None, offset: int, lines: int) -> None:
        with self._lock:
            now = self.clock()
            if source != self._source:
                self._source = source
                self._start = (now, offset, lines)
                self._drawn_at = None
            elif self._drawn_at is not None and now - self._drawn_at < self.interval:
                return
            started_at, first_offset, first_lines = self._start
            elapsed = now - started_at
            rate = eta = None
            if elapsed > 0 and lines > first_lines:
                rate = (lines - first_lines) / elapsed
                if size and offset > first_offset:
                    eta = (size - offset) * elapsed / (offset - first_offset)
            rows = max(lines - 1, 0)  # the header is not a row
            text = progress_line(source, size, offset, rows, rows_per_s=rate, eta=eta)
            self.stream.write(_RETURN + text + _ERASE)
            self.stream.flush()
            self._drawn_at = now
            self._shown = True

    def clear(self) -> None:
        """
        Erase the line, if one was drawn, so that the next output starts clean.
        """
        with self._lock:
            if self._shown:
                self.stream.write(_RETURN + _ERASE)
                self.stream.flush()
                self._shown = False
            self._source = None
