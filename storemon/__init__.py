"""
storemon: exact uptime and downtime of stores within their business hours.

The core is pure and synchronous: ``compute_report`` turns store snapshots into a
``Report``. ``load_csv`` reads the three CSV inputs for a quick report; backends behind the
repository protocols (``storemon.repository``) serve ``build_report``. ``explain`` gives
one store's week from either, drawn in a notebook as the web page draws it.
"""

from __future__ import annotations

from storemon.csvformat import REPORT_HEADER, format_value
from storemon.dataset import Dataset, load_csv
from storemon.errors import (
    BackendUnavailable,
    ConfigError,
    DatabaseNotFound,
    DataError,
    ReportNotFound,
    SourceError,
    StorageError,
    StoremonError,
    StoreNotFound,
)
from storemon.explain import StoreTimeline
from storemon.model import (
    DEFAULT_ZONE_KEY,
    HoursRow,
    Poll,
    Rejected,
    Report,
    ReportRow,
    StoreSnapshot,
)
from storemon.report import ReportBuilder, compute_report
from storemon.service import build_report, explain

__all__ = [
    "DEFAULT_ZONE_KEY",
    "REPORT_HEADER",
    "BackendUnavailable",
    "ConfigError",
    "DataError",
    "DatabaseNotFound",
    "Dataset",
    "HoursRow",
    "Poll",
    "Rejected",
    "Report",
    "ReportBuilder",
    "ReportNotFound",
    "ReportRow",
    "SourceError",
    "StorageError",
    "StoreNotFound",
    "StoreSnapshot",
    "StoreTimeline",
    "StoremonError",
    "build_report",
    "compute_report",
    "explain",
    "format_value",
    "load_csv",
]
__version__ = "0.1.0"
