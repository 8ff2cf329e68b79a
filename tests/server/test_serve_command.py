"""
``storemon serve`` as a new user meets it: a port in use is one line before anything
starts, and every option has help.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from storemon.sample import write_sample
from storemon_server.__main__ import build_parser


@pytest.mark.slow
def test_port_in_use_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    """A port in use exits 1 with one line, logs no server.started and opens no database."""
    write_sample(tmp_path / "data", stores=5, seed=1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environ = {k: v for k, v in os.environ.items() if not k.startswith("STOREMON_")}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "storemon",
                "serve",
                "--data-dir",
                str(tmp_path / "data"),
                "--db",
                f"sqlite:///{tmp_path}/server.db",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=environ,
            check=False,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"storemon serve: error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(--port or STOREMON_PORT picks another port)\n"
    )
    assert not (tmp_path / "server.db").exists()


def test_every_serve_option_has_help() -> None:
    """Each option of storemon serve, --log-level included, says what it does."""
    parser = build_parser()
    for action in parser._actions:
        assert action.help, action.option_strings
    help_text = " ".join(parser.format_help().split())
    assert "--log-level {DEBUG,INFO,WARNING,ERROR}" in help_text
    assert "the least important log lines written to standard error" in help_text
