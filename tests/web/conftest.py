"""
Fixtures for the web page's tests: the server tests' app on the in-memory backend.
"""

from __future__ import annotations

from tests.server.conftest import data_repository, make_client

__all__ = ["data_repository", "make_client"]
