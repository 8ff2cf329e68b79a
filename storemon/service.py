"""
The async shell around the core: read snapshots from a repository, build the report.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import attrs

from storemon.errors import DataError
from storemon.model import DEFAULT_ZONE_KEY, Report, SkippedStore
from storemon.report import ReportBuilder, report_line, window_start
from storemon.repository import StoreSource

_Kept = TypeVar("_Kept")


async def resolve_as_of(source: StoreSource, as_of: dt.datetime | None) -> dt.datetime:
    """
    Return ``as_of``, or the latest stored poll when it is ``None``.

    Raises:
        DataError: no ``as_of`` was given and there are no polls.
    """
    if as_of is not None:
        return as_of
    latest = await source.latest_poll_at()
    if latest is None:
        raise DataError("there are no polls yet, so the report has no 'now'; give as_of")
    return latest


async def _fill(source: StoreSource, builder: ReportBuilder[_Kept]) -> ReportBuilder[_Kept]:
    """
    Add every store of ``source`` to ``builder`` in one streaming pass; return the builder.
    """
    as_of = builder.as_of
    async for snapshot in source.snapshots(since=window_start(as_of), as_of=as_of):
        builder.add(snapshot)
    return builder


async def build_report(
    source: StoreSource,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
) -> Report:
    """
    Compute the report from a repository in one streaming pass over its stores.

    Args:
        source: Any backend satisfying ``StoreSource``.
        as_of: The report's "now"; by default the latest stored poll.
        default_zone_key: The zone of stores without a time-zone row.
    """
    as_of = await resolve_as_of(source, as_of)
    builder = ReportBuilder(as_of, default_zone_key=default_zone_key)
    return (await _fill(source, builder)).report()


@attrs.frozen
class CsvReport:
    """
    A report's CSV text, and the stores it left out because their rows cannot be read.
    """

    csv: str
    skipped: tuple[SkippedStore, ...] = ()


async def build_csv_report(
    source: StoreSource,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
) -> CsvReport:
    """
    Compute the report's CSV text like ``build_report(...).to_csv()``, keeping only a
    line per store in memory (no ``ReportRow`` objects), and the stores left out.
    """
    as_of = await resolve_as_of(source, as_of)
    builder = ReportBuilder(as_of, default_zone_key=default_zone_key, keep=report_line)
    await _fill(source, builder)
    return CsvReport(builder.csv(), tuple(builder.skipped))


async def build_report_csv(
    source: StoreSource,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
) -> str:
    """
    Compute the report's CSV text (``build_csv_report``), without the stores left out.
    """
    report = await build_csv_report(source, as_of=as_of, default_zone_key=default_zone_key)
    return report.csv
