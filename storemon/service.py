"""
The async shell around the core: read snapshots from a repository, build the report or
explain one store.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

import attrs

from storemon.csvformat import csv_text, report_header
from storemon.dataset import Dataset
from storemon.errors import DataError, StoreNotFound
from storemon.explain import StoreTimeline, explain_store
from storemon.model import DEFAULT_ZONE_KEY, Report, SkippedStore, StoreRange
from storemon.report import ReportBuilder, report_line, window_start
from storemon.repository import StoreLookup, StoreSource, StoreSplit

if TYPE_CHECKING:
    from storemon.parallel import ParseProcess

_Kept = TypeVar("_Kept")


class StoredStores(StoreSource, StoreLookup, Protocol):
    """
    What explaining a store needs of a backend (every backend has it).
    """


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


async def _fill(
    source: StoreSource, builder: ReportBuilder[_Kept], stores: StoreRange | None = None
) -> ReportBuilder[_Kept]:
    """
    Add every store of ``source`` (in ``stores``, when given) to ``builder`` in one
    streaming pass; return the builder.
    """
    as_of = builder.as_of
    async for snapshot in source.snapshots(
        since=window_start(as_of), as_of=as_of, max_gap_us=builder.max_gap_us, stores=stores
    ):
        builder.add(snapshot)
    return builder


async def build_report(
    source: StoreSource,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
    max_gap: dt.timedelta | None = None,
) -> Report:
    """
    Compute the report from a repository in one streaming pass over its stores.

    Args:
        source: Any backend satisfying ``StoreSource``.
        as_of: The report's "now"; by default the latest stored poll.
        default_zone_key: The zone of stores without a time-zone row.
        max_gap: Time further than half of it from every poll is unknown (SEMANTICS.md,
            "Unknown time"); the report then has the three unknown columns.
    """
    as_of = await resolve_as_of(source, as_of)
    builder = ReportBuilder(as_of, default_zone_key=default_zone_key, max_gap=max_gap)
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
    max_gap: dt.timedelta | None = None,
) -> CsvReport:
    """
    Compute the report's CSV text like ``build_report(...).to_csv()``, keeping only a
    line per store in memory (no ``ReportRow`` objects), and the stores left out.
    """
    as_of = await resolve_as_of(source, as_of)
    builder = ReportBuilder(
        as_of, default_zone_key=default_zone_key, max_gap=max_gap, keep=report_line
    )
    await _fill(source, builder)
    return CsvReport(builder.csv(), tuple(builder.skipped))


class SplitStores(StoreSource, StoreSplit, Protocol):
    """
    What a report computed in several processes needs of a backend (every backend has it).
    """


async def build_csv_report_in_processes(
    source: SplitStores,
    url: str,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
    max_gap: dt.timedelta | None = None,
    processes: int = 2,
    min_stores: int = 1,
    helpers: Sequence[ParseProcess] | None = None,
) -> CsvReport:
    """
    ``build_csv_report`` of the database at ``url``, open here as ``source``, with its
    stores cut into up to ``processes`` ranges of at least ``min_stores``
    (``StoreSplit.split_stores``): this process computes the first range while a process
    of its own computes each other one (``storemon.parallel``), reading the database by
    a connection of its own. The text is ``build_csv_report``'s, and so are the stores
    left out, when the data does not change meanwhile: each process reads a consistent
    state of the data, but not necessarily the same one (``docs/cli.md``). A
    ``memory://`` database is computed here alone: its data lives in this process.

    ``helpers``, processes the caller started early (``ParseProcess(imports=...)``), are
    used instead of new ones, one per range after the first (``processes`` is then one
    more than their number); the caller closes them.

    Raises:
        StoremonError: the database failed in one of the processes.
    """
    from storemon.parallel import ParseProcess
    from storemon.storage import scheme_of

    if scheme_of(url) == "memory":  # its data lives in this process only
        return await build_csv_report(
            source, as_of=as_of, default_zone_key=default_zone_key, max_gap=max_gap
        )
    as_of = await resolve_as_of(source, as_of)
    if helpers is not None:
        processes = len(helpers) + 1
    ranges = await source.split_stores(processes, min_stores=min_stores)
    with contextlib.ExitStack() as stack:
        if helpers is None:
            helpers = [stack.enter_context(ParseProcess()) for _ in ranges[1:]]
        working = list(zip(helpers, ranges[1:], strict=False))
        for helper, stores in working:
            helper.submit(report_part, url, as_of, stores, default_zone_key, max_gap)
        lines, skipped = await _range_lines(source, as_of, ranges[0], default_zone_key, max_gap)
        for helper, _stores in working:
            more_lines, more_skipped = await asyncio.to_thread(helper.result)
            lines += more_lines
            skipped += more_skipped
    header = report_header(unknown=max_gap is not None)
    return CsvReport(csv_text(lines, header=header), tuple(skipped))


def report_part(
    url: str,
    as_of: dt.datetime,
    stores: StoreRange,
    default_zone_key: str,
    max_gap: dt.timedelta | None,
) -> tuple[list[str], list[SkippedStore]]:
    """
    ``_range_lines`` of the database at ``url``, read by a connection of its own: one
    range of ``build_csv_report_in_processes``, in another process.
    """
    from storemon.storage import open_repository

    async def read() -> tuple[list[str], list[SkippedStore]]:
        async with open_repository(url, create=False) as repository:
            return await _range_lines(repository, as_of, stores, default_zone_key, max_gap)

    return asyncio.run(read())


async def _range_lines(
    source: StoreSource,
    as_of: dt.datetime,
    stores: StoreRange,
    default_zone_key: str,
    max_gap: dt.timedelta | None,
) -> tuple[list[str], list[SkippedStore]]:
    """
    The report lines of the stores in ``stores`` (``report_line``, in store-id order) and
    the stores left out.
    """
    builder = ReportBuilder(
        as_of, default_zone_key=default_zone_key, max_gap=max_gap, keep=report_line
    )
    await _fill(source, builder, stores)
    return builder.kept(), list(builder.skipped)


async def build_report_csv(
    source: StoreSource,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
    max_gap: dt.timedelta | None = None,
) -> str:
    """
    Compute the report's CSV text (``build_csv_report``), without the stores left out.
    """
    report = await build_csv_report(
        source, as_of=as_of, default_zone_key=default_zone_key, max_gap=max_gap
    )
    return report.csv


async def _explain_stored(
    source: StoredStores,
    store_id: str,
    as_of: dt.datetime | None,
    default_zone_key: str,
    max_gap: dt.timedelta | None,
) -> StoreTimeline:
    as_of = await resolve_as_of(source, as_of)
    snapshot = await source.snapshot(store_id, since=window_start(as_of), as_of=as_of)
    timeline = None
    if snapshot is not None:
        timeline = explain_store(
            snapshot, as_of=as_of, default_zone_key=default_zone_key, max_gap=max_gap
        )
    if timeline is None:
        raise StoreNotFound(f"store {store_id} has no poll at or before {as_of}")
    return timeline


@overload
def explain(
    source: Dataset,
    store_id: str,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
    max_gap: dt.timedelta | None = None,
) -> StoreTimeline: ...


@overload
def explain(
    source: StoredStores,
    store_id: str,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
    max_gap: dt.timedelta | None = None,
) -> Coroutine[Any, Any, StoreTimeline]: ...


def explain(
    source: Dataset | StoredStores,
    store_id: str,
    *,
    as_of: dt.datetime | None = None,
    default_zone_key: str = DEFAULT_ZONE_KEY,
    max_gap: dt.timedelta | None = None,
) -> StoreTimeline | Coroutine[Any, Any, StoreTimeline]:
    """
    Return one store's last week as the report computes it: business time, status,
    polls and clock changes, with its report row (a ``StoreTimeline``); with ``max_gap``
    its unknown stretches too, and its special days in the week either way.

    From a ``Dataset`` (``load_csv``) the answer comes at once; from a repository
    (``open_repository``) the call is awaited: ``await storemon.explain(repository, id)``.
    In Jupyter the timeline draws itself (the web page's picture of the store's week);
    ``to_text()`` writes it for a terminal.

    Args:
        source: A ``Dataset`` or any backend.
        store_id: The store, as written in the data.
        as_of: The report's "now"; by default the latest poll.
        default_zone_key: The zone of stores without a time-zone row.
        max_gap: The report's maximum gap (SEMANTICS.md, "Unknown time"), or ``None``.

    Raises:
        DataError: there is no poll and no ``as_of``.
        StoreNotFound: the store has no poll at or before ``as_of``.
    """
    if isinstance(source, Dataset):
        return source.explain(store_id, as_of, default_zone_key=default_zone_key, max_gap=max_gap)
    return _explain_stored(source, store_id, as_of, default_zone_key, max_gap)
