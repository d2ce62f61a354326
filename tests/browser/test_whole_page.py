"""The page as a whole in a real browser: a walk through every snippet with a clean console, one
text size for a 4K projector, and an app's binary answer that never becomes a page of ours."""

import re

import pytest
from playwright.sync_api import Error, expect

from playground import resources
from playground.snippets import Catalog
from tests.browser.conftest import LAPTOP
from tests.browser.test_editing import type_after, type_path
from tests.browser.test_editor_page import open_snippet, run
from tests.servers import start_server, stop_server

SNIPPETS = len(Catalog.load(resources.path("snippets")))
SETTLED = re.compile(r"running on port \d+|failed")


@pytest.fixture(scope="module")
def roomy_server():
    """A server whose run rate lets one visitor run every snippet in a row."""
    proc, url = start_server(
        env={"PLAYGROUND_RATE_RUNS_PER_MINUTE": "600", "PLAYGROUND_RATE_RUN_BURST": "60"}
    )
    try:
        yield url
    finally:
        stop_server(proc)


def test_a_walk_through_every_snippet_leaves_the_console_clean(browser, roomy_server):
    """Each switch closes the last snippet's sockets; none may log an error (Chrome said
    "Invalid frame header" at every switch when a socket's end was not clean)."""
    context = browser.new_context(viewport=LAPTOP, base_url=roomy_server)
    try:
        page = context.new_page()
        logged = []
        page.on(
            "console", lambda m: logged.append(m.text) if m.type in ("error", "warning") else None
        )
        page.on("pageerror", lambda error: logged.append(str(error)))
        page.goto("/")
        items = page.locator("[data-testid=snippet-item]")
        expect(items).to_have_count(SNIPPETS)
        state = page.get_by_test_id("sandbox-state")
        for index in range(SNIPPETS):
            if index:
                page.keyboard.press("Alt+ArrowDown")
            expect(items.nth(index)).to_have_attribute("aria-current", "true")
            page.get_by_test_id("run-button").click()
            expect(state).to_have_text(SETTLED)
            expect(page.locator("#log-status")).to_have_text("live")
        page.keyboard.press("Alt+ArrowUp")  # and back once more, closing the last one's
        expect(items.nth(SNIPPETS - 2)).to_have_attribute("aria-current", "true")
        page.wait_for_timeout(1500)  # a socket's close is logged, if at all, after the switch
        assert logged == [], logged
    finally:
        context.close()


def test_one_text_size_scales_the_whole_page_for_a_4k_projector(page):
    page.set_viewport_size({"width": 3840, "height": 2160})
    open_snippet(page, "templates")
    run(page)
    page.get_by_test_id("suggested-request").filter(has_text="A for loop").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")

    def sizes():
        return page.evaluate("""() => {
            const px = (e) => parseFloat(getComputedStyle(e).fontSize);
            const box = document.querySelector("#watch-toggle").getBoundingClientRect();
            return { root: px(document.documentElement), editor: px(document.querySelector("[data-testid=editor]")),
                     checkbox: box.height };
        }""")

    frame = page.frame_locator("[data-testid=response-preview]")
    expect(frame.locator("h1")).to_be_visible()
    start = sizes()
    zoom = float(frame.locator("html").evaluate("h => getComputedStyle(h).zoom"))
    for _ in range(4):  # well past where it stopped before (32 px)
        page.locator("#font-up").click()
    bigger = sizes()
    assert bigger["root"] >= 2 * 28 and bigger["root"] > start["root"], (start, bigger)
    assert bigger["editor"] / start["editor"] == pytest.approx(
        bigger["root"] / start["root"], rel=0.01
    )
    assert bigger["checkbox"] > 1.5 * start["checkbox"], (start, bigger)
    # The app's page in the preview grows with it, though it was drawn before.
    expect(frame.locator("html")).to_have_css("zoom", str(bigger["root"] / 16))
    assert bigger["root"] / 16 > zoom
    assert page.evaluate("document.documentElement.scrollWidth") <= 3840
    page.reload()  # remembered
    expect(page.locator("html")).to_have_css("font-size", f"{bigger['root']:g}px")


def test_a_binary_answer_downloads_and_never_runs_as_this_page(page):
    """An app answering b"\\x00<script>..." as text/html: the Download link is a download of
    application/octet-stream, and opened in a tab it downloads again, never running as us."""
    editor = open_snippet(page, "hello")
    type_after(
        page,
        editor,
        'return "I\'m a home page"',
        '@app.route("/bin")\ndef binary():\n'
        "return app.response_class(b\"\\x00<script>localStorage.setItem('pwned', 1)</script>\", "
        'mimetype="text/html")\n',
    )
    run(page)
    type_path(page, "/bin")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    link = page.get_by_test_id("response-download")
    expect(link).to_have_attribute("download", "bin")
    href = link.get_attribute("href")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "bin"

    tab = page.context.new_page()  # "open in a new tab"
    with tab.expect_download():
        with pytest.raises(Error, match="Download is starting"):
            tab.goto(href)
    assert tab.url == "about:blank"  # no document of the app's bytes, of any origin
    assert page.evaluate("localStorage.getItem('pwned')") is None
