"""
Structured logs: one ``key=value`` line per event, for access and job logs alike.

Values with spaces, quotes or ``=`` are quoted, so a line splits back into its fields
with ``shlex.split``; control characters are escaped (``\x1b``), so that a request path
cannot forge a line or drive the terminal that shows the log; every value is bounded
(``MAX_VALUE_CHARS``). Request query strings are never logged (they can be huge and
hold secrets).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from storemon.errors import bounded

#: The longest value of a log line, in characters.
MAX_VALUE_CHARS = 500

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


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
    text = bounded(str(value), MAX_VALUE_CHARS)
    if not text or any(char in text for char in ' "=\\') or _CONTROL.search(text):
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{_CONTROL.sub(_escape, escaped)}"'
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
