"""
Exceptions raised by storemon.

::

    StoremonError
    ├── ConfigError
    ├── DataError(ValueError)        naive datetime, unknown zone key, bad hours
    │   └── SourceError              a whole input file refused (header, encoding, I/O)
    │       └── ShrinkRefused        a snapshot file that would remove most stored rows
    ├── StorageError                 driver failure, original chained
    │   ├── BackendUnavailable       unknown URL scheme or extra not installed
    │   ├── StorageBusy              another process holds the lock a request needs
    │   └── DatabaseNotFound         no database there, and the caller would not create one
    ├── ReportNotFound(LookupError)
    └── StoreNotFound(LookupError)   no poll of the store by the time asked

Raise the most specific class; catch ``StoremonError``. A class docstring doubles as the
default message. Every message is bounded (``MAX_MESSAGE_CHARS``): messages quote input
values, and one absurd value (a 50 MiB line) must not become a 50 MiB message on a
terminal, in a log or in an HTTP answer.
"""

from __future__ import annotations

#: The longest error message, in characters; longer ones are cut and say so.
MAX_MESSAGE_CHARS = 500


def bounded(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """
    Return ``text``, cut to at most ``limit`` characters with a note of how much was cut.
    """
    if len(text) <= limit:
        return text
    note = f"... ({len(text) - limit} more characters)"
    return text[: max(limit - len(note), 0)] + note


class StoremonError(Exception):
    """storemon failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(bounded(message or (self.__doc__ or "").strip()))


class ConfigError(StoremonError):
    """The configuration is invalid."""


class DataError(StoremonError, ValueError):
    """A value in the input data is invalid."""


class SourceError(DataError):
    """An input source cannot be read as a whole."""


class ShrinkRefused(SourceError):
    """The file would remove more than half of the stored rows of its kind."""


class StorageError(StoremonError):
    """The storage backend failed."""


class BackendUnavailable(StorageError):
    """No storage backend serves this URL."""


class StorageBusy(StorageError):
    """The database is busy with another writer; try again in a few seconds."""


class DatabaseNotFound(StorageError, LookupError):
    """No storemon database is there (and it was opened without creating one)."""


class ReportNotFound(StoremonError, LookupError):
    """No report has this id."""


class StoreNotFound(StoremonError, LookupError):
    """The store has no poll at or before the time asked."""
