"""
Whole-process benchmarks of storemon against its speed and memory goals (docs/benchmarks.md).

Every figure is a fresh ``storemon`` process (``subprocess``), timed from start to exit;
its peak memory comes from the OS, not ``tracemalloc``: the summed RSS of the process and
the processes it starts (``storemon`` parses large files in a second one), sampled from
``/proc`` every 10 ms, and never less than the kernel's ``ru_maxrss`` from ``os.wait4``.
Times are medians of ``--runs`` runs (default 3); memory is the largest peak over the runs.

Data sets are generated once by ``storemon sample`` and cached outside the repository
(``~/.cache/storemon-bench/`` or ``--cache``), keyed by a hash of the generator's source,
the number of stores and the seed, so a changed generator never reuses stale files.

    python benchmarks/bench.py            # the full-size set, 4x and 10x scaling, naive
    python benchmarks/bench.py --quick    # 1,000 stores, 2x and 5x, one run each

Prints one table, goal beside each figure, and checks that the report from the database
equals the report from the CSV files (and the naive reference's) value for value.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import functools
import hashlib
import itertools
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL_STORES = 14_092
SEED = 0
FILES = ("store_status.csv", "business_hours.csv", "timezones.csv")


def compiled_package() -> None:
    """
    Write the bytecode of storemon's modules, as installing a wheel does: an editable
    install (``make``'s) leaves it to the first import, and with PYTHONDONTWRITEBYTECODE
    set every measured process would compile the package again (about 0.1 s each).
    """
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("storemon", "storemon_server"):
        if (root / package).is_dir():
            compileall.compile_dir(root / package, quiet=1)


def storemon_command() -> list[str]:
    """
    The ``storemon`` console script of the interpreter running this file.
    """
    script = Path(sys.executable).parent / "storemon"
    return [str(script)] if script.exists() else [sys.executable, "-m", "storemon"]


def generator_key() -> str:
    """
    A short hash of the generator's source: cached data sets are keyed by it.
    """
    return hashlib.sha256((ROOT / "storemon" / "sample.py").read_bytes()).hexdigest()[:12]


def cached_set(folder: Path, what: str, generate: Callable[[Path], None]) -> Path:
    """
    Return ``folder`` if it holds the three files, else fill it with ``generate(partial)``
    in a temporary folder beside it, renamed into place only once complete.
    """
    if all((folder / name).exists() for name in FILES):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix="partial-", dir=folder.parent))
    print(f"generating {what} into {folder} ...", file=sys.stderr, flush=True)
    generate(partial)
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    return folder


def data_set(cache: Path, stores: int, seed: int = SEED, weeks: int = 1) -> Path:
    """
    Return a directory holding the sample of ``stores`` stores (``weeks`` weeks of polls,
    rows in no order), generating it if needed.
    """

    def generate(partial: Path) -> None:
        subprocess.run(
            [
                *storemon_command(),
                *("sample", "--output", str(partial), "--stores", str(stores)),
                *("--seed", str(seed), "--weeks", str(weeks)),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    history = f"-weeks{weeks}" if weeks > 1 else ""
    folder = cache / f"sample-{generator_key()}-stores{stores}-seed{seed}{history}"
    return cached_set(folder, f"{stores} stores, {weeks} week(s)", generate)


def default_real_dir() -> Path | None:
    """
    The folder of the real hours and zones: ``$STOREMON_REAL_DATA``, else
    ``../shared/data/real`` beside the checkout; None when neither holds them.
    """
    named = os.environ.get("STOREMON_REAL_DATA")
    candidates = [Path(named)] if named else [ROOT.parent / "shared" / "data" / "real"]
    for folder in candidates:
        if all((folder / name).is_file() for name in FILES[1:]):
            return folder
    return None


def real_store_ids(real: Path, count: int) -> list[str]:
    """
    Return ``count`` real store ids: first those seen in the real status files (the
    14,031-row head and any ``extras/*.csv``), then those with a zone, then with hours.
    """
    paths = [real / FILES[0], *sorted((real / "extras").glob("*.csv")), real / FILES[2]]
    paths.append(real / FILES[1])
    seen: dict[str, None] = {}
    for path in paths:
        if not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("store_id"):
                    seen.setdefault(row["store_id"].strip(), None)
    if len(seen) < count:
        raise SystemExit(f"{real} names only {len(seen)} stores; {count} are needed")
    return list(seen)[:count]


def real_data_set(cache: Path, real: Path, stores: int, seed: int = SEED, weeks: int = 1) -> Path:
    """
    Return a directory holding the real business hours and time zones, and generated
    polls (``storemon.sample.write_status``, rows in no order, ``weeks`` weeks) for
    ``stores`` real store ids.
    """
    digest = hashlib.sha256()
    for name in FILES[1:]:
        digest.update((real / name).read_bytes())

    def generate(partial: Path) -> None:
        # In a child process: the kernel's peak RSS of every later child includes this
        # process's size when it forked, so this process must stay small.
        ids = partial / "store_ids.txt"
        ids.write_text("\n".join(real_store_ids(real, stores)), encoding="utf-8")
        script = (
            "import sys; from pathlib import Path; from storemon.sample import write_status; "
            "ids = Path(sys.argv[2]).read_text(encoding='utf-8').split('\\n'); "
            "write_status(Path(sys.argv[1]), ids, seed=int(sys.argv[3]), weeks=int(sys.argv[4]))"
        )
        subprocess.run(
            [sys.executable, "-c", script, str(partial / FILES[0]), str(ids), str(seed),
             str(weeks)],
            check=True,
        )  # fmt: skip
        ids.unlink()
        for name in FILES[1:]:
            shutil.copyfile(real / name, partial / name)

    history = f"-weeks{weeks}" if weeks > 1 else ""
    folder = (
        cache / f"real-{generator_key()}-{digest.hexdigest()[:12]}-stores{stores}-seed{seed}"
        f"{history}"
    )
    return cached_set(folder, f"polls for {stores} real stores, {weeks} week(s)", generate)


class Run:
    """
    One finished child process: wall time in seconds, peak RSS in MB, exit status.

    ``peak_mb`` is the kernel's (the largest of the process and the processes it waited
    for); ``tree_mb`` is the largest sum of RSS over the process and its descendants at
    once, sampled every 10 ms, for commands that run a second process.
    """

    def __init__(self, seconds: float, peak_mb: float, status: int, tree_mb: float) -> None:
        self.seconds = seconds
        self.peak_mb = peak_mb
        self.status = status
        self.tree_mb = tree_mb


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kb(pid: int) -> int:
    """
    The summed RSS of ``pid`` and its descendants (children of any of their threads).
    """
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _rss_kb(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as kids:
                    pending += [int(child) for child in kids.read().split()]
            except OSError:
                pass
    return total


def run(command: Sequence[str], *, env: dict[str, str] | None = None) -> Run:
    """
    Run a command to completion; measure its wall time and its peak memory.
    """
    started = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or None
    )
    stderr = child.stderr
    assert stderr is not None
    # Drain stderr in a thread, so a chatty child never blocks on a full pipe.
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    drain.start()
    tree_kb = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        tree_kb = max(tree_kb, _tree_rss_kb(child.pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    drain.join()
    stderr.close()
    if child.returncode not in (0, 3):
        text = b"".join(errors).decode("utf-8", "replace")
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{text}")
    peak_mb = usage.ru_maxrss / 1024
    return Run(seconds, peak_mb, child.returncode, max(tree_kb / 1024, peak_mb))


class Figure:
    """
    A measured figure with its goal.
    """

    def __init__(
        self,
        name: str,
        goal: str,
        value: float | None,
        unit: str,
        met: bool | None,
        naive: float | None = None,
        note: str = "",
    ) -> None:
        self.name = name
        self.goal = goal
        self.value = value
        self.unit = unit
        self.met = met
        self.naive = naive
        self.note = note


def measure(
    runs: int, command: Callable[[int], Sequence[str]], before: Callable[[int], None] | None = None
) -> tuple[float, float]:
    """
    Run ``command(i)`` ``runs`` times; return the median seconds and the largest peak
    memory in MB (``Run.tree_mb``: all the command's processes at once).
    """
    times: list[float] = []
    peaks: list[float] = []
    for index in range(runs):
        if before is not None:
            before(index)
        result = run(command(index))
        times.append(result.seconds)
        peaks.append(result.tree_mb)
    return statistics.median(times), max(peaks)


#: The fewest rounds of a ratio figure (``measure_interleaved``), whatever ``--runs``
#: says: the commands compared are reports of a second or two.
MIN_RATIO_ROUNDS = 3


def measure_interleaved(
    runs: int, commands: dict[str, Callable[[], Sequence[str]]]
) -> dict[str, tuple[float, float, float]]:
    """
    Run each of ``commands`` once a round, in turn, ``runs`` rounds (at least
    ``MIN_RATIO_ROUNDS``); return for each its median seconds, largest peak memory in MB,
    and the median over the rounds of its time over the first command's time in the same
    round. On a machine whose speed changes within minutes, a ratio of runs taken side
    by side is the comparison to read, and one round of it is still noise.
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(max(runs, MIN_RATIO_ROUNDS)):
        for name, command in commands.items():
            result = run(command())
            times[name].append(result.seconds)
            peaks[name].append(result.tree_mb)
    first = next(iter(commands))
    return {
        name: (
            statistics.median(times[name]),
            max(peaks[name]),
            statistics.median(a / b for a, b in zip(times[name], times[first], strict=True)),
        )
        for name in commands
    }


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def sources(folder: Path) -> list[str]:
    return [
        "--status",
        str(folder / FILES[0]),
        "--business-hours",
        str(folder / FILES[1]),
        "--timezones",
        str(folder / FILES[2]),
    ]


def write_special_hours(db: Path, folder: Path, target: Path) -> int:
    """
    Write a special-hours file for the data set in ``db`` (ingested from ``folder``):
    every tenth store of the time-zone file closed two days before the latest poll and
    open 10:00-14:00 four days before it, every fiftieth open overnight on the day
    before. Return how many rows it holds.
    """
    connection = sqlite3.connect(db)
    try:
        [[latest_us]] = connection.execute("SELECT max(last_us) FROM poll_days").fetchall()
    finally:
        connection.close()
    latest = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=latest_us)
    with (folder / FILES[2]).open(encoding="utf-8-sig") as handle:
        ids = [row[0] for row in csv.reader(handle)][1:]
    rows = ["store_id,date,start_time_local,end_time_local"]
    for index, store_id in enumerate(ids):
        if index % 10 == 0:
            rows.append(f"{store_id},{(latest - dt.timedelta(days=2)).date()},,")
            rows.append(f"{store_id},{(latest - dt.timedelta(days=4)).date()},10:00,14:00")
        if index % 50 == 0:
            rows.append(f"{store_id},{(latest - dt.timedelta(days=1)).date()},20:00,02:00")
    target.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows) - 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get_json(url: str, method: str = "GET") -> dict[str, object]:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def server_trigger_to_complete(folder: Path, db_url: str, runs: int) -> list[float]:
    """
    Start ``storemon serve`` over a filled database; time trigger -> Complete ``runs`` times.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            *storemon_command(),
            *("serve", "--data-dir", str(folder), "--db", db_url, "--port", str(port)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _get_json(f"{base}/api/health").get("ready"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("storemon serve did not become ready")
            time.sleep(0.05)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            report_id = _get_json(f"{base}/api/trigger_report", "POST")["report_id"]
            while True:
                state = _get_json(f"{base}/api/get_report?report_id={report_id}&format=json")
                if state.get("status") == "Complete":
                    break
                if state.get("status") == "Failed":
                    raise SystemExit(f"the server's report failed: {state}")
                time.sleep(0.01)
            times.append(time.perf_counter() - started)
        return times
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _pg_admin(url: str, statement: str | None = None) -> None:
    """
    Connect to the PostgreSQL of ``url`` (its ``?schema=`` dropped) and run ``statement``.
    """
    import asyncpg  # type: ignore[import-untyped]  # the [postgres] extra, imported when used

    dsn = url.split("?", 1)[0]

    async def go() -> None:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            if statement is not None:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(go())


def pg_unavailable(url: str) -> str | None:
    """
    Why PostgreSQL at ``url`` cannot be measured, or None when it can.
    """
    try:
        _pg_admin(url)
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[postgres]')"
    except Exception as error:  # any failure to connect: report it and measure the rest
        return f"cannot connect to {url.split('?', 1)[0]}: {error}"
    return None


def drop_schema(url: str, schema: str) -> None:
    # The schema name is the benchmark's own (letters, digits and _), never user input.
    _pg_admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def measure_postgres(
    pg: str,
    folder: Path,
    runs: int,
    direct_csv: Path,
    work: Path,
    sqlite: dict[str, float],
) -> tuple[list[Figure], list[str]]:
    """
    The full-size figures on PostgreSQL, beside SQLite's: ingest into an empty schema,
    again unchanged, ``report --db``, and server trigger -> Complete. The scratch schema
    is dropped afterwards. The issue sets no goals for them: they are for comparison.
    """
    reason = pg_unavailable(pg)
    if reason is not None:
        return [], [f"PostgreSQL not measured: {reason}"]
    storemon = storemon_command()
    schema = f"storemon_bench_{os.getpid()}"
    url = f"{pg}{'&' if '?' in pg else '?'}schema={schema}"
    pg_csv = work / "report-pg.csv"
    try:
        ingest_s, ingest_mb = measure(
            runs,
            lambda _: [*storemon, "ingest", "--db", url, *sources(folder)],
            before=lambda _: drop_schema(pg, schema),
        )
        again_s, _ = measure(runs, lambda _: [*storemon, "ingest", "--db", url, *sources(folder)])
        report_s, report_mb = measure(
            runs, lambda _: [*storemon, "report", "--db", url, "--output", str(pg_csv)]
        )
        server_s = statistics.median(server_trigger_to_complete(folder, url, runs))
    finally:
        drop_schema(pg, schema)

    def beside(key: str, value: float, unit: str) -> str:
        return f"SQLite {sqlite[key]:.2f} {unit}, {value / sqlite[key]:.1f}x"

    figures = [
        Figure("PostgreSQL: ingest, empty schema", "(beside SQLite)", ingest_s, "s", None,
               note=beside("ingest", ingest_s, "s")),
        Figure("PostgreSQL: ingest again, unchanged", "(beside SQLite)", again_s, "s", None,
               note=beside("again", again_s, "s")),
        Figure("PostgreSQL: report --db", "(beside SQLite)", report_s, "s", None,
               note=beside("report", report_s, "s")),
        Figure("PostgreSQL: server trigger -> Complete", "(beside SQLite)", server_s, "s",
               None, note=beside("server", server_s, "s")),
        Figure("PostgreSQL: peak memory, ingest", "(beside SQLite)", ingest_mb, "MB", None,
               note=beside("ingest_mb", ingest_mb, "MB")),
        Figure("PostgreSQL: peak memory, report", "(beside SQLite)", report_mb, "MB", None,
               note=beside("report_mb", report_mb, "MB")),
    ]  # fmt: skip
    same = pg_csv.read_bytes() == direct_csv.read_bytes()
    check = f"report from PostgreSQL == report from the CSV files: {'yes' if same else 'NO'}"
    return figures, [check]


def start_server(db_url: str, log: Path, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    """
    Start ``storemon serve`` on ``db_url`` (no sources: it serves what the database
    holds), its log in ``log``; return the process and its base URL once it is ready.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as output:
        server = subprocess.Popen(
            [*storemon_command(), "serve", "--db", db_url, "--port", str(port), *options],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while True:
        try:
            if _get_json(f"{base}/api/health").get("ready"):
                return server, base
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            stop_server(server)
            raise SystemExit(f"storemon serve did not become ready:\n{log.read_text()}")
        time.sleep(0.05)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def trigger_to_complete(base: str) -> tuple[float, bytes]:
    """
    Trigger a report on the server at ``base``; return the seconds to Complete and its CSV.
    """
    started = time.perf_counter()
    report_id = _get_json(f"{base}/api/trigger_report", "POST")["report_id"]
    while True:
        state = _get_json(f"{base}/api/get_report?report_id={report_id}&format=json")
        if state.get("status") == "Complete":
            seconds = time.perf_counter() - started
            break
        if state.get("status") == "Failed":
            raise SystemExit(f"the server's report failed: {state}")
        time.sleep(0.01)
    with urllib.request.urlopen(f"{base}/api/get_report?report_id={report_id}", timeout=60) as got:
        return seconds, got.read()


def shard_seconds(log: Path) -> list[float]:
    """
    The seconds of every shard a server log says it computed (``report.shard_done``).
    """
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if "event=report.shard_done" in line:
            for field in line.split():
                if field.startswith("seconds="):
                    found.append(float(field.removeprefix("seconds=")))
    return found


def _seconds_list(values: list[float]) -> str:
    """
    Every run's seconds in the order run (the spread on a shared machine is the point).
    """
    return ", ".join(f"{value:.2f}" for value in values) + " s"


def measure_scale_out(
    pg: str, folder: Path, runs: int, work: Path, filled: str | None = None
) -> tuple[list[Figure], list[str]]:
    """
    One report of the set in ``folder`` (the 4x set) computed by 1 and by 2 ``storemon
    serve`` processes (one worker each) on one PostgreSQL schema: the median seconds from
    trigger to Complete of each, the per-shard cost from the servers' logs, and whether
    both reports equal ``storemon report --db`` (computed in one piece) byte for byte.
    The set is ingested into a scratch schema, dropped afterwards, unless ``filled`` is
    the URL of a database already holding it.
    """
    reason = pg_unavailable(pg)
    if reason is not None:
        return [], [f"scale-out not measured: {reason}"]
    storemon = storemon_command()
    schema = f"storemon_scale_{os.getpid()}"
    url = filled or f"{pg}{'&' if '?' in pg else '?'}schema={schema}"
    options = ("--workers", "1")
    whole_csv = work / "report-scale.csv"
    try:
        if filled is None:
            drop_schema(pg, schema)
            print(f"ingesting {folder} into PostgreSQL ...", file=sys.stderr, flush=True)
            run([*storemon, "ingest", "--db", url, *sources(folder)])
            # As autovacuum leaves a table some time after a load: its statistics and
            # visibility map current, as in a database that has been running a while.
            _pg_admin(pg, f'VACUUM ANALYZE "{schema}".poll_days')
        run([*storemon, "report", "--db", url, "--output", str(whole_csv)])
        expected = whole_csv.read_bytes()
        seconds: dict[int, list[float]] = {1: [], 2: []}
        same = True
        shards: list[float] = []
        for count in (1, 2):
            logs = [work / f"scale-{count}-{number}.log" for number in range(count)]
            servers = [start_server(url, log, *options) for log in logs]
            try:
                for _ in range(runs):
                    taken, csv_bytes = trigger_to_complete(servers[0][1])
                    seconds[count].append(taken)
                    same = same and csv_bytes == expected
            finally:
                for server, _ in servers:
                    stop_server(server)
            if count == 1:
                shards = shard_seconds(logs[0])
    finally:
        if filled is None:
            drop_schema(pg, schema)
    one, two = statistics.median(seconds[1]), statistics.median(seconds[2])
    per_shard = statistics.median(shards) if shards else None
    figures = [
        Figure("scale-out: 1 server, trigger -> Complete", "(base)", one, "s", None,
               note=f"{len(shards) // max(runs, 1)} shards, median {per_shard or 0:.2f} s "
                    f"each; runs {_seconds_list(seconds[1])}"),
        Figure("scale-out: 2 servers, trigger -> Complete", "<= 0.65x 1 server", two, "s",
               two <= 0.65 * one,
               note=f"{two / one:.2f}x 1 server; runs {_seconds_list(seconds[2])}"),
    ]  # fmt: skip
    check = (
        f"sharded reports (1 and 2 servers) == report --db in one piece, byte for byte: "
        f"{'yes' if same else 'NO'}"
    )
    return figures, [check]


# ---------------------------------------------------------------------------- history


def count_rows(path: Path) -> int:
    """
    The data rows of a CSV file (its lines but the header).
    """
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


def status_store_ids(path: Path) -> list[str]:
    """
    The distinct store ids of a status file, in order of first appearance.
    """
    seen: dict[str, None] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        next(handle)
        for line in handle:
            seen.setdefault(line.split(",", 1)[0], None)
    return list(seen)


def next_hour_lines(store_ids: Sequence[str], hour: int) -> list[str]:
    """
    One poll per store in the ``hour``-th hour after the data's last one (1 = the next),
    at a random minute of its first quarter, 92% active: what an hourly export adds.
    """
    import random

    from storemon.sample import LAST_POLL_AT, format_timestamp

    start = LAST_POLL_AT.replace(minute=0, second=0, microsecond=0)
    start += dt.timedelta(hours=hour)
    rng = random.Random(hour)
    lines = []
    for store_id in store_ids:
        at = start + dt.timedelta(microseconds=rng.randrange(15 * 60 * 1_000_000))
        status = "active" if rng.random() < 0.92 else "inactive"
        lines.append(f"{store_id},{status},{format_timestamp(at)}\n")
    return lines


def append_hour(path: Path, store_ids: Sequence[str], hour: int) -> None:
    """
    Append the ``hour``-th next hour to a status file: the file grows, as an export does.
    """
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.writelines(next_hour_lines(store_ids, hour))


def reexport(original: Path, target: Path, store_ids: Sequence[str], hours: int) -> None:
    """
    Write ``target`` as ``original`` plus its next ``hours`` hours, every row in a new
    order (a warehouse export of the whole history, redone every hour).
    """
    import random

    from storemon.sample import STATUS_HEADER, write_shuffled

    def chunks() -> Iterator[list[str]]:
        with original.open(encoding="utf-8", newline="") as handle:
            next(handle)
            while lines := list(itertools.islice(handle, 100_000)):
                yield lines
        for hour in range(1, hours + 1):
            yield next_hour_lines(store_ids, hour)

    with original.open("rb") as counted:
        rows = sum(1 for _ in counted) + hours * len(store_ids)
    scratch = Path(tempfile.mkdtemp(prefix="reexport-", dir=target.parent))
    try:
        with target.open("w", encoding="utf-8", newline="", buffering=1 << 20) as handle:
            handle.write(STATUS_HEADER + "\n")
            write_shuffled(
                handle, chunks(), random.Random(1000 + hours), expected_rows=rows, scratch=scratch
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class Database:
    """
    One benchmark database per history length, on SQLite or in a PostgreSQL schema.
    """

    def __init__(self, kind: str, work: Path, pg: str | None = None) -> None:
        self.kind = kind
        self.work = work
        self.pg = pg
        self.schemas: list[str] = []

    def url(self, weeks: int) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.work / f'history-{weeks}w.db'}"
        assert self.pg is not None
        schema = f"storemon_bench_{os.getpid()}_{weeks}w"
        return f"{self.pg}{'&' if '?' in self.pg else '?'}schema={schema}"

    def reset(self, weeks: int) -> None:
        if self.kind == "sqlite":
            remove_db(self.work / f"history-{weeks}w.db")
            return
        assert self.pg is not None
        schema = f"storemon_bench_{os.getpid()}_{weeks}w"
        drop_schema(self.pg, schema)
        if schema not in self.schemas:
            self.schemas.append(schema)

    def size_mb(self, weeks: int) -> float:
        """
        The database's size on disk: the SQLite file (and its WAL), or the schema's
        tables and indexes.
        """
        if self.kind == "sqlite":
            base = self.work / f"history-{weeks}w.db"
            paths = [base, Path(f"{base}-wal")]
            return sum(path.stat().st_size for path in paths if path.exists()) / 1e6
        assert self.pg is not None
        schema = f"storemon_bench_{os.getpid()}_{weeks}w"
        size = _pg_value(
            self.pg,
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')",
            schema,
        )
        return float(size) / 1e6

    def close(self) -> None:
        if self.pg is not None:
            for schema in self.schemas:
                drop_schema(self.pg, schema)


def _pg_value(url: str, query: str, *args: object) -> object:
    import asyncpg

    dsn = url.split("?", 1)[0]

    async def go() -> object:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            return await connection.fetchval(query, *args)
        finally:
            await connection.close()

    return asyncio.run(go())


def measure_history(
    db: Database,
    sets: dict[int, Path],
    runs: int,
    work: Path,
    keep_weeks: int,
    numbers: dict[str, float],
) -> tuple[list[Figure], list[str]]:
    """
    The history figures of one backend: ingest of each history length into an empty
    database, report ``--db`` on each, the growing file (one hour appended) and the
    whole re-export (a new order, one more hour) as refreshes, and retention.

    ``numbers`` receives the measured values (for the projection, and for PostgreSQL's
    figures beside SQLite's).
    """
    storemon = storemon_command()
    name = "SQLite" if db.kind == "sqlite" else "PostgreSQL"
    weeks = sorted(sets)
    one, most = weeks[0], weeks[-1]
    # The refreshes grow and rewrite status files: work on copies, never on the cache.
    copies = {w: work / f"status-{w}w.csv" for w in (one, most)}
    for w, path in copies.items():
        shutil.copyfile(sets[w] / FILES[0], path)
    store_ids = status_store_ids(sets[one] / FILES[0])

    def ingest(w: int) -> list[str]:
        status = copies.get(w, sets[w] / FILES[0])
        return [
            *storemon, "ingest", "--db", db.url(w), "--status", str(status),
            "--business-hours", str(sets[w] / FILES[1]), "--timezones", str(sets[w] / FILES[2]),
        ]  # fmt: skip

    def report(w: int) -> list[str]:
        return [*storemon, "report", "--db", db.url(w), "--output", str(work / f"h{w}.csv")]

    figures: list[Figure] = []
    checks: list[str] = []
    key = db.kind
    for w in weeks:
        print(f"{name}: ingesting {w} week(s) ...", file=sys.stderr, flush=True)
        seconds, peak = measure(runs, lambda _: ingest(w), before=lambda _: db.reset(w))  # noqa: B023
        numbers[f"{key}_ingest_{w}"] = seconds
        numbers[f"{key}_ingest_mb_{w}"] = peak
        numbers[f"{key}_size_{w}"] = db.size_mb(w)
    # The reports on each history in turn, a round at a time: their ratios are read from
    # runs side by side.
    reports = measure_interleaved(
        runs,
        {str(w): functools.partial(report, w) for w in weeks},
    )
    report_ratio: dict[int, float] = {}
    for w in weeks:
        numbers[f"{key}_report_{w}"], numbers[f"{key}_report_mb_{w}"], report_ratio[w] = reports[
            str(w)
        ]
    base_ingest = numbers[f"{key}_ingest_{one}"]
    rows = {w: count_rows(sets[w] / FILES[0]) for w in weeks}
    for w in weeks:
        ingest_s = numbers[f"{key}_ingest_{w}"]
        # Proportional to the rows: a copied week leaves out the generated week's last day.
        linear = ingest_s / (rows[w] / rows[one] * base_ingest)
        goal = "(base)" if w == one else "<= 1.25x proportional to the rows"
        met = None if w == one else linear <= 1.25
        figures.append(
            Figure(f"{name}: ingest {w} week(s), empty database", goal, ingest_s, "s", met,
                   note=f"{rows[w]} rows, {linear:.2f}x proportional; peak "
                        f"{numbers[f'{key}_ingest_mb_{w}']:.0f} MB; "
                        f"{numbers[f'{key}_size_{w}']:.0f} MB on disk")
        )  # fmt: skip
    for w in weeks:
        report_s = numbers[f"{key}_report_{w}"]
        ratio = report_ratio[w]
        figures.append(
            Figure(f"{name}: report --db on {w} week(s)",
                   "(base)" if w == one else f"<= 1.15x the {one}-week figure", report_s, "s",
                   None if w == one else ratio <= 1.15,
                   note=f"{ratio:.2f}x (side by side); "
                        f"peak {numbers[f'{key}_report_mb_{w}']:.0f} MB")
        )  # fmt: skip
    same = (work / f"h{one}.csv").read_text().splitlines()
    more = (work / f"h{most}.csv").read_text().splitlines()
    equal = sum(1 for a, b in zip(same, more, strict=False) if a == b)
    checks.append(
        f"{name}: report on {most} weeks and on {one} week, rows equal: {equal} of {len(same)} "
        "(a store without a poll between the week's start and its first poll in the week "
        "takes its status from the week before, which only the longer history has)"
    )

    # The file grows by one hour, ``runs`` times: each ingest reads only the new rows.
    hour = itertools.count(1)
    append_s, append_mb = measure(
        runs,
        lambda _: ingest(most),
        before=lambda _: append_hour(copies[most], store_ids, next(hour)),
    )
    numbers[f"{key}_append"] = append_s
    figures.append(
        Figure(f"{name}: append of one hour into {most} weeks", "<= 0.5 s", append_s, "s",
               append_s <= 0.5, note=f"peak {append_mb:.0f} MB")
    )  # fmt: skip

    # The week re-exported whole in a new order, with one more hour each time, into the
    # database the week filled; each beside a first ingest of the week into an empty
    # database (a scratch one), so that the ratio is of runs side by side.
    hours = itertools.count(1)
    scratch = 0  # the "weeks" of the scratch database's name
    first_ingest = [
        *storemon, "ingest", "--db", db.url(scratch), "--status", str(sets[one] / FILES[0]),
        "--business-hours", str(sets[one] / FILES[1]), "--timezones", str(sets[one] / FILES[2]),
    ]  # fmt: skip
    firsts: list[float] = []
    reexports: list[float] = []
    reexport_mb = 0.0
    for _ in range(max(runs, MIN_RATIO_ROUNDS)):
        db.reset(scratch)
        firsts.append(run(first_ingest).seconds)
        reexport(sets[one] / FILES[0], copies[one], store_ids, next(hours))
        result = run(ingest(one))
        reexports.append(result.seconds)
        reexport_mb = max(reexport_mb, result.tree_mb)
    db.reset(scratch)
    reexport_s = statistics.median(reexports)
    numbers[f"{key}_reexport"] = reexport_s
    ratio = statistics.median(a / b for a, b in zip(reexports, firsts, strict=True))
    figures.append(
        Figure(f"{name}: re-export of the week, new order, one more hour, filled database",
               "<= 0.5x the first ingest", reexport_s, "s", ratio <= 0.5,
               note=f"{ratio:.2f}x a first ingest side by side "
                    f"({statistics.median(firsts):.2f} s); peak {reexport_mb:.0f} MB")
    )  # fmt: skip

    # Retention on the longest history: the first prune deletes every week past
    # ``keep_weeks``; then one more hour arrives and the next prune is the hourly one.
    prune = [*storemon, "prune", "--db", db.url(most), "--keep", f"{keep_weeks}w"]
    first = run(prune)
    numbers[f"{key}_prune_first"] = first.seconds
    numbers[f"{key}_size_pruned"] = db.size_mb(most)
    pruned = measure_interleaved(
        runs, {"base": functools.partial(report, one), "pruned": functools.partial(report, most)}
    )
    pruned_report_s, _, pruned_ratio = pruned["pruned"]
    numbers[f"{key}_report_pruned"] = pruned_report_s

    def one_more_hour(_: int) -> None:
        append_hour(copies[most], store_ids, next(hour))
        run(ingest(most))

    hourly_s, _ = measure(runs, lambda _: prune, before=one_more_hour)
    numbers[f"{key}_prune_hourly"] = hourly_s
    figures += [
        Figure(f"{name}: prune {most} weeks to {keep_weeks} (first prune)", "(info)",
               first.seconds, "s", None,
               note=f"{numbers[f'{key}_size_pruned']:.0f} MB on disk after (the space is "
                    "reused, not returned)"),
        Figure(f"{name}: report --db after the prune ({keep_weeks} weeks kept)",
               f"<= 1.15x the {one}-week figure", pruned_report_s, "s",
               pruned_ratio <= 1.15, note=f"{pruned_ratio:.2f}x (side by side)"),
        Figure(f"{name}: hourly prune (one hour more to delete)", "(info)", hourly_s, "s", None),
    ]  # fmt: skip
    return figures, checks


def projection(numbers: dict[str, float], weeks: Sequence[int], keep_weeks: int) -> list[str]:
    """
    A year of hourly refreshes, from the measured figures: with retention (``keep_weeks``
    weeks kept, pruned every hour) and without (52 weeks kept), on SQLite.
    """
    one, most = weeks[0], weeks[-1]

    def at(figure: str, w: float) -> float:
        # Straight line through the shortest and longest histories measured.
        low, high = numbers[f"sqlite_{figure}_{one}"], numbers[f"sqlite_{figure}_{most}"]
        return low + (high - low) * (w - one) / (most - one)

    hourly_refresh = numbers["sqlite_append"] + numbers["sqlite_prune_hourly"]
    return [
        f"projection, a year of hourly refreshes on SQLite (from the figures above; lines "
        f"through {one} and {most} weeks):",
        f"- with --retention {keep_weeks}w: about {at('size', keep_weeks):.0f} MB on disk "
        f"(the {most}-week file pruned stays at {numbers['sqlite_size_pruned']:.0f} MB: freed "
        f"pages are reused), report --db {numbers['sqlite_report_pruned']:.2f} s (measured "
        f"after the prune), prune {numbers['sqlite_prune_hourly']:.2f} s an hour, "
        f"append + prune {hourly_refresh:.2f} s an hour ({hourly_refresh * 8760 / 3600:.1f} "
        "h of the year)",
        f"- without retention (52 weeks): about {at('size', 52):.0f} MB on disk, report "
        f"--db about {at('report', 52):.1f} s",
    ]


def loop_seconds() -> float:
    """
    The seconds a fixed pure-Python loop takes here now (the best of three): this machine
    is shared and its speed changes by up to 1.5x within minutes, so each table says how
    fast it was at its start and at its end.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for step in range(5_000_000):
            total += step
        best = min(best, time.perf_counter() - started)
    return best


#: ``loop_seconds()`` when the bench started (``main``).
STARTED_LOOP_S: list[float] = []


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "commit": commit + ("+dirty" if dirty else ""),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 stores, one run each")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; --quick 1)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "storemon-bench",
        help="where generated data sets and databases are kept",
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive reference")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 4x and 10x sets")
    parser.add_argument(
        "--real",
        type=Path,
        help="folder of the real business_hours.csv and timezones.csv for the full-size set "
        "(default: $STOREMON_REAL_DATA, else ../shared/data/real beside the checkout)",
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="use storemon sample hours and zones only"
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("STOREMON_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL to measure beside SQLite (a scratch schema is created and dropped)",
    )
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--scale-out-only",
        action="store_true",
        help="measure only one report of the 4x set by 1 and 2 servers on PostgreSQL",
    )
    parser.add_argument(
        "--scale-out-db",
        help="a PostgreSQL URL already holding the 4x set, used instead of ingesting it",
    )
    parser.add_argument(
        "--only",
        choices=("all", "main", "history"),
        default="all",
        help="main: the one-week figures (ingest, report, server, naive, scaling); "
        "history: 1, 4 and 12 weeks of history, refreshes and retention; all (default)",
    )
    parser.add_argument(
        "--stores", type=int, help=f"stores in the data sets (default {FULL_STORES}; --quick 1000)"
    )
    parser.add_argument(
        "--history-weeks",
        default="1,4,12",
        help="weeks of history measured, comma-separated (default 1,4,12)",
    )
    parser.add_argument(
        "--keep-weeks",
        type=int,
        default=8,
        help="weeks the retention figures keep (storemon prune --keep Nw; default 8)",
    )
    args = parser.parse_args(argv)
    STARTED_LOOP_S.append(loop_seconds())
    if args.scale_out_only:
        return scale_out_only(args)
    compiled_package()
    runs = args.runs or (1 if args.quick else 3)
    stores = args.stores or (1_000 if args.quick else FULL_STORES)
    factors = (2, 5) if args.quick else (4, 10)
    storemon = storemon_command()
    cache: Path = args.cache
    real = None if args.quick or args.synthetic else (args.real or default_real_dir())
    if args.only == "history":
        folder = None
    else:
        folder = real_data_set(cache, real, stores) if real else data_set(cache, stores)
    work = Path(tempfile.mkdtemp(prefix="storemon-bench-"))
    figures: list[Figure] = []
    checks: list[str] = []
    projected: list[str] = []
    try:
        if args.only in ("all", "main"):
            db = work / "bench.db"

            # Ingest into an empty database, then again with the sources unchanged.
            ingest_s, ingest_mb = measure(
                runs,
                lambda _: [*storemon, "ingest", "--db", f"sqlite:///{db}", *sources(folder)],
                before=lambda _: remove_db(db),
            )
            again_s, again_mb = measure(
                runs, lambda _: [*storemon, "ingest", "--db", f"sqlite:///{db}", *sources(folder)]
            )
            db_csv = work / "report-db.csv"
            # The same database with special days, reported with a maximum gap, in turn
            # with the plain report: their ratio is read from runs side by side.
            special_db = work / "bench-special.db"
            shutil.copyfile(db, special_db)
            special_csv = work / "special_hours.csv"
            special_rows = write_special_hours(special_db, folder, special_csv)
            run([*storemon, "ingest", "--db", f"sqlite:///{special_db}",
                 "--special-hours", str(special_csv)])  # fmt: skip
            reports = measure_interleaved(
                runs,
                {
                    "plain": lambda: [
                        *storemon, "report", "--db", f"sqlite:///{db}", "--output", str(db_csv),
                    ],
                    "gap": lambda: [
                        *storemon, "report", "--db", f"sqlite:///{special_db}",
                        "--max-gap", "2h", "--output", str(work / "report-gap.csv"),
                    ],
                },
            )  # fmt: skip
            report_db_s, report_db_mb, _ = reports["plain"]
            report_gap_s, _, gap_ratio = reports["gap"]
            direct_csv = work / "report-csv.csv"
            report_csv_s, report_csv_mb = measure(
                runs,
                lambda _: [*storemon, "report", *sources(folder), "--output", str(direct_csv)],
            )
            server_times = server_trigger_to_complete(folder, f"sqlite:///{db}", runs)
            server_s = statistics.median(server_times)

            same = db_csv.read_bytes() == direct_csv.read_bytes()
            rows = db_csv.read_text(encoding="utf-8").count("\n") - 1
            checks.append(
                f"report from SQLite == report from the CSV files, value for value: "
                f"{'yes' if same else 'NO'} ({rows} rows)"
            )

            naive: dict[str, float] = {}
            if not args.no_naive:
                naive_py = [sys.executable, str(ROOT / "benchmarks" / "naive.py")]
                naive_db = work / "naive.db"
                naive_ingest = run([*naive_py, "ingest", str(naive_db), *sources(folder)])
                naive_report_db = run(
                    [*naive_py, "report-db", str(naive_db), "--output", str(work / "naive-db.csv")]
                )
                naive_report_csv = run(
                    [*naive_py, "report", *sources(folder), "--output", str(work / "naive-csv.csv")]
                )
                naive = {
                    "ingest": naive_ingest.seconds,
                    "report_db": naive_report_db.seconds,
                    "report_csv": naive_report_csv.seconds,
                    "report_mb": max(naive_report_db.peak_mb, naive_report_csv.peak_mb),
                    "ingest_mb": naive_ingest.peak_mb,
                }
                for name in ("naive-db.csv", "naive-csv.csv"):
                    equal = (work / name).read_bytes() == direct_csv.read_bytes()
                    checks.append(
                        f"naive reference ({name}) == storemon report: {'yes' if equal else 'NO'}"
                    )

            if not args.no_pg:
                pg_figures, pg_checks = measure_postgres(
                    args.pg, folder, runs, direct_csv, work,
                    sqlite={"ingest": ingest_s, "again": again_s, "report": report_db_s,
                            "server": server_s, "ingest_mb": ingest_mb, "report_mb": report_db_mb},
                )  # fmt: skip
                checks += pg_checks

            report_mb = max(report_db_mb, report_csv_mb)
            figures += [
                Figure("ingest, empty SQLite", "<= 6 s", ingest_s, "s", ingest_s <= 6,
                       naive.get("ingest")),
                Figure("ingest again, unchanged", "<= 0.3 s", again_s, "s", again_s <= 0.3),
                Figure("report --db sqlite", "<= 1.2 s", report_db_s, "s", report_db_s <= 1.2,
                       naive.get("report_db")),
                Figure("report --db, special days + --max-gap 2h", "<= 1.1x report --db",
                       report_gap_s, "s", gap_ratio <= 1.1,
                       note=f"{gap_ratio:.2f}x (median of the ratios of runs side by side); "
                            f"{special_rows} special rows"),
                Figure("server trigger -> Complete", "<= 2 s", server_s, "s", server_s <= 2),
                Figure("report from the CSV files", "<= 3 s", report_csv_s, "s",
                       report_csv_s <= 3, naive.get("report_csv")),
                Figure("peak memory, report", "<= 250 MB", report_mb, "MB", report_mb <= 250,
                       naive.get("report_mb"),
                       f"db {report_db_mb:.0f}, csv {report_csv_mb:.0f}"),
                Figure("peak memory, ingest", "<= 150 MB", ingest_mb, "MB", ingest_mb <= 150,
                       naive.get("ingest_mb"), f"again {again_mb:.0f}"),
            ]  # fmt: skip

            if not args.no_pg:
                figures += pg_figures

            if not args.no_pg and not args.no_scaling:
                scale_figures, scale_checks = measure_scale_out(
                    args.pg, data_set(cache, stores * 4), runs, work, args.scale_out_db
                )
                figures += scale_figures
                checks += scale_checks

            if not args.no_scaling:
                # Scaling of the SQLite report (the streaming path), each set ingested into a
                # new database once (its time and peak memory are reported too). The larger
                # sets are generated, so with real hours the base is the generated 1x set.
                base_s, base_mb = report_db_s, report_db_mb
                if real:
                    base = data_set(cache, stores)
                    base_db = work / "bench-1x.db"
                    run([*storemon, "ingest", "--db", f"sqlite:///{base_db}", *sources(base)])
                    base_s, base_mb = measure(
                        runs,
                        lambda _: [
                            *storemon, "report", "--db", f"sqlite:///{base_db}",
                            "--output", str(work / "base.csv"),
                        ],
                    )  # fmt: skip
                    figures.append(
                        Figure(
                            "report --db, generated 1x set",
                            "(scaling base)",
                            base_s,
                            "s",
                            None,
                            note=f"{base.name}, peak {base_mb:.0f} MB",
                        )
                    )
                for factor in factors:
                    big = data_set(cache, stores * factor)
                    big_db = work / f"bench-{factor}x.db"
                    print(f"ingesting {big} ...", file=sys.stderr, flush=True)
                    big_ingest = run(
                        [*storemon, "ingest", "--db", f"sqlite:///{big_db}", *sources(big)]
                    )
                    big_report = [
                        *storemon, "report", "--db", f"sqlite:///{big_db}",
                        "--output", str(work / "big.csv"),
                    ]  # fmt: skip
                    seconds, peak = measure(runs, lambda _: big_report)  # noqa: B023 (run now)
                    ratio = seconds / base_s
                    figures.append(
                        Figure(
                            f"report --db at {factor}x stores",
                            f"time <= ~{factor}x",
                            seconds,
                            "s",
                            ratio <= factor * 1.25,
                            note=f"{ratio:.1f}x the 1x time",
                        )
                    )
                    limit = 2 if factor == factors[-1] else factor
                    figures.append(
                        Figure(
                            f"peak memory, report at {factor}x",
                            f"<= {limit}x the 1x peak" if factor == factors[-1] else "(info)",
                            peak,
                            "MB",
                            peak <= 2 * base_mb if factor == factors[-1] else None,
                            note=f"{peak / base_mb:.2f}x the 1x peak",
                        )
                    )
                    figures.append(
                        Figure(
                            f"peak memory, ingest at {factor}x",
                            "<= 150 MB",
                            big_ingest.tree_mb,
                            "MB",
                            big_ingest.tree_mb <= 150,
                            note=f"into an empty database, {big_ingest.seconds:.1f} s",
                        )
                    )
        if args.only in ("all", "history"):
            history_weeks = sorted({int(w) for w in args.history_weeks.split(",")})
            if real:
                sets = {w: real_data_set(cache, real, stores, weeks=w) for w in history_weeks}
            else:
                sets = {w: data_set(cache, stores, weeks=w) for w in history_weeks}
            keep_weeks = min(args.keep_weeks, history_weeks[-1])
            numbers: dict[str, float] = {}
            sqlite_db = Database("sqlite", work)
            found, found_checks = measure_history(sqlite_db, sets, runs, work, keep_weeks, numbers)
            figures += found
            checks += found_checks
            for w in history_weeks:
                remove_db(work / f"history-{w}w.db")
            if not args.no_pg:
                reason = pg_unavailable(args.pg)
                if reason is None:
                    pg_db = Database("postgres", work, args.pg)
                    try:
                        found, found_checks = measure_history(
                            pg_db, sets, runs, work, keep_weeks, numbers
                        )
                    finally:
                        pg_db.close()
                    for figure in found:
                        figure.goal, figure.met = "(beside SQLite)", None
                    figures += found
                    checks += found_checks
                else:
                    checks.append(f"PostgreSQL history not measured: {reason}")
            projected = projection(numbers, history_weeks, keep_weeks)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    return print_table(figures, checks, stores, folder, runs, real, projected)


def scale_out_only(args: argparse.Namespace) -> int:
    """
    ``--scale-out-only``: the scale-out figures alone.
    """
    runs = args.runs or 3
    folder = data_set(args.cache, FULL_STORES * 4)
    work = Path(tempfile.mkdtemp(prefix="storemon-bench-"))
    try:
        figures, checks = measure_scale_out(args.pg, folder, runs, work, args.scale_out_db)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return print_table(figures, checks, FULL_STORES * 4, folder, runs, None)


def print_table(
    figures: list[Figure],
    checks: list[str],
    stores: int,
    folder: Path | None,
    runs: int,
    real: Path | None,
    projected: Sequence[str] = (),
) -> int:
    """
    Print the figures and checks as one table; return 1 when a check failed.
    """
    info = machine()
    origin = f"real hours and zones from {real}" if real else "generated hours and zones"
    print(
        f"\nstoremon benchmark, {info['date']}, commit {info['commit']}; {stores} stores "
        f"({folder.name if folder else 'history sets'}: {origin}, status rows in no order); "
        f"{runs} run(s) per figure, median time, largest peak RSS"
    )
    speed = ""
    if STARTED_LOOP_S:
        speed = (
            f"; a 5M-step Python loop took {STARTED_LOOP_S[0]:.2f} s at the start and "
            f"{loop_seconds():.2f} s at the end (the machine's speed: lower is faster)"
        )
    print(
        f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['ram']} RAM, "
        f"Python {info['python']}{speed}\n"
    )
    header = ("figure", "goal", "measured", "naive", "naive / storemon", "met", "note")
    table = [header]
    for figure in figures:
        value = "-" if figure.value is None else f"{figure.value:.2f} {figure.unit}"
        naive_text = "-" if figure.naive is None else f"{figure.naive:.2f} {figure.unit}"
        speedup = (
            f"{figure.naive / figure.value:.1f}x"
            if figure.naive is not None and figure.value and figure.unit == "s"
            else "-"
        )
        met = {True: "met", False: "MISSED", None: "-"}[figure.met]
        table.append((figure.name, figure.goal, value, naive_text, speedup, met, figure.note))
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for line in table[1:]:
        print("| " + " | ".join(line) + " |")
    print()
    for check in checks:
        print(check)
    if projected:
        print()
        print("\n".join(projected))
    missed = [figure.name for figure in figures if figure.met is False]
    bad = [check for check in checks if "NO" in check]
    print(f"\n{'every goal met' if not missed else 'missed: ' + ', '.join(missed)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
