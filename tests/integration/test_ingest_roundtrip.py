"""
CSV -> ingest -> report equals the direct CSV report; re-ingests are idempotent and incremental.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from storemon.dataset import load_csv
from storemon.ingest import ingest
from storemon.service import build_report
from storemon.storage import open_repository

from .conftest import (
    END,
    STATUS_HEADER,
    Inputs,
    cli,
    dump,
    hours_lines,
    stamp,
    write_inputs,
)


def _direct(inputs: Inputs, *extra: str, expect: int = 0) -> str:
    run = cli("report", *inputs.args(), *extra)
    assert run.status == expect, run.err
    return run.out


def _from_db(db_url: str, *extra: str) -> str:
    run = cli("report", "--db", db_url, *extra)
    assert run.status == 0, run.err
    return run.out


def test_report_from_the_database_equals_the_csv_report(inputs: Inputs, db_url: str) -> None:
    """storemon ingest then report --db prints the same CSV as report on the files."""
    run = cli("ingest", "--db", db_url, *inputs.args())
    assert run.status == 0, run.err
    assert "0 rejected" in run.out
    assert _from_db(db_url) == _direct(inputs)
    for as_of in ("2023-01-25 12:00:00 UTC", "2023-01-20T03:30:00Z", "2023-01-10 00:00:00"):
        assert _from_db(db_url, "--as-of", as_of) == _direct(inputs, "--as-of", as_of)


@pytest.mark.parametrize("url", ["memory://", "sqlite"])
async def test_every_backend_reports_like_load_csv(
    inputs: Inputs, tmp_path: Path, url: str
) -> None:
    """The ingest service fills any backend so that build_report equals load_csv().report()."""
    url = f"sqlite:///{tmp_path}/x.db" if url == "sqlite" else url
    async with open_repository(url) as repo:
        summaries = await ingest(
            repo, status=inputs.status, business_hours=inputs.hours, timezones=inputs.zones
        )
        assert [s.mode for s in summaries] == ["full", "full", "full"]
        expected = load_csv(inputs.status, inputs.hours, inputs.zones).report()
        assert await build_report(repo) == expected


def test_real_data_round_trip(real_data_dir: Path, db_url: str) -> None:
    """The real v1 files give the same report through the database as directly."""
    files = Inputs(
        real_data_dir / "store_status.csv",
        real_data_dir / "business_hours.csv",
        real_data_dir / "timezones.csv",
    )
    run = cli("ingest", "--db", db_url, *files.args())
    assert run.status == 0, run.err
    assert _from_db(db_url) == _direct(files)


def test_ingesting_twice_changes_nothing(inputs: Inputs, db_url: str) -> None:
    """A second ingest of the same files skips them all and leaves every table unchanged."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    before = dump(db_url)
    report = _from_db(db_url)
    os.utime(inputs.status)  # a new modification time alone is not a change
    run = cli("ingest", "--db", db_url, *inputs.args(), "--json")
    assert run.status == 0, run.err
    sources = json.loads(run.out)["sources"]
    assert [s["mode"] for s in sources] == ["unchanged"] * 3
    assert all(s["stored"] == 0 and s["read"] == 0 for s in sources)
    after = dump(db_url)
    assert after["polls"] == before["polls"]
    assert after["hours"] == before["hours"]
    assert after["zones"] == before["zones"]
    assert after["rejects"] == before["rejects"]
    assert _from_db(db_url) == report


def test_rewritten_file_with_the_same_rows_is_read_in_full_and_stores_nothing(
    inputs: Inputs, db_url: str
) -> None:
    """Reordered rows force a full re-read that finds every row already present."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    before = dump(db_url)["polls"]
    lines = inputs.status.read_text().splitlines(keepends=True)
    inputs.status.write_text(lines[0] + "".join(reversed(lines[1:])))
    run = cli("ingest", "--db", db_url, "--status", str(inputs.status), "--json")
    (summary,) = json.loads(run.out)["sources"]
    assert (summary["mode"], summary["stored"]) == ("full", 0)
    assert summary["present"] == summary["read"] == len(lines) - 1
    assert dump(db_url)["polls"] == before


def test_appended_rows_are_read_from_the_offset(inputs: Inputs, db_url: str) -> None:
    """Rows appended to a status file are read alone and only the new ones are stored."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    old_lines = inputs.status.read_text().splitlines(keepends=True)
    new = [
        f"77,active,{stamp(END, 0)}\n",
        old_lines[1],  # a row already present
        f"78,inactive,{stamp(END, 1)}\n",
        "79,dormant,2023-01-25 18:00:00 UTC\n",  # rejected, numbered in the whole file
    ]
    with inputs.status.open("a") as handle:
        handle.writelines(new)
    run = cli("ingest", "--db", db_url, *inputs.args(), "--json")
    assert run.status == 3
    status, hours, zones = json.loads(run.out)["sources"]
    assert (status["mode"], status["read"], status["stored"], status["present"]) == (
        "appended",
        4,
        2,
        1,
    )
    assert status["rejected"] == 1
    assert f"{inputs.status}:{len(old_lines) + 4}: column status" in run.err
    assert hours["mode"] == zones["mode"] == "unchanged"
    assert _from_db(db_url) == _direct(inputs, expect=3)


def test_last_line_without_newline_is_read_again_when_the_file_grows(
    tmp_path: Path, db_url: str
) -> None:
    """An unterminated last line is re-read (found present) once more lines follow it."""
    path = tmp_path / "status.csv"
    path.write_text(STATUS_HEADER + "1,active,2023-01-25 10:00:00 UTC")
    first = json.loads(cli("ingest", "--db", db_url, "--status", str(path), "--json").out)
    assert first["sources"][0]["stored"] == 1
    again = json.loads(cli("ingest", "--db", db_url, "--status", str(path), "--json").out)
    assert again["sources"][0]["mode"] == "unchanged"
    with path.open("a") as handle:
        handle.write("\n2,inactive,2023-01-25 11:00:00 UTC\n")
    grown = json.loads(cli("ingest", "--db", db_url, "--status", str(path), "--json").out)
    summary = grown["sources"][0]
    assert (summary["mode"], summary["read"], summary["stored"], summary["present"]) == (
        "appended",
        2,
        1,
        1,
    )


def test_changed_prefix_is_read_in_full(inputs: Inputs, db_url: str) -> None:
    """A status file edited before its end is read in full; only the changed row is stored."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    lines = inputs.status.read_text().splitlines(keepends=True)
    store_id, status, at = lines[1].rstrip("\n").split(",")
    flipped = "inactive" if status.lower() == "active" else "active"
    lines[1] = f"{store_id},{flipped},{at}\n"
    inputs.status.write_text("".join(lines))
    run = cli("ingest", "--db", db_url, "--status", str(inputs.status), "--json")
    (summary,) = json.loads(run.out)["sources"]
    assert (summary["mode"], summary["stored"]) == ("full", 1)
    assert _from_db(db_url) == _direct(inputs)


def test_changed_hours_file_replaces_the_old_one(inputs: Inputs, db_url: str) -> None:
    """A new hours file replaces every row; stores missing from it become open 24x7."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    kept = hours_lines(40, seed=1)[::2]
    inputs.hours.write_text("store_id,dayOfWeek,start_time_local,end_time_local\n" + "".join(kept))
    # It keeps about half of the rows: meant here, so said so.
    run = cli("ingest", "--db", db_url, *inputs.args(), "--json", "--allow-shrink")
    assert run.status == 0, run.err
    _, hours, _ = json.loads(run.out)["sources"]
    assert hours["mode"] == "full"
    assert hours["read"] == len(kept)
    assert hours["stored"] + hours["present"] == len(kept)
    assert len(dump(db_url)["hours"]) == len(set(kept))
    assert _from_db(db_url) == _direct(inputs)


def test_unchanged_large_source_is_skipped_quickly(tmp_path: Path, db_url: str) -> None:
    """Recognising an unchanged status file of 100k rows takes well under a second."""
    inputs = write_inputs(tmp_path / "big", stores=4000, seed=3)
    assert cli("ingest", "--db", db_url, "--status", str(inputs.status)).status == 0
    run = cli("ingest", "--db", db_url, "--status", str(inputs.status), "--json")
    (summary,) = json.loads(run.out)["sources"]
    assert summary["mode"] == "unchanged"
    assert summary["seconds"] < 0.5


def test_bom_and_crlf_file_is_appended_to(tmp_path: Path, db_url: str) -> None:
    """A status file with a byte-order mark and CRLF line ends is read, then appended to."""
    path = tmp_path / "status.csv"
    path.write_bytes(
        b"\xef\xbb\xbfstore_id,status,timestamp_utc\r\n1,active,2023-01-25 10:00:00 UTC\r\n"
    )
    first = json.loads(cli("ingest", "--db", db_url, "--status", str(path), "--json").out)
    assert first["sources"][0]["stored"] == 1
    with path.open("ab") as handle:
        handle.write(b"2,inactive,2023-01-25 11:00:00 UTC\r\n")
    run = cli("ingest", "--db", db_url, "--status", str(path), "--json")
    assert run.status == 0, run.err
    (summary,) = json.loads(run.out)["sources"]
    assert (summary["mode"], summary["read"], summary["stored"]) == ("appended", 1, 1)
    assert dump(db_url)["polls"] == [("1", 1674640800000000, 1), ("2", 1674644400000000, 0)]


def test_full_reads_unchanged_sources_whole_and_stores_nothing(inputs: Inputs, db_url: str) -> None:
    """ingest --full reads every source in full even when unchanged; nothing new is stored."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    before = dump(db_url)
    run = cli("ingest", "--db", db_url, *inputs.args(), "--full", "--json")
    assert run.status == 0, run.err
    sources = json.loads(run.out)["sources"]
    assert [s["mode"] for s in sources] == ["full"] * 3
    assert all(s["stored"] == 0 and s["read"] > 0 for s in sources)
    assert dump(db_url)["polls"] == before["polls"]
    again = json.loads(cli("ingest", "--db", db_url, *inputs.args(), "--json").out)
    assert [s["mode"] for s in again["sources"]] == ["unchanged"] * 3
