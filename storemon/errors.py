"""
Exceptions raised by storemon.

::

    StoremonError
    ├── ConfigError
    ├── DataError(ValueError)        naive datetime, unknown zone key, bad hours
    │   └── SourceError              a whole input file refused (header, encoding, I/O)
    ├── StorageError                 driver failure, original chained
    │   ├── BackendUnavailable       unknown URL scheme or extra not installed
    │   └── DatabaseNotFound         no database there, and the caller would not create one
    ├── ReportNotFound(LookupError)
    └── StoreNotFound(LookupError)   no poll of the store by the time asked

Raise the most specific class; catch ``StoremonError``. A class docstring doubles as the
default message.
"""

from __future__ import annotations


class StoremonError(Exception):
    """storemon failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(StoremonError):
    """The configuration is invalid."""


class DataError(StoremonError, ValueError):
    """A value in the input data is invalid."""


class SourceError(DataError):
    """An input source cannot be read as a whole."""


class StorageError(StoremonError):
    """The storage backend failed."""


class BackendUnavailable(StorageError):
    """No storage backend serves this URL."""


class DatabaseNotFound(StorageError, LookupError):
    """No storemon database is there (and it was opened without creating one)."""


class ReportNotFound(StoremonError, LookupError):
    """No report has this id."""


class StoreNotFound(StoremonError, LookupError):
    """The store has no poll at or before the time asked."""
