"""
PostgreSQL stopped and started again under a running server: requests fail cleanly
meanwhile and work afterwards, nothing lost (on a private instance of our own).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("asyncpg", reason="the [postgres] extra is not installed")

from tests.server.process import Server
from tests.server.test_e2e import write_data

from .instance import Instance, find_bin
from .support import REQUIRE_ENV

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def instance() -> Iterator[Instance]:
    """
    A running private PostgreSQL server, removed afterwards.
    """
    bin_dir = find_bin()
    if bin_dir is None:
        reason = "initdb and pg_ctl not found (no PostgreSQL server installed)"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(reason)
        pytest.skip(reason)
    private = Instance(bin_dir)
    try:
        private.init()
        private.start()
        yield private
    finally:
        private.remove()


def _health(server: Server) -> dict[str, object]:
    status, body = server.json("GET", "/api/health")
    assert status == 200
    return dict(body)


def _wait_database(server: Server, state: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while _health(server).get("database") != state:
        assert time.monotonic() < deadline, f"database never {state}:\n{server.log()}"
        time.sleep(0.2)


def test_database_restart_under_a_running_server(tmp_path: Path, instance: Instance) -> None:
    """While PostgreSQL is down requests answer 503 in one line; afterwards all works again."""
    data = tmp_path / "data"
    write_data(data)
    server = Server(tmp_path, env={"STOREMON_DB": instance.url, "STOREMON_DATA_DIR": str(data)})
    try:
        server.wait_ready()
        assert _health(server)["database"] == "up"
        before = server.trigger()
        csv_before, _ = server.wait_report(before)

        instance.stop()
        _wait_database(server, "down")
        for method, path in (
            ("POST", "/api/trigger_report"),
            ("GET", f"/api/get_report?report_id={before}"),
        ):
            status, _, body = server.request(method, path)
            assert status == 503, body
            error = json.loads(body)["error"]
            assert "PostgreSQL" in error
            assert "\n" not in error
        assert server.process.poll() is None

        instance.start()
        _wait_database(server, "up")
        assert server.wait_report(before)[0] == csv_before  # nothing lost
        after = server.trigger()
        assert server.wait_report(after)[0] == csv_before
        assert "Traceback" not in server.log(), server.log()[-6000:]
    finally:
        server.stop()
