"""
A report in a notebook: a summary and its first rows as HTML, records and a pandas frame
with exact values, pandas imported only when asked for.
"""

from __future__ import annotations

import datetime as dt
import importlib
from fractions import Fraction

import pytest

from storemon import Report, ReportRow
from storemon.display import report_summary
from storemon.model import SkippedStore

AS_OF = dt.datetime(2023, 1, 25, 18, 0, tzinfo=dt.UTC)


def row(store_id: str, down_hour: int, down_day: Fraction, down_week: Fraction) -> ReportRow:
    return ReportRow(
        store_id=store_id,
        uptime_last_hour=Fraction(60 - down_hour),
        uptime_last_day=Fraction(24) - down_day,
        uptime_last_week=Fraction(168) - down_week,
        downtime_last_hour=Fraction(down_hour),
        downtime_last_day=down_day,
        downtime_last_week=down_week,
    )


def report(stores: int) -> Report:
    """
    ``stores`` rows; store ``i`` is down ``i`` minutes in the last hour (up to 59), the
    first three also an eighth of an hour in the day, the first five a third in the week.
    """
    return Report(
        AS_OF,
        [
            row(
                f"{9_000_000_000_000_000_000 + index}",
                min(index, 59),
                Fraction(1, 8) if index < 3 else Fraction(0),
                Fraction(1, 3) if index < 5 else Fraction(0),
            )
            for index in range(stores)
        ],
    )


def test_html_has_the_summary_and_the_first_ten_rows() -> None:
    """The HTML says when, how many stores, how many were down, then ten rows and the rest."""
    html = report(14)._repr_html_()
    assert (
        "<p>Report as of 2023-01-25 18:00:00 UTC: 14 stores; down within business hours in "
        "the last hour: 13, day: 3, week: 5.</p>"
    ) in html
    assert html.count("<tr><td>") == 10
    assert (
        "<tr><td>9000000000000000001</td><td>59.00</td><td>23.88</td><td>167.67</td>"
        "<td>1.00</td><td>0.13</td><td>0.33</td></tr>"
    ) in html
    assert "… and 4 more rows" in html


def test_small_report_shows_every_row_and_no_more_note() -> None:
    """A report of fewer than ten rows shows them all and no note about more."""
    html = report(2)._repr_html_()
    assert html.count("<tr><td>") == 2
    assert "more rows" not in html
    assert "2 stores;" in html


def test_records_keep_ids_as_strings_and_exact_values_as_floats() -> None:
    """to_records gives one dict per row: the id as written and each measure's float."""
    records = report(2).to_records()
    assert records[1] == {
        "store_id": "9000000000000000001",
        "uptime_last_hour": 59.0,
        "uptime_last_day": 23.875,
        "uptime_last_week": 167 + 2 / 3,
        "downtime_last_hour": 1.0,
        "downtime_last_day": 0.125,
        "downtime_last_week": 1 / 3,
    }


def test_pandas_frame_has_the_rows_ids_as_strings_and_as_of() -> None:
    """to_pandas gives the records as a DataFrame; ids stay strings (they exceed 2**53)."""
    pandas = pytest.importorskip("pandas")
    frame = report(3).to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == [
        "store_id",
        "uptime_last_hour",
        "uptime_last_day",
        "uptime_last_week",
        "downtime_last_hour",
        "downtime_last_day",
        "downtime_last_week",
    ]
    assert list(frame["store_id"]) == [
        "9000000000000000000",
        "9000000000000000001",
        "9000000000000000002",
    ]
    assert str(frame["store_id"].dtype) == "string"
    assert frame["downtime_last_day"].tolist() == [0.125, 0.125, 0.125]
    assert frame.attrs["as_of"] == AS_OF


def test_pandas_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pandas, to_pandas raises ImportError saying how to install it or what to use."""
    real = importlib.import_module

    def without_pandas(name: str, *args: object) -> object:
        if name == "pandas":
            raise ModuleNotFoundError("No module named 'pandas'")
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", without_pandas)
    with pytest.raises(ImportError, match=r"pip install pandas \(or use report.to_records\(\)\)"):
        report(1).to_pandas()


def test_importing_storemon_does_not_import_pandas() -> None:
    """pandas is imported only by to_pandas: a fresh interpreter importing storemon has none."""
    import subprocess
    import sys

    code = "import sys, storemon; storemon.load_csv; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_summary_names_the_stores_left_out() -> None:
    """A report that left stores out says how many after its numbers; none, it says nothing."""
    left_out = Report(
        AS_OF,
        [row("1", 0, Fraction(0), Fraction(0))],
        skipped=[
            SkippedStore("bad\x00id", "control character"),
            SkippedStore("moon", "unknown time zone 'Moon/Tranquility'"),
        ],
    )
    assert report_summary(left_out).endswith(
        "week: 0. 2 stores left out: stored rows that cannot be read (report.skipped)."
    )
    assert "left out" not in report_summary(report(2))
