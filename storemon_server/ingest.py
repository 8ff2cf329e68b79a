"""
Which sources the server ingests, and the one call that ingests them into a repository.

The sources come from ``--status``/``--business-hours``/``--timezones``/``--special-hours``
(paths or URLs) or from ``--data-dir`` under their usual names. Ingestion itself is the
library's (``storemon.ingest``): idempotent upserts for polls, whole-table snapshots for
hours, zones and special hours (under the same snapshot guard), incremental for a status
file that only grew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from storemon.errors import ConfigError, SourceError
from storemon.ingest import IngestRepository, SourceSummary
from storemon.ingest import ingest as ingest_sources
from storemon.lines import MAX_LINE_BYTES
from storemon_server.config import DEFAULT_FUTURE_TOLERANCE, Settings

#: File names looked up in ``--data-dir``, first match wins.
STATUS_NAMES = ("store_status.csv", "stores.csv")
HOURS_NAMES = ("business_hours.csv", "menu_hours.csv")
ZONES_NAMES = ("timezones.csv",)
SPECIAL_HOURS_NAMES = ("special_hours.csv",)


@attrs.frozen
class Sources:
    """
    The inputs as paths or URLs; ``None`` when a source is not configured.
    """

    status: str | None = None
    business_hours: str | None = None
    timezones: str | None = None
    special_hours: str | None = None

    def __bool__(self) -> bool:
        return any((self.status, self.business_hours, self.timezones, self.special_hours))


@attrs.frozen
class Guards:
    """
    What an ingest refuses (``storemon.ingest``): snapshots that shrink by more than half
    unless ``allow_shrink``, polls later than the clock plus ``future_tolerance``
    seconds, lines longer than ``max_line_bytes``.
    """

    allow_shrink: bool = False
    future_tolerance: float = DEFAULT_FUTURE_TOLERANCE
    max_line_bytes: int = MAX_LINE_BYTES

    @classmethod
    def of(cls, settings: Settings) -> Guards:
        """
        Return the guards the settings ask for.
        """
        return cls(settings.allow_shrink, settings.future_tolerance, settings.max_line_bytes)

    def as_args(self) -> list[str]:
        """
        Return the guards as options of ``python -m storemon_server.worker ingest``.
        """
        shrink = ["--allow-shrink"] if self.allow_shrink else []
        return [
            *shrink,
            "--future-tolerance",
            repr(self.future_tolerance),
            "--max-line-bytes",
            str(self.max_line_bytes),
        ]


def _first_existing(folder: Path, names: Iterable[str]) -> str | None:
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return str(candidate)
    return None


def resolve_sources(settings: Settings) -> Sources:
    """
    Return the sources of ``settings``: the ones named one by one, else from the data dir
    (where special hours are optional: picked up when the file is there at start-up).

    Raises:
        ConfigError: the data dir is not a folder, or holds no status file.
    """
    status, hours, zones = settings.status_source, settings.hours_source, settings.zones_source
    special = settings.special_hours_source
    folder = settings.data_dir
    if folder is not None:
        if not folder.is_dir():
            raise ConfigError(f"data dir {folder} is not a folder")
        status = status or _first_existing(folder, STATUS_NAMES)
        hours = hours or _first_existing(folder, HOURS_NAMES)
        zones = zones or _first_existing(folder, ZONES_NAMES)
        special = special or _first_existing(folder, SPECIAL_HOURS_NAMES)
        if status is None:
            raise ConfigError(f"data dir {folder} holds none of {', '.join(STATUS_NAMES)}")
    return Sources(status, hours, zones, special)


class PartialIngest(SourceError):
    """Some sources could not be ingested; the others were."""

    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message)
        #: The per-source summary, failed sources included.
        self.summary = summary


def summarise(summaries: Iterable[SourceSummary]) -> tuple[dict[str, Any], str | None]:
    """
    Return the summaries keyed by source kind, and the failures as one message (or None).
    """
    by_kind = {summary.kind: summary.to_json() for summary in summaries}
    failures = [str(item["error"]) for item in by_kind.values() if item["mode"] == "failed"]
    return by_kind, "; ".join(failures) or None


async def ingest(
    repository: IngestRepository, sources: Sources, guards: Guards | None = None
) -> dict[str, Any]:
    """
    Ingest ``sources`` with the library's incremental ingestion; return a JSON summary.

    Each source is its own transaction: a refused source leaves the stored data as it was,
    and the other sources are still ingested.

    Raises:
        PartialIngest: a source was refused (the summary is on the exception).
        StorageError: the backend failed.
    """
    guards = Guards() if guards is None else guards
    summary, error = summarise(
        await ingest_sources(
            repository,
            status=sources.status,
            business_hours=sources.business_hours,
            timezones=sources.timezones,
            special_hours=sources.special_hours,
            parse_aside=True,
            allow_shrink=guards.allow_shrink,
            future_tolerance=dt.timedelta(seconds=guards.future_tolerance),
            max_line=guards.max_line_bytes,
        )
    )
    if error is not None:
        raise PartialIngest(error, summary)
    return summary
