"""What the browser tests share: Debian's Chromium driven by Playwright (never its own
downloads), the flags it runs with here, where screenshots go, and a served copy of the app
with the samples traced."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrona.server.launch import ServeError, ServerProcess

ROOT = Path(__file__).resolve().parent.parent
#: screenshots kept for people to look at (ignored by git)
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-quic", "--disable-sync"]


def need_chromium() -> None:
    """Fail (never skip) when Debian's Chromium is missing: `make test` installs it."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"the browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (a Playwright Browser), closed afterwards."""
    need_chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def samples_server(folder: Path) -> Iterator[str]:
    """`pyrona serve --samples` on a free port with a fresh store in `folder`; its base URL."""
    try:
        served = ServerProcess(folder / "traces.db", folder / "server.log", samples=True, timeout=90,
                               cwd=ROOT)
    except ServeError as exc:
        pytest.fail(str(exc))
    with served:
        yield served.base


def checked_page(browser: object, viewport: dict[str, int],
                 init_script: str | None = None) -> Iterator[object]:
    """A page in a context of its own at `viewport` (with `init_script` run first in every
    document); the test fails on any JavaScript error the page raised. For a fixture:
    `yield from checked_page(browser, VIEWPORT)`."""
    context = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
    if init_script is not None:
        context.add_init_script(init_script)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def shot(page: object, name: str) -> None:
    """A screenshot of `page` kept as test-artifacts/NAME.png, for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # type: ignore[attr-defined]
