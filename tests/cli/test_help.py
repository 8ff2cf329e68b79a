"""
The command line's help says what a user needs: exit statuses and the --as-of formats.
"""

from __future__ import annotations

import pytest

from storemon.cli import main


def help_of(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*argv, "--help"]) == 0
    return capsys.readouterr().out


def test_report_help_lists_exit_statuses_and_as_of_forms(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """report --help lists every exit status and every --as-of form, one per line."""
    text = help_of("report", capsys=capsys)
    for line in (
        "  2023-01-25 (midnight UTC)",
        "  2023-01-25T12:00",
        "  2023-01-25T12:00:00Z",
        "  2023-01-25T07:00:00.5-05:00",
        "  2023-01-25 12:00:00.388884 UTC",
        "  0  done",
        "  2  the command line is wrong",
        "  3  done, but some input rows were rejected (listed on standard error)",
    ):
        assert line in text.splitlines()
    assert "  1  nothing was done: an input cannot be read, the output cannot be written" in text


@pytest.mark.parametrize("command", ["ingest", "report", "explain", "prune", "sample"])
def test_every_option_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every command's help has an exit-status section and a line for --quiet."""
    text = help_of(command, capsys=capsys)
    assert "exit status:" in text
    assert "--quiet" in text


def test_top_level_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """storemon --help names every command."""
    text = help_of(capsys=capsys)
    for command in ("ingest", "report", "explain", "prune", "sample", "serve"):
        assert f"    {command} " in text
