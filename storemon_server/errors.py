"""
The server's own errors, and the one table from ``StoremonError`` classes to HTTP statuses.

::

    StoremonError (storemon.errors)
    ├── BadRequest          400  a parameter is missing or malformed
    ├── Unauthorized        401  no or wrong bearer token
    ├── StoreNotFound       404  the report has no row for this store
    ├── NoData              409  there is no poll yet, so a report has no "now"
    ├── UnsupportedMediaType 415 a body's Content-Type is not one the route reads
    └── Unavailable         503  try again later (carries Retry-After)
        ├── NotReady             the start-up ingest has not finished
        ├── QueueFull            too many reports are waiting
        └── Busy                 earlier triggers still wait for the database

    StorageBusy (storemon.errors) is 503 too, with Retry-After: the database's write lock
    is held by another process (an ingest) longer than a request may wait.
"""

from __future__ import annotations

from storemon.errors import (
    ConfigError,
    DataError,
    ReportNotFound,
    StorageError,
    StoremonError,
)


class BadRequest(StoremonError):
    """The request is malformed."""


class Unauthorized(StoremonError):
    """A valid bearer token is required."""


class StoreNotFound(StoremonError, LookupError):
    """The report has no row for this store: it had no poll by the report's 'now'."""


class NoData(StoremonError):
    """There are no polls yet, so a report has no 'now'; ingest data first."""


class UnsupportedMediaType(StoremonError):
    """The body's Content-Type is not one the route reads."""


class Unavailable(StoremonError):
    """The server cannot take this request now; try again later."""

    #: Seconds a client should wait, sent as ``Retry-After``.
    retry_after = 5


class NotReady(Unavailable):
    """The server is loading its data; try again shortly."""

    retry_after = 5


class QueueFull(Unavailable):
    """Too many reports are waiting; try again later."""

    retry_after = 30


class Busy(Unavailable):
    """The server is busy storing other reports; try again in a moment."""

    retry_after = 2


#: Most specific first: the first class the error is an instance of decides.
STATUS_OF: tuple[tuple[type[StoremonError], int], ...] = (
    (BadRequest, 400),
    (Unauthorized, 401),
    (ReportNotFound, 404),
    (StoreNotFound, 404),
    (NoData, 409),
    (UnsupportedMediaType, 415),
    (DataError, 422),
    (Unavailable, 503),
    (StorageError, 503),
    (ConfigError, 500),
    (StoremonError, 500),
)


def http_status(error: StoremonError) -> int:
    """
    Return the HTTP status that answers ``error``.
    """
    for kind, status in STATUS_OF:
        if isinstance(error, kind):
            return status
    return 500  # pragma: no cover - StoremonError is last in the table
