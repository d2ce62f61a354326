"""Real Flask projects from the page (issue 12), in a real browser, typed on the keyboard: the App
field, the flask command line, Reset data, streamed answers, and debug mode in the preview
(Werkzeug's debugger and its console, Flask-DebugToolbar's panel), live from the app's
address."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_editing import type_path
from tests.browser.test_editor_page import RUNNING, open_snippet, run
from tests.servers import start_server, stop_server

FACTORY = (
    "from flask import Flask\n\ndef create_app(greeting):\napp = Flask(__name__)\n"
    'app.add_url_rule("/", "hi", lambda: greeting)\nreturn app'
)
LIVE_SANDBOX = "allow-scripts allow-forms allow-popups allow-modals"  # never allow-same-origin


def command(page, line):
    """Types `line` into the flask command line and runs it with Enter."""
    page.get_by_test_id("command-input").click()
    page.keyboard.type(line)
    page.keyboard.press("Enter")


def new_file(page, name, text):
    page.get_by_test_id("new-file").click()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.keyboard.type(text)


def tab(page, path):
    return page.locator(f"[data-testid=file-tab][data-path='{path}']")


def send_path(page, path):
    """Types `path` into the request panel and sends it with Enter."""
    type_path(page, path)
    page.keyboard.press("Enter")


def live_preview(page, src):
    """The preview, once it frames a page live from the app's address (`src` matches it)."""
    frame = page.get_by_test_id("response-preview")
    expect(frame).to_have_attribute("sandbox", LIVE_SANDBOX)
    expect(frame).to_have_attribute("src", src)
    return page.frame_locator("[data-testid=response-preview]")


def run_and_send(page, code, path):
    """Runs `code` as app.py (in the hello snippet) and sends GET `path` to it."""
    open_snippet(page, "hello").fill(code)
    run(page)
    send_path(page, path)


def test_the_app_field_names_the_app_and_is_kept_with_the_edits(page):
    open_snippet(page, "hello")
    new_file(page, "shop.py", FACTORY)
    expect(page.get_by_test_id("editor")).to_have_value(re.compile(r"    return app$"))
    # app.py goes (a project as Flask's tutorial lays it out has none); the last file stays.
    tab(page, "app.py").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Delete")
    expect(tab(page, "app.py")).to_have_count(0)
    expect(page.get_by_test_id("delete-file")).to_be_disabled()

    # Found as flask run finds it: a factory it cannot call without arguments, and where it is.
    field = page.get_by_test_id("app-spec")
    expect(field).to_have_attribute("placeholder", re.compile("found as flask run finds it"))
    run(page, "failed")
    panel = page.get_by_test_id("error-panel")
    expect(panel).to_contain_text("shop:create_app(args)")
    expect(panel).to_contain_text("shop.py, line 3")

    # The App field says how to call it; Enter runs, and every Run sends it.
    field.click()
    page.keyboard.type("shop:create_app('Hello from a factory')")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("sandbox-state")).to_have_text(RUNNING)
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-body")).to_contain_text("Hello from a factory")
    expect(page.locator("[data-testid=snippet-item][data-slug=hello]")).to_have_class(
        re.compile("is-modified")
    )

    # Kept in this browser with the snippet's edits.
    page.reload()
    expect(page.get_by_test_id("app-spec")).to_have_value("shop:create_app('Hello from a factory')")
    run(page)

    # No app at all: the host says what it looked for and the line that fixes it.
    field.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    tab(page, "shop.py").click()
    page.keyboard.press("F2")
    page.keyboard.press("Control+a")
    page.keyboard.type("shop.txt")
    page.keyboard.press("Enter")
    run(page, "failed")
    expect(panel).to_contain_text("No Flask app found: looked for app.py, then wsgi.py")
    expect(panel).to_contain_text("name it in the App field, like `hello:app`")

    # A spec the host cannot read is marked where it was typed.
    field.click()
    page.keyboard.type("two words")
    page.get_by_test_id("run-button").click()
    expect(panel).to_contain_text('"app" names the app as flask --app does')
    expect(field).to_have_attribute("aria-invalid", "true")

    # Reset to the talk's version: its files, and no App field.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#reset-button").click()
    expect(field).to_have_value("")
    expect(tab(page, "app.py")).to_have_count(1)
    run(page)

    # The help says how the app is found, and that the field exists.
    page.keyboard.press("Escape")
    page.locator("body").press("?")
    expect(page.locator("#help-app")).to_contain_text("flask --app")


def test_the_app_field_travels_with_a_share(page, visitor, live_server):
    open_snippet(page, "hello")
    new_file(page, "shop.py", FACTORY)
    field = page.get_by_test_id("app-spec")
    field.click()
    page.keyboard.type("shop:create_app('Hello from a share')")
    page.get_by_test_id("share-button").click()
    link = page.get_by_test_id("share-link")
    expect(link).to_have_value(re.compile(r"/s/[a-z2-7]{10}$"))

    # A friend opens the link: the files and the App field, which is the share's, not an edit.
    friend = visitor(live_server)
    friend.goto(link.input_value())
    theirs = friend.get_by_test_id("app-spec")
    expect(theirs).to_have_value("shop:create_app('Hello from a share')")
    expect(friend.locator("#reset-button")).to_be_hidden()
    run(friend)
    friend.get_by_test_id("send-button").click()
    expect(friend.get_by_test_id("response-body")).to_contain_text("Hello from a share")

    # Their own change of it is an edit, kept; Reset gives the share's back.
    theirs.fill("shop:create_app('mine')")
    expect(friend.locator("#reset-button")).to_be_visible()
    friend.reload()
    expect(theirs).to_have_value("shop:create_app('mine')")
    friend.once("dialog", lambda dialog: dialog.accept())
    friend.locator("#reset-button").click()
    expect(theirs).to_have_value("shop:create_app('Hello from a share')")
    expect(friend.locator("#reset-button")).to_be_hidden()


def test_data_stays_between_runs_until_reset_data(page):
    open_snippet(page, "blog")
    expect(page.get_by_test_id("reset-data")).to_be_disabled()  # no app yet: nothing to reset
    run(page)
    chips = page.get_by_test_id("suggested-request")
    chips.filter(has_text="Register").first.click()
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^302"))
    page.get_by_test_id("editor").click()
    page.keyboard.press("Control+Enter")  # run again: ada is still registered
    expect(page.get_by_test_id("sandbox-state")).to_have_text(RUNNING)
    chips.filter(has_text=re.compile("^POST /auth/login · Log in$")).click()
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^302"))

    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.get_by_test_id("reset-data").click()
    expect(page.get_by_test_id("sandbox-state")).to_have_text(RUNNING)
    assert "instance folder" in asked[0] and "SQLite" in asked[0]
    chips.filter(has_text=re.compile("^POST /auth/login · Log in$")).click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.frame_locator("[data-testid=response-preview]").locator("body")).to_contain_text(
        "Incorrect username or password."
    )


def test_the_flask_command_line_runs_flask_for_the_running_app(page):
    open_snippet(page, "hello")
    command(page, "flask routes")
    output = page.get_by_test_id("command-output")
    expect(output).to_contain_text("the app is not running")
    expect(page.get_by_test_id("command-input")).to_have_value("flask routes")  # not lost
    run(page)
    page.get_by_test_id("command-input").press("Enter")  # the same line again, now it runs
    expect(output).to_contain_text(re.compile(r"home_page\s+GET\s+/"))
    expect(output).to_contain_text(re.compile(r"exit code 0 · \d+ ms"))
    expect(page.get_by_test_id("command-input")).to_have_value("")

    command(page, "flask --help")
    for listed in ("routes", "shell", "Show the routes for the app."):
        expect(output).to_contain_text(listed)
    # Without `flask`, quoted as a shell quotes.
    command(page, """shell -c "print('two words', 6 * 7)" """)
    expect(output).to_contain_text("$ flask shell -c")
    expect(output.locator("pre")).to_have_text("two words 42\n")
    command(page, "no-such-command")
    expect(output).to_contain_text("No such command 'no-such-command'")
    expect(output).to_contain_text("exit code 2")
    command(page, "routes | grep home")
    expect(output).to_contain_text("only the flask command runs here")
    page.keyboard.press("Control+a")
    page.keyboard.type("shell -c 'print(1)")
    page.keyboard.press("Enter")
    expect(output).to_contain_text("a ' quote is not closed")
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")

    # ↑ and ↓ bring back the lines run before, then what was being typed.
    page.keyboard.type("rou")
    page.keyboard.press("ArrowUp")
    expect(page.get_by_test_id("command-input")).to_have_value("no-such-command")
    page.keyboard.press("ArrowUp")
    expect(page.get_by_test_id("command-input")).to_have_value(
        """shell -c "print('two words', 6 * 7)\""""
    )
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_test_id("command-input")).to_have_value("rou")
    # The output reached the live log by itself.
    expect(page.get_by_test_id("log-panel")).to_contain_text("$ flask shell -c")
    expect(page.get_by_test_id("log-panel")).to_contain_text("two words 42")


@pytest.fixture(scope="module")
def one_command_a_minute():
    proc, url = start_server(
        env={"PLAYGROUND_RATE_COMMAND_BURST": "1", "PLAYGROUND_RATE_COMMANDS_PER_MINUTE": "1"}
    )
    yield url
    stop_server(proc)


def test_the_command_line_says_when_the_rate_is_hit(visitor, one_command_a_minute):
    page = visitor(one_command_a_minute)
    open_snippet(page, "hello")
    run(page)
    command(page, "routes")
    output = page.get_by_test_id("command-output")
    expect(output).to_contain_text("exit code 0")
    command(page, "routes")
    expect(output).to_contain_text(
        re.compile(
            r"Not run: Slow down: you may send 1 commands a minute"
            r" \(and 1 at once\)\. Try again in [\d.]+ s\."
        )
    )
    expect(page.get_by_test_id("command-input")).to_have_value("routes")


STREAMS = """import time
from flask import Flask
app = Flask(__name__)

@app.route("/slow")
def slow():
    def lines():
        for n in range(3):
            yield f"line {n}\\n"
            time.sleep(0.15)
    return app.response_class(lines(), mimetype="text/plain")

@app.route("/broken")
def broken():
    def lines():
        yield "first\\n"
        time.sleep(0.2)
        raise ValueError("the source ran dry")
    return app.response_class(lines(), mimetype="text/plain")
"""


def test_a_streamed_answer_shows_its_chunks_and_a_broken_one_what_came(page):
    run_and_send(page, STREAMS, "/slow")
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    chunks = page.get_by_test_id("response-chunks")
    expect(chunks).to_contain_text(re.compile(r"Streamed in 3 chunks: the first after \d+ ms"))
    expect(page.get_by_test_id("response-stream-broken")).to_be_hidden()
    chunks.locator("summary").click()
    rows = chunks.locator("tbody tr")
    expect(rows).to_have_count(3)
    later = rows.nth(1).locator("td").nth(2).inner_text()
    assert int(re.fullmatch(r"\+(\d+) ms", later).group(1)) >= 100  # when it came, not all at once

    send_path(page, "/broken")
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    banner = page.get_by_test_id("response-stream-broken")
    expect(banner).to_contain_text("Stream broken (stream_broken): the app's response ended before")
    expect(page.locator("#response-exception")).to_contain_text("ValueError: the source ran dry")
    expect(page.get_by_test_id("response-body")).to_contain_text("first")
    expect(chunks).to_be_hidden()  # one chunk came: nothing to time
    expect(page.get_by_test_id("response-status")).not_to_have_text("No response")


DEBUGGER = """from flask import Flask
app = Flask(__name__)

@app.route("/boom")
def boom():
    secret = 21
    return 1 / 0

app.run(debug=True)
"""


def test_werkzeugs_debugger_runs_live_in_the_preview_and_its_console_works(page):
    run_and_send(page, DEBUGGER, "/boom")
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^500"))
    debugger = live_preview(page, re.compile(r"^http://127\.0\.0\.1:\d+/apps/[\w-]+/boom$"))
    expect(page.get_by_test_id("response-preview-live")).to_contain_text(
        "Werkzeug's debugger, live"
    )
    expect(debugger.locator("h1")).to_have_text("ZeroDivisionError")

    # The console of the view's frame runs code inside the app's sandbox, in that frame.
    view = debugger.locator("div.traceback div.frame").last
    view.hover()
    view.locator("pre.current img").click()
    console = debugger.locator("pre.console")
    console.locator("input").click()
    page.keyboard.type("1 + 1")
    page.keyboard.press("Enter")
    expect(console.locator(".output")).to_contain_text(">>> 1 + 1\n2")
    page.keyboard.type("secret * 2")
    page.keyboard.press("Enter")
    expect(console.locator(".output")).to_contain_text(">>> secret * 2\n42")

    # Anything else is previewed from the exchange's body, as before.
    send_path(page, "/nowhere")
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^404"))
    frame = page.get_by_test_id("response-preview")
    expect(frame).to_have_attribute("sandbox", "allow-scripts allow-forms")
    expect(frame).not_to_have_attribute("src", re.compile("."))


def test_flask_debugtoolbar_renders_its_panel_live_in_the_preview(page):
    open_snippet(page, "debug-toolbar")
    run(page)
    page.get_by_test_id("suggested-request").filter(
        has_text="The page, with the toolbar injected"
    ).click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    toolbar = live_preview(page, re.compile(r"/apps/[\w-]+/$"))
    expect(toolbar.locator("#flDebugToolbar")).to_be_visible()
    # Its script ran (it reads document.cookie, which the gateway gives the framed page): a click
    # on a panel opens it, with the template and the context the view passed.
    toolbar.locator("#flDebugToolbar a.flDebugTemplatePanel").click()
    panel = toolbar.locator("#flDebugTemplatePanel-content")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("index.html")
    expect(panel).to_contain_text("languages")
    # Hiding it is remembered in the page's own in-memory cookie jar.
    toolbar.locator("#flDebugHideToolBarButton").click()
    expect(toolbar.locator("#flDebugToolbar")).to_be_hidden()
    assert "fldt=hide" in page.frames[-1].evaluate("document.cookie")
