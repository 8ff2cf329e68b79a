"""
The web page for store owners: ``GET /`` and its two files under ``/static/``.

The files ship inside the package (``storemon_server/static``) and are read once: no
build step, no CDN, nothing fetched at run time. The page is public (it holds no data);
it asks for the API token and sends it with every API call.

Each file carries validators, a strong ``ETag`` (a hash of its bytes) and
``Last-Modified`` (the file's time), with ``Cache-Control: no-cache``: a browser keeps
the file and asks each time whether it changed, and gets ``304 Not Modified`` (no body)
while it has not, so a new version of the page is never hidden behind a stale cache.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import hashlib
from pathlib import Path

import attrs
from aiohttp import web

#: Beside this module, so that it is found however the package is installed (an editable
#: install may make ``storemon_server`` a namespace package without ``files()`` support).
STATIC_DIR = Path(__file__).with_name("static")

#: The files of the page and their content types; nothing else is served.
STATIC_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}

#: Everything from this origin only; no inline script or style, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)

_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@attrs.frozen
class StaticFile:
    """
    One file of the page, with its validators.
    """

    #: The file's bytes.
    body: bytes
    #: A strong entity tag: the start of the SHA-256 of ``body``, quoted.
    etag: str
    #: The file's modification time, to the second (HTTP dates have no fraction).
    last_modified: dt.datetime


@functools.cache
def static_file(name: str) -> StaticFile:
    """
    Return one of ``STATIC_FILES`` with its validators.
    """
    path = STATIC_DIR / name
    body = path.read_bytes()
    modified = dt.datetime.fromtimestamp(int(path.stat().st_mtime), tz=dt.UTC)
    return StaticFile(
        body=body,
        etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
        last_modified=modified,
    )


def is_not_modified(
    file: StaticFile, *, if_none_match: str | None, if_modified_since: dt.datetime | None
) -> bool:
    """
    Tell whether the client's copy of ``file`` is current (RFC 9110, 13.1.2 and 13.2.2).

    ``If-None-Match`` decides when it is given (any listed tag equal to the file's, weakly
    compared, or ``*``); ``If-Modified-Since`` only when it is not.
    """
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or file.etag in tags
    return if_modified_since is not None and file.last_modified <= if_modified_since


def _file_response(request: web.Request, name: str) -> web.Response:
    file = static_file(name)
    validators = {
        "ETag": file.etag,
        "Last-Modified": email.utils.format_datetime(file.last_modified, usegmt=True),
    }
    if is_not_modified(
        file,
        if_none_match=request.headers.get("If-None-Match"),
        if_modified_since=request.if_modified_since,
    ):
        return web.Response(status=304, headers={**_HEADERS, **validators})
    return web.Response(
        body=file.body,
        content_type=STATIC_FILES[name],
        charset="utf-8",
        headers={**_HEADERS, **validators},
    )


async def index(request: web.Request) -> web.Response:
    """
    ``GET /``: the page.
    """
    return _file_response(request, "index.html")


async def asset(request: web.Request) -> web.Response:
    """
    ``GET /static/{name}``: the page's script or style sheet.
    """
    name = request.match_info["name"]
    if name not in STATIC_FILES or name == "index.html":
        raise web.HTTPNotFound()
    return _file_response(request, name)
