"""The editor page end to end: pick, edit, run, send, and see it all, in a real browser."""

import re

from playwright.sync_api import expect

RUNNING = re.compile(r"running on port \d+")


def open_snippet(page, slug):
    """Picks a snippet in the picker; returns the editor once it shows that snippet."""
    page.goto("/")
    item = page.locator(f"[data-testid=snippet-item][data-slug='{slug}']")
    item.click()
    expect(item).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("editor")).to_be_visible()
    return page.get_by_test_id("editor")


def run(page, state=RUNNING):
    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("sandbox-state")).to_have_text(state)


def test_session_counts_across_three_suggested_requests(page):
    editor = open_snippet(page, "sessions")
    expect(editor).to_have_value(re.compile(r'session\["number_of_calls"\]'))
    # Edit by typing: a new route after line 2, auto-indented after its `def ...:` line.
    editor.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type('@app.route("/extra")\ndef extra():\nreturn "extra!"\n')
    expect(editor).to_have_value(re.compile(r'def extra\(\):\n    return "extra!"\n'))
    run(page)

    chips = page.get_by_test_id("suggested-request")
    expect(chips).to_have_count(3)
    for count in (1, 2, 3):
        chips.nth(count - 1).click()
        expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
        expect(page.get_by_test_id("response-body")).to_contain_text(str(count))
        expect(page.get_by_test_id("history-item")).to_have_count(count)

    page.get_by_role("tab", name=re.compile("^Headers")).last.click()
    headers = page.get_by_test_id("response-headers")
    expect(headers).to_contain_text("Content-Type")
    expect(headers).to_contain_text("Set-Cookie")
    page.get_by_role("tab", name=re.compile("^Cookies")).click()
    jar = page.get_by_test_id("cookie-jar")
    expect(jar).to_contain_text("session")
    expect(jar.locator(".flask-session")).to_contain_text('"number_of_calls": 3')

    # Inside Flask: the rule that answered; on the wire: the heads and curl.
    expect(page.locator("#response-route")).to_have_text("/ matches /")
    page.get_by_role("tab", name="Inside Flask").click()
    inspector = page.get_by_test_id("inspector")
    expect(inspector).to_contain_text("/ matches /")
    inspector.get_by_role("tab", name="Wire").click()
    expect(inspector).to_contain_text("Set-Cookie: session=")
    expect(inspector).to_contain_text("curl -i")

    # A forged payload keeps the old signature: Flask refuses it and counts from 1 again.
    inspector.get_by_role("tab", name="Session").click()
    inspector.locator("textarea").fill('{"number_of_calls": 100}')
    inspector.get_by_role("button", name="Tamper and send again").click()
    expect(page.get_by_test_id("history-item")).to_have_count(4)
    expect(inspector).to_contain_text("The app refused the session cookie")
    page.get_by_role("tab", name=re.compile("^Cookies")).click()
    expect(jar.locator(".flask-session")).to_contain_text('"number_of_calls": 1')

    # The edited route is there too, sent from the request panel with Ctrl+Enter.
    page.get_by_test_id("request-path").fill("/extra")
    page.get_by_test_id("request-path").press("Control+Enter")
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("response-body")).to_contain_text("extra!")


def test_syntax_error_marks_its_line(page):
    editor = open_snippet(page, "hello")
    editor.fill("from flask import Flask\napp = Flask(__name__)\ndef broken(:\n    pass\n")
    run(page, "failed")
    panel = page.get_by_test_id("error-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("SyntaxError")
    expect(panel).to_contain_text("app.py, line 3")
    expect(page.locator(".code-view:not([hidden]) .gutter .marked")).to_have_text("3")
    expect(page.locator(".code-view:not([hidden]) .line-mark")).to_be_visible()


def test_route_exception_shows_traceback_and_marks_the_template(page):
    open_snippet(page, "missing-endif")
    run(page)
    page.get_by_test_id("suggested-request").first.click()
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^500"))
    expect(page.locator("#response-exception")).to_contain_text("TemplateSyntaxError")
    active = page.locator("[data-testid=file-tab][aria-selected=true]")
    expect(active).to_have_attribute("data-path", re.compile(r"missing_endif\.html$"))
    expect(page.locator(".code-view:not([hidden]) .gutter .marked")).to_have_count(1)


def test_html_renders_in_a_sandboxed_frame(page):
    open_snippet(page, "templates")
    run(page)
    page.get_by_test_id("suggested-request").filter(has_text="A for loop").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    frame = page.get_by_test_id("response-preview")
    expect(frame).to_have_attribute(
        "sandbox", "allow-scripts allow-forms"
    )  # never allow-same-origin
    expect(page.frame_locator("[data-testid=response-preview]").locator("li").first).to_have_text(
        "Nothing"
    )
    page.get_by_role("tab", name="Raw").click()
    expect(page.locator("#response-raw .nt").first).to_be_visible()  # highlighted HTML tags


def test_live_log_shows_access_lines(page):
    open_snippet(page, "hello")
    run(page)
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("log-panel")).to_contain_text('"GET / HTTP/1.1" 200')
    page.get_by_test_id("request-path").fill("/nothing-here")
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("404 NOT FOUND")
    expect(page.get_by_test_id("log-panel")).to_contain_text('"GET /nothing-here HTTP/1.1" 404')

    # The history shows an old exchange again, or sends it again.
    history = page.get_by_test_id("history-item")
    page.get_by_role("tab", name=re.compile("^History")).click()
    history.last.click()  # the oldest: GET /
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("request-path")).to_have_value("/")
    history.first.get_by_role("button", name="Send again").click()
    expect(history).to_have_count(3)
    expect(page.get_by_test_id("response-status")).to_have_text("404 NOT FOUND")


def test_edits_survive_a_reload_and_reset_restores_the_talk(page):
    editor = open_snippet(page, "hello")
    original = editor.input_value()
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("# kept across reloads\n")
    expect(page.locator("[data-testid=file-tab].is-modified")).to_have_count(1)
    page.reload()
    expect(page.get_by_test_id("editor")).to_have_value(re.compile("# kept across reloads"))
    expect(page.locator("[data-testid=snippet-item][data-slug=hello].is-modified")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset to the talk's version").click()
    expect(page.get_by_test_id("editor")).to_have_value(original)
    page.reload()
    expect(page.get_by_test_id("editor")).to_have_value(original)


def test_fast_typing_keeps_every_character_and_undo_works(page):
    editor = open_snippet(page, "hello")
    editor.click()
    page.keyboard.press("Control+End")
    text = "".join(f"value_{i} = {i} * 2  # comment {i}\n" for i in range(40))
    page.keyboard.type(text)  # no delay between keys: highlighting is always in flight
    expect(editor).to_have_value(re.compile(re.escape(text) + "$"))
    # Once highlighting settles, the painted text is exactly the textarea's text.
    code = page.locator(".code-view:not([hidden]) .code-text")
    expect(code).to_have_text(editor.input_value() + "\n", use_inner_text=True)
    expect(code.locator(".c1").last).to_have_text("# comment 39")

    # Tab and Shift+Tab on a selection are single undo steps, and undo/redo still
    # work after highlighting has repainted the text.
    before = editor.input_value()
    indented = "\n".join("    " + line if line else line for line in before.split("\n"))
    page.keyboard.press("Control+a")
    page.keyboard.press("Tab")
    expect(editor).to_have_value(indented)
    expect(code).to_have_text(indented + "\n", use_inner_text=True)
    page.keyboard.press("Control+z")
    expect(editor).to_have_value(before)
    page.keyboard.press("Control+Shift+z")
    expect(editor).to_have_value(indented)
    page.keyboard.press("Control+a")
    page.keyboard.press("Shift+Tab")
    expect(editor).to_have_value(before)
    expect(code).to_have_text(before + "\n", use_inner_text=True)
    page.keyboard.press("Control+z")
    expect(editor).to_have_value(indented)


def test_the_page_asks_for_nothing_off_the_host(page, live_server, off_host):
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    open_snippet(page, "templates")
    run(page)
    page.get_by_test_id("suggested-request").filter(has_text="A plain template").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("log-panel")).to_contain_text("HTTP/1.1")
    assert off_host.requests == []
    host = live_server.removeprefix("http://")
    assert sockets and all(url.startswith(f"ws://{host}/") for url in sockets), sockets


def test_redirect_follow_and_a_form_posted_from_the_preview(page):
    open_snippet(page, "blog")
    run(page)
    page.get_by_test_id("suggested-request").filter(has_text="needs a login").click()
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^302"))
    page.get_by_role("button", name="Follow").click()  # the host follows, by its own rule
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("response-redirects")).to_have_text("followed 302 → /auth/login")
    # The app's stylesheet was fetched through the proxy and inlined, not loaded by the frame.
    frame = page.frame_locator("[data-testid=response-preview]")
    expect(frame.locator("style:not([data-playground])")).to_have_count(1)
    frame.locator("a", has_text="Register").click()
    expect(page.get_by_test_id("request-path")).to_have_value("/auth/register")
    expect(frame.locator("h2")).to_have_text("Register")
    frame.locator("input[name=username]").fill("ada")
    frame.locator("input[name=password]").fill("secret")
    frame.get_by_role("button", name="Register").click()
    expect(page.get_by_test_id("request-method")).to_have_value("POST")
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^302"))
    expect(page.locator("#response-location")).to_contain_text("/auth/login")


def test_a_route_typed_after_a_return_leaves_the_function(page):
    """Enter after `return` dedents, as Python editors do; Backspace takes a whole level."""
    editor = open_snippet(page, "hello")
    editor.click()
    editor.evaluate("""(ta) => {
        const end = ta.value.indexOf("return \\"I'm a home page\\"") + 24;
        ta.setSelectionRange(end, end);
    }""")
    page.keyboard.press("Enter")
    page.keyboard.type('@app.route("/about")\ndef about():\nreturn "About us"\n')
    page.keyboard.type("    ")
    page.keyboard.press("Backspace")  # the four spaces, in one go
    page.keyboard.type("x = 1")
    expect(editor).to_have_value(
        re.compile(r'page"\n@app.route\("/about"\)\ndef about\(\):\n    return "About us"\nx = 1\n')
    )
    run(page)
    page.get_by_test_id("request-path").fill("/about")
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("response-body")).to_contain_text("About us")


def test_paths_are_encoded_like_a_browser_and_curl_bodies_kept_as_typed(page):
    open_snippet(page, "routes")
    run(page)
    page.get_by_test_id("request-path").fill("/hello world/")
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-body")).to_contain_text("echo hello world")
    expect(page.get_by_test_id("history-item").first).to_contain_text("/hello%20world/")
    # The talk's `curl -X POST -d "{}"`: form-encoded by name, but two bytes as written.
    chip = page.get_by_test_id("suggested-request").filter(has_text="POST")
    chip.first.click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("request-body")).to_have_value("{}")


def test_a_traceback_in_the_log_is_one_highlighted_block_and_goes_with_its_snippet(page):
    refused = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 429 else None)
    open_snippet(page, "missing-endif")
    run(page)
    page.get_by_test_id("suggested-request").first.click()
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^500"))
    block = page.locator("[data-testid=log-panel] pre.traceback")
    expect(block).to_contain_text("TemplateSyntaxError")
    expect(block.locator(".gt").first).to_be_visible()  # coloured by Pygments' traceback lexer
    widths = page.evaluate("""() => [document.querySelector('#log-lines pre.traceback').offsetWidth,
                                     document.querySelector('#log-lines').clientWidth]""")
    assert widths[0] > 0.7 * widths[1], f"the traceback is squeezed: {widths}"
    assert refused == [], f"one error spent the highlight rate limit: {refused}"

    page.locator("[data-testid=snippet-item][data-slug='hello']").click()
    expect(page.locator("#log-lines .log-line")).to_have_count(0)  # the old app's log is gone


def test_at_1024_px_with_larger_text_the_top_bar_stays_on_screen(page):
    page.set_viewport_size({"width": 1024, "height": 768})
    open_snippet(page, "missing-argument")
    run(page)  # the badge "running on port N" is the widest the bar gets
    for _ in range(2):
        page.locator("#font-up").click()
    for control in ("#font-up", "#theme-toggle", "[popovertarget=help]", "#run-button"):
        box = page.locator(control).bounding_box()
        assert box and box["x"] + box["width"] <= 1024, f"{control} is off screen: {box}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
