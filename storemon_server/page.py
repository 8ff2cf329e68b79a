"""
The web page for store owners: ``GET /`` and its two files under ``/static/``.

The files ship inside the package (``storemon_server/static``) and are read once: no
build step, no CDN, nothing fetched at run time. The page is public (it holds no data);
it asks for the API token and sends it with every API call.
"""

from __future__ import annotations

import functools
from pathlib import Path

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


@functools.cache
def static_file(name: str) -> bytes:
    """
    Return the bytes of one of ``STATIC_FILES``.
    """
    return (STATIC_DIR / name).read_bytes()


def _file_response(name: str) -> web.Response:
    return web.Response(
        body=static_file(name),
        content_type=STATIC_FILES[name],
        charset="utf-8",
        headers=_HEADERS,
    )


async def index(request: web.Request) -> web.Response:
    """
    ``GET /``: the page.
    """
    return _file_response("index.html")


async def asset(request: web.Request) -> web.Response:
    """
    ``GET /static/{name}``: the page's script or style sheet.
    """
    name = request.match_info["name"]
    if name not in STATIC_FILES or name == "index.html":
        raise web.HTTPNotFound()
    return _file_response(name)
