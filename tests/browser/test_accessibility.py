"""Accessibility in a real browser: axe-core on the page, the follower's view and the help, and
what axe cannot see, tried by hand on the keyboard: tab stops, arrow keys in tab strips, and
no keyboard trap (the editor takes Tab for indenting, Esc hands it back)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.test_editor_page import RUNNING, open_snippet, run
from tests.servers import start_server, stop_server

TOKEN = "accessibility-test-presenter-token"
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def server():
    proc, url = start_server(env={"PLAYGROUND_PRESENTER_TOKEN": TOKEN})
    try:
        yield url
    finally:
        stop_server(proc)


@pytest.fixture
def axe_page(visitor, server):
    """A visitor's page that axe can be injected into: the host's CSP rightly refuses it, so the
    context bypasses CSP (for axe's sake only: no test here is about the CSP)."""
    return lambda: visitor(server, bypass_csp=True)


def serious_violations(page, where, context=None) -> list:
    results = Axe().run(page, context=context)
    return [
        f"{where}: {v['id']} ({v['impact']}) at {[n['target'] for n in v['nodes']][:3]}: {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def test_axe_finds_nothing_serious_on_the_page_the_follower_view_and_the_help(axe_page):
    page = axe_page()
    page.goto("/#sessions")
    expect(page.get_by_test_id("editor")).to_be_visible()
    found = serious_violations(page, "a first visit")  # with the tour's bar
    run(page)
    page.get_by_test_id("suggested-request").first.click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    for tab in ("Raw", "Headers", "Cookies", "Inside Flask"):
        page.get_by_role("tab", name=re.compile(f"^{tab}")).last.click()
        found += serious_violations(page, f"the response's {tab} page")
    inspector = page.get_by_test_id("inspector")
    for tab in ("Wire", "Trace", "Seen by the app", "Session", "TLS"):
        inspector.get_by_role("tab", name=tab).click()
        found += serious_violations(page, f"Inside Flask, {tab}")
    page.get_by_role("tab", name=re.compile("^Body")).click()
    page.get_by_role("radio", name="JSON").check()
    page.get_by_test_id("new-file").click()
    found += serious_violations(page, "a JSON body and a new file's name")
    page.keyboard.press("Escape")
    page.get_by_role("tab", name=re.compile("^Auth")).click()
    page.get_by_test_id("auth-basic").check()
    page.get_by_test_id("curl-copy-button").click()
    page.get_by_test_id("curl-import-button").click()
    page.keyboard.type("curl -F a=@b http://x/")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("curl-error")).not_to_be_empty()
    found += serious_violations(page, "Basic auth, a curl command refused and one copied")
    page.get_by_role("tab", name=re.compile("^Params")).click()
    page.get_by_test_id("format-code").click()
    found += serious_violations(page, "the query's rows, a file formatted")
    page.locator("#theme-toggle").click()
    found += serious_violations(page, "the dark theme")
    page.locator("[popovertarget=help]").click()
    expect(page.locator("#help")).to_be_visible()
    found += serious_violations(page, "the help", "#help")
    page.keyboard.press("Escape")
    page.get_by_test_id("share-button").click()
    found += serious_violations(page, "the share dialog")
    page.keyboard.press("Escape")

    page.get_by_test_id("present-button").click()
    page.get_by_test_id("present-token").fill(TOKEN)
    page.get_by_test_id("present-submit").click()
    expect(page.get_by_test_id("present-button")).to_have_attribute("data-presenting", "true")
    page.get_by_test_id("send-button").click()
    follower = axe_page()
    follower.goto("/")
    follower.get_by_test_id("follow-live-button").click()
    expect(follower.get_by_test_id("follow-response-status")).to_have_text("200 OK")
    follower.get_by_test_id("follow-send").click()
    expect(follower.get_by_test_id("follow-own-status")).to_have_text("200 OK")
    found += serious_violations(follower, "the follower's view")

    # The mirror covers the page: the keyboard stays in it (or goes on to the browser's own
    # controls, the body here), never to the page hidden behind it.
    for _ in range(40):
        follower.keyboard.press("Tab")
        where = follower.evaluate("""() => document.activeElement === document.body ? "body"
            : document.getElementById("follow-view").contains(document.activeElement) ? "mirror"
            : document.activeElement.outerHTML.slice(0, 80)""")
        assert where in ("mirror", "body"), f"Tab reached the page behind the mirror: {where}"
    page.get_by_test_id("present-button").click()
    assert found == [], "\n".join(found)


def tab_until(page, predicate, limit=60) -> list:
    """Presses Tab until `predicate` (JS, on the focused element) holds; the stops on the way."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stops.append(
            page.evaluate("""() => { const e = document.activeElement;
            return e.dataset.testid || e.id || e.className || e.tagName; }""")
        )
        if page.evaluate(f"(e => {predicate})(document.activeElement)"):
            return stops
    pytest.fail(f"never reached it; the stops were {stops}")


def test_the_keyboard_reaches_the_editor_quickly_and_leaves_it(page):
    editor = open_snippet(page, "hello")
    page.reload()  # the keyboard starts from the top of the page
    expect(editor).to_be_visible()
    # The first stop is the skip link, straight to the editor.
    page.keyboard.press("Tab")
    expect(page.locator("#skip-to-editor")).to_be_focused()
    expect(page.locator("#skip-to-editor")).to_be_visible()
    page.keyboard.press("Enter")
    expect(editor).to_be_focused()
    # The focus ring shows where typing goes, though the textarea itself is transparent.
    ring = page.locator(".code-view:not([hidden])").evaluate("v => getComputedStyle(v).boxShadow")
    assert ring not in ("", "none"), ring

    # Without it, the snippet list costs one stop, not one per snippet.
    page.reload()
    expect(editor).to_be_visible()
    stops = tab_until(page, "e.dataset.testid === 'editor'")
    assert stops.count("snippet-item") == 1, stops
    assert len(stops) <= 21, stops  # the editor bar's four tools too (rename works on app.py)
    page.keyboard.press("ArrowDown")  # typing keys stay in the editor...
    before = editor.input_value()
    page.keyboard.press("Tab")  # ...and Tab indents
    expect(editor).not_to_have_value(before)
    expect(editor).to_be_focused()
    page.keyboard.press("Escape")  # Esc, then Tab leaves: no trap
    page.keyboard.press("Tab")
    expect(editor).not_to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(editor).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Tab")
    expect(editor).not_to_be_focused()

    # In the snippet list, arrows move and Enter opens.
    page.locator("[data-testid=snippet-item][aria-current=true]").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=snippet-item][aria-current=true]")).not_to_have_attribute(
        "data-slug", "hello"
    )


def test_tab_strips_answer_arrow_keys_home_and_end(page):
    open_snippet(page, "templates")
    tabs = page.locator("[data-testid=file-tab]")
    expect(tabs).to_have_count(4)
    tabs.first.focus()
    page.keyboard.press("ArrowRight")
    expect(tabs.nth(1)).to_be_focused()
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("editor")).to_have_attribute("aria-label", re.compile("for_example"))
    page.keyboard.press("End")
    expect(tabs.last).to_be_focused()
    page.keyboard.press("ArrowRight")  # round to the first
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Home")
    expect(tabs.first).to_be_focused()
    # One tab stop per strip: the selected tab.
    assert tabs.evaluate_all("ts => ts.map((t) => t.tabIndex)") == [0, -1, -1, -1]

    run(page)
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("response-status")).to_have_attribute("aria-live", "polite")
    strip = page.locator("#response-panel .subtabs")
    strip.get_by_role("tab", name="Preview").focus()
    page.keyboard.press("ArrowRight")
    raw = strip.get_by_role("tab", name="Raw")
    expect(raw).to_be_focused()
    expect(page.locator(f"#{raw.get_attribute('aria-controls')}")).to_be_visible()
    expect(page.locator("#response-raw")).to_be_visible()
    page.keyboard.press("End")
    expect(page.get_by_test_id("inspector")).to_be_visible()
    inside = page.get_by_test_id("inspector").get_by_role("tab", name="Route")
    inside.focus()
    page.keyboard.press("ArrowLeft")  # round to the last: TLS
    expect(page.get_by_test_id("inspector").get_by_role("tab", name="TLS")).to_have_attribute(
        "aria-selected", "true"
    )
    expect(page.locator("#inspector-tls")).to_be_visible()
    expect(page.get_by_test_id("sandbox-state")).to_have_text(RUNNING)
