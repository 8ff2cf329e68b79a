"""
``storemon explain`` and ``storemon.explain``: one store's week as the report computes it,
for terminal users and notebooks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

import storemon
from storemon.storage import open_repository
from tests.explain_cases import EXAMPLE_AS_OF, EXAMPLE_TEXT, example_dataset, write_example
from tests.integration.conftest import Inputs, cli

AS_OF = dt.datetime(2023, 1, 23, 18, 30, tzinfo=dt.UTC)


def test_explain_writes_the_worked_example(tmp_path: Path) -> None:
    """explain from CSV files writes the hand-computed numbers, hours and outage."""
    run = cli("explain", "s1", *write_example(tmp_path), "--as-of", EXAMPLE_AS_OF)
    assert (run.status, run.err) == (0, "")
    assert run.out == EXAMPLE_TEXT


def test_explain_from_a_database_says_the_same(tmp_path: Path) -> None:
    """explain --db gives the same text as explain from the files it was filled from."""
    url = f"sqlite:///{tmp_path}/e.db"
    assert cli("ingest", "--db", url, *write_example(tmp_path)).status == 0
    run = cli("explain", "s1", "--db", url, "--as-of", EXAMPLE_AS_OF)
    assert (run.status, run.out) == (0, EXAMPLE_TEXT)


def test_explain_json_holds_spans_and_the_row(tmp_path: Path) -> None:
    """explain --json gives the business spans, the outage and the report row in UTC."""
    run = cli("explain", "s1", *write_example(tmp_path), "--as-of", EXAMPLE_AS_OF, "--json")
    document = json.loads(run.out)
    assert document["row"] == {
        "store_id": "s1",
        "uptime_last_hour": "0.00",
        "uptime_last_day": "1.74",
        "uptime_last_week": "1.74",
        "downtime_last_hour": "30.00",
        "downtime_last_day": "1.26",
        "downtime_last_week": "1.26",
    }
    assert document["business"] == [
        {"start": "2023-01-23T15:00:00+00:00", "end": "2023-01-23T18:00:00+00:00"}
    ]
    assert document["outages"] == [
        {"start": "2023-01-23T16:44:30+00:00", "end": "2023-01-23T18:00:00+00:00"}
    ]
    assert [poll["active"] for poll in document["polls"]] == [True, False]


def test_explain_agrees_with_the_report(inputs: Inputs) -> None:
    """For each store, explain gives the report's row; its outages add up to the downtime."""
    report = cli("report", *inputs.args(), "--format", "json")
    for row in json.loads(report.out)["rows"]:
        run = cli("explain", row["store_id"], *inputs.args(), "--json")
        document = json.loads(run.out)
        assert document["row"] == row
        outage_us = sum(
            (dt.datetime.fromisoformat(o["end"]) - dt.datetime.fromisoformat(o["start"]))
            // dt.timedelta(microseconds=1)
            for o in document["outages"]
        )
        # Spans are drawn to the microsecond (midpoints fall on half microseconds).
        assert abs(outage_us / 3_600_000_000 - float(row["downtime_last_week"])) <= 0.005 + 1e-6


def test_explain_an_unknown_store_is_one_line(tmp_path: Path) -> None:
    """A store without a poll by --as-of is one line, exit 1."""
    run = cli("explain", "nobody", *write_example(tmp_path), "--as-of", EXAMPLE_AS_OF)
    assert (run.status, run.out) == (1, "")
    assert run.err == (
        "storemon explain: error: store nobody has no poll at or before 2023-01-23 18:30:00+00:00\n"
    )


def test_library_explain_from_a_dataset() -> None:
    """storemon.explain(dataset, id) returns the timeline at once, its text the CLI's."""
    timeline = storemon.explain(example_dataset(), "s1", as_of=AS_OF)
    assert timeline.to_text() == EXAMPLE_TEXT
    assert timeline.outages() == [
        (
            dt.datetime(2023, 1, 23, 16, 44, 30, tzinfo=dt.UTC),
            dt.datetime(2023, 1, 23, 18, 0, tzinfo=dt.UTC),
        )
    ]


async def test_library_explain_from_a_repository(tmp_path: Path) -> None:
    """await storemon.explain(repository, id) gives the same timeline as from the dataset."""
    expected = storemon.explain(example_dataset(), "s1", as_of=AS_OF)
    url = f"sqlite:///{tmp_path}/r.db"
    ingested = await asyncio.to_thread(cli, "ingest", "--db", url, *write_example(tmp_path))
    assert ingested.status == 0
    async with open_repository(url) as repository:
        timeline = await storemon.explain(repository, "s1", as_of=AS_OF)
        latest = await storemon.explain(repository, "s1")
    assert timeline == expected
    assert latest.as_of == dt.datetime(2023, 1, 23, 17, 15, tzinfo=dt.UTC)


async def test_library_explain_refuses_an_unknown_store() -> None:
    """A store with no poll by as_of is StoreNotFound, from a dataset and from a repository."""
    with pytest.raises(storemon.StoreNotFound):
        storemon.explain(example_dataset(), "s1", as_of=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    async with open_repository("memory://") as repository:
        with pytest.raises(storemon.StoreNotFound):
            await storemon.explain(repository, "s1", as_of=AS_OF)
