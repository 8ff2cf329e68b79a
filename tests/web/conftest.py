"""
Fixtures for the web page's tests: the server tests' app on the in-memory backend, and
headless Chromium with a fresh tab per test (``tests/web/browser.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.conftest import data_repository, make_client
from tests.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DESKTOP, unavailable

__all__ = ["data_repository", "make_client"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """
    Headless Chromium from the system, driven by Playwright.
    """
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """
    The script errors and console errors of the test's page (none allowed at its end).
    """
    return []


@pytest.fixture
def page(browser: Any, console_errors: list[str]) -> Iterator[Any]:
    """
    A fresh tab (its own session storage) at 1280x800 that fails the test on a script
    error or on a request to any other origin.
    """
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    foreign: list[str] = []

    def on_console(message: Any) -> None:
        # The page asks /api/session on load to learn whether a token is needed: the
        # browser logs that 401 itself.
        expected = message.location.get("url", "").endswith("/api/session")
        if message.type == "error" and not expected:
            console_errors.append(message.text)

    def on_request(request: Any) -> None:
        if not request.url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            foreign.append(request.url)

    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.on("console", on_console)
    page.on("request", on_request)
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert foreign == []
    assert console_errors == []


@pytest.fixture(scope="module", autouse=True)
def _artifacts() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
