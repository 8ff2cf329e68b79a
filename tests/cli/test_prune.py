"""
``storemon prune``: retention from the command line, its messages and exit statuses.
"""

from __future__ import annotations

import asyncio
import collections
import csv
import datetime as dt
import json
import os
from pathlib import Path

import pytest

from storemon.sample import write_sample
from storemon.storage import open_repository
from tests.integration.conftest import cli

WEEK = dt.timedelta(weeks=1)
FORMS = "90m, 2h, 1h30m, 45s, 30d, 8w or 1w2d, or ISO 8601 PT2H, PT1H30M, PT45S, P30D or P8W"


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.removesuffix(" UTC")).replace(tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three weeks of polls of 20 stores (the generator's shifted copies), in no order."""
    folder = tmp_path_factory.mktemp("history")
    write_sample(folder, stores=20, seed=4, weeks=3)
    return folder


@pytest.fixture
def db(tmp_path: Path, history: Path) -> str:
    url = f"sqlite:///{tmp_path}/history.db"
    run = cli(
        "ingest", "--db", url, "--status", str(history / "store_status.csv"),
        "--business-hours", str(history / "business_hours.csv"),
        "--timezones", str(history / "timezones.csv"),
    )  # fmt: skip
    assert run.status == 0, run.err
    return url


def _expected_deletions(history: Path, cut: dt.datetime) -> int:
    """Polls before the cut, but each store's latest one, counted from the CSV file."""
    older: collections.Counter[str] = collections.Counter()
    with (history / "store_status.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if _instant(row["timestamp_utc"]) < cut:
                older[row["store_id"]] += 1
    return sum(count - 1 for count in older.values())


def test_prune_keeps_the_reports_of_the_kept_range_and_says_what_it_deleted(
    db: str, history: Path, tmp_path: Path
) -> None:
    """--keep 2w on three weeks: exactly the old polls go (counted from the file), the
    message names the cut, and reports whose week starts after it are unchanged."""
    newest = dt.datetime(2023, 1, 25, 18, 13, 22, 479220, tzinfo=dt.UTC)
    as_ofs = [newest, newest - dt.timedelta(days=3), newest - WEEK]
    before = [cli("report", "--db", db, "--as-of", at.isoformat()).out for at in as_ofs]
    run = cli("prune", "--db", db, "--keep", "2w")
    assert (run.status, run.out) == (0, "")
    deleted = _expected_deletions(history, newest - 2 * WEEK)
    assert deleted > 20 * 100  # most of the first week
    assert run.err == (
        f"deleted {deleted} polls before 2023-01-11 18:13:22.479220 UTC "
        "(each store's latest poll before it kept)\n"
    )
    after = [cli("report", "--db", db, "--as-of", at.isoformat()).out for at in as_ofs]
    assert after == before
    assert all(text.count("\n") == 21 for text in after)  # header and 20 stores
    again = cli("prune", "--db", db, "--keep", "P14D", "--json")
    assert again.status == 0
    document = json.loads(again.out)
    assert document["polls_deleted"] == 0
    assert document["polls_before"] == "2023-01-11T18:13:22.479220+00:00"
    assert document["reports_before"] is None
    assert document["database"] == db


def test_prune_deletes_only_old_finished_reports(db: str) -> None:
    """--keep-reports 30d deletes the reports that finished over 30 days ago, by the clock,
    and leaves newer and unfinished ones; -q prints nothing."""
    now = dt.datetime.now(dt.UTC)

    async def fill() -> None:
        async with open_repository(db) as repo:
            for name in ("old", "new", "waiting"):
                await repo.create_report(name, as_of=None, created_at=now - dt.timedelta(days=60))
            await repo.finish_report("old", csv="x\n", finished_at=now - dt.timedelta(days=31))
            await repo.finish_report("new", csv="x\n", finished_at=now - dt.timedelta(days=29))

    async def left() -> list[str]:
        async with open_repository(db) as repo:
            return sorted(job.report_id for job in await repo.list_reports(10))

    asyncio.run(fill())
    run = cli("prune", "--db", db, "--keep", "8w", "--keep-reports", "30d", "--json", "-q")
    assert (run.status, run.err) == (0, "")
    document = json.loads(run.out)
    assert document["reports_deleted"] == 1
    assert document["polls_deleted"] == 0  # three weeks are within eight
    assert asyncio.run(left()) == ["new", "waiting"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--keep", "8 weeks"], f"argument --keep: cannot read '8 weeks' as a duration "
                                f"(write {FORMS})"),
        (["--keep", "0d"], f"argument --keep: a duration must be positive, got '0d' "
                           f"(write {FORMS})"),
        (["--keep", "8w", "--keep-reports=-30d"],
         f"argument --keep-reports: a duration must be positive, got '-30d' (write {FORMS})"),
        ([], "the following arguments are required: --keep"),
    ],
)  # fmt: skip
def test_a_bad_duration_is_a_usage_error_naming_the_forms(
    db: str, argv: list[str], message: str
) -> None:
    """A duration that cannot be read, or none, is exit 2 and one line; nothing deleted."""
    run = cli("prune", "--db", db, *argv)
    assert (run.status, run.out) == (2, "")
    assert run.err == f"storemon prune: error: {message} (see 'storemon prune --help')\n"


def test_prune_never_creates_a_database(tmp_path: Path) -> None:
    """A missing SQLite file is one line naming --db, exit 1, and nothing is created."""
    os.chdir(tmp_path)
    run = cli("prune", "--db", "sqlite:///typo.db", "--keep", "8w")
    assert (run.status, run.out) == (1, "")
    assert run.err == (
        "storemon prune: error: --db sqlite:///typo.db: typo.db: no such database file "
        "(nothing was created)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_prune_of_an_empty_database_deletes_nothing(tmp_path: Path) -> None:
    """A database without polls has no newest poll to cut from: exit 0, said so."""
    url = f"sqlite:///{tmp_path}/empty.db"

    async def create() -> None:
        async with open_repository(url):
            pass

    asyncio.run(create())
    run = cli("prune", "--db", url, "--keep", "1h")
    assert run.status == 0
    assert run.err == "nothing to cut: the database has no polls; no poll deleted\n"
