"""
The README's notebook example runs as written, on sample data.
"""

from __future__ import annotations

import re
from pathlib import Path

from storemon.sample import write_sample

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_notebook_example_runs(tmp_path, monkeypatch, capsys):
    """The Python block of the README prints the report header and a store's numbers."""
    write_sample(tmp_path / "data", stores=40, seed=3)
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "the README has no Python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == (
        "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
        "downtime_last_hour,downtime_last_day,downtime_last_week"
    )
    assert printed[0].endswith("stores")
