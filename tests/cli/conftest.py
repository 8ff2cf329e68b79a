"""
Command-line fixtures: small inputs and a database filled from them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import Inputs, cli, write_inputs


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    """
    Three small CSV inputs in a temporary folder.
    """
    return write_inputs(tmp_path / "in", stores=12)


@pytest.fixture
def filled_db(tmp_path: Path, inputs: Inputs) -> str:
    """
    The URL of a SQLite database holding ``inputs``.
    """
    url = f"sqlite:///{tmp_path}/filled.db"
    assert cli("ingest", "--db", url, *inputs.args()).status == 0
    return url
