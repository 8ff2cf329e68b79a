"""
A store's week as SVG: the web page's store timeline drawn in Python, for notebooks.

The drawing is the page's (``drawChart`` in ``storemon_server/static/app.js``, colours
from ``app.css``): three timelines, the last week, day and hour, each with three lanes,
**Open** (business hours), **Status** (active green, inactive hatched red, faded outside
business hours) and **Polls** (a tick per poll, active above the line, inactive below);
dashed lines where the last day and hour begin, an orange line at a clock change, local
days or hours on the axis; then the page's legend. Colours are attributes, not classes,
so a notebook's own style sheet cannot change them.

Pure: a ``StoreTimeline`` in, SVG text out.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Sequence
from fractions import Fraction
from html import escape
from typing import TYPE_CHECKING

from storemon.csvformat import format_value
from storemon.localtime import zone_for
from storemon.model import DAY_US, HOUR_US, MINUTE_US, from_epoch_us, to_epoch_us

if TYPE_CHECKING:
    from storemon.explain import StoreTimeline

#: The page's colours (``app.css``).
INK = "#1b1f24"
MUTED = "#4a535e"
ACTIVE = "#1a7f37"
INACTIVE = "#c2261f"
OPEN = "#3f6fb0"
OPEN_COLUMN = "#e4edf8"
WINDOW = "#6a3fa0"
DST = "#b35900"
POLL_AXIS = "#8c959f"
AXIS = "#57606a"
FRAME = "#c9d1da"
PAPER = "#ffffff"
UNKNOWN = "#d0d7de"
SPECIAL = "#fff3d6"
SPECIAL_EDGE = "#8a5a00"

#: The hatch of inactive time; one id serves every drawing on a page (they are identical).
HATCH_ID = "storemon-hatch"

# The page's layout of one chart: three rows of labels on top (clock change, last day,
# last hour), then the three lanes and the axis.
_LABEL_ROWS = {"dst": 10, "last_day": 21, "last_hour": 32}
_TOP = 37
_BUSINESS = (37, 51)
_STATUS = (57, 87)
_POLLS = (93, 115)
_AXIS = 119
_CHART_HEIGHT = 147
_CAPTION = 20
_LEFT = 52
_RIGHT = 10

#: The legend, as on the page: (swatch kind, text).
LEGEND = (
    ("business", "Business hours: only this time counts"),
    ("active", "Active in business hours (between polls the status changes halfway)"),
    ("inactive", "Inactive in business hours: an outage"),
    ("faded-active", "Active outside business hours: not counted"),
    ("faded-inactive", "Inactive outside business hours: not counted"),
    (
        "unknown",
        "Unknown: no poll within half the maximum gap (a report with a maximum gap only); "
        "neither up nor down",
    ),
    (
        "special",
        "Special date, named with its local date: closed, or special hours instead of the "
        "weekly ones",
    ),
    ("poll", "A poll: active ticks above the line, inactive below"),
    ("window", "Start of the last day or last hour"),
    ("dst", "Clock change (daylight saving time)"),
    ("closed", "No business hours in the whole window"),
)
_LEGEND_ROW = 20


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _attribute_text(value: object) -> str:
    return _num(value) if isinstance(value, float) else str(value)


def _element(tag: str, text: str | None = None, **attributes: object) -> str:
    attrs = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(_attribute_text(value))}"'
        for name, value in attributes.items()
        if value is not None
    )
    if text is None:
        return f"<{tag}{attrs}/>"
    return f"<{tag}{attrs}>{text}</{tag}>"


def _titled(tag: str, title: str, **attributes: object) -> str:
    return _element(tag, _element("title", escape(title)), **attributes)


def local_text(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """
    Return an instant as the store's wall clock shows it, to the minute: ``2023-01-25 13:13``.
    """
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def offset_text(offset: dt.timedelta) -> str:
    """
    Return a UTC offset as the page writes it: ``UTC−05:00``, ``UTC+05:30``.
    """
    minutes = int(offset.total_seconds()) // 60
    sign = "−" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _offset_us(zone: zoneinfo.ZoneInfo, at_us: int) -> int:
    offset = from_epoch_us(at_us).astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return (offset.days * 86_400 + offset.seconds) * 1_000_000 + offset.microseconds


def local_ticks(
    zone: zoneinfo.ZoneInfo, from_us: int, to_us: int, step_us: int
) -> list[tuple[int, str]]:
    """
    Return the instants in ``[from_us, to_us]`` where the local wall clock shows a multiple
    of ``step_us``, each with its ``HH:MM`` label (the page's ``localTicks``).
    """
    ticks: list[tuple[int, str]] = []
    offset = _offset_us(zone, from_us)
    wall = -(-(from_us + offset) // step_us) * step_us
    for _ in range(500):
        at_us = wall - offset
        if at_us > to_us:
            break
        actual = _offset_us(zone, at_us)
        if actual != offset:
            offset = actual
            wall = -(-(at_us + offset) // step_us) * step_us
            continue
        if at_us >= from_us:
            ticks.append((at_us, from_epoch_us(at_us).astimezone(zone).strftime("%H:%M")))
        wall += step_us
    return ticks


def local_midnights(zone: zoneinfo.ZoneInfo, from_us: int, to_us: int) -> list[tuple[int, str]]:
    """
    Return the local midnights in ``[from_us, to_us]``, each labelled ``Thu 19 Jan``.
    """
    day = from_epoch_us(from_us).astimezone(zone).date()
    midnights: list[tuple[int, str]] = []
    while True:
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        at_us = to_epoch_us(midnight)
        if at_us > to_us:
            return midnights
        if at_us >= from_us:
            midnights.append((at_us, f"{day:%a %d %b}"))
        day += dt.timedelta(days=1)


def _clip(spans: Sequence[tuple[int, int]], lo: int, hi: int) -> Iterator[tuple[int, int]]:
    for start, end in spans:
        if start < hi and end > lo:
            yield max(start, lo), min(end, hi)


def _chart(timeline: StoreTimeline, index: int, width: int, y0: int) -> list[str]:
    """
    One timeline (0: last week, 1: last day, 2: last hour) at ``y0``, caption included.
    """
    zone = zone_for(timeline.zone_key)
    to_us = to_epoch_us(timeline.as_of)
    starts = {
        "last_week": to_epoch_us(timeline.window_start),
        "last_day": to_us - DAY_US,
        "last_hour": to_us - HOUR_US,
    }
    title, key, marks = (
        ("Last week", "last_week", ("last_day", "last_hour")),
        ("Last day", "last_day", ("last_hour",)),
        ("Last hour", "last_hour", ()),
    )[index]
    from_us = starts[key]
    plot = width - _LEFT - _RIGHT

    def x(at_us: int) -> float:
        return _LEFT + (min(max(at_us, from_us), to_us) - from_us) / (to_us - from_us) * plot

    business = [(to_epoch_us(start), to_epoch_us(end)) for start, end in timeline.business]
    shown = list(_clip(business, from_us, to_us))
    closed_note = "" if shown else " (closed)"
    caption = (
        f"{title}, {local_text(from_epoch_us(from_us), zone)} – "
        f"{local_text(timeline.as_of, zone)} ({timeline.zone_key}){closed_note}"
    )
    out = [f'<g transform="translate(0,{y0})">']
    out.append(
        _element("text", escape(caption), x=0, y=14, font_weight=600, font_size=13, fill=INK)
    )
    out.append(f'<g transform="translate(0,{_CAPTION})">')
    out.append(
        _element(
            "rect",
            x=0.5,
            y=0.5,
            width=width - 1,
            height=_CHART_HEIGHT - 1,
            fill=PAPER,
            stroke=FRAME,
            rx=4,
        )
    )
    for name, lane in (("Open", _BUSINESS), ("Status", _STATUS), ("Polls", _POLLS)):
        out.append(
            _element("text", name, x=4, y=(lane[0] + lane[1]) / 2 + 4, font_weight=600, fill=MUTED)
        )
    # Special dates: a marked stretch of the Open lane from the date's local midnight to
    # the next, named with the date, under the business hours.
    for special in timeline.special:
        day_start = to_epoch_us(dt.datetime.combine(special.date, dt.time(0), tzinfo=zone))
        next_day = special.date + dt.timedelta(days=1)
        day_end = to_epoch_us(dt.datetime.combine(next_day, dt.time(0), tzinfo=zone))
        if not (day_start < to_us and day_end > from_us):
            continue
        hours = "closed" if special.is_closed else "special hours"
        out.append(
            _titled(
                "rect",
                f"Special date {special.date.isoformat()}: {hours}",
                x=x(day_start),
                y=_BUSINESS[0],
                width=max(0.5, x(day_end) - x(day_start)),
                height=_BUSINESS[1] - _BUSINESS[0],
                fill=SPECIAL,
                stroke=SPECIAL_EDGE,
                data_kind="special",
            )
        )
        out.append(
            _element(
                "text",
                special.date.isoformat(),
                x=x(max(day_start, from_us)) + 2,
                y=_BUSINESS[0] - 2,
                fill=SPECIAL_EDGE,
                font_weight=600,
            )
        )
    # Business hours: a band in their lane and a light column behind everything.
    for start, end in shown:
        x0, w = x(start), max(0.5, x(end) - x(start))
        out.append(
            _element(
                "rect",
                x=x0,
                y=_TOP,
                width=w,
                height=_POLLS[1] - _TOP,
                fill=OPEN_COLUMN,
                data_kind="open-column",
            )
        )
        out.append(
            _titled(
                "rect",
                f"Open {local_text(from_epoch_us(start), zone)} – "
                f"{local_text(from_epoch_us(end), zone)}",
                x=x0,
                y=_BUSINESS[0],
                width=w,
                height=_BUSINESS[1] - _BUSINESS[0],
                fill=OPEN,
                data_kind="open",
            )
        )
    # Status spans, then a veil over the time outside business hours (it does not count).
    for span in timeline.status:
        start, end = to_epoch_us(span.start), to_epoch_us(span.end)
        if not (start < to_us and end > from_us):
            continue
        word = "Active" if span.active else "Inactive"
        out.append(
            _titled(
                "rect",
                f"{word} {local_text(span.start, zone)} – {local_text(span.end, zone)}",
                x=x(start),
                y=_STATUS[0],
                width=max(0.5, x(end) - x(start)),
                height=_STATUS[1] - _STATUS[0],
                fill=ACTIVE if span.active else f"url(#{HATCH_ID})",
                data_kind="active" if span.active else "inactive",
            )
        )
    # Unknown time covers the status it would otherwise show (with a maximum gap).
    for unknown_start, unknown_end in timeline.unknown:
        start, end = to_epoch_us(unknown_start), to_epoch_us(unknown_end)
        if not (start < to_us and end > from_us):
            continue
        out.append(
            _titled(
                "rect",
                f"Unknown {local_text(unknown_start, zone)} – {local_text(unknown_end, zone)}",
                x=x(start),
                y=_STATUS[0],
                width=max(0.5, x(end) - x(start)),
                height=_STATUS[1] - _STATUS[0],
                fill=UNKNOWN,
                data_kind="unknown",
            )
        )
    cursor = from_us
    for start, end in shown:
        if start > cursor:
            out.append(_veil(x(cursor), x(start)))
        cursor = max(cursor, end)
    if cursor < to_us:
        out.append(_veil(x(cursor), x(to_us)))
    if not shown:
        out.append(
            _element(
                "text",
                "closed: no business hours in this window",
                x=_LEFT + plot / 2,
                y=(_STATUS[0] + _STATUS[1]) / 2 + 5,
                text_anchor="middle",
                font_size=13,
                font_weight=600,
                font_style="italic",
                fill=INK,
            )
        )
    # Polls: active ticks above the middle line, inactive below.
    middle = (_POLLS[0] + _POLLS[1]) / 2
    out.append(_element("line", x1=_LEFT, x2=_LEFT + plot, y1=middle, y2=middle, stroke=POLL_AXIS))
    for at, active in timeline.polls:
        at_us = to_epoch_us(at)
        if at_us < from_us or at_us > to_us:
            continue
        out.append(
            _titled(
                "line",
                f"Poll at {at.astimezone(zone):%Y-%m-%d %H:%M:%S}: "
                f"{'active' if active else 'inactive'}",
                x1=x(at_us),
                x2=x(at_us),
                y1=_POLLS[0] if active else middle,
                y2=middle if active else _POLLS[1],
                stroke=ACTIVE if active else INACTIVE,
                stroke_width=1.5,
                data_kind="poll",
            )
        )
    # The axis, with local wall-clock labels.
    out.append(_element("line", x1=_LEFT, x2=_LEFT + plot, y1=_AXIS, y2=_AXIS, stroke=AXIS))
    if key == "last_week":
        ticks = local_midnights(zone, from_us, to_us)
    else:
        ticks = local_ticks(
            zone, from_us, to_us, 3 * HOUR_US if key == "last_day" else 10 * MINUTE_US
        )
    last_label_x = float("-inf")
    for at_us, label in ticks:
        px = x(at_us)
        out.append(_element("line", x1=px, x2=px, y1=_AXIS, y2=_AXIS + 4, stroke=AXIS))
        label_width = len(label) * 6.5
        if px - last_label_x >= label_width + 8 and px + 2 + label_width <= width:
            out.append(_element("text", escape(label), x=px + 2, y=_AXIS + 16, fill=INK))
            last_label_x = px
    # Where the last day and hour begin, and clock changes.
    for mark in marks:
        px = x(starts[mark])
        label = mark.replace("_", " ")
        out.append(
            _titled(
                "line",
                f"The {label} starts {local_text(from_epoch_us(starts[mark]), zone)}",
                x1=px,
                x2=px,
                y1=2,
                y2=_POLLS[1],
                stroke=WINDOW,
                stroke_width=1.5,
                stroke_dasharray="4 3",
                data_kind="window",
            )
        )
        out.append(
            _element(
                "text",
                label,
                x=px - 3,
                y=_LABEL_ROWS[mark],
                text_anchor="end",
                fill=WINDOW,
                font_weight=600,
            )
        )
    for change in timeline.offset_changes:
        at_us = to_epoch_us(change.at)
        if at_us < from_us or at_us > to_us:
            continue
        px = x(at_us)
        words = f"{offset_text(change.offset_before)} → {offset_text(change.offset_after)}"
        out.append(
            _titled(
                "line",
                f"Clock change at {local_text(change.at, zone)}: {words}",
                x1=px,
                x2=px,
                y1=2,
                y2=_POLLS[1],
                stroke=DST,
                stroke_width=2,
                data_kind="dst",
            )
        )
        text = f"DST {words}"
        fits = px + 3 + len(text) * 6.5 <= width
        out.append(
            _element(
                "text",
                escape(text),
                x=px + 3 if fits else px - 3,
                y=_LABEL_ROWS["dst"],
                text_anchor="start" if fits else "end",
                fill=DST,
                font_weight=600,
            )
        )
    out.append("</g></g>")
    return out


def _veil(x0: float, x1: float) -> str:
    return _element(
        "rect",
        x=x0,
        y=_STATUS[0],
        width=max(0.0, x1 - x0),
        height=_STATUS[1] - _STATUS[0],
        fill=PAPER,
        fill_opacity=0.72,
        data_kind="veil",
    )


def _swatch(kind: str, x: float, y: float) -> list[str]:
    if kind == "business":
        return [_element("rect", x=x, y=y, width=24, height=12, fill=OPEN)]
    if kind in ("active", "inactive", "faded-active", "faded-inactive"):
        fill = ACTIVE if kind in ("active", "faded-active") else f"url(#{HATCH_ID})"
        shapes = [_element("rect", x=x, y=y, width=24, height=12, fill=fill)]
        if kind.startswith("faded"):
            shapes.append(
                _element("rect", x=x, y=y, width=24, height=12, fill=PAPER, fill_opacity=0.72)
            )
        return shapes
    if kind == "unknown":
        return [_element("rect", x=x, y=y, width=24, height=12, fill=UNKNOWN)]
    if kind == "special":
        return [_element("rect", x=x, y=y, width=24, height=12, fill=SPECIAL, stroke=SPECIAL_EDGE)]
    if kind == "poll":
        return [
            _element("line", x1=x + 12, x2=x + 12, y1=y, y2=y + 12, stroke=ACTIVE, stroke_width=1.5)
        ]
    if kind == "window":
        return [
            _element(
                "line",
                x1=x + 12,
                x2=x + 12,
                y1=y - 1,
                y2=y + 13,
                stroke=WINDOW,
                stroke_width=1.5,
                stroke_dasharray="4 3",
            )
        ]
    if kind == "dst":
        return [
            _element("line", x1=x + 12, x2=x + 12, y1=y - 1, y2=y + 13, stroke=DST, stroke_width=2)
        ]
    return [
        _element("text", "closed", x=x, y=y + 10, font_style="italic", font_weight=600, fill=INK)
    ]


def timeline_svg(timeline: StoreTimeline, *, width: int = 760) -> str:
    """
    Return the store's last week, day and hour as one SVG document, legend below.
    """
    charts_height = 3 * (_CAPTION + _CHART_HEIGHT + 12)
    height = charts_height + 24 + len(LEGEND) * _LEGEND_ROW
    description = (
        f"Business hours, status and polls of store {timeline.store_id} in "
        f"{timeline.zone_key} over the last week, day and hour before "
        f"{local_text(timeline.as_of, zone_for(timeline.zone_key))} local time."
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="11">',
        _element("title", escape(f"Store {timeline.store_id}, last week")),
        _element("desc", escape(description)),
        f'<defs><pattern id="{HATCH_ID}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)">'
        + _element("rect", width=6, height=6, fill=INACTIVE)
        + _element(
            "line", x1=0, y1=0, x2=0, y2=6, stroke=PAPER, stroke_width=2, stroke_opacity=0.55
        )
        + "</pattern></defs>",
    ]
    for index in range(3):
        out.extend(_chart(timeline, index, width, index * (_CAPTION + _CHART_HEIGHT + 12)))
    y = charts_height + 8
    out.append(
        _element(
            "text",
            "How to read the timeline",
            x=0,
            y=y + 8,
            font_weight=600,
            font_size=13,
            fill=INK,
        )
    )
    for row, (kind, text) in enumerate(LEGEND):
        top = y + 18 + row * _LEGEND_ROW
        out.extend(_swatch(kind, 4, top))
        out.append(_element("text", escape(text), x=52, y=top + 10, fill=INK, data_legend=kind))
    out.append("</svg>")
    return "\n".join(out)


# Text and HTML around the drawing: the numbers, business hours and outages.

_WINDOWS = (
    ("last hour", "last_hour", "min"),
    ("last day", "last_day", "h"),
    ("last week", "last_week", "h"),
)


def duration_text(us: int) -> str:
    """
    Return a duration in whole seconds, rounded half up, as the page writes it:
    ``2 h 05 min``, ``12 min 30 s``, ``40 s``.
    """
    seconds = (us + 500_000) // 1_000_000
    hours, minutes, rest = seconds // 3600, seconds % 3600 // 60, seconds % 60
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {rest:02d} s" if rest else f"{minutes} min"
    return f"{rest} s"


def _wall(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    return f"{at.astimezone(zone):%a %d %b %H:%M:%S}"


def numbers(timeline: StoreTimeline) -> list[tuple[str, tuple[str, str, str, str] | None]]:
    """
    Return the report's numbers per window as written: its name, then uptime, downtime,
    business time (with their unit; unknown time included) and share up (of the time
    whose status is known), or ``None`` for a window without business time ("closed").
    """
    rows: list[tuple[str, tuple[str, str, str, str] | None]] = []
    for name, key, unit in _WINDOWS:
        up = getattr(timeline.row, f"uptime_{key}")
        down = getattr(timeline.row, f"downtime_{key}")
        # With a maximum gap, business time is also the unknown part of it; the share is
        # of the known part.
        business = up + down + getattr(timeline.row, f"unknown_{key}")
        if business == 0:
            rows.append((name, None))
            continue
        values = (
            f"{format_value(up)} {unit}",
            f"{format_value(down)} {unit}",
            f"{format_value(business)} {unit}",
            f"{float(up / (up + down)) * 100:.1f}%" if up + down else "unknown",
        )
        rows.append((name, values))
    return rows


def _outage_summary(timeline: StoreTimeline) -> str:
    spans = timeline.outages()
    if not spans:
        return "No outage in business hours this week."
    total_us = sum(to_epoch_us(end) - to_epoch_us(start) for start, end in spans)
    noun = "outage" if len(spans) == 1 else "outages"
    return (
        f"{len(spans)} {noun}, {duration_text(total_us)} in all "
        f"({format_value(Fraction(total_us, HOUR_US))} h, the week's downtime)."
    )


def _heading(timeline: StoreTimeline) -> tuple[str, str]:
    zone = zone_for(timeline.zone_key)
    offset = timeline.as_of.astimezone(zone).utcoffset() or dt.timedelta(0)
    first = (
        f"Store {timeline.store_id} in {timeline.zone_key} "
        f"({offset_text(offset)} at the report's time)"
    )
    second = (
        f"As of {timeline.as_of:%Y-%m-%d %H:%M:%S} UTC, {_wall(timeline.as_of, zone)} local; "
        f"the week began {_wall(timeline.window_start, zone)} local."
    )
    return first, second


def timeline_text(timeline: StoreTimeline) -> str:
    """
    Return the store's week as text: the numbers, business hours, outages, polls and
    clock changes, in the store's local time (``storemon explain``).
    """
    zone = zone_for(timeline.zone_key)
    lines = [*_heading(timeline), ""]
    header = ("uptime", "downtime", "business", "share up")
    rows = numbers(timeline)
    shown = [header, *(values for _, values in rows if values is not None)]
    widths = [max(len(values[column]) for values in shown) for column in range(4)]
    name_width = max(len(name) for name, _ in rows)
    for name, values in [("", header), *rows]:
        if values is None:
            lines.append(f"{name:<{name_width}}  closed: no business hours")
        else:
            cells = "".join(
                f"  {value:>{width}}" for value, width in zip(values, widths, strict=True)
            )
            lines.append(f"{name:<{name_width}}{cells}")
    lines += ["", "Business hours in the week (local time):"]
    lines += [
        f"  {_wall(start, zone)} – {_wall(end, zone)}" for start, end in timeline.business
    ] or ["  none"]
    lines += ["", "Outages in business hours, last week (local time):"]
    for start, end in timeline.outages():
        duration = duration_text(to_epoch_us(end) - to_epoch_us(start))
        lines.append(f"  {_wall(start, zone)} – {_wall(end, zone)}  {duration}")
    lines.append(f"  {_outage_summary(timeline)}")
    lines += _unknown_and_special_text(timeline, zone)
    polls = [active for at, active in timeline.polls if at >= timeline.window_start]
    active = sum(polls)
    lines += [
        "",
        f"Polls in the week: {len(polls)}, {active} active and {len(polls) - active} inactive.",
    ]
    if timeline.offset_changes:
        for change in timeline.offset_changes:
            words = f"{offset_text(change.offset_before)} → {offset_text(change.offset_after)}"
            lines.append(f"Clock change at {_wall(change.at, zone)} local: {words}.")
    else:
        lines.append("No clock change this week.")
    return "\n".join(lines) + "\n"


def _unknown_and_special_text(timeline: StoreTimeline, zone: zoneinfo.ZoneInfo) -> list[str]:
    """
    The lines of ``timeline_text`` on unknown time (with a maximum gap) and special days.
    """
    lines: list[str] = []
    if timeline.max_gap is not None:
        row = timeline.row
        gap = duration_text(timeline.max_gap // dt.timedelta(microseconds=1))
        lines += [
            "",
            f"Unknown time (further than half of the maximum gap, {gap}, from every poll; "
            "local time):",
        ]
        lines += [
            f"  {_wall(start, zone)} – {_wall(end, zone)}  "
            f"{duration_text(to_epoch_us(end) - to_epoch_us(start))}"
            for start, end in timeline.unknown
        ] or ["  none"]
        lines.append(
            f"  unknown in business hours: last hour {format_value(row.unknown_last_hour)} "
            f"min, last day {format_value(row.unknown_last_day)} h, last week "
            f"{format_value(row.unknown_last_week)} h"
        )
    if timeline.special:
        lines += ["", "Special days in the week:"]
        for special in timeline.special:
            if special.is_closed:
                hours = "closed"
            else:
                assert special.start_local is not None
                assert special.end_local is not None
                end = "24:00" if special.end_is_midnight else f"{special.end_local:%H:%M}"
                hours = f"{special.start_local:%H:%M} – {end}"
            lines.append(f"  {special.date.isoformat()}  {hours}")
    return lines


def timeline_html(timeline: StoreTimeline) -> str:
    """
    Return the store's week as HTML for a notebook: heading, numbers, drawing, outages.
    """
    first, second = _heading(timeline)
    cells = []
    for name, values in numbers(timeline):
        if values is None:
            cells.append(
                f'<tr><th>{name}</th><td colspan="4"><em>closed: no business hours</em></td></tr>'
            )
        else:
            tds = "".join(f"<td>{value}</td>" for value in values)
            cells.append(f"<tr><th>{name}</th>{tds}</tr>")
    return (
        f'<div class="storemon-store"><p><strong>{escape(first)}</strong><br>{escape(second)}</p>'
        "<table><thead><tr><th>window</th><th>uptime</th><th>downtime</th><th>business</th>"
        f"<th>share up</th></tr></thead><tbody>{''.join(cells)}</tbody></table>"
        f"{timeline_svg(timeline)}<p>{escape(_outage_summary(timeline))}</p></div>"
    )
