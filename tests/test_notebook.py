"""
docs/notebook.ipynb (load -> report -> worst stores -> one store's week) runs on a real
Jupyter kernel without an error, and the outputs checked in with it are the ones it gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebook.ipynb"

pytestmark = pytest.mark.slow


def outputs(notebook: Any) -> list[list[dict[str, Any]]]:
    """
    Each code cell's outputs without what changes from run to run (counts, metadata).
    """
    return [
        [
            {
                key: value
                for key, value in output.items()
                if key in ("output_type", "name", "text", "data")
            }
            for output in cell.outputs
        ]
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def test_notebook_runs_and_its_outputs_are_current(tmp_path: Path) -> None:
    """Every cell runs on a python3 kernel (an error fails the test) and gives the saved outputs."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    checked_in = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(checked_in)
    executed = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        executed,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    fresh = outputs(executed)
    assert all(cell_outputs for cell_outputs in fresh), "every code cell shows something"
    assert fresh == outputs(checked_in), "docs/notebook.ipynb is stale: run `make notebook`"
    shown = [output for cell in fresh for output in cell]
    assert any("image/svg+xml" in output.get("data", {}) for output in shown)
    assert any("storemon-report" in output.get("data", {}).get("text/html", "") for output in shown)
