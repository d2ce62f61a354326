"""Editing as people who use other editors expect it, in a real browser, typed on the keyboard:
undo by typed runs, files added, renamed and deleted, a request that leaves the file being
edited alone, JSON bodies, marks and filters that do not go stale."""

import re

from playwright.sync_api import expect

from tests.browser.test_editor_page import RUNNING, open_snippet, run


def type_after(page, editor, anchor, text):
    """Puts the caret at the end of the line holding `anchor`, then types Enter and `text`."""
    editor.evaluate(
        """(ta, anchor) => {
        const at = ta.value.indexOf("\\n", ta.value.indexOf(anchor));
        ta.focus();
        ta.setSelectionRange(at, at);
    }""",
        anchor,
    )
    page.keyboard.press("Enter")
    page.keyboard.type(text)


def type_path(page, path):
    """Types `path` over the request panel's path; Enter then sends it."""
    page.get_by_test_id("request-path").click()
    page.keyboard.press("Control+a")
    page.keyboard.type(path)


def active_tab(page):
    return page.locator("[data-testid=file-tab][aria-selected=true]")


def test_undo_and_redo_take_a_typed_line_in_one_step(page):
    editor = open_snippet(page, "hello")
    original = editor.input_value()
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("def broken(:")
    typed = editor.input_value()
    assert typed == original + "def broken(:"
    page.keyboard.press("Control+z")
    expect(editor).to_have_value(original)
    page.keyboard.press("Control+Shift+z")
    expect(editor).to_have_value(typed)
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+y")
    expect(editor).to_have_value(typed)

    # A new line with its auto-indent is a step of its own, with what is typed on it; the
    # highlighter repainting meanwhile changes nothing.
    page.keyboard.press("Control+z")
    page.keyboard.type("def fine():")
    page.keyboard.press("Enter")
    page.keyboard.type("return 1")
    expect(editor).to_have_value(original + "def fine():\n    return 1")
    expect(page.locator(".code-view:not([hidden]) .code-text .k").last).to_have_text("return")
    page.keyboard.press("Control+z")
    expect(editor).to_have_value(original + "def fine():")
    page.keyboard.press("Control+z")
    expect(editor).to_have_value(original)
    # Backspaces are one step too.
    page.keyboard.type("abc")
    for _ in range(3):
        page.keyboard.press("Backspace")
    page.keyboard.press("Control+z")
    expect(editor).to_have_value(original + "abc")


def test_sending_a_request_keeps_the_file_being_edited(page):
    editor = open_snippet(page, "templates")
    run(page)
    page.locator("[data-testid=file-tab][data-path$='for_example.html']").click()
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("<p>more</p>")
    page.get_by_test_id("suggested-request").filter(has_text="A for loop").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    # The view that answered is marked on app.py's tab; the template stays in front, and what
    # is typed next goes into it.
    expect(page.locator("[data-testid=file-tab][data-path='app.py']")).to_have_attribute(
        "data-view", re.compile("for_template")
    )
    expect(active_tab(page)).to_have_attribute("data-path", re.compile(r"for_example\.html$"))
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("<p>still here</p>")
    expect(page.get_by_test_id("editor")).to_have_value(
        re.compile(r"<p>more</p><p>still here</p>$")
    )


def test_new_rename_and_delete_files_then_run(page):
    editor = open_snippet(page, "hello")
    page.get_by_test_id("new-file").click()
    name = page.get_by_test_id("file-name")
    expect(name).to_be_focused()
    page.keyboard.type("app.py")
    page.keyboard.press("Enter")
    expect(page.locator(".file-namer [role=alert]")).to_contain_text("already")
    page.keyboard.press("Control+a")
    page.keyboard.type("templates/draft.html")
    page.keyboard.press("Enter")
    expect(active_tab(page)).to_have_attribute("data-path", "templates/draft.html")
    expect(page.get_by_test_id("editor")).to_be_focused()
    page.keyboard.type("<h1>Hi {{ name }}</h1>")

    # Renamed while the app runs: the text goes with it, and the app keeps running.
    editor = page.get_by_test_id("editor")
    page.locator("[data-testid=file-tab][data-path='app.py']").click()
    type_after(page, editor, "from flask import Flask", "from flask import render_template\n")
    run(page)
    expect(page.get_by_test_id("rename-file")).to_be_enabled()  # app.py too: the host finds the app
    tab = page.locator("[data-testid=file-tab][data-path='templates/draft.html']")
    tab.click()
    page.keyboard.press("F2")
    page.keyboard.press("Control+a")
    page.keyboard.type("templates/hi.html")
    page.keyboard.press("Enter")
    expect(active_tab(page)).to_have_attribute("data-path", "templates/hi.html")
    expect(page.get_by_test_id("editor")).to_have_value("<h1>Hi {{ name }}</h1>")
    expect(page.get_by_test_id("sandbox-state")).to_have_text(RUNNING)

    # Another file, deleted again.
    page.get_by_test_id("new-file").click()
    page.keyboard.type("notes.txt")
    page.keyboard.press("Enter")
    page.keyboard.type("scratch")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete-file").click()
    expect(page.locator("[data-testid=file-tab][data-path='notes.txt']")).to_have_count(0)

    page.locator("[data-testid=file-tab][data-path='app.py']").click()
    type_after(
        page,
        page.get_by_test_id("editor"),
        'return "I\'m a home page"',
        '@app.route("/hi/<name>")\ndef hi(name):\nreturn render_template("hi.html", name=name)\n',
    )
    run(page)
    type_path(page, "/hi/Ada")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.frame_locator("[data-testid=response-preview]").locator("h1")).to_have_text(
        "Hi Ada"
    )

    # Kept in this browser: the added file, under its new name; the deleted one stays gone.
    page.reload()
    expect(page.locator("[data-testid=file-tab]")).to_have_count(2)
    expect(page.locator("[data-testid=file-tab][data-path='templates/hi.html']")).to_have_count(1)


def test_json_body_round_trip(page):
    editor = open_snippet(page, "hello")
    type_after(page, editor, "from flask import Flask", "from flask import request")
    type_after(
        page,
        editor,
        'return "I\'m a home page"',
        '@app.post("/echo")\ndef echo():\nreturn {"got": request.get_json()}\n',
    )
    run(page)
    method = page.get_by_test_id("request-method")
    method.click()
    page.keyboard.type("POST")
    type_path(page, "/echo")
    page.get_by_role("tab", name=re.compile("^Body")).click()
    page.get_by_label("JSON").check()
    body = page.get_by_test_id("request-body")
    expect(body).to_have_value("")  # nothing pre-filled to type around
    body.click()
    page.keyboard.type('{"a": 1}')
    expect(page.locator("#body-hint")).to_have_text("")
    page.get_by_test_id("body-format").click()
    expect(body).to_have_value('{\n  "a": 1\n}')
    # At 1366x768 the box shows several lines, and none of it is under the response panel.
    box, response = body.bounding_box(), page.locator("#response-panel").bounding_box()
    assert box["height"] >= 6 * 16 and box["y"] + box["height"] <= response["y"], (box, response)
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.get_by_test_id("response-body")).to_contain_text('"a": 1')


def test_a_later_good_answer_clears_the_red_line_of_an_error(page):
    open_snippet(page, "missing-endif")
    run(page)
    page.get_by_test_id("suggested-request").first.click()
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^500"))
    marked = page.locator(".gutter .marked")
    expect(marked).to_have_count(1)
    expect(page.locator("[data-testid=file-tab][data-error]")).to_have_count(1)
    type_path(page, "/nothing-here")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^404"))
    expect(marked).to_have_count(0)
    expect(page.locator("[data-testid=file-tab][data-error]")).to_have_count(0)


def test_the_snippet_search_clears_on_esc_and_alt_down_skips_what_it_hides(page):
    open_snippet(page, "hello")
    search = page.locator("#snippet-search")
    search.click()
    page.keyboard.type("template")
    items = page.locator("[data-testid=snippet-item]:visible")
    expect(items).not_to_have_count(0)
    shown = items.evaluate_all("items => items.map((i) => i.dataset.slug)")
    page.keyboard.press("Alt+ArrowDown")  # from hello (hidden now) to the next one shown
    expect(page.locator("[data-testid=snippet-item][aria-current=true]")).to_have_attribute(
        "data-slug", shown[0]
    )
    search.click()
    page.keyboard.press("Escape")
    expect(search).to_have_value("")
    expect(page.locator("[data-testid=snippet-item]:visible")).to_have_count(
        page.locator("[data-testid=snippet-item]").count()
    )


def test_format_lays_out_python_as_one_undo_step_and_names_a_line_it_cannot_read(page):
    editor = open_snippet(page, "hello")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nx = {'a':1,\n'b':[1,2]}")
    messy = editor.input_value()
    page.get_by_test_id("format-code").click()
    expect(editor).to_have_value(re.compile(r'\nx = \{"a": 1, "b": \[1, 2\]\}\n$'))
    expect(page.get_by_test_id("format-message")).to_contain_text("Formatted app.py")
    expect(editor).to_be_focused()
    page.keyboard.press("Control+z")
    expect(editor).to_have_value(messy)
    page.keyboard.press("Shift+Alt+F")  # the same, from the keyboard
    expect(editor).to_have_value(re.compile(r'"b": \[1, 2\]\}\n$'))

    # Code that does not parse stays as it is; the message names the line and goes to it.
    page.keyboard.press("Control+End")
    page.keyboard.type("def broken(:")
    broken = editor.input_value()
    page.get_by_test_id("format-code").click()
    message = page.get_by_test_id("format-message")
    expect(message).to_contain_text("Cannot format app.py")
    expect(editor).to_have_value(broken)
    line = broken.count("\n") + 1
    message.get_by_role("button", name=f"Show line {line}").click()
    caret_line = editor.evaluate("ta => ta.value.slice(0, ta.selectionStart).split('\\n').length")
    assert caret_line == line
    page.keyboard.type("#")  # an edit: the message is old now
    expect(message).to_be_hidden()

    # Only Python is formatted: a template's Format is off.
    page.get_by_test_id("new-file").click()
    page.keyboard.type("templates/page.html")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("format-code")).to_be_disabled()
