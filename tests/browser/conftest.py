"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser) and a fresh context
per test. Helpers that open documents and look at pages are in helpers.py."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from browser.helpers import ROOT, Api

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


@pytest.fixture(scope="package")  # Playwright's loop must be gone before other packages use asyncio
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run scripts/setup.sh --test")
    # the viewer as it is served: bundled when the bundler is installed, from the modules just edited
    build_viewer = runpy.run_path(str(ROOT / "scripts" / "build_viewer.py"))["build"]
    build_viewer()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A tab whose uncaught script errors fail the test."""
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert not errors, f"script errors in the viewer: {errors}"


@pytest.fixture(scope="module")
def api(server) -> Api:
    return Api(server.url)
