"""
The middlewares (errors as JSON, bearer-token check, size limits) and the access logger.

Handlers never catch: a ``StoremonError`` becomes its status from ``errors.STATUS_OF``,
an aiohttp ``HTTPException`` (404 no route, 405 wrong method, 413 too large) keeps its
status with a JSON body, and anything else is logged and answered 500 without details.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware

from storemon.errors import StoremonError
from storemon_server.errors import BadRequest, Unauthorized, Unavailable, http_status
from storemon_server.logs import kv
from storemon_server.render import error_response

logger = logging.getLogger(__name__)

#: Longest query string accepted: the parameters are a report id and a format, or a page
#: size and a cursor of the list of reports (under 100 characters).
MAX_QUERY_LENGTH = 256

#: Routes that never need the token: health, and the web page (which asks for the token
#: and sends it with its API calls; it holds no data itself).
PUBLIC_PATHS = frozenset({"/api/health", "/"})
PUBLIC_PREFIXES = ("/static/",)


def is_public(path: str) -> bool:
    """
    Tell whether ``path`` is served without the API token.
    """
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


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
        return error_response(error.status, error.reason, headers=headers)
    except Exception:
        logger.exception(kv("http.unexpected", path=request.path))
        return error_response(500, "internal server error")


def auth_middleware(token: str | None) -> Middleware:
    """
    Require ``Authorization: Bearer <token>`` on every route but the public ones, when
    ``token`` is set.
    """
    expected = None if token is None else token.encode("ascii")

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if expected is not None and not is_public(request.path):
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            candidate = given.strip().encode("utf-8", "replace")
            # compare_digest on both outcomes keeps the timing independent of the token.
            valid = hmac.compare_digest(candidate, expected)
            if scheme.lower() != "bearer" or not valid:
                raise Unauthorized()
        return await handler(request)

    return check_token


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """
    Refuse query strings longer than any valid request needs, and bodies past the limit.

    No route takes a body; one is read (bounded by ``client_max_size``, 413 beyond) and
    dropped, so an oversized upload is refused instead of silently ignored.
    """
    if len(request.query_string) > MAX_QUERY_LENGTH:
        raise BadRequest(f"the query string is longer than {MAX_QUERY_LENGTH} characters")
    if request.body_exists:
        await request.read()
    return await handler(request)


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
