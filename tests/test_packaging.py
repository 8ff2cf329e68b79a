"""
The package's identity: its version on the command line and in the metadata, its licence.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

import storemon
from storemon.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_version_option_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`storemon --version` prints the version the installed metadata carries, exit 0."""
    assert main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"storemon {importlib.metadata.version('storemon')}"
    assert out == f"storemon {storemon.__version__}"


def test_licence_file_and_metadata_agree() -> None:
    """The MIT licence ships as a file, and the metadata names it by its SPDX id."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    metadata = importlib.metadata.metadata("storemon")
    assert metadata["License-Expression"] == "MIT"
