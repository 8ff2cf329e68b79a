"""
Small stores whose week is worked out by hand, for the explanation's text, JSON and drawing.
"""

from __future__ import annotations

import io
from pathlib import Path

from storemon import Dataset, load_csv

#: The assignment's example on Monday 2023-01-23 in Chicago (UTC-6): open 09:00-12:00,
#: polls at 10:14 (active) and 11:15 (inactive) local; the report's "now" is 12:30 local.
#: Active 09:00-10:44:30 and inactive 10:44:30-12:00: 104.5 and 75.5 minutes.
EXAMPLE_STATUS = (
    "store_id,status,timestamp_utc\n"
    "s1,active,2023-01-23 16:14:00 UTC\n"
    "s1,inactive,2023-01-23 17:15:00 UTC\n"
)
EXAMPLE_HOURS = "store_id,day,start_time_local,end_time_local\ns1,0,09:00:00,12:00:00\n"
EXAMPLE_ZONES = "store_id,timezone_str\ns1,America/Chicago\n"
EXAMPLE_AS_OF = "2023-01-23T18:30:00Z"

#: The same store's week as ``storemon explain s1`` writes it.
EXAMPLE_TEXT = """\
Store s1 in America/Chicago (UTC−06:00 at the report's time)
As of 2023-01-23 18:30:00 UTC, Mon 23 Jan 12:30:00 local; the week began Mon 16 Jan 12:30:00 local.

             uptime   downtime   business  share up
last hour  0.00 min  30.00 min  30.00 min      0.0%
last day     1.74 h     1.26 h     3.00 h     58.1%
last week    1.74 h     1.26 h     3.00 h     58.1%

Business hours in the week (local time):
  Mon 23 Jan 09:00:00 – Mon 23 Jan 12:00:00

Outages in business hours, last week (local time):
  Mon 23 Jan 10:44:30 – Mon 23 Jan 12:00:00  1 h 15 min
  1 outage, 1 h 15 min in all (1.26 h, the week's downtime).

Polls in the week: 2, 1 active and 1 inactive.
No clock change this week.
"""


def example_dataset() -> Dataset:
    """
    The example store loaded from memory.
    """
    return load_csv(
        io.BytesIO(EXAMPLE_STATUS.encode()),
        io.BytesIO(EXAMPLE_HOURS.encode()),
        io.BytesIO(EXAMPLE_ZONES.encode()),
    )


def write_example(folder: Path) -> list[str]:
    """
    Write the example's three files into ``folder``; return the CLI options naming them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "--status": ("status.csv", EXAMPLE_STATUS),
        "--business-hours": ("hours.csv", EXAMPLE_HOURS),
        "--timezones": ("zones.csv", EXAMPLE_ZONES),
    }
    options = []
    for option, (name, text) in files.items():
        (folder / name).write_text(text)
        options += [option, str(folder / name)]
    return options
