"""
Which sources the server ingests, and the one call that ingests them into a repository.

The sources come from ``--status``/``--business-hours``/``--timezones`` (paths or URLs) or
from ``--data-dir`` under their usual names. Ingestion itself is the library's
(``storemon.ingest``): idempotent upserts for polls, whole-table snapshots for hours and
zones, incremental for a status file that only grew.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs

from storemon.errors import ConfigError, SourceError
from storemon.repository import MetadataSink, PollSink
from storemon.sources import PollRecord, Rejected, SourceKind, read_rows
from storemon_server.config import Settings

#: File names looked up in ``--data-dir``, first match wins.
STATUS_NAMES = ("store_status.csv", "stores.csv")
HOURS_NAMES = ("business_hours.csv", "menu_hours.csv")
ZONES_NAMES = ("timezones.csv",)

_BATCH = 50_000


@attrs.frozen
class Sources:
    """
    The three inputs as paths or URLs; ``None`` when a source is not configured.
    """

    status: str | None = None
    business_hours: str | None = None
    timezones: str | None = None

    def __bool__(self) -> bool:
        return any((self.status, self.business_hours, self.timezones))

    def as_args(self) -> list[str]:
        """
        Return the sources as ``storemon ingest`` style options.
        """
        args: list[str] = []
        for option, value in (
            ("--status", self.status),
            ("--business-hours", self.business_hours),
            ("--timezones", self.timezones),
        ):
            if value is not None:
                args += [option, value]
        return args


def _first_existing(folder: Path, names: Iterable[str]) -> str | None:
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return str(candidate)
    return None


def resolve_sources(settings: Settings) -> Sources:
    """
    Return the sources of ``settings``: the ones named one by one, else from the data dir.

    Raises:
        ConfigError: the data dir is not a folder, or holds no status file.
    """
    status, hours, zones = settings.status_source, settings.hours_source, settings.zones_source
    folder = settings.data_dir
    if folder is not None:
        if not folder.is_dir():
            raise ConfigError(f"data dir {folder} is not a folder")
        status = status or _first_existing(folder, STATUS_NAMES)
        hours = hours or _first_existing(folder, HOURS_NAMES)
        zones = zones or _first_existing(folder, ZONES_NAMES)
        if status is None:
            raise ConfigError(f"data dir {folder} holds none of {', '.join(STATUS_NAMES)}")
    return Sources(status, hours, zones)


class IngestRepository(PollSink, MetadataSink, Protocol):
    """
    What ingestion writes to: polls, hours and zones (any backend, structurally).
    """


async def ingest(repository: IngestRepository, sources: Sources) -> dict[str, Any]:
    """
    Ingest ``sources`` into ``repository``; return a JSON-able summary per source.

    Raises:
        SourceError: a source cannot be read; nothing of that source was applied.
    """
    return await _ingest_files(repository, sources)


def _local_path(source: str) -> Path:
    if source.startswith(("http://", "https://")):
        raise ConfigError(
            f"{source}: URL sources need storemon.ingest, which is not installed here"
        )
    return Path(source)


def _read_all(kind: SourceKind, source: str, rejected: list[Rejected]) -> Iterator[Any]:
    path = _local_path(source)
    try:
        with path.open("rb") as handle:
            for item in read_rows(kind, handle, source):
                if isinstance(item, Rejected):
                    rejected.append(item)
                else:
                    yield item
    except OSError as error:
        raise SourceError(f"{source}: cannot read: {error.strerror or error}") from None


async def _ingest_files(repository: IngestRepository, sources: Sources) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    if sources.status is not None:
        started = time.perf_counter()
        rejected: list[Rejected] = []
        rows = list(_read_all(SourceKind.STATUS, sources.status, rejected))
        stored = 0
        for start in range(0, len(rows), _BATCH):
            batch: list[PollRecord] = rows[start : start + _BATCH]
            stored += await repository.add_polls(batch)
        summary["status"] = _source_summary(
            sources.status, len(rows) + len(rejected), stored, len(rejected), started
        )
    if sources.business_hours is not None:
        started = time.perf_counter()
        rejected = []
        hours = list(_read_all(SourceKind.HOURS, sources.business_hours, rejected))
        await repository.replace_hours(hours)
        summary["business_hours"] = _source_summary(
            sources.business_hours, len(hours) + len(rejected), len(hours), len(rejected), started
        )
    if sources.timezones is not None:
        started = time.perf_counter()
        rejected = []
        zones = list(_read_all(SourceKind.ZONES, sources.timezones, rejected))
        await repository.replace_zones(zones)
        summary["timezones"] = _source_summary(
            sources.timezones, len(zones) + len(rejected), len(zones), len(rejected), started
        )
    return summary


def _source_summary(
    source: str, read: int, stored: int, rejected: int, started: float
) -> dict[str, Any]:
    return {
        "source": source,
        "rows": read,
        "stored": stored,
        "rejected": rejected,
        "seconds": round(time.perf_counter() - started, 3),
    }
