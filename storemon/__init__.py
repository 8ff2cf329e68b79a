"""
storemon: exact uptime and downtime of stores within their business hours.

The core is pure and synchronous: ``compute_report`` turns store snapshots into a
``Report``. ``load_csv`` reads the three CSV inputs for a quick report; backends behind the
repository protocols (``storemon.repository``) serve ``build_report``. ``explain`` gives
one store's week from either, drawn in a notebook as the web page draws it.

The names below are imported on first use (PEP 562): ``import storemon`` stays cheap, so
a command that only ingests (``storemon.cli``, ``storemon.ingest``) does not pay for the
report, the drawing and the CSV reader it never runs.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Each public name and the module that defines it.
_HOMES = {
    "DEFAULT_ZONE_KEY": "storemon.model",
    "REPORT_HEADER": "storemon.csvformat",
    "BackendUnavailable": "storemon.errors",
    "ConfigError": "storemon.errors",
    "DataError": "storemon.errors",
    "DatabaseNotFound": "storemon.errors",
    "Dataset": "storemon.dataset",
    "HoursRow": "storemon.model",
    "Poll": "storemon.model",
    "Rejected": "storemon.model",
    "Report": "storemon.model",
    "ReportBuilder": "storemon.report",
    "ReportNotFound": "storemon.errors",
    "ReportRow": "storemon.model",
    "SourceError": "storemon.errors",
    "StorageError": "storemon.errors",
    "StoreNotFound": "storemon.errors",
    "StoreSnapshot": "storemon.model",
    "StoreTimeline": "storemon.explain",
    "StoremonError": "storemon.errors",
    "build_report": "storemon.service",
    "compute_report": "storemon.report",
    "explain": "storemon.service",
    "format_value": "storemon.csvformat",
    "load_csv": "storemon.dataset",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'storemon' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


class _Package(types.ModuleType):
    """
    The package, whose ``explain`` stays the function of ``storemon.service``: the
    import system sets the attribute of a submodule on its package when it first loads
    it, and ``storemon.explain`` is also a submodule, loaded lazily now (by ``load_csv``,
    say) after the function may have been bound.
    """

    @property
    def explain(self) -> Any:
        return importlib.import_module("storemon.service").explain

    @explain.setter
    def explain(self, _submodule: Any) -> None:
        pass  # the submodule stays in sys.modules["storemon.explain"]


sys.modules[__name__].__class__ = _Package
