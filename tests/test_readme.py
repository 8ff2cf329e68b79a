"""
The README as a newcomer follows it: the notebook example runs, the environment is
activated before the first command, the curl session stops on its own, and the
documents it leads to exist and speak to users.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from storemon.sample import write_sample

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def _blocks(language: str, text: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_readme_notebook_example_runs(tmp_path, monkeypatch, capsys):
    """The Python block of the README prints the report header and a store's numbers."""
    write_sample(tmp_path / "data", stores=40, seed=3)
    monkeypatch.chdir(tmp_path)
    blocks = _blocks("python", README.read_text(encoding="utf-8"))
    assert blocks, "the README has no Python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == (
        "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
        "downtime_last_hour,downtime_last_day,downtime_last_week"
    )
    assert printed[0].endswith("stores")
    assert printed[2].endswith("outages in business hours last week")


def test_environment_is_activated_before_the_first_command() -> None:
    """The README activates .venv before its first shell line that runs storemon."""
    text = README.read_text(encoding="utf-8")
    lines = [line.strip() for block in _blocks("sh", text) for line in block.splitlines()]
    first = next(index for index, line in enumerate(lines) if line.startswith("storemon "))
    assert ". .venv/bin/activate" in lines[:first]


def documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("path", documents(), ids=lambda path: path.name)
def test_documents_speak_to_users(path: Path) -> None:
    """No document mentions issues, the brief, or files a user of the project does not have."""
    text = path.read_text(encoding="utf-8")
    for pattern in (
        r"(?i)\bissue #?\d+",
        r"(?i)\bthe (project )?brief\b",
        r"\b(SEMANTICS|STYLE|PROFILE)\.md\b",  # the project's private notes, upper case
        r"\.\./shared\b",
        r"\bshared/data\b",
    ):
        assert re.search(pattern, text) is None, (path.name, pattern)


@pytest.mark.parametrize("path", documents(), ids=lambda path: path.name)
def test_relative_links_lead_to_files(path: Path) -> None:
    """Every relative link of the README and the docs names a file of the repository."""
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        assert (path.parent / target).exists(), (path.name, target)


def test_index_maps_every_document() -> None:
    """docs/index.md links every document and the notebook in docs/, and the README links it."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([^)#\s]+)", index))
    for path in [*DOCS.glob("*.md"), *DOCS.glob("*.ipynb")]:
        if path.name != "index.md":
            assert path.name in linked, path.name
    assert "(docs/index.md)" in README.read_text(encoding="utf-8")


def curl_session() -> str:
    """
    The README's curl session (the shell block that triggers a report).
    """
    (block,) = [
        b for b in _blocks("sh", README.read_text(encoding="utf-8")) if "trigger_report" in b
    ]
    return block


def run_session(base: str, folder: Path, wait: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", curl_session()],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "BASE": base, "WAIT": str(wait)},
        capture_output=True,
        text=True,
        timeout=wait + 60,
        check=False,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Against a running server: tests/server/test_e2e.py::test_readme_curl_session_works.


@pytest.mark.slow
def test_curl_session_without_a_server_stops_at_its_deadline(tmp_path: Path) -> None:
    """With no server the session fails (exit 1) when its deadline passes, writing no report.csv."""
    started = time.monotonic()
    done = run_session(f"http://127.0.0.1:{closed_port()}", tmp_path, wait=3)
    assert done.returncode == 1
    assert done.stderr.startswith("no server ready at http://127.0.0.1:")
    assert time.monotonic() - started < 30
    assert not (tmp_path / "report.csv").exists()


@pytest.mark.slow
def test_curl_session_after_a_failed_ingest_writes_no_report(tmp_path: Path) -> None:
    """After a failed start-up ingest the session exits non-zero and writes no report.csv."""
    from tests.server.process import Server

    data = tmp_path / "data"
    write_sample(data, stores=5, seed=2)
    (data / "store_status.csv").write_text("not,a,status,header\n")
    server = Server(tmp_path, "--data-dir", str(data), "--db", f"sqlite:///{tmp_path}/s.db")
    try:
        done = run_session(server.base, tmp_path, wait=30)
    finally:
        server.stop()
    assert done.returncode != 0
    assert done.stderr != ""
    assert not (tmp_path / "report.csv").exists()


def test_python_doc_examples_run(tmp_path, monkeypatch, capsys):
    """docs/python.md's synchronous examples run on the sample data the command line doc writes."""
    write_sample(tmp_path / "data", stores=500, seed=1)
    monkeypatch.chdir(tmp_path)
    path = DOCS / "python.md"
    blocks = [b for b in _blocks("python", path.read_text(encoding="utf-8")) if "await" not in b]
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)
    assert capsys.readouterr().out.startswith("Store 1138942428064973522 in ")
    assert len(namespace["report"].rows) == 500  # type: ignore[attr-defined]
