"""Live teaching and self-study in real browsers: a presenter and a follower in two browser
contexts on one real server; watch mode; a share link across a server restart; downloads."""

import re
import zipfile

import pytest
from playwright.sync_api import expect

from tests.servers import start_server, stop_server

TOKEN = "browser-test-presenter-token"
RUNNING = re.compile(r"running on port \d+")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc, url = start_server(
        env={
            "PLAYGROUND_PRESENTER_TOKEN": TOKEN,
            "PLAYGROUND_INSTANCE_PATH": str(tmp_path_factory.mktemp("i")),
        }
    )
    try:
        yield url
    finally:
        stop_server(proc)


def open_snippet(page, slug):
    page.goto(f"/#{slug}")
    expect(page.locator(f"[data-testid=snippet-item][data-slug='{slug}']")).to_have_attribute(
        "aria-current", "true"
    )
    return page.get_by_test_id("editor")


def run(page):
    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("sandbox-state")).to_have_text(RUNNING)


def present(page):
    """Presents with the token, once the page says so."""
    page.get_by_test_id("present-button").click()
    page.get_by_test_id("present-token").fill(TOKEN)
    page.get_by_test_id("present-submit").click()
    expect(page.get_by_test_id("present-button")).to_have_attribute("data-presenting", "true")


def type_at_end(page, editor, text):
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_presenter_and_follower(server, visitor):
    presenter, follower = visitor(server), visitor(server)
    editor = open_snippet(presenter, "sessions")
    presenter.get_by_test_id("present-button").click()
    presenter.get_by_test_id("present-token").fill("not the token")
    presenter.get_by_test_id("present-submit").click()
    expect(presenter.locator("#present-error")).to_contain_text("not the presenter token")
    presenter.get_by_test_id("present-token").fill(TOKEN)
    presenter.get_by_test_id("present-submit").click()
    expect(presenter.get_by_test_id("present-button")).to_have_attribute("data-presenting", "true")

    # The follower sees that someone presents, follows, and sees the code as it is typed.
    follower.goto("/")
    follower.get_by_test_id("follow-live-button").click()
    expect(presenter.get_by_test_id("follow-live-button")).to_be_hidden()  # nobody to follow
    mirror = follower.get_by_test_id("follow-code")
    expect(mirror).to_contain_text('session["number_of_calls"]')
    type_at_end(presenter, editor, "\n# typed live for the room")
    expect(mirror).to_contain_text("# typed live for the room")
    caret_line = follower.locator("#follow-caret").evaluate(
        "c => getComputedStyle(c).getPropertyValue('--line')"
    )
    assert int(caret_line) == presenter.get_by_test_id("editor").input_value().count("\n")

    # The presenter runs and sends; the follower sees the run and the answer.
    run(presenter)
    expect(follower.get_by_test_id("follow-run")).to_contain_text("running")
    presenter.get_by_test_id("suggested-request").first.click()
    expect(presenter.get_by_test_id("response-body")).to_contain_text("1")
    expect(follower.get_by_test_id("follow-response-status")).to_have_text("200 OK")
    expect(follower.get_by_test_id("follow-response")).to_have_text("1")

    # The follower's own requests count in their own session, not the presenter's.
    for count in ("1", "2"):
        follower.get_by_test_id("follow-send").click()
        expect(follower.get_by_test_id("follow-own-body")).to_have_text(count)
    presenter.get_by_test_id("send-button").click()
    expect(follower.get_by_test_id("follow-response")).to_have_text("2")

    # Fork: the code is the follower's own now, runs in their own sandbox, changes apart.
    follower.get_by_test_id("fork-button").click()
    expect(follower.get_by_test_id("follow-view")).to_be_hidden()
    own = follower.get_by_test_id("editor")
    expect(own).to_have_value(re.compile("# typed live for the room"))
    expect(follower.get_by_test_id("sandbox-state")).to_have_text(RUNNING)
    own.click()
    follower.keyboard.press("Control+End")
    follower.keyboard.type("\n# only in the fork")
    run(follower)
    follower.get_by_test_id("send-button").click()
    expect(follower.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(follower.get_by_test_id("response-body")).to_contain_text("1")
    expect(presenter.get_by_test_id("editor")).not_to_have_value(re.compile("only in the fork"))

    # Back to following: the mirror again, still in step with the presenter.
    follower.get_by_test_id("follow-live-button").click()
    expect(follower.get_by_test_id("follow-view")).to_be_visible()
    type_at_end(presenter, editor, "\n# and back")
    expect(mirror).to_contain_text("# and back")
    expect(mirror).not_to_contain_text("only in the fork")

    presenter.get_by_test_id("present-button").click()
    expect(follower.get_by_test_id("follow-live-button")).to_be_hidden()


def test_followers_keep_in_step_through_reloads_switches_and_restarts(server, visitor):
    presenter, follower = visitor(server), visitor(server)
    # The follower has edits of their own in the snippet the presenter will show.
    type_at_end(follower, open_snippet(follower, "sessions"), "\n# my own note")
    open_snippet(presenter, "sessions")
    present(presenter)
    run(presenter)
    expect(follower.get_by_test_id("tour")).to_be_visible()  # a first visit
    follower.get_by_test_id("follow-live-button").click()
    expect(follower.get_by_test_id("tour")).to_have_count(0)  # it pointed at what the mirror hides
    status, ran = follower.get_by_test_id("follow-status"), follower.get_by_test_id("follow-run")
    expect(ran).to_contain_text("running")
    presenter.get_by_test_id("watch-toggle").check()
    expect(follower.get_by_test_id("follow-watch")).to_be_visible()
    presenter.get_by_test_id("watch-toggle").uncheck()
    expect(follower.get_by_test_id("follow-watch")).to_be_hidden()

    # Forking over their own edits asks first; saying no keeps them following.
    follower.once("dialog", lambda dialog: dialog.dismiss())  # answered as it opens
    with follower.expect_event("dialog"):  # and it did open
        follower.get_by_test_id("fork-button").click()
    expect(follower.get_by_test_id("follow-view")).to_be_visible()
    expect(follower.get_by_test_id("fork-button")).to_be_enabled()  # the fork has given up

    follower.reload()  # a reload keeps this tab following
    expect(follower.get_by_test_id("follow-view")).to_be_visible()
    expect(ran).to_contain_text("running")

    open_snippet(presenter, "hello")  # the sessions app is gone with it
    expect(ran).to_contain_text("stopped")
    presenter.get_by_test_id("present-button").click()  # stop presenting...
    expect(status).to_have_text("the presenter stopped")
    present(presenter)  # ...and start again
    expect(status).to_have_text("live")

    # A reloaded page gives its app back, so reloading never uses up the visitor's places.
    for _ in range(4):
        run(presenter)
        presenter.reload()
    run(presenter)
    expect(ran).to_contain_text("running")
    presenter.get_by_test_id("present-button").click()


def test_followers_read_the_presenters_live_log(server, visitor):
    presenter, follower = visitor(server), visitor(server)
    open_snippet(presenter, "missing-endif")
    present(presenter)
    run(presenter)
    follower.goto("/")
    follower.get_by_test_id("follow-live-button").click()
    log = follower.get_by_test_id("follow-log")
    expect(log).to_contain_text("running on http port")
    expect(follower.get_by_test_id("follow-log-runtime")).to_have_text(
        re.compile(r"^Python 3\.\d+\.\d+ · Flask \d")
    )

    # A traceback on the projector is one highlighted block on every laptop, as the presenter has it.
    presenter.get_by_test_id("suggested-request").first.click()
    expect(presenter.get_by_test_id("response-status")).to_have_text(re.compile("^500"))
    block = log.locator("pre.traceback")
    expect(block).to_contain_text("TemplateSyntaxError")
    expect(block.locator(".gt").first).to_be_visible()
    expect(log).to_contain_text(re.compile(r'"GET /\S* HTTP/1.1" 500'))

    # Another app of the presenter's: its log, from its start, and nothing of the last one.
    open_snippet(presenter, "hello")
    run(presenter)
    presenter.get_by_test_id("send-button").click()
    expect(log).to_contain_text('"GET / HTTP/1.1" 200')
    expect(log.locator("pre.traceback")).to_have_count(0)
    expect(follower.locator("#follow-log-status")).to_have_text("live")
    presenter.get_by_test_id("present-button").click()


def test_a_fork_runs_with_the_presenters_app_field(server, visitor):
    presenter, follower = visitor(server), visitor(server)
    open_snippet(presenter, "hello")
    present(presenter)
    presenter.get_by_test_id("app-spec").fill("app:app")
    presenter.get_by_test_id("app-spec").press("Enter")  # runs it; followers hear of it first
    expect(presenter.get_by_test_id("sandbox-state")).to_have_text(RUNNING)

    follower.goto("/")
    follower.get_by_test_id("follow-live-button").click()
    expect(follower.get_by_test_id("follow-run")).to_contain_text("running")
    follower.get_by_test_id("fork-button").click()
    expect(follower.get_by_test_id("sandbox-state")).to_have_text(RUNNING)
    expect(follower.get_by_test_id("app-spec")).to_have_value("app:app")
    expect(follower.locator("#reset-button")).to_be_visible()  # an edit of hello, their own now
    presenter.get_by_test_id("present-button").click()


def test_watch_mode_reruns_and_shows_what_changed(server, visitor):
    page = visitor(server)
    editor = open_snippet(page, "hello")
    run(page)
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    page.get_by_test_id("watch-toggle").check()
    text = editor.input_value()
    quoted = re.search(r'return "([^"]+)"', text) or re.search(r"return '([^']+)'", text)
    old = quoted.group(1)
    editor.fill(text.replace(old, old + " (watched)"))  # no Run, no Send: watch mode does both
    diff = page.get_by_test_id("response-diff")
    expect(diff).to_be_visible()
    expect(diff.locator(".diff-body .add")).to_contain_text(f"{old} (watched)")
    expect(diff.locator(".diff-body .del")).to_contain_text(old)
    expect(diff.locator(".add", has_text="Content-Length")).to_be_visible()
    expect(page.get_by_test_id("response-body")).to_contain_text("(watched)")


def test_a_share_link_opens_the_same_code_after_a_restart(visitor, tmp_path):
    env = {"PLAYGROUND_INSTANCE_PATH": str(tmp_path)}
    proc, url = start_server(env=env)
    try:
        page = visitor(url)
        editor = open_snippet(page, "routes")
        type_at_end(page, editor, "\n# shared with a friend")
        page.get_by_test_id("share-button").click()
        link = page.get_by_test_id("share-link")
        expect(link).to_have_value(re.compile(r"/s/[a-z2-7]{10}$"))
        key = link.input_value().rsplit("/", 1)[1]
        with page.expect_download() as download:
            page.keyboard.press("Escape")
            page.get_by_test_id("download-button").click()
        with zipfile.ZipFile(download.value.path()) as zf:
            app_py = zf.read("routes/app.py").decode()
            assert "# shared with a friend" in app_py and "routes/README.md" in zf.namelist()
    finally:
        stop_server(proc)

    proc, url = start_server(env=env)
    try:
        friend = visitor(url)
        friend.goto(f"/s/{key}")
        expect(friend.get_by_test_id("editor")).to_have_value(re.compile("# shared with a friend"))
    finally:
        stop_server(proc)


def test_self_study_marks_steps_and_tours_once(server, visitor):
    page = visitor(server)
    page.goto("/")
    expect(page.get_by_test_id("tour")).to_be_visible()
    page.get_by_test_id("tour").get_by_role("button", name="Skip the tour").click()
    expect(page.get_by_test_id("tour")).to_be_hidden()
    first = page.locator("[data-testid=snippet-item]").first
    expect(first).to_have_attribute("aria-current", "true")
    page.get_by_test_id("next-snippet").click()
    second = page.locator("[data-testid=snippet-item]").nth(1)
    expect(second).to_have_attribute("aria-current", "true")
    run(page)
    expect(second).to_have_class(re.compile("is-ran"))
    expect(first).to_have_class(re.compile("is-visited"))
    expect(page.get_by_test_id("study-progress")).to_have_text(re.compile(r"^2/\d+ seen$"))
    page.get_by_test_id("prev-snippet").click()
    expect(first).to_have_attribute("aria-current", "true")
    page.reload()
    expect(second).to_have_class(re.compile("is-ran"))
    expect(page.get_by_test_id("tour")).to_have_count(0)
