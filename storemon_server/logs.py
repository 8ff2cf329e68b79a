"""
Structured logs: one ``key=value`` line per event, for access and job logs alike.

Values with spaces, quotes or ``=`` are quoted, so a line splits back into its fields
with ``shlex.split``. Request query strings are never logged (they can be huge).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

LOG_FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def kv(event: str, **fields: Any) -> str:
    """
    Return ``event=<event> key=value ...``, quoting values that need it.
    """
    parts = [f"event={event}"]
    for key, value in fields.items():
        parts.append(f"{key}={_value(value)}")
    return " ".join(parts)


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    if not text or any(char in text for char in ' "=\\\n\r\t'):
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        return f'"{escaped}"'
    return text


def redact_url(url: str) -> str:
    """
    Return a database URL without its password, for logs.
    """
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        credentials, _, host = rest.partition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


def configure_logging(level: int = logging.INFO) -> None:
    """
    Send every log line to standard error in the ``key=value`` format.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
