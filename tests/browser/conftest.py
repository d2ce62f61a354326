"""Browser fixtures: Debian's Chromium driven by Playwright against a real playground.

The server is the session's `live_server` (tests/conftest.py): a real
`python -m playground --port 0` with real sandboxes. Every test gets a fresh
browser context, so it is a new visitor with empty storage.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1366, "height": 768}

# Sandboxes start in a fraction of a second, but the machine running the tests may be busy.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class OffHost:
    """Every request the page made that was not for the playground host; all are refused."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.requests = []

    def route(self, route):
        url = route.request.url
        if url.startswith(self.base_url + "/"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()


@pytest.fixture
def off_host(live_server):
    return OffHost(live_server)


@pytest.fixture
def page(browser, live_server, off_host):
    """A page of a new visitor. The network beyond the host is cut, and a test fails if the
    page asked for anything else or raised a JavaScript error."""
    context = browser.new_context(viewport=LAPTOP, base_url=live_server)
    context.route("**/*", off_host.route)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"
    assert off_host.requests == [], (
        f"the page asked for something not on the host: {off_host.requests}"
    )


@pytest.fixture
def visitor(browser):
    """new(base_url, **context_options): a new visitor (a browser context of their own) on a
    server; fails on JavaScript errors."""
    contexts, errors = [], []

    def new(base_url, **options):
        context = browser.new_context(viewport=LAPTOP, base_url=base_url, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(error))
        page.set_default_timeout(15_000)
        return page

    yield new
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"
