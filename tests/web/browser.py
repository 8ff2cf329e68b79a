"""
What the browser tests share: the system Chromium, the token, window sizes, and helpers
that drive or inspect a Playwright page (the fixtures are in conftest.py).

Needs the Debian package ``chromium`` (``/usr/bin/chromium``) and Playwright's Python
package (never ``playwright install``: the system browser is used). Without them the tests
skip, unless ``STOREMON_REQUIRE_BROWSER=1`` (set by ``.ci/run``), when they fail.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.server.process import Server

CHROMIUM = Path(os.environ.get("STOREMON_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "browser-test-token-0123456789"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def unavailable(reason: str) -> None:
    """
    Skip the test for want of the browser, or fail it when the browser is required.
    """
    if os.environ.get("STOREMON_REQUIRE_BROWSER") == "1":
        pytest.fail(f"STOREMON_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def enter_token(page: Any, token: str = TOKEN) -> None:
    """
    Type the token and press "Use token"; wait until the page accepted it.
    """
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Use token").click()
    page.locator("#token-state").filter(has_text="Token accepted").wait_for()


def api_json(page: Any, server: Server, path: str) -> Any:
    """
    GET an API path with the token, outside the page; return the JSON body.
    """
    response = page.request.get(server.base + path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200, response.text()
    return response.json()


def no_sideways_scroll(page: Any) -> bool:
    """
    Whether the document is no wider than the window.
    """
    overflow: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return overflow <= 0


def focus_is_on_body(page: Any) -> bool:
    """
    Whether the keyboard focus has dropped to <body> (or nowhere).
    """
    on_body: bool = page.evaluate(
        "!document.activeElement || document.activeElement === document.body"
    )
    return on_body


def save_screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """
    Save a screenshot into test-artifacts/ and return its path.
    """
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000
    return path


def axe_violations(page: Any) -> list[str]:
    """
    The WCAG 2.1 A and AA rules that axe-core finds broken on the page as shown.
    """
    from axe_playwright_python.sync_playwright import Axe

    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": tags}})
    return [
        f"{violation['id']}: {[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
    ]


class Keyboard:
    """
    Keys pressed one at a time, each followed by the check that the focus is not on
    <body>; ``path`` records where the focus went (for the failure message).
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        self.path: list[str] = []

    def press(self, key: str) -> str:
        """
        Press ``key``; return a name for the element focused after it.
        """
        self.page.keyboard.press(key)
        assert not focus_is_on_body(self.page), self.path
        where: str = self.page.evaluate(
            "(() => { const e = document.activeElement;"
            " return e.id || e.getAttribute('aria-label') || e.textContent.trim(); })()"
        )
        self.path.append(where)
        return where

    def tab_to(self, predicate: str, limit: int = 40, *, key: str = "Tab") -> None:
        """
        Press Tab (or ``key``) until the JavaScript ``predicate`` holds.
        """
        for _ in range(limit):
            self.press(key)
            if self.page.evaluate(predicate):
                return
        raise AssertionError(f"never reached {predicate}: {self.path}")
