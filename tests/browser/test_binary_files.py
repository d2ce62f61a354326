"""Files that are not text, in a real browser: the editor shows a binary file as what it is, a
file from disk is added byte for byte, the request panel uploads a file in a multipart form or as
the whole body, and the extension snippets work through the page."""

import base64
import json
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.test_editor_page import RUNNING, open_snippet, run
from tests.test_binary import FAVICON, PNG


def send(page, method, path):
    page.get_by_test_id("request-method").fill(method)
    page.get_by_test_id("request-path").fill(path)
    page.get_by_test_id("send-button").click()


def body_tab(page):
    page.locator("#request-panel [role=tab][data-tab=body]").click()


def test_a_binary_file_shows_what_it_is_and_is_served_byte_for_byte(page):
    open_snippet(page, "uploads")
    page.locator("[data-testid=file-tab][data-path='static/favicon.ico']").click()
    shown = page.get_by_test_id("binary-file")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("favicon.ico: 70 B, image/vnd.microsoft.icon")
    expect(shown.locator("img")).to_have_attribute(
        "src", re.compile("^data:image/vnd.microsoft.icon;base64,")
    )
    expect(page.get_by_test_id("editor")).to_have_count(0)  # no text editor for it
    run(page)
    page.get_by_test_id("suggested-request").filter(has_text="The favicon").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    expect(page.locator("#response-panel .binary")).to_contain_text("Binary body: 70 B")
    # What the preview offers for download is the file itself.
    with page.expect_download() as download:
        page.get_by_test_id("response-download").click()
    assert Path(download.value.path()).read_bytes() == FAVICON


def test_a_file_from_disk_is_added_as_binary_and_survives_a_reload(page):
    open_snippet(page, "hello")
    page.get_by_test_id("upload-input").set_input_files(
        {"name": "pixel.png", "mimeType": "image/png", "buffer": PNG}
    )
    name = page.get_by_test_id("file-name")
    expect(name).to_have_value("static/pixel.png")  # where a Flask app keeps its images
    name.press("Enter")
    expect(page.get_by_test_id("binary-file")).to_contain_text("pixel.png: 15 B, image/png")
    expect(page.locator("[data-testid=file-tab][data-path='static/pixel.png']")).to_have_class(
        re.compile("is-modified")
    )
    run(page)
    send(page, "GET", "/static/pixel.png")
    expect(page.locator("#response-panel .binary")).to_contain_text(
        "Binary body: 15 B of image/png"
    )
    page.reload()
    page.locator("[data-testid=file-tab][data-path='static/pixel.png']").click()
    expect(page.get_by_test_id("binary-file")).to_contain_text("pixel.png: 15 B")
    # A text file from disk stays text, in the text editor.
    page.get_by_test_id("upload-input").set_input_files(
        {"name": "page.html", "mimeType": "text/html", "buffer": "<p>é</p>\n".encode()}
    )
    expect(page.get_by_test_id("file-name")).to_have_value("templates/page.html")
    page.get_by_test_id("file-name").press("Enter")
    expect(page.get_by_test_id("editor")).to_have_value("<p>é</p>\n")


def test_a_file_picked_from_disk_is_uploaded_in_a_multipart_form(page):
    open_snippet(page, "uploads")
    run(page)
    body_tab(page)
    page.get_by_role("radio", name="form").check()
    page.get_by_test_id("request-file-field").fill("picture")
    page.get_by_test_id("request-file").set_input_files(
        {"name": "pixel.png", "mimeType": "image/png", "buffer": PNG}
    )
    expect(page.locator("#request-file-info")).to_have_text("pixel.png, 15 B")
    send(page, "POST", "/upload")
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^302"))
    expect(page.locator("#response-location")).to_contain_text("/uploads/pixel.png")
    send(page, "GET", "/uploads/pixel.png")
    expect(page.locator("#response-panel .binary")).to_contain_text(
        "Binary body: 15 B of image/png"
    )
    image = page.locator("#response-panel .binary img").get_attribute("src")
    assert base64.b64decode(image.split(",", 1)[1]) == PNG


def test_a_file_picked_from_disk_is_sent_as_the_whole_body(page):
    open_snippet(page, "hello")
    editor = page.get_by_test_id("editor")
    editor.fill(
        "import hashlib\nfrom flask import Flask, request\napp = Flask(__name__)\n\n"
        "@app.post('/raw')\ndef raw():\n    data = request.get_data()\n"
        "    return {'size': len(data), 'type': request.content_type,\n"
        "            'sha256': hashlib.sha256(data).hexdigest()}\n"
    )
    run(page)
    body_tab(page)
    page.get_by_role("radio", name="file").check()
    page.get_by_test_id("request-file").set_input_files(
        {"name": "favicon.ico", "mimeType": "image/x-icon", "buffer": FAVICON}
    )
    send(page, "POST", "/raw")
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    answer = json.loads(page.locator("#response-panel [data-page=raw]").inner_text())
    assert answer["size"] == 70 and answer["type"] == "image/x-icon"
    # Sent again from the history: the same bytes.
    page.locator("#request-panel [role=tab][data-tab=history]").click()
    page.get_by_test_id("history-item").first.locator(".resend").click()
    expect(page.get_by_test_id("history-item")).to_have_count(2)
    again = json.loads(page.locator("#response-panel [data-page=raw]").inner_text())
    assert again == answer


def test_flask_wtfs_form_posts_from_the_preview_with_its_csrf_token(page):
    open_snippet(page, "forms")
    run(page, RUNNING)
    page.get_by_test_id("suggested-request").filter(has_text="hidden CSRF token").click()
    frame = page.frame_locator("[data-testid=response-preview]")
    frame.locator("input[name=name]").fill("Grace")
    frame.locator("input[name=guests]").fill("2")
    frame.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("response-status")).to_have_text(re.compile("^302"))
    send(page, "GET", "/")
    expect(frame.locator("li")).to_have_text("Grace (+2)")


def test_the_debug_toolbars_html_reaches_the_preview(page):
    """The toolbar is injected into the page the preview shows. (Opening its panels takes its
    scripts, which the preview does not load yet: see the report of issue 12.)"""
    open_snippet(page, "debug-toolbar")
    run(page)
    page.get_by_test_id("suggested-request").filter(has_text="toolbar injected").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    frame = page.frame_locator("[data-testid=response-preview]")
    expect(frame.locator("#flDebug")).to_have_count(1)
    expect(frame.locator("h1")).to_have_text("A page with the debug toolbar")
