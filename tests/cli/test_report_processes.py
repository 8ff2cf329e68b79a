"""
``storemon report --db`` in several processes: the same report as in one, and the option's
mistakes refused.
"""

from __future__ import annotations

import pytest

from storemon import cli as cli_module
from tests.integration.conftest import Inputs, cli


@pytest.mark.parametrize("early", [True, False])
def test_a_report_in_processes_is_the_report_in_one(
    filled_db: str, monkeypatch: pytest.MonkeyPatch, early: bool
) -> None:
    # Small enough to split: every store may be a range of its own, and the helpers start
    # at once (early) or once the stores are split.
    monkeypatch.setattr(cli_module, "MIN_STORES_PER_PROCESS", 1)
    monkeypatch.setattr(cli_module, "MIN_SPLIT_BYTES", 0 if early else 10**12)
    one = cli("report", "--db", filled_db, "--processes", "1")
    assert one.status == 0, one.err
    assert one.out.count("\n") == 13  # the header and twelve stores
    for processes in ("2", "3"):
        for gap in ([], ["--max-gap", "2h"]):
            split = cli("report", "--db", filled_db, "--processes", processes, *gap)
            alone = cli("report", "--db", filled_db, "--processes", "1", *gap)
            assert (split.status, split.out, split.err) == (alone.status, alone.out, alone.err)
    assert cli("report", "--db", filled_db).out == one.out  # the default: the CPUs


def test_the_default_is_the_cpus_at_most_four(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_module.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3, 4, 5})
    assert cli_module.default_report_processes() == 4
    monkeypatch.setattr(cli_module.os, "sched_getaffinity", lambda _pid: {3})
    assert cli_module.default_report_processes() == 1


def test_processes_go_with_db_only(inputs: Inputs, filled_db: str) -> None:
    run = cli("report", *inputs.args(), "--processes", "2")
    assert run.status == 2
    assert "--processes goes with --db" in run.err
    for wrong in ("0", "two"):
        run = cli("report", "--db", filled_db, "--processes", wrong)
        assert run.status == 2
        assert "--processes" in run.err
