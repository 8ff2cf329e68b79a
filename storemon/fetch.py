"""
Opening sources: files, and http(s) URLs fetched with the standard library.

Blocking I/O (call it in a thread from async code). A source opened here reads through
``Stream``, which turns every failure into a ``SourceError`` naming the source.

The HTTP modules (``http.client``, ``urllib.request``, and ``ssl`` and ``email`` under
them: about 40 ms) are imported when a URL is fetched, not by every command that only
reads files.
"""

from __future__ import annotations

import os
import re
import urllib.parse
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

    A file can also be read at any offset (``read_at``, ``seek``): the check that a
    status file only grew reads samples of it (``storemon.refresh``).
    """

    def __init__(
        self,
        raw: ByteStream,
        source: str,
        *,
        length: int | None = None,
        failures: tuple[type[Exception], ...] = (OSError, ValueError),
        fileno: int | None = None,
    ) -> None:
        self._raw = raw
        self.source = source
        self._length = length
        self._received = 0
        #: What a read of ``raw`` raises when it fails.
        self._failures = failures
        #: The file descriptor of a file, read at offsets; ``None`` for a URL.
        self._fileno = fileno

    @property
    def random_access(self) -> bool:
        """
        Whether the source can be read at any offset (a file, not a URL).
        """
        return self._fileno is not None

    def read(self, size: int = -1, /) -> bytes:
        """
        Return up to ``size`` bytes (all the rest when negative); ``b""`` at the end.
        """
        try:
            data = self._raw.read(size)
        except self._failures as error:
            raise SourceError(f"{self.source}: cannot read: {error}") from None
        self._received += len(data)
        if not data and size != 0 and self._length is not None and self._received < self._length:
            raise SourceError(
                f"{self.source}: cannot read: the connection closed after "
                f"{self._received} of {self._length} bytes"
            )
        return data

    def read_at(self, offset: int, size: int) -> bytes:
        """
        Return up to ``size`` bytes of a file from ``offset`` on, without moving where
        ``read`` goes on (fewer at its end).
        """
        assert self._fileno is not None, "only a file is read at offsets"
        parts: list[bytes] = []
        try:
            while size > 0 and (part := os.pread(self._fileno, size, offset)):
                parts.append(part)
                offset += len(part)
                size -= len(part)
        except OSError as error:
            raise SourceError(f"{self.source}: cannot read: {error}") from None
        return b"".join(parts)

    def seek(self, offset: int) -> None:
        """
        Make ``read`` go on from ``offset`` of a file.
        """
        assert self._fileno is not None, "only a file is read at offsets"
        try:
            os.lseek(self._fileno, offset, os.SEEK_SET)
        except OSError as error:
            raise SourceError(f"{self.source}: cannot read: {error}") from None

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
        # Unbuffered, so that ``Stream.seek`` moves the very next read.
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the caller
        stat = os.fstat(handle.fileno())
    except OSError as error:
        raise SourceError(f"{path}: cannot open: {error.strerror or error}") from None
    info = SourceInfo(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    return Stream(handle, path, fileno=handle.fileno()), info


def fetch_url(
    url: str, *, etag: str | None = None, last_modified: str | None = None
) -> tuple[Stream, SourceInfo] | None:
    """
    Start an HTTP GET of ``url``; return the response body and its validators, or
    ``None`` when the server answers 304 Not Modified to the validators given.

    Raises:
        SourceError: the URL cannot be fetched or answers with an error status.
    """
    import http.client  # for URLs only (the module docstring)
    import urllib.error
    import urllib.request

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
    failures = (OSError, http.client.HTTPException, ValueError)
    return Stream(response, shown, length=info.size, failures=failures), info


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
