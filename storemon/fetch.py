"""
Opening sources: files, and http(s) URLs fetched with the standard library.

Blocking I/O (call it in a thread from async code). A source opened here reads through
``Stream``, which turns every failure into a ``SourceError`` naming the source.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Protocol

from storemon.errors import SourceError
from storemon.model import SourceInfo

#: Seconds to wait for an HTTP server to answer or send more data.
HTTP_TIMEOUT_S = 60.0

_URL = re.compile(r"https?://", re.IGNORECASE)


def is_url(location: str) -> bool:
    """
    Return whether ``location`` is an http(s) URL rather than a file path.
    """
    return _URL.match(location) is not None


def source_name(location: str | os.PathLike[str]) -> str:
    """
    Return the name a source is recorded under: the URL, or the file's absolute path.
    """
    text = os.fspath(location)
    return text if is_url(text) else os.path.abspath(text)


def display_name(location: str) -> str:
    """
    Return a source's name as it may be shown and logged: a URL without its user info
    (``user:password@``), query string (signatures, tokens) and fragment; a path as it is.
    """
    if not is_url(location):
        return location
    try:
        parts = urllib.parse.urlsplit(location)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a malformed port or address: show the scheme only
        return location.split(":", 1)[0] + "://..."
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class ByteStream(Protocol):
    """
    A readable binary stream: an open file or an HTTP response.
    """

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class Stream:
    """
    An open source: its reads fail with a ``SourceError`` naming it, including an HTTP
    body that ends before its ``Content-Length`` (``http.client`` returns a short read
    silently when asked for a number of bytes).
    """

    def __init__(self, raw: ByteStream, source: str, *, length: int | None = None) -> None:
        self._raw = raw
        self.source = source
        self._length = length
        self._received = 0

    def read(self, size: int = -1, /) -> bytes:
        """
        Return up to ``size`` bytes (all the rest when negative); ``b""`` at the end.
        """
        try:
            data = self._raw.read(size)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise SourceError(f"{self.source}: cannot read: {error}") from None
        self._received += len(data)
        if not data and size != 0 and self._length is not None and self._received < self._length:
            raise SourceError(
                f"{self.source}: cannot read: the connection closed after "
                f"{self._received} of {self._length} bytes"
            )
        return data

    def close(self) -> None:
        """
        Close the file or the connection.
        """
        self._raw.close()


def open_file(path: str) -> tuple[Stream, SourceInfo]:
    """
    Open a file for reading; return it with its size and modification time.

    Raises:
        SourceError: the file cannot be opened.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the caller
        stat = os.fstat(handle.fileno())
    except OSError as error:
        raise SourceError(f"{path}: cannot open: {error.strerror or error}") from None
    return Stream(handle, path), SourceInfo(size=stat.st_size, mtime_ns=stat.st_mtime_ns)


def fetch_url(
    url: str, *, etag: str | None = None, last_modified: str | None = None
) -> tuple[Stream, SourceInfo] | None:
    """
    Start an HTTP GET of ``url``; return the response body and its validators, or
    ``None`` when the server answers 304 Not Modified to the validators given.

    Raises:
        SourceError: the URL cannot be fetched or answers with an error status.
    """
    headers = {"User-Agent": "storemon", "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    shown = display_name(url)
    try:
        response = urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 304:
            return None
        raise SourceError(f"{shown}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise SourceError(f"{shown}: cannot fetch: {reason}") from None
    length = response.headers.get("Content-Length")
    info = SourceInfo(
        size=int(length) if length and length.isdigit() else None,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )
    return Stream(response, shown, length=info.size), info


def open_source(
    source: str, *, etag: str | None = None, last_modified: str | None = None
) -> tuple[Stream, SourceInfo] | None:
    """
    Open a file, or fetch a URL (conditionally when validators are given: ``None`` means
    304 Not Modified).

    Raises:
        SourceError: the source cannot be opened.
    """
    if is_url(source):
        return fetch_url(source, etag=etag, last_modified=last_modified)
    return open_file(source)
