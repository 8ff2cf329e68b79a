"""
The middlewares (errors as JSON, bearer-token check, size and time limits), the access
logger, and the logger of malformed requests.

Handlers never catch: a ``StoremonError`` becomes its status from ``errors.STATUS_OF``,
an aiohttp ``HTTPException`` (404 no route, 405 wrong method, 413 too large) keeps its
status with a JSON body, and anything else is logged and answered 500 without details.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Collection, Mapping
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware

from storemon.errors import StorageBusy, StoremonError
from storemon_server.config import CLIENT_MAX_SIZE
from storemon_server.errors import BadRequest, Unauthorized, Unavailable, http_status
from storemon_server.logs import kv
from storemon_server.render import error_response

logger = logging.getLogger(__name__)

#: Longest query string accepted: the parameters are a report id and a format, or a page
#: size and a cursor of the list of reports (under 100 characters).
MAX_QUERY_LENGTH = 256

#: Routes that never need the token: health (which without it says only whether the
#: server is ready), and the web page (which asks for the token and sends it with its API
#: calls; it holds no data itself).
PUBLIC_PATHS = frozenset({"/api/health", "/"})
PUBLIC_PREFIXES = ("/static/",)

#: Seconds a client should wait after a 503 for a database busy with another writer.
BUSY_RETRY_AFTER_S = 2

#: Where ``limits_middleware`` leaves a request's body for its handler (``request[BODY]``).
BODY = web.RequestKey("body", bytes)
#: Bytes read from a body at a time.
BODY_CHUNK_BYTES = 64 * 1024


def is_public(path: str, also: Collection[str] = ()) -> bool:
    """
    Tell whether ``path`` is served without the API token (``also``: more such paths, as
    ``/metrics`` with ``--metrics-public``).
    """
    return path in PUBLIC_PATHS or path in also or path.startswith(PUBLIC_PREFIXES)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """
    Turn every error into ``{"error": ...}`` with the right status.
    """
    try:
        return await handler(request)
    except StoremonError as error:
        status = http_status(error)
        headers: dict[str, str] = {}
        if isinstance(error, Unavailable):
            headers["Retry-After"] = str(error.retry_after)
        elif isinstance(error, StorageBusy):
            headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
        if isinstance(error, Unauthorized):
            headers["WWW-Authenticate"] = 'Bearer realm="storemon"'
        if status >= 500:
            logger.warning(kv("http.error", path=request.path, status=status, error=str(error)))
        return error_response(status, str(error), headers=headers)
    except web.HTTPException as error:
        if error.empty_body or error.status < 400:
            raise
        headers = {
            name: value
            for name, value in error.headers.items()
            if name.lower() in ("allow", "retry-after", "www-authenticate")
        }
        response = error_response(error.status, error.reason, headers=headers)
        if error.headers.get("Connection") == "close":
            response.force_close()
        return response
    except Exception:
        logger.exception(kv("http.unexpected", path=request.path))
        return error_response(500, "internal server error")


def bearer_matches(request: web.BaseRequest, token: str) -> bool:
    """
    Tell whether the request carries ``Authorization: Bearer <token>``, comparing in
    constant time.
    """
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    candidate = given.strip().encode("utf-8", "replace")
    # compare_digest on both outcomes keeps the timing independent of the token.
    valid = hmac.compare_digest(candidate, token.encode("ascii"))
    return scheme.lower() == "bearer" and valid


def auth_middleware(token: str | None, also_public: Collection[str] = ()) -> Middleware:
    """
    Require ``Authorization: Bearer <token>`` on every route but the public ones (and
    the paths ``also_public``), when ``token`` is set.
    """

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        public = is_public(request.path, also_public)
        if token is not None and not public and not bearer_matches(request, token):
            raise Unauthorized()
        return await handler(request)

    return check_token


def limits_middleware(
    body_timeout: float, body_limits: Mapping[str, int] | None = None
) -> Middleware:
    """
    Refuse query strings longer than any valid request needs, bodies past the limit, and
    bodies slower than ``body_timeout`` seconds.

    Every body is read here, whole, before the handler runs (so that a slow client never
    holds the database's write lock) and left in ``request[BODY]``; routes that take none
    drop it, so an oversized upload is refused instead of silently ignored. The limit is
    ``CLIENT_MAX_SIZE``, or the route's in ``body_limits`` (keyed by the route's path
    pattern: ``/api/polls`` takes ``--max-push-bytes``). Past it the answer is 413 at
    once when ``Content-Length`` says so, else as soon as the bytes read pass it: a body
    is never held beyond its limit. A refused or late body closes the connection: a
    client that announces a body and sends nothing holds it no longer than
    ``body_timeout``.
    """

    @web.middleware
    async def check_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        if len(request.query_string) > MAX_QUERY_LENGTH:
            raise BadRequest(f"the query string is longer than {MAX_QUERY_LENGTH} characters")
        body = b""
        if request.body_exists:
            resource = request.match_info.route.resource
            route = None if resource is None else resource.canonical
            limit = (body_limits or {}).get(route or "", CLIENT_MAX_SIZE)
            length = request.content_length
            if length is not None and length > limit:
                raise _closing(request, _too_large(limit, length))
            try:
                async with asyncio.timeout(body_timeout):
                    body = await _read_body(request, limit)
            except TimeoutError:
                raise _closing(request, web.HTTPRequestTimeout()) from None
        request[BODY] = body
        return await handler(request)

    return check_limits


def _too_large(limit: int, size: int) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(
        limit, size, reason=f"the body is over the limit of {limit} bytes for this route"
    )


async def _read_body(request: web.Request, limit: int) -> bytes:
    """
    Read the body, refusing it (413) as soon as it passes ``limit`` bytes.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(BODY_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise _closing(request, _too_large(limit, size))
        chunks.append(chunk)
    return b"".join(chunks)


def _closing(request: web.Request, error: web.HTTPException) -> web.HTTPException:
    """
    Mark ``error`` to be answered with the connection closed after it, never waiting for
    the rest of the body (aiohttp would otherwise read on for up to ten seconds).
    """
    request.content.feed_eof()
    error.headers["Connection"] = "close"
    return error


class AccessLogger(AbstractAccessLogger):
    """
    One ``event=http.request`` line per request: method, path, status, size, duration.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            kv(
                "http.request",
                method=request.method,
                path=request.path,
                status=response.status,
                bytes=response.body_length,
                duration_ms=time * 1000,
                remote=request.remote,
            )
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class ProtocolLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """
    The logger aiohttp's HTTP protocol reports malformed requests to: one WARNING line
    with the kind of error, never a traceback or the request line (whose query string
    may hold a secret, and whose bytes are the sender's).
    """

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger, {})

    def exception(self, msg: object, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        """
        Log a request the protocol could not handle, in one line.
        """
        error = exc_info if isinstance(exc_info, BaseException) else None
        kind = type(error).__name__ if error is not None else "error"
        remote = args[0] if args else None
        status = getattr(error, "code", None)
        self.logger.warning(kv("http.malformed", remote=remote, error=kind, status=status))
