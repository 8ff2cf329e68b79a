"""
Tests of the synthetic data generator, ``storemon.sample``, against the real data's shapes.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import itertools
import random
import re
from pathlib import Path

import pytest

import storemon
from storemon.cli import main
from storemon.sample import (
    BUCKET_ROWS,
    FIRST_HOUR,
    HOURS_FILE,
    LAST_POLL_AT,
    ORDERS,
    POLLING_HOLES,
    STATUS_FILE,
    ZONE_WEIGHTS,
    ZONES_FILE,
    bucket_count,
    format_timestamp,
    polling_plan,
    random_store_id,
    write_sample,
    write_shuffled,
    write_status,
)

STORES = 200
SEED = 7
FILES = (STATUS_FILE, HOURS_FILE, ZONES_FILE)
TIMESTAMP = re.compile(r"2023-01-\d\d \d\d:\d\d:\d\d(?:\.\d{0,5}[1-9])? UTC")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.removesuffix(" UTC")).replace(tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sample") / "out"
    write_sample(directory, stores=STORES, seed=SEED)
    return directory


@pytest.fixture(scope="module")
def status_rows(sample_dir: Path) -> list[dict[str, str]]:
    return _rows(sample_dir / STATUS_FILE)


@pytest.fixture(scope="module")
def polls_by_store(status_rows: list[dict[str, str]]) -> dict[str, list[tuple[str, str]]]:
    by_store: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for row in status_rows:
        by_store[row["store_id"]].append((row["timestamp_utc"], row["status"]))
    for polls in by_store.values():
        polls.sort()  # one spelling family: text order is time order
    return dict(by_store)


@pytest.fixture(scope="module")
def hours_by_store(sample_dir: Path) -> dict[str, dict[int, list[tuple[str, str]]]]:
    by_store: dict[str, dict[int, list[tuple[str, str]]]] = {}
    for row in _rows(sample_dir / HOURS_FILE):
        days = by_store.setdefault(row["store_id"], collections.defaultdict(list))
        days[int(row["day"])].append((row["start_time_local"], row["end_time_local"]))
    return by_store


def test_same_seed_gives_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    """The same seed writes byte-identical files, and a different seed different ones."""
    first = write_sample(tmp_path / "a", stores=50, seed=1)
    second = write_sample(tmp_path / "b", stores=50, seed=1)
    other = write_sample(tmp_path / "c", stores=50, seed=2)
    assert first == second
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert set(other) == set(FILES)


def test_write_status_polls_exactly_the_given_stores(tmp_path: Path) -> None:
    """``write_status`` polls each given id (and no other), deterministically for a seed."""
    ids = [f"store-{index}" for index in range(40)]
    count = write_status(tmp_path / "a.csv", ids, seed=3)
    write_status(tmp_path / "b.csv", ids, seed=3)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    rows = _rows(tmp_path / "a.csv")
    assert len(rows) == count
    assert {row["store_id"] for row in rows} == set(ids)
    assert max(row["timestamp_utc"] for row in rows) == "2023-01-25 18:13:22.47922 UTC"
    assert all(TIMESTAMP.fullmatch(row["timestamp_utc"]) for row in rows)
    with pytest.raises(ValueError, match="empty"):
        write_status(tmp_path / "c.csv", [], seed=3)


def test_files_load_with_no_rejects(sample_dir: Path) -> None:
    """All three files load with ``storemon.load_csv`` without one rejected row."""
    data = storemon.load_csv(
        sample_dir / STATUS_FILE, sample_dir / HOURS_FILE, sample_dir / ZONES_FILE
    )
    assert data.rejected == []
    assert len(data.polls) == STORES
    report = data.report()
    assert len(report.rows) == STORES


def test_returned_counts_match_the_files_and_their_format(sample_dir: Path) -> None:
    """Each file has its exact header, LF line ends, no BOM, and the counted rows."""
    counts = write_sample(sample_dir.parent / "again", stores=STORES, seed=SEED)
    headers = {
        STATUS_FILE: b"store_id,status,timestamp_utc\n",
        HOURS_FILE: b"store_id,day,start_time_local,end_time_local\n",
        ZONES_FILE: b"store_id,timezone_str\n",
    }
    for name in FILES:
        data = (sample_dir / name).read_bytes()
        assert data.startswith(headers[name])
        assert b"\r" not in data
        assert data.endswith(b"\n")
        assert data.count(b"\n") == counts[name] + 1


def test_latest_poll_is_the_real_maximum(
    sample_dir: Path, status_rows: list[dict[str, str]]
) -> None:
    """The latest poll is exactly 2023-01-25 18:13:22.47922 UTC, spelled as in the real file."""
    stamps = [row["timestamp_utc"] for row in status_rows]
    assert max(stamps) == "2023-01-25 18:13:22.47922 UTC"
    assert stamps.count("2023-01-25 18:13:22.47922 UTC") == 1
    assert min(stamps) >= "2023-01-18 00:00:00 UTC"
    data = storemon.load_csv(sample_dir / STATUS_FILE)
    assert data.latest_poll_at() == LAST_POLL_AT


def test_store_ids_are_15_to_19_digit_strings(sample_dir: Path) -> None:
    """Every id in every file is a decimal string of 15-19 digits below 2**63, no leading zero."""
    for name in FILES:
        for row in _rows(sample_dir / name):
            store_id = row["store_id"]
            assert re.fullmatch(r"[1-9]\d{14,18}", store_id), store_id
            assert int(store_id) < 2**63


def test_random_store_id_lengths_follow_uniform_int64() -> None:
    """Generated ids are mostly 19 digits, some 18 and 17, like uniform non-negative int64."""
    rng = random.Random(5)
    lengths = collections.Counter(len(random_store_id(rng)) for _ in range(20_000))
    assert set(lengths) <= {15, 16, 17, 18, 19}
    assert 0.85 < lengths[19] / 20_000 < 0.94
    assert lengths[18] > lengths[17] > 0


def test_timestamps_use_the_real_spelling(status_rows: list[dict[str, str]]) -> None:
    """Timestamps have trimmed fractions of varying length and a few have no fraction."""
    fraction_digits: collections.Counter[int] = collections.Counter()
    for row in status_rows:
        stamp = row["timestamp_utc"]
        assert TIMESTAMP.fullmatch(stamp), stamp
        fraction_digits[len(stamp.removesuffix(" UTC").partition(".")[2])] += 1
    assert fraction_digits[0] >= 1  # a parser that requires ".%f" fails here
    assert fraction_digits[6] > fraction_digits[5] > fraction_digits[4] > 0
    assert {row["status"] for row in status_rows} == {"active", "inactive"}


def test_format_timestamp_trims_the_fraction() -> None:
    """``format_timestamp`` drops trailing fraction zeros and a zero fraction entirely."""
    assert format_timestamp(LAST_POLL_AT) == "2023-01-25 18:13:22.47922 UTC"
    assert format_timestamp(FIRST_HOUR) == "2023-01-18 00:00:00 UTC"
    assert format_timestamp(FIRST_HOUR.replace(microsecond=500)) == "2023-01-18 00:00:00.0005 UTC"


def test_rows_are_not_sorted(status_rows: list[dict[str, str]]) -> None:
    """In file order, timestamps go backwards often and stores are interleaved."""
    stamps = [row["timestamp_utc"] for row in status_rows]
    backwards = sum(1 for a, b in itertools.pairwise(stamps) if b < a)
    assert backwards > len(stamps) // 5
    ids = [row["store_id"] for row in status_rows[:100]]
    assert len(set(ids)) > 50


def test_about_one_poll_per_store_per_covered_hour(
    polls_by_store: dict[str, list[tuple[str, str]]],
) -> None:
    """Each store has about one poll per covered hour: 131 hours give about 130 polls."""
    plan = polling_plan()
    assert len(plan) == 131
    assert plan[0].start == FIRST_HOUR
    assert plan[-1].start + dt.timedelta(microseconds=plan[-1].last_us) == LAST_POLL_AT
    counts = [len(polls) for polls in polls_by_store.values()]
    assert 125 <= sum(counts) / len(counts) <= 136
    assert min(counts) > 100


def test_polls_are_concentrated_early_in_the_hour(status_rows: list[dict[str, str]]) -> None:
    """About 84% of polls fall in minutes :00-:14, with the peak at :01-:03."""
    minutes = collections.Counter(int(row["timestamp_utc"][14:16]) for row in status_rows)
    early = sum(minutes[minute] for minute in range(15)) / len(status_rows)
    assert 0.78 < early < 0.9
    assert minutes.most_common(1)[0][0] in (1, 2, 3)
    assert minutes[45] < minutes[2] / 10


def test_polling_holes_are_empty(status_rows: list[dict[str, str]]) -> None:
    """No store is polled in the 56 empty hours, including the 35 hours from 2023-01-22 18:00."""
    assert sum((end - start) // dt.timedelta(hours=1) for start, end in POLLING_HOLES) == 56
    assert (
        dt.datetime(2023, 1, 22, 18, tzinfo=dt.UTC),
        dt.datetime(2023, 1, 24, 5, tzinfo=dt.UTC),
    ) in POLLING_HOLES
    polled_hours = {row["timestamp_utc"][:13] for row in status_rows}
    for start, end in POLLING_HOLES:
        hour = start
        while hour < end:
            assert f"{hour:%Y-%m-%d %H}" not in polled_hours
            hour += dt.timedelta(hours=1)
    assert not any("2023-01-23" in stamp for stamp in polled_hours)
    assert "2023-01-22 13" in polled_hours
    assert "2023-01-24 05" in polled_hours


def test_outages_last_several_polls(polls_by_store: dict[str, list[tuple[str, str]]]) -> None:
    """Inactive polls come in runs of several polls, and a few stores are mostly down."""
    runs: list[int] = []
    mostly_down = 0
    inactive = total = 0
    for polls in polls_by_store.values():
        statuses = [status for _, status in polls]
        inactive += statuses.count("inactive")
        total += len(statuses)
        mostly_down += statuses.count("inactive") > len(statuses) / 2
        run = 0
        for status in [*statuses, "active"]:
            if status == "inactive":
                run += 1
            elif run:
                runs.append(run)
                run = 0
    assert 0.03 < inactive / total < 0.2
    assert max(runs) >= 5
    assert 2.5 < sum(runs) / len(runs) < 6
    assert sum(1 for run in runs if run >= 3) > len(runs) // 4
    assert 1 <= mostly_down <= STORES // 20


def test_some_stores_are_polled_twice_seconds_apart(
    polls_by_store: dict[str, list[tuple[str, str]]],
) -> None:
    """Occasionally a store has two polls less than a minute apart, never at the same instant."""
    close = 0
    for polls in polls_by_store.values():
        instants = [_instant(stamp) for stamp, _ in polls]
        assert len(set(instants)) == len(instants)
        close += sum(1 for a, b in itertools.pairwise(instants) if b - a < dt.timedelta(minutes=1))
    assert close >= 5


def test_business_hours_have_the_real_shapes(
    hours_by_store: dict[str, dict[int, list[tuple[str, str]]]],
) -> None:
    """All-day forms, split-at-midnight days, 2-3 rows a day, missing days and 23:55 ends occur."""
    all_day = collections.Counter[str]()
    split_days = multi_days = three_row_days = stores_missing_days = late_ends = 0
    for days in hours_by_store.values():
        stores_missing_days += len(days) < 7
        for rows in days.values():
            for start, end in rows:
                assert start < end  # the real files have no overnight or 24-hour rows
                if start == "00:00:00" and end in ("23:59:00", "23:59:59"):
                    all_day[end] += 1
                late_ends += end == "23:55:00"
            multi_days += len(rows) >= 2
            three_row_days += len(rows) == 3
            starts = {start for start, _ in rows}
            ends = {end for _, end in rows}
            split_days += (
                "00:00:00" in starts and bool(ends & {"23:59:00", "23:59:59"}) and (len(rows) >= 2)
            )
    assert all_day["23:59:00"] >= 7
    assert all_day["23:59:59"] >= 7
    assert split_days >= 7
    assert multi_days > split_days
    assert three_row_days >= 1
    assert stores_missing_days >= 0.1 * len(hours_by_store)
    assert late_ends >= 7


def test_exotic_hours_add_overnight_and_24_hour_rows(tmp_path: Path) -> None:
    """With ``exotic=True`` some rows run past midnight or have start == end, and still load."""
    write_sample(tmp_path, stores=150, seed=3, exotic=True)
    rows = _rows(tmp_path / HOURS_FILE)
    assert any(row["start_time_local"] > row["end_time_local"] for row in rows)
    assert any(row["start_time_local"] == row["end_time_local"] for row in rows)
    data = storemon.load_csv(tmp_path / STATUS_FILE, tmp_path / HOURS_FILE, tmp_path / ZONES_FILE)
    assert data.rejected == []


def test_zones_and_hours_are_missing_for_some_stores(
    sample_dir: Path, polls_by_store: dict[str, list[tuple[str, str]]]
) -> None:
    """Some polled stores lack a zone (and then hours too), some only hours; a few are unpolled."""
    zones = {row["store_id"]: row["timezone_str"] for row in _rows(sample_dir / ZONES_FILE)}
    hours = set(_rows_ids(sample_dir / HOURS_FILE))
    polled = set(polls_by_store)
    no_zone = polled - set(zones)
    assert 0.02 * STORES <= len(no_zone) <= 0.07 * STORES
    assert not no_zone & hours
    zone_only = (polled & set(zones)) - hours
    assert 0.1 * STORES <= len(zone_only) <= 0.25 * STORES
    assert (set(zones) | hours) - polled
    assert hours - set(zones) - polled
    assert set(zones.values()) <= set(ZONE_WEIGHTS)
    mix = collections.Counter(zones.values())
    assert mix.most_common(2)[0][0] == "America/New_York"
    assert mix.most_common(2)[1][0] == "America/Los_Angeles"


def _rows_ids(path: Path) -> list[str]:
    return [row["store_id"] for row in _rows(path)]


def test_write_sample_refuses_no_stores(tmp_path: Path) -> None:
    """Asking for zero stores is an error, not an empty data set."""
    with pytest.raises(ValueError, match="at least 1"):
        write_sample(tmp_path, stores=0, seed=0)


def test_cli_sample_writes_the_files(tmp_path: Path) -> None:
    """``storemon sample`` writes the three files and reports their row counts."""
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "nested" / "data"
    status = main(
        ["sample", "--output", str(target), "--stores", "50", "--seed", "1"], out=out, err=err
    )
    assert status == 0
    for name in FILES:
        assert (target / name).is_file()
        assert f"wrote {target / name}: " in err.getvalue()
    assert (target / STATUS_FILE).read_bytes() == _bytes_of(tmp_path / "direct", STATUS_FILE)


def _bytes_of(directory: Path, name: str) -> bytes:
    write_sample(directory, stores=50, seed=1)
    return (directory / name).read_bytes()


# ------------------------------------------------------------------- order and history


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[1:]


@pytest.fixture(scope="module")
def ordered_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The status file of 900 stores (three chunks of 400 and a rest) in every order."""
    folder = tmp_path_factory.mktemp("orders")
    ids = [f"s{index:04d}" for index in range(900)]
    files = {}
    for order in ORDERS:
        files[order] = folder / f"{order}.csv"
        write_status(files[order], ids, seed=11, order=order)
    return files


def test_every_order_writes_the_same_rows(ordered_files: dict[str, Path]) -> None:
    """Only the order differs: the same multiset of rows in every order, none lost."""
    rows = {order: collections.Counter(_lines(path)) for order, path in ordered_files.items()}
    assert rows["unordered"] == rows["grouped"] == rows["store"]
    assert sum(rows["store"].values()) > 900 * 120


def test_each_order_is_deterministic_per_seed(tmp_path: Path) -> None:
    """The same seed gives the same bytes in each order; another seed another order."""
    ids = [f"s{index}" for index in range(60)]
    for order in ORDERS:
        write_status(tmp_path / "a.csv", ids, seed=5, order=order)
        write_status(tmp_path / "b.csv", ids, seed=5, order=order)
        assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    write_status(tmp_path / "c.csv", ids, seed=6, order="unordered")
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()
    assert not list(tmp_path.glob(".shuffle-*")), "the scratch folder is removed"


def test_unordered_rows_mostly_change_store_and_go_back_in_time(
    ordered_files: dict[str, Path],
) -> None:
    """Like the real export: consecutive rows are from different stores and time goes
    backwards about half the time; the store order keeps each store's rows together."""
    for order in ("unordered", "grouped"):
        rows = [line.split(",") for line in _lines(ordered_files[order])]
        same_store = sum(1 for a, b in itertools.pairwise(rows) if a[0] == b[0])
        backwards = sum(1 for a, b in itertools.pairwise(rows) if b[2] < a[2])
        assert same_store < len(rows) // 100, order
        assert 0.4 * len(rows) < backwards < 0.6 * len(rows), order
    rows = [line.split(",") for line in _lines(ordered_files["store"])]
    changes = sum(1 for a, b in itertools.pairwise(rows) if a[0] != b[0])
    assert changes == 900 - 1
    for a, b in itertools.pairwise(rows):
        assert a[0] != b[0] or a[2] < b[2], "a store's rows in time order"


def test_unordered_shuffles_the_whole_file_not_chunks(ordered_files: dict[str, Path]) -> None:
    """The last chunk's stores (ids 800-899) are spread over the whole unordered file,
    while the grouped order keeps them in its last part."""
    for order, first_quarter_share in (("unordered", (0.05, 0.17)), ("grouped", (0.0, 0.0))):
        lines = _lines(ordered_files[order])
        head = lines[: len(lines) // 4]
        share = sum(1 for line in head if line >= "s0800") / len(head)
        assert first_quarter_share[0] <= share <= first_quarter_share[1], (order, share)


def test_weeks_of_history_are_shifted_copies(tmp_path: Path) -> None:
    """With ``weeks=3`` the rows of the week before its last day (2023-01-25) appear again
    7 and 14 days earlier, same store and status, so the copies cover 2023-01-04 to
    2023-01-18 without overlapping each other or the week; nothing else is added."""
    ids = [f"s{index}" for index in range(30)]
    write_status(tmp_path / "one.csv", ids, seed=2)
    one = _lines(tmp_path / "one.csv")
    count = write_status(tmp_path / "three.csv", ids, seed=2, weeks=3)
    three = _lines(tmp_path / "three.csv")
    copied = [line for line in one if line.split(",")[2] < "2023-01-25"]
    assert 0 < len(copied) < len(one)
    assert count == len(three) == len(one) + 2 * len(copied)
    expected = collections.Counter(one)
    for weeks in (1, 2):
        for line in copied:
            store, status, stamp = line.split(",")
            at = _instant(stamp) - dt.timedelta(weeks=weeks)
            expected[f"{store},{status},{format_timestamp(at)}"] += 1
    assert collections.Counter(three) == expected
    stamps = sorted(line.split(",")[2] for line in three)
    assert stamps[0] >= "2023-01-04"
    in_the_week = [stamp for stamp in stamps if stamp >= "2023-01-18"]
    assert len(in_the_week) == len(one), "no copy reaches into the generated week"


def test_bucket_count_bounds_the_rows_held_at_once() -> None:
    """Buckets of at most ``bucket_rows`` expected rows each, and at least one."""
    assert bucket_count(0) == 1
    assert bucket_count(BUCKET_ROWS) == 1
    assert bucket_count(BUCKET_ROWS + 1) == 2
    assert bucket_count(22_000_000, 150_000) == 147
    assert bucket_count(10, 3) == 4
    with pytest.raises(ValueError, match="at least 1"):
        bucket_count(10, 0)


def test_write_shuffled_holds_one_bucket_and_permutes(tmp_path: Path) -> None:
    """20,000 lines through buckets of about 1,000: the output is a permutation of the
    input, the most lines held at once stays near one bucket, and the order is fixed by
    the random state."""
    lines = [f"{index}\n" for index in range(20_000)]
    chunks = [lines[start : start + 700] for start in range(0, len(lines), 700)]
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        written, largest = write_shuffled(
            out, chunks, random.Random(4), expected_rows=20_000, scratch=tmp_path, bucket_rows=1_000
        )
        assert written == 20_000
        assert 1_000 * 0.8 < largest < 1_000 * 1.3  # binomial: mean 1,000, sd about 31
        assert sorted(out.getvalue().splitlines(), key=int) == [str(i) for i in range(20_000)]
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    assert outputs[0].splitlines()[:100] != [str(i) for i in range(100)]
    assert not list(tmp_path.iterdir()), "every bucket file is removed"


def test_bad_order_or_weeks_is_refused(tmp_path: Path) -> None:
    """An unknown order or fewer than one week is a ValueError, and a usage error (exit 2)
    on the command line, which names every one of ``ORDERS``."""
    with pytest.raises(ValueError, match="order must be one of"):
        write_status(tmp_path / "a.csv", ["s"], seed=0, order="sorted")
    with pytest.raises(ValueError, match="weeks must be at least 1"):
        write_sample(tmp_path / "b", stores=5, seed=0, weeks=0)
    for option, value in (("--order", "sorted"), ("--weeks", "0")):
        err = io.StringIO()
        status = main(
            ["sample", "--output", str(tmp_path / "c"), option, value], out=io.StringIO(), err=err
        )
        assert status == 2
        assert option in err.getvalue()
        if option == "--order":
            assert all(repr(order) in err.getvalue() for order in ORDERS)


def test_cli_sample_order_and_weeks(tmp_path: Path) -> None:
    """``storemon sample --order store --weeks 2`` writes what ``write_sample`` does."""
    status = main(
        ["sample", "--output", str(tmp_path / "cli"), "--stores", "20", "--seed", "3",
         "--order", "store", "--weeks", "2"],
        out=io.StringIO(), err=io.StringIO(),
    )  # fmt: skip
    assert status == 0
    write_sample(tmp_path / "direct", stores=20, seed=3, order="store", weeks=2)
    for name in FILES:
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "direct" / name).read_bytes()
