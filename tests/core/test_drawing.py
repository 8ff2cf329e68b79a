"""
A store's week drawn as SVG in Python is the web page's drawing: its lanes, colours,
legend and geometry, checked against the page's own files and hand-worked examples.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import storemon
from storemon import drawing, load_csv
from storemon.explain import StoreTimeline
from tests.explain_cases import example_dataset

STATIC = Path(__file__).resolve().parents[2] / "storemon_server" / "static"
SVG = "{http://www.w3.org/2000/svg}"
AS_OF = dt.datetime(2023, 1, 23, 18, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def example() -> StoreTimeline:
    """
    The worked example's week (tests/explain_cases.py).
    """
    return storemon.explain(example_dataset(), "s1", as_of=AS_OF)


def charts(svg_text: str) -> list[ET.Element]:
    """
    The three chart groups of a drawing, in order: week, day, hour.
    """
    root = ET.fromstring(svg_text)
    return [
        group
        for group in root.findall(f"{SVG}g")
        if group.get("transform", "").startswith("translate(0,")
    ]


def kinds(chart: ET.Element, kind: str) -> list[ET.Element]:
    return [element for element in chart.iter() if element.get("data-kind") == kind]


def test_colours_are_the_pages(example: StoreTimeline) -> None:
    """Every colour of the drawing is the page's CSS variable of the same meaning."""
    css = (STATIC / "app.css").read_text()
    variables = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    assert variables["active"] == drawing.ACTIVE
    assert variables["inactive"] == drawing.INACTIVE
    assert variables["open"] == drawing.OPEN
    assert variables["open-column"] == drawing.OPEN_COLUMN
    assert variables["window"] == drawing.WINDOW
    assert variables["dst"] == drawing.DST
    assert "fill-opacity: 0.72" in css.split("svg .veil")[1].split("}")[0]


def test_legend_is_the_pages() -> None:
    """The drawing's legend has the page's items, in the page's order and words."""
    html = (STATIC / "index.html").read_text()
    legend = html.split('<ul class="legend"')[1].split("</ul>")[0]
    items = [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", legend)]
    page = [item.removeprefix("closed").strip() for item in items]
    assert [text for _, text in drawing.LEGEND] == page


def test_the_svg_is_well_formed_with_three_charts_and_a_legend(example: StoreTimeline) -> None:
    """The drawing is one SVG document: three captioned charts, then eleven legend items."""
    svg = example.to_svg()
    root = ET.fromstring(svg)
    captions = [group.find(f"{SVG}text").text for group in charts(svg)]  # type: ignore[union-attr]
    assert captions == [
        "Last week, 2023-01-16 12:30 – 2023-01-23 12:30 (America/Chicago)",
        "Last day, 2023-01-22 12:30 – 2023-01-23 12:30 (America/Chicago)",
        "Last hour, 2023-01-23 11:30 – 2023-01-23 12:30 (America/Chicago)",
    ]
    legend = [element.get("data-legend") for element in root.iter() if element.get("data-legend")]
    assert len(legend) == 11


def test_last_hour_geometry(example: StoreTimeline) -> None:
    """In the last hour (11:30-12:30 local) the store is open the first half, all inactive."""
    hour = charts(example.to_svg())[2]
    # The plot runs from x=52 to x=750 (width 760, margins 52 and 10): 698 px per hour.
    (band,) = kinds(hour, "open")
    assert (band.get("x"), band.get("width"), band.get("fill")) == ("52", "349", drawing.OPEN)
    (status,) = kinds(hour, "inactive")
    assert (status.get("x"), status.get("width")) == ("52", "698")
    assert status.get("fill") == f"url(#{drawing.HATCH_ID})"
    (veil,) = kinds(hour, "veil")
    assert (veil.get("x"), veil.get("width")) == ("401", "349")
    assert kinds(hour, "active") == []
    assert kinds(hour, "poll") == []  # both polls are before 11:30


def test_last_day_has_both_statuses_and_both_polls(example: StoreTimeline) -> None:
    """The last day shows the open band 09:00-12:00, the change at 10:44:30 and two polls."""
    day = charts(example.to_svg())[1]
    plot, start = 698, dt.datetime(2023, 1, 22, 18, 30, tzinfo=dt.UTC)

    def x(at: dt.datetime) -> str:
        return drawing._num(52 + (at - start) / dt.timedelta(days=1) * plot)

    (band,) = kinds(day, "open")
    assert band.get("x") == x(dt.datetime(2023, 1, 23, 15, tzinfo=dt.UTC))
    (active,) = kinds(day, "active")
    (inactive,) = kinds(day, "inactive")
    assert inactive.get("x") == x(dt.datetime(2023, 1, 23, 16, 44, 30, tzinfo=dt.UTC))
    assert active.get("x") == "52"
    polls = kinds(day, "poll")
    assert [poll.get("stroke") for poll in polls] == [drawing.ACTIVE, drawing.INACTIVE]
    assert [poll.find(f"{SVG}title").text for poll in polls] == [  # type: ignore[union-attr]
        "Poll at 2023-01-23 10:14:00: active",
        "Poll at 2023-01-23 11:15:00: inactive",
    ]
    windows = kinds(day, "window")
    assert len(windows) == 1  # where the last hour starts


def test_a_closed_window_says_so() -> None:
    """A window without business hours is captioned closed and says so in words."""
    data = load_csv(
        io.BytesIO(b"store_id,status,timestamp_utc\ns2,active,2023-01-23 16:14:00 UTC\n"),
        io.BytesIO(b"store_id,day,start_time_local,end_time_local\ns2,2,09:00:00,12:00:00\n"),
    )
    svg = storemon.explain(data, "s2", as_of=AS_OF).to_svg()
    hour = charts(svg)[2]
    assert hour.find(f"{SVG}text").text.endswith("(closed)")  # type: ignore[union-attr]
    assert "closed: no business hours in this window" in ET.tostring(hour, encoding="unicode")


def test_a_clock_change_is_marked() -> None:
    """A week across Chicago's spring-forward has an orange line and its offsets."""
    data = load_csv(
        io.BytesIO(b"store_id,status,timestamp_utc\ns3,active,2024-03-11 12:00:00 UTC\n"),
        None,
        io.BytesIO(b"store_id,timezone_str\ns3,America/Chicago\n"),
    )
    timeline = storemon.explain(data, "s3")
    week = charts(timeline.to_svg())[0]
    (line,) = kinds(week, "dst")
    assert line.get("stroke") == drawing.DST
    assert line.find(f"{SVG}title").text == (  # type: ignore[union-attr]
        "Clock change at 2024-03-10 03:00: UTC−06:00 → UTC−05:00"
    )
    assert "Clock change at Sun 10 Mar 03:00:00 local: UTC−06:00 → UTC−05:00." in timeline.to_text()


def test_notebook_shows_the_drawing_and_the_numbers(example: StoreTimeline) -> None:
    """In Jupyter the timeline shows its SVG, and as HTML the heading, numbers and drawing."""
    assert example._repr_svg_() == example.to_svg()
    html = example._repr_html_()
    assert "Store s1 in America/Chicago" in html
    assert (
        "<tr><th>last week</th><td>1.74 h</td><td>1.26 h</td><td>3.00 h</td><td>58.1%</td></tr>"
        in html
    )
    assert example.to_svg() in html
    assert "1 outage, 1 h 15 min in all (1.26 h, the week&#x27;s downtime)." in html


@pytest.mark.parametrize(
    ("us", "text"),
    [
        (40_000_000, "40 s"),
        (750_000_000, "12 min 30 s"),
        (7_500_000_000, "2 h 05 min"),
        (499_999, "0 s"),
    ],
)
def test_durations_as_the_page_writes_them(us: int, text: str) -> None:
    """Durations are whole seconds rounded half up: hours and minutes, or minutes and seconds."""
    assert drawing.duration_text(us) == text
