"""
Whole-process benchmarks of storemon against the goals of issue 5 (docs/benchmarks.md).

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
import hashlib
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
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL_STORES = 14_092
SEED = 0
FILES = ("store_status.csv", "business_hours.csv", "timezones.csv")


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


def data_set(cache: Path, stores: int, seed: int = SEED) -> Path:
    """
    Return a directory holding the sample of ``stores`` stores, generating it if needed.
    """

    def generate(partial: Path) -> None:
        subprocess.run(
            [
                *storemon_command(),
                *("sample", "--output", str(partial), "--stores", str(stores)),
                *("--seed", str(seed)),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    folder = cache / f"sample-{generator_key()}-stores{stores}-seed{seed}"
    return cached_set(folder, f"{stores} stores", generate)


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


def real_data_set(cache: Path, real: Path, stores: int, seed: int = SEED) -> Path:
    """
    Return a directory holding the real business hours and time zones, and generated
    polls (``storemon.sample.write_status``) for ``stores`` real store ids.
    """
    from storemon.sample import write_status

    digest = hashlib.sha256()
    for name in FILES[1:]:
        digest.update((real / name).read_bytes())

    def generate(partial: Path) -> None:
        write_status(partial / FILES[0], real_store_ids(real, stores), seed=seed)
        for name in FILES[1:]:
            shutil.copyfile(real / name, partial / name)

    folder = cache / f"real-{generator_key()}-{digest.hexdigest()[:12]}-stores{stores}-seed{seed}"
    return cached_set(folder, f"polls for {stores} real stores", generate)


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
        [[latest_us]] = connection.execute("SELECT max(at_us) FROM polls").fetchall()
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
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    stores = 1_000 if args.quick else FULL_STORES
    factors = (2, 5) if args.quick else (4, 10)
    storemon = storemon_command()
    cache: Path = args.cache
    real = None if args.quick or args.synthetic else (args.real or default_real_dir())
    folder = real_data_set(cache, real, stores) if real else data_set(cache, stores)
    work = Path(tempfile.mkdtemp(prefix="storemon-bench-"))
    figures: list[Figure] = []
    checks: list[str] = []
    try:
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
        report_db_s, report_db_mb = measure(
            runs,
            lambda _: [*storemon, "report", "--db", f"sqlite:///{db}", "--output", str(db_csv)],
        )
        # The same database with special days, reported with a maximum gap.
        special_db = work / "bench-special.db"
        shutil.copyfile(db, special_db)
        special_csv = work / "special_hours.csv"
        special_rows = write_special_hours(special_db, folder, special_csv)
        run([*storemon, "ingest", "--db", f"sqlite:///{special_db}",
             "--special-hours", str(special_csv)])  # fmt: skip
        report_gap_s, _ = measure(
            runs,
            lambda _: [
                *storemon, "report", "--db", f"sqlite:///{special_db}", "--max-gap", "2h",
                "--output", str(work / "report-gap.csv"),
            ],
        )  # fmt: skip
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
            Figure("report --db sqlite", "<= 1.5 s", report_db_s, "s", report_db_s <= 1.5,
                   naive.get("report_db")),
            Figure("report --db, special days + --max-gap 2h", "<= 1.1x report --db",
                   report_gap_s, "s", report_gap_s <= 1.1 * report_db_s,
                   note=f"{report_gap_s / report_db_s:.2f}x; {special_rows} special rows"),
            Figure("server trigger -> Complete", "<= 2 s", server_s, "s", server_s <= 2),
            Figure("report from the CSV files", "<= 4 s", report_csv_s, "s",
                   report_csv_s <= 4, naive.get("report_csv")),
            Figure("peak memory, report", "<= 250 MB", report_mb, "MB", report_mb <= 250,
                   naive.get("report_mb"),
                   f"db {report_db_mb:.0f}, csv {report_csv_mb:.0f}"),
            Figure("peak memory, ingest", "<= 150 MB", ingest_mb, "MB", ingest_mb <= 150,
                   naive.get("ingest_mb"), f"again {again_mb:.0f}"),
        ]  # fmt: skip

        if not args.no_pg:
            figures += pg_figures

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
    finally:
        shutil.rmtree(work, ignore_errors=True)

    info = machine()
    origin = f"real hours and zones from {real}" if real else "generated hours and zones"
    print(
        f"\nstoremon benchmark, {info['date']}, commit {info['commit']}; {stores} stores "
        f"({folder.name}: {origin}); {runs} run(s) per figure, median time, largest peak RSS"
    )
    print(
        f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['ram']} RAM, "
        f"Python {info['python']}\n"
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
    missed = [figure.name for figure in figures if figure.met is False]
    bad = [check for check in checks if "NO" in check]
    print(f"\n{'every goal met' if not missed else 'missed: ' + ', '.join(missed)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
