"""
Two ``storemon serve`` processes on one PostgreSQL schema compute the shards of one report
together; killing one (``kill -9``) while it holds a shard loses that shard only.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.process import Server
from tests.server.test_e2e import library_csv, write_data

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

#: Seconds a claimed shard (or job) stays with a process that stops renewing its lease.
LEASE_S = 2.0
#: Seconds each shard's computation sleeps first, so that one can be killed holding one.
DELAY_S = 1.0
#: Stores a shard: the 40 stores of the data make 6 shards.
SHARD_STORES = 7
SHARDS = 6


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """
    Collects the servers a test starts, and stops every one of them afterwards.
    """
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _shards(server: Server, event: str, report_id: str) -> list[int]:
    """
    The shard numbers of one event (``report.shard_started``, ``report.shard_done``) of
    one report in a server's log, in order.
    """
    pattern = re.compile(rf"event={event} report_id={re.escape(report_id)} shard=(\d+)")
    return [int(match.group(1)) for match in pattern.finditer(server.log())]


def _start_pair(tmp_path: Path, pg_url: str, servers: list[Server]) -> tuple[Path, list[Server]]:
    data = tmp_path / "data"
    write_data(data)
    env = {
        "STOREMON_DB": pg_url,
        "STOREMON_DATA_DIR": str(data),
        "STOREMON_REPORT_LEASE": str(LEASE_S),
        "STOREMON_WORKERS": "1",
        "STOREMON_REPORT_SHARD_STORES": str(SHARD_STORES),
    }
    pair = []
    for _ in range(2):
        server = Server(tmp_path, env=env, shard_delay=DELAY_S)
        servers.append(server)
        server.wait_ready()
        pair.append(server)
    return data, pair


def test_two_servers_compute_one_report_together(
    tmp_path: Path, pg_url: str, servers: list[Server]
) -> None:
    """Both servers compute shards of one report, each shard once, and the report is the
    one computed in one piece, byte for byte."""
    data, pair = _start_pair(tmp_path, pg_url, servers)
    report_id = pair[0].trigger()
    csv, as_json = pair[1].wait_report(report_id)
    assert csv == library_csv(data, dt.datetime.fromisoformat(as_json["as_of"]))
    done = [_shards(server, "report.shard_done", report_id) for server in pair]
    assert sorted(done[0] + done[1]) == list(range(SHARDS)), done
    assert done[0], "the first server computed shards"
    assert done[1], "the second server computed shards"


def test_a_killed_server_loses_only_the_shard_it_held(
    tmp_path: Path, pg_url: str, servers: list[Server]
) -> None:
    """kill -9 of a server while it holds a shard: the other server claims that shard once
    its lease has run out, the shards already Done are kept, and the report completes equal
    to the one-piece report."""
    data, pair = _start_pair(tmp_path, pg_url, servers)
    report_id = pair[0].trigger()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        # Kill the first server once it holds its second shard: one is Done by then.
        if len(_shards(pair[0], "report.shard_started", report_id)) >= 2:
            break
        time.sleep(0.02)
    else:
        raise AssertionError(f"the first server held no second shard:\n{pair[0].log()}")
    pair[0].kill()
    started = _shards(pair[0], "report.shard_started", report_id)
    lost = started[-1]
    kept = _shards(pair[0], "report.shard_done", report_id)
    assert lost not in kept
    assert kept, "the killed server had finished a shard"

    csv, as_json = pair[1].wait_report(report_id, seconds=60)
    assert as_json["status"] == "Complete"
    assert csv == library_csv(data, dt.datetime.fromisoformat(as_json["as_of"]))
    survivor = _shards(pair[1], "report.shard_done", report_id)
    assert lost in survivor, "the survivor computed the lost shard"
    assert not set(kept) & set(survivor), "shards Done before the kill are not computed again"
    assert Counter(kept + survivor) == Counter(range(SHARDS))
