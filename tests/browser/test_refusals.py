"""A run the host refuses is not a failure of the code, in a real browser against real servers
with tight limits: the badge reads `refused` or `waiting` (not `failed`), the page says why in
plain words and what to do, the run starts by itself when it can, and only a run that happened
earns its snippet the "ran" tick."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import serious_violations
from tests.browser.test_editor_page import RUNNING
from tests.browser.test_teaching import open_snippet
from tests.servers import start_server, stop_server


@pytest.fixture(scope="module")
def one_app_each():
    proc, url = start_server(env={"PLAYGROUND_MAX_SANDBOXES_PER_VISITOR": "1"})
    try:
        yield url
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def slow_runs():
    """One run at once, then one every 5 s."""
    proc, url = start_server(
        env={"PLAYGROUND_RATE_RUN_BURST": "1", "PLAYGROUND_RATE_RUNS_PER_MINUTE": "12"}
    )
    try:
        yield url
    finally:
        stop_server(proc)


def ran(page, slug):
    return page.locator(f"[data-testid=snippet-item][data-slug='{slug}'].is-ran")


def test_a_visitor_with_as_many_apps_as_allowed_is_told_which_and_can_stop_one(
    one_app_each, visitor
):
    first = visitor(one_app_each, bypass_csp=True)  # for axe, as in test_accessibility
    open_snippet(first, "hello")
    first.keyboard.press("Control+s")  # run
    expect(first.get_by_test_id("sandbox-state")).to_have_text(RUNNING)

    # The same visitor in a second tab: their one place is taken.
    second = first.context.new_page()
    errors = []
    second.on("pageerror", lambda error: errors.append(error))
    open_snippet(second, "routes")
    second.keyboard.press("Control+s")
    state = second.get_by_test_id("sandbox-state")
    expect(state).to_have_text("refused")
    expect(state).to_have_attribute("data-state", "refused")
    refusal = second.get_by_test_id("refusal")
    expect(refusal).to_contain_text("You already have 1 app running")
    expect(refusal).to_contain_text("“Hello, world”")  # the label the first tab sent
    expect(second.get_by_test_id("error-panel")).to_be_hidden()  # not the code's failure
    expect(ran(second, "routes")).to_have_count(0)
    expect(second.get_by_test_id("response-status")).to_have_text("No response yet")
    second.get_by_test_id("send-button").click()
    expect(second.locator("#response-meta")).to_contain_text("has not started yet")
    found = serious_violations(second, "a refusal")
    assert found == [], "\n".join(found)

    # Stopping the other app from here runs this one.
    second.get_by_test_id("stop-other").click()
    expect(state).to_have_text(RUNNING)
    expect(refusal).to_be_hidden()
    expect(ran(second, "routes")).to_have_count(1)
    expect(first.locator("#log-lines")).to_contain_text("The sandbox is gone")
    expect(first.get_by_test_id("sandbox-state")).to_have_text("stopped")
    assert errors == []


def test_a_run_over_the_rate_waits_and_starts_by_itself(slow_runs, visitor):
    page = visitor(slow_runs, bypass_csp=True)
    open_snippet(page, "hello")
    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("sandbox-state")).to_have_text(RUNNING)
    expect(ran(page, "hello")).to_have_count(1)

    page.keyboard.press("Alt+ArrowDown")  # the next snippet, run at once: over the rate
    expect(page.locator("[data-testid=snippet-item][data-slug='ssl']")).to_have_attribute(
        "aria-current", "true"
    )
    page.get_by_test_id("run-button").click()
    state = page.get_by_test_id("sandbox-state")
    expect(state).to_have_text("waiting")
    refusal = page.get_by_test_id("refusal")
    expect(refusal).to_contain_text("spreads each person's runs out")
    expect(refusal).to_contain_text(re.compile(r"starts by itself in [1-5] s"))
    expect(ran(page, "ssl")).to_have_count(0)
    expect(page.locator("#stop-button")).to_be_visible()  # to give up waiting
    found = serious_violations(page, "a run waiting")
    assert found == [], "\n".join(found)

    expect(state).to_have_text(re.compile(r"running on port \d+ \(https\)"))
    expect(refusal).to_be_hidden()
    expect(ran(page, "ssl")).to_have_count(1)

    # Stop while waiting: nothing starts later.
    page.get_by_test_id("run-button").click()
    expect(state).to_have_text("waiting")
    page.locator("#stop-button").click()
    expect(state).to_have_text(re.compile("stopped|not running"))
    page.wait_for_timeout(6000)  # past the time it would have started
    expect(state).to_have_text(re.compile("stopped|not running"))
