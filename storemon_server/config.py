"""
Server settings: one frozen value built at the edge from the environment and the options.

``Settings.from_env(environ)`` reads ``STOREMON_*`` variables (tests pass a dict);
``storemon serve`` options override them (``storemon_server.__main__``). Everything is
validated here, once, and a bad value raises ``ConfigError`` before anything starts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from storemon.errors import ConfigError, DataError
from storemon.lines import MAX_LINE_BYTES
from storemon.parsing import parse_duration_us

#: The database when neither ``--db`` nor ``STOREMON_DB`` says otherwise (as ``storemon ingest``).
DEFAULT_DB_URL = "sqlite:///storemon.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
#: Seconds between two refreshes of the sources (the assignment's "every hour").
DEFAULT_REFRESH_INTERVAL = 3600.0
DEFAULT_WORKERS = 2
DEFAULT_MAX_QUEUE = 100
DEFAULT_REPORT_LEASE = 30.0
#: At most this many stores in a shard of a report (``docs/operations.md`` on choosing it).
DEFAULT_REPORT_SHARD_STORES = 10_000
#: Seconds a request's body may take to arrive; a client that announces a body and sends
#: nothing holds a connection no longer than this.
DEFAULT_BODY_TIMEOUT = 30.0
#: Seconds a poll may be later than this machine's clock (``storemon ingest
#: --future-tolerance``).
DEFAULT_FUTURE_TOLERANCE = 3600.0
#: Seconds a finished report is kept after it finished: 30 days.
DEFAULT_KEEP_REPORTS = 30 * 24 * 3600.0

#: Largest request body accepted, but for pushed polls (``max_push_bytes``): a store's
#: hours or zone is a few hundred bytes.
CLIENT_MAX_SIZE = 64 * 1024
#: Largest body of ``POST /api/polls`` by default: about 140,000 polls in CSV.
DEFAULT_MAX_PUSH_BYTES = 8 * 1024 * 1024
#: Longest request line (method, path and query string) and header line the parser accepts.
MAX_LINE_SIZE = 8190
MAX_FIELD_SIZE = 8190

#: Environment variable of each setting; ``storemon serve --help`` names them too.
ENV = {
    "db_url": "STOREMON_DB",
    "data_dir": "STOREMON_DATA_DIR",
    "status_source": "STOREMON_STATUS",
    "hours_source": "STOREMON_BUSINESS_HOURS",
    "zones_source": "STOREMON_TIMEZONES",
    "special_hours_source": "STOREMON_SPECIAL_HOURS",
    "host": "STOREMON_HOST",
    "port": "STOREMON_PORT",
    "refresh_interval": "STOREMON_REFRESH_INTERVAL",
    "api_token": "STOREMON_API_TOKEN",
    "workers": "STOREMON_WORKERS",
    "max_queue": "STOREMON_MAX_QUEUE",
    "report_lease": "STOREMON_REPORT_LEASE",
    "report_shard_stores": "STOREMON_REPORT_SHARD_STORES",
    "allow_shrink": "STOREMON_ALLOW_SHRINK",
    "future_tolerance": "STOREMON_FUTURE_TOLERANCE",
    "max_line_bytes": "STOREMON_MAX_LINE_BYTES",
    "body_timeout": "STOREMON_BODY_TIMEOUT",
    "retention": "STOREMON_RETENTION",
    "keep_reports": "STOREMON_KEEP_REPORTS",
    "max_gap": "STOREMON_MAX_GAP",
    "max_push_bytes": "STOREMON_MAX_PUSH_BYTES",
    "metrics_public": "STOREMON_METRICS_PUBLIC",
}


def _optional_path(value: str | Path | None) -> Path | None:
    if value is None or value == "":
        return None
    return Path(value)


def _optional_text(value: str | None) -> str | None:
    return value or None


#: The longest maximum gap taken: longer ones leave nothing unknown in any real data, and
#: this keeps its microseconds far inside a database's 64-bit integer.
MAX_MAX_GAP = dt.timedelta(days=10_000)


def max_gap(text: str) -> dt.timedelta:
    """
    Read a maximum gap: ``90m``, ``2h``, ``1h30m``, ``45s``, ``2d`` or ISO 8601 ``PT2H``.

    Raises:
        DataError: anything else (the message names the accepted forms), or more than
            ``MAX_MAX_GAP``.
    """
    gap_us = parse_duration_us(text)
    if gap_us > MAX_MAX_GAP // dt.timedelta(microseconds=1):
        raise DataError(f"a maximum gap is at most {MAX_MAX_GAP.days} days, got {text[:40]!r}")
    return dt.timedelta(microseconds=gap_us)


@attrs.frozen
class Settings:
    """
    Everything the server needs to start, validated.
    """

    #: Repository URL: ``memory://``, ``sqlite:///PATH`` or ``postgresql://...``.
    db_url: str = DEFAULT_DB_URL
    #: Folder holding the sources under their usual names (special hours optional).
    data_dir: Path | None = attrs.field(default=None, converter=_optional_path)
    #: Each source given on its own: a path or an http(s) URL; overrides ``data_dir``.
    status_source: str | None = attrs.field(default=None, converter=_optional_text)
    hours_source: str | None = attrs.field(default=None, converter=_optional_text)
    zones_source: str | None = attrs.field(default=None, converter=_optional_text)
    special_hours_source: str | None = attrs.field(default=None, converter=_optional_text)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: Seconds between refreshes of the sources.
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL
    #: When set, every route but ``/api/health`` needs ``Authorization: Bearer <token>``.
    api_token: str | None = attrs.field(default=None, converter=_optional_text, repr=False)
    #: Reports computed at the same time.
    workers: int = DEFAULT_WORKERS
    #: Triggered reports waiting for a worker before a trigger answers 503.
    max_queue: int = DEFAULT_MAX_QUEUE
    #: Seconds a report job claimed from a shared database (PostgreSQL) stays with its
    #: process without a renewal; another process takes it over after that.
    report_lease: float = DEFAULT_REPORT_LEASE
    #: At most this many stores in a shard of a report: the shards of one report are
    #: computed by every worker of every process on the database.
    report_shard_stores: int = DEFAULT_REPORT_SHARD_STORES
    #: Store a business-hours or time-zone file at a refresh even when it removes more
    #: than half of the stored rows of its kind (refused otherwise).
    allow_shrink: bool = False
    #: Seconds a poll may be later than this machine's clock before it is rejected.
    future_tolerance: float = DEFAULT_FUTURE_TOLERANCE
    #: The longest line of a source, in bytes; longer ones are rejected unread.
    max_line_bytes: int = MAX_LINE_BYTES
    #: Seconds a request's body may take to arrive before the connection is closed.
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    #: After each refresh, delete the polls older than this many seconds before the
    #: newest poll (each store's latest one before the cut stays); ``None`` keeps every poll.
    retention: float | None = None
    #: After each refresh, delete the finished reports that finished more than this many
    #: seconds ago.
    keep_reports: float = DEFAULT_KEEP_REPORTS
    #: The maximum gap of a report triggered without its own (``?max_gap=``): time
    #: further than half of it from every poll is unknown. ``None``: nothing is unknown,
    #: and reports have the six columns.
    max_gap: dt.timedelta | None = None
    #: The largest body of ``POST /api/polls``, in bytes; a larger one is answered 413.
    max_push_bytes: int = DEFAULT_MAX_PUSH_BYTES
    #: Serve ``GET /metrics`` without the API token (to a Prometheus without the token).
    metrics_public: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.db_url or "://" not in self.db_url:
            raise ConfigError(
                f"database URL {self.db_url!r} is not a URL (e.g. sqlite:///storemon.db)"
            )
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be 0 to 65535, got {self.port}")
        if not (math.isfinite(self.refresh_interval) and self.refresh_interval > 0):
            raise ConfigError(
                f"refresh interval must be a positive number of seconds, "
                f"got {self.refresh_interval}"
            )
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")
        if self.max_queue < 0:
            raise ConfigError(f"max queue must be at least 0, got {self.max_queue}")
        if not (math.isfinite(self.report_lease) and self.report_lease >= 1):
            raise ConfigError(f"report lease must be at least 1 second, got {self.report_lease}")
        if self.report_shard_stores < 1:
            raise ConfigError(
                f"report shard stores must be at least 1, got {self.report_shard_stores}"
            )
        if not (math.isfinite(self.future_tolerance) and self.future_tolerance >= 0):
            raise ConfigError(
                f"future tolerance must be a number of seconds, got {self.future_tolerance}"
            )
        if self.max_line_bytes < 1:
            raise ConfigError(f"max line bytes must be at least 1, got {self.max_line_bytes}")
        if self.max_push_bytes < 1:
            raise ConfigError(f"max push bytes must be at least 1, got {self.max_push_bytes}")
        if not (math.isfinite(self.body_timeout) and self.body_timeout > 0):
            raise ConfigError(
                f"body timeout must be a positive number of seconds, got {self.body_timeout}"
            )
        if self.retention is not None and not (
            math.isfinite(self.retention) and self.retention > 0
        ):
            raise ConfigError(f"retention must be a positive duration, got {self.retention}")
        if not (math.isfinite(self.keep_reports) and self.keep_reports > 0):
            raise ConfigError(f"keep reports must be a positive duration, got {self.keep_reports}")
        if self.max_gap is not None and self.max_gap <= dt.timedelta(0):
            raise ConfigError(f"max gap must be positive, got {self.max_gap}")
        if self.api_token is not None and (
            len(self.api_token) < 16 or not self.api_token.isascii() or " " in self.api_token
        ):
            raise ConfigError("the API token must be at least 16 ASCII characters without spaces")

    @property
    def in_memory(self) -> bool:
        """
        Whether the repository lives in this process (``memory://``).
        """
        return self.db_url.startswith("memory:")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """
        Build settings from ``STOREMON_*`` variables; ``overrides`` (not ``None``) win.

        Raises:
            ConfigError: a value is missing its unit, out of range or not a number.
        """
        values: dict[str, Any] = {}
        for field, variable in ENV.items():
            text = environ.get(variable)
            if text is not None and text != "":
                values[field] = _convert(field, variable, text)
        values.update({key: value for key, value in overrides.items() if value is not None})
        unknown = set(values) - set(ENV)
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**values)


_INT_FIELDS = {
    "port",
    "workers",
    "max_queue",
    "max_line_bytes",
    "max_push_bytes",
    "report_shard_stores",
}
_FLOAT_FIELDS = {"refresh_interval", "report_lease", "body_timeout"}
_DURATION_FIELDS = {"future_tolerance", "retention", "keep_reports"}
_BOOL_FIELDS = {"allow_shrink", "metrics_public"}
_BOOLS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _convert(field: str, variable: str, text: str) -> Any:
    if field in _BOOL_FIELDS:
        if text.lower() not in _BOOLS:
            raise ConfigError(f"{variable}={text!r} is not 1/0, true/false or yes/no")
        return _BOOLS[text.lower()]
    if field in _DURATION_FIELDS:
        return seconds(text, variable)
    if field == "max_gap":
        try:
            return max_gap(text)
        except DataError as error:
            raise ConfigError(f"{variable}: {error}") from None
    try:
        if field in _INT_FIELDS:
            return int(text)
        if field in _FLOAT_FIELDS:
            return float(text)
    except ValueError:
        raise ConfigError(f"{variable}={text!r} is not a number") from None
    return text


def seconds(text: str, name: str) -> float:
    """
    Read a duration: a number of seconds, or ``90m``, ``2h``, ``PT1H`` ... (``0`` too).

    Raises:
        ConfigError: it is neither.
    """
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_duration_us(text) / 1_000_000
    except DataError as error:
        raise ConfigError(f"{name}: {error}") from None
