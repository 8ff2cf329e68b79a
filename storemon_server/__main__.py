"""
``python -m storemon_server`` and ``storemon serve``: run the server.

Options override ``STOREMON_*`` environment variables (``config.ENV``). Exit statuses: 0
after a clean shutdown (SIGINT or SIGTERM), 1 when the configuration or the database is
refused or the address cannot be listened on, 2 for a usage error.

The listening sockets are bound before anything starts: a port in use is one line and
exit 1, before the database is opened or the sources read, and ``server.started`` is
logged only once the server can be reached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from storemon.errors import StoremonError
from storemon_server.config import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_DB_URL,
    DEFAULT_HOST,
    DEFAULT_MAX_PUSH_BYTES,
    DEFAULT_MAX_QUEUE,
    DEFAULT_PORT,
    DEFAULT_REFRESH_INTERVAL,
    DEFAULT_REPORT_SHARD_STORES,
    DEFAULT_WORKERS,
    ENV,
    MAX_FIELD_SIZE,
    MAX_LINE_SIZE,
    Settings,
    max_gap,
    seconds,
)


def _duration(text: str) -> float:
    try:
        return seconds(text, "duration")
    except StoremonError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _max_gap(text: str) -> dt.timedelta:
    try:
        return max_gap(text)
    except StoremonError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    """
    Return the parser of ``storemon serve``.
    """
    parser = argparse.ArgumentParser(
        prog="storemon serve",
        description="Serve the store uptime API: ingest the sources at start-up and every "
        "refresh interval; compute reports in the background.",
    )

    def option(flag: str, field: str, help_: str, **kwargs: object) -> None:
        parser.add_argument(flag, dest=field, help=f"{help_} (env {ENV[field]})", **kwargs)  # type: ignore[arg-type]

    option("--db", "db_url", f"database URL (default {DEFAULT_DB_URL})", metavar="URL")
    option(
        "--data-dir",
        "data_dir",
        "folder with store_status.csv, business_hours.csv, timezones.csv and, when "
        "present, special_hours.csv",
        type=Path,
        metavar="DIR",
    )
    option("--status", "status_source", "status source, a path or URL", metavar="SRC")
    option("--business-hours", "hours_source", "business hours source", metavar="SRC")
    option("--timezones", "zones_source", "time zones source", metavar="SRC")
    option(
        "--special-hours",
        "special_hours_source",
        "special hours source (holidays, special dates)",
        metavar="SRC",
    )
    option("--host", "host", f"address to bind (default {DEFAULT_HOST})")
    option("--port", "port", f"port to bind (default {DEFAULT_PORT})", type=int)
    option(
        "--refresh-interval",
        "refresh_interval",
        f"seconds between refreshes of the sources (default {DEFAULT_REFRESH_INTERVAL:g})",
        type=float,
        metavar="SECONDS",
    )
    option(
        "--api-token",
        "api_token",
        "require 'Authorization: Bearer TOKEN' on every route but health",
        metavar="TOKEN",
    )
    option(
        "--workers", "workers", f"reports computed at once (default {DEFAULT_WORKERS})", type=int
    )
    option(
        "--max-queue",
        "max_queue",
        f"reports waiting before a trigger answers 503 (default {DEFAULT_MAX_QUEUE})",
        type=int,
        metavar="N",
    )
    option(
        "--report-shard-stores",
        "report_shard_stores",
        "at most N stores in a shard of a report; every server on the database computes "
        f"the shards of a report (default {DEFAULT_REPORT_SHARD_STORES})",
        type=int,
        metavar="N",
    )
    option(
        "--allow-shrink",
        "allow_shrink",
        "store a business-hours, time-zone or special-hours file at a refresh even when it "
        "removes more than half of the stored rows of its kind (refused otherwise)",
        action="store_const",
        const=True,
    )
    option(
        "--future-tolerance",
        "future_tolerance",
        "reject polls later than this machine's clock plus DURATION (default 1h)",
        type=_duration,
        metavar="DURATION",
    )
    option(
        "--max-gap",
        "max_gap",
        "time further than half of DURATION from every poll is unknown, in three more "
        "columns (90m, 2h, 1h30m, 45s or PT2H); a trigger's ?max_gap= overrides it "
        "(default: none, six columns)",
        type=_max_gap,
        metavar="DURATION",
    )
    option(
        "--max-line-bytes",
        "max_line_bytes",
        "reject source lines longer than N bytes (default 1048576)",
        type=int,
        metavar="N",
    )
    option(
        "--body-timeout",
        "body_timeout",
        f"seconds a request body may take to arrive (default {DEFAULT_BODY_TIMEOUT:g})",
        type=float,
        metavar="SECONDS",
    )
    option(
        "--retention",
        "retention",
        "after each refresh, delete the polls older than DURATION before the newest poll, "
        "keeping each store's latest one before that cut (e.g. 8w; default: keep every poll)",
        type=_duration,
        metavar="DURATION",
    )
    option(
        "--keep-reports",
        "keep_reports",
        "after each refresh, delete the finished reports that finished more than DURATION "
        "ago (default 30d)",
        type=_duration,
        metavar="DURATION",
    )
    option(
        "--max-push-bytes",
        "max_push_bytes",
        f"the largest body of POST /api/polls, in bytes; larger ones are answered 413 "
        f"(default {DEFAULT_MAX_PUSH_BYTES})",
        type=int,
        metavar="N",
    )
    option(
        "--metrics-public",
        "metrics_public",
        "serve GET /metrics without the API token (every other route still needs it)",
        action="store_const",
        const=True,
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the least important log lines written to standard error (default INFO: "
        "start-up, ingests, reports and every request; WARNING: only what needs a look)",
    )
    return parser


def listen(host: str, port: int) -> list[socket.socket]:
    """
    Bind and listen on every address ``host`` resolves to; return the sockets.

    Raises:
        OSError: an address cannot be bound (a port in use, an unknown host).
    """
    sockets: list[socket.socket] = []
    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        for family, kind, proto, _, address in dict.fromkeys(found):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(128)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def main(argv: Sequence[str] | None = None) -> int:
    """
    Parse the server's options and run it until interrupted; return the exit status.
    """
    try:
        from aiohttp import web

        from storemon_server.app import create_app
        from storemon_server.logs import configure_logging
        from storemon_server.middleware import AccessLogger, ProtocolLogger
    except ImportError as error:
        print(
            f"storemon serve: error: the server needs the [server] extra "
            f"(pip install 'storemon[server]'): {error}",
            file=sys.stderr,
        )
        return 1
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    overrides = {key: value for key, value in vars(args).items() if key in ENV}
    try:
        settings = Settings.from_env(os.environ, **overrides)
        app = create_app(settings)
    except StoremonError as error:
        print(f"storemon serve: error: {error}", file=sys.stderr)
        return 1
    try:
        sockets = listen(settings.host, settings.port)
    except OSError as error:
        reason = error.strerror or str(error)
        print(
            f"storemon serve: error: cannot listen on {settings.host}:{settings.port}: "
            f"{reason} (--port or STOREMON_PORT picks another port)",
            file=sys.stderr,
        )
        return 1
    try:
        configure_logging(getattr(logging, args.log_level))
        web.run_app(
            app,
            sock=sockets,
            access_log_class=AccessLogger,
            access_log=logging.getLogger("storemon_server.access"),
            print=lambda *_: None,
            max_line_size=MAX_LINE_SIZE,
            max_field_size=MAX_FIELD_SIZE,
            logger=ProtocolLogger(logging.getLogger("storemon_server.protocol")),
            shutdown_timeout=10.0,
        )
    except StoremonError as error:
        print(f"storemon serve: error: {error}", file=sys.stderr)
        return 1
    finally:
        for sock in sockets:
            sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
