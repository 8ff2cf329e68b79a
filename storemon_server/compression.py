"""
gzip for the API's JSON and CSV answers, when the client says it accepts it.

A full report is about 3 MB of JSON and compresses to a tenth of that. aiohttp compresses
a response given ``enable_compression``, but left to choose it takes deflate before gzip
and matches the header by substring (so ``gzip;q=0`` would count as accepted); the choice
is made here instead, by ``accepts_gzip``, and gzip is forced.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from aiohttp.web_response import ContentCoding

#: The content types compressed: the API's answers. The page's files are small and carry
#: validators (``storemon_server.page``), so they are sent as they are.
COMPRESSED_TYPES = frozenset({"application/json", "text/csv"})

#: Bodies shorter than this are sent as they are: gzip's header and trailer would eat
#: most of the saving.
MIN_COMPRESSED_SIZE = 1024


def accepts_gzip(accept_encoding: str) -> bool:
    """
    Tell whether an ``Accept-Encoding`` header value accepts gzip (RFC 9110, 12.5.3).

    ``gzip`` (or ``x-gzip``) with a nonzero weight accepts it; without it, ``*`` with a
    nonzero weight does. An explicit ``gzip;q=0`` refuses it, whatever ``*`` says.
    """
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding.lower()] = weight
    for name in ("gzip", "x-gzip", "*"):
        if name in weights:
            return weights[name] > 0
    return False


@web.middleware
async def compression_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """
    Compress a JSON or CSV answer of at least ``MIN_COMPRESSED_SIZE`` bytes with gzip when
    the request accepts it; such answers always say ``Vary: Accept-Encoding``.
    """
    response = await handler(request)
    if not isinstance(response, web.Response) or response.content_type not in COMPRESSED_TYPES:
        return response
    response.headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
    body = response.body
    if (
        isinstance(body, bytes)
        and len(body) >= MIN_COMPRESSED_SIZE
        and accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
    ):
        response.enable_compression(ContentCoding.gzip)
    return response
