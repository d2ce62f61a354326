"""The request panel as Postman and Hoppscotch users expect it, in a real browser, typed on the
keyboard: the query as rows kept in sync with the path, a pasted curl command, Basic and Bearer
auth written as a header, redirects followed by the host's rule only, and copy as curl for the
app's address through the host, run with the real curl."""

import json
import re
import shlex
import subprocess

from playwright.sync_api import expect

from tests.browser.test_editing import type_after, type_path
from tests.browser.test_editor_page import open_snippet, run

ECHO = (
    '@app.route("/echo", methods=["GET", "POST"])\ndef echo():\n'
    'return {"args": request.args, "json": request.get_json(silent=True), '
    '"token": request.headers.get("X-Token"), "auth": request.headers.get("Authorization"), '
    '"user": request.authorization and request.authorization.username}\n'
)


def echo_app(page):
    """The hello snippet with an /echo route that says what it got, running."""
    editor = open_snippet(page, "hello")
    type_after(page, editor, "from flask import Flask", "from flask import redirect, request")
    type_after(page, editor, 'return "I\'m a home page"', ECHO)
    run(page)
    return editor


def params(page):
    """The query rows with a name: [[name, value, ticked]...]."""
    return (
        page.get_by_test_id("query-params")
        .locator(".kv-row")
        .evaluate_all(
            """rows => rows.map(r => [r.querySelector('.name').value, r.querySelector('.value').value,
                                  r.querySelector('.enabled').checked]).filter(r => r[0])"""
        )
    )


def row(page, name):
    """The query row named `name`."""
    rows = page.get_by_test_id("query-params").locator(".kv-row")
    index = rows.evaluate_all(
        "(rows, name) => rows.findIndex(r => r.querySelector('.name').value === name)", name
    )
    assert index >= 0, f"no row {name}"
    return rows.nth(index)


def sent_json(page):
    return json.loads(page.get_by_test_id("response-body").inner_text())


def test_the_query_editor_and_the_path_stay_in_sync(page):
    echo_app(page)
    path = page.get_by_test_id("request-path")
    type_path(page, "/echo?q=flask&page=2")
    expect(page.locator("#params-count")).to_have_text("2")
    assert params(page) == [["q", "flask", True], ["page", "2", True]]

    # A value typed over in its row rewrites the path.
    row(page, "page").locator(".value").click()
    page.keyboard.press("Control+a")
    page.keyboard.type("3")
    expect(path).to_have_value("/echo?q=flask&page=3")
    # Unticked: out of the path, kept in the rows; ticked again: back.
    row(page, "q").locator(".enabled").click()
    expect(path).to_have_value("/echo?page=3")
    page.keyboard.press("Space")
    expect(path).to_have_value("/echo?q=flask&page=3")
    # A new row in the empty one; what would end a value is escaped in the path.
    page.get_by_test_id("query-params").locator(".kv-row").last.locator(".name").click()
    page.keyboard.type("lang")
    page.keyboard.press("Tab")
    page.keyboard.type("a&b")
    expect(path).to_have_value("/echo?q=flask&page=3&lang=a%26b")
    # Removed with ×.
    row(page, "page").get_by_role("button", name="Remove").click()
    expect(path).to_have_value("/echo?q=flask&lang=a%26b")

    # Typed in the path: the rows follow, the escape read back.
    path.click()
    page.keyboard.press("End")
    page.keyboard.type("&x=1")
    expect(page.locator("#params-count")).to_have_text("3")
    assert params(page) == [["q", "flask", True], ["lang", "a&b", True], ["x", "1", True]]
    # An unticked row survives the path being typed in.
    row(page, "x").locator(".enabled").click()
    expect(path).to_have_value("/echo?q=flask&lang=a%26b")
    path.click()
    page.keyboard.press("End")
    page.keyboard.type("&y=2")
    assert params(page)[-1] == ["x", "1", False]

    page.keyboard.press("Enter")
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    assert sent_json(page)["args"] == {"q": "flask", "lang": "a&b", "y": "2"}


def test_a_pasted_curl_fills_the_panel(page):
    echo_app(page)
    # Typed into Import curl, as a browser's "Copy as cURL" writes it: $'...' and a pipe.
    page.get_by_test_id("curl-import-button").click()
    expect(page.get_by_test_id("curl-import")).to_be_focused()
    page.keyboard.type(
        "curl 'http://localhost:5000/echo?x=1' -sS -L \\\n"
        "  -H 'X-Token: abc' -H 'Content-Type: application/json' \\\n"
        '  --data-raw $\'{"a": "it\\\'s"}\' | jq .'
    )
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("curl-import")).to_be_hidden()
    expect(page.get_by_test_id("request-method")).to_have_value("POST")
    expect(page.get_by_test_id("request-path")).to_have_value("/echo?x=1")
    assert params(page) == [["x", "1", True]]
    expect(page.get_by_test_id("follow-redirects")).to_be_checked()
    expect(page.get_by_test_id("curl-note")).to_contain_text("left out")
    expect(page.get_by_test_id("curl-note")).to_contain_text("| jq .")
    page.get_by_role("tab", name=re.compile("^Headers")).first.click()
    headers = page.get_by_test_id("request-headers").locator("input.value")
    expect(headers).to_have_count(3)  # two and the empty row
    page.get_by_role("tab", name=re.compile("^Body")).click()
    expect(page.get_by_role("radio", name="JSON")).to_be_checked()
    expect(page.get_by_test_id("request-body")).to_have_value('{"a": "it\'s"}')
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    got = sent_json(page)
    assert got["json"] == {"a": "it's"} and got["token"] == "abc" and got["args"] == {"x": "1"}

    # What the panel cannot send is said, and the command is kept to fix.
    page.get_by_test_id("curl-import-button").click()
    page.keyboard.type("curl -F 'photo=@cat.png' http://localhost:5000/upload")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("curl-error")).to_contain_text("multipart form (-F)")
    expect(page.get_by_test_id("curl-import")).to_have_value(re.compile("^curl -F"))
    expect(page.get_by_test_id("request-path")).to_have_value("/echo?x=1")  # nothing lost
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("curl-import")).to_be_hidden()

    # Pasted over the path (Ctrl+V): -u writes Basic auth, -G puts -d in the query.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate(
        "text => navigator.clipboard.writeText(text)",
        "curl -G -u ada:s3cret -d name=Ada http://localhost:5000/echo",
    )
    page.get_by_test_id("request-path").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("request-path")).to_have_value("/echo?name=Ada")
    expect(page.get_by_test_id("request-method")).to_have_value("GET")
    expect(page.get_by_test_id("follow-redirects")).not_to_be_checked()
    page.get_by_role("tab", name=re.compile("^Auth")).click()
    expect(page.get_by_test_id("auth-basic")).to_be_checked()
    expect(page.get_by_test_id("auth-user")).to_have_value("ada")
    page.keyboard.press("Control+Enter")  # in the panel: send
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    assert sent_json(page)["user"] == "ada"


def test_basic_and_bearer_auth_write_a_header_the_visitor_sees(page):
    echo_app(page)
    type_path(page, "/echo")
    page.get_by_role("tab", name=re.compile("^Auth")).click()
    page.get_by_test_id("auth-basic").check()
    expect(page.get_by_test_id("auth-user")).to_be_focused()
    page.keyboard.type("ada")
    page.keyboard.press("Tab")
    page.keyboard.type("pä55")
    page.get_by_role("tab", name=re.compile("^Headers")).first.click()
    value = page.get_by_test_id("request-headers").locator(".kv-row").first.locator(".value")
    expect(value).to_have_value("Basic YWRhOnDDpDU1")  # base64 of the UTF-8 of ada:pä55
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    assert sent_json(page)["user"] == "ada"

    page.get_by_role("tab", name=re.compile("^Auth")).click()
    page.get_by_test_id("auth-bearer").check()
    page.keyboard.type("t0ken")
    page.get_by_test_id("send-button").click()
    expect(page.get_by_test_id("response-status")).to_have_text("200 OK")
    assert sent_json(page)["auth"] == "Bearer t0ken"
    # Typed into the header by hand, the Auth page reads it back.
    page.get_by_role("tab", name=re.compile("^Headers")).first.click()
    value.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("Bearer other")
    page.get_by_role("tab", name=re.compile("^Auth")).click()
    expect(page.get_by_test_id("auth-token")).to_have_value("other")
    page.get_by_test_id("auth-none").check()
    expect(page.locator("#headers-count")).to_have_text("")


def test_redirects_are_followed_by_the_host_only_when_asked(page):
    editor = echo_app(page)
    type_after(
        page,
        editor,
        'return "I\'m a home page"',
        '@app.route("/a")\ndef a():\nreturn redirect("/b")\n'
        '@app.route("/b")\ndef b():\nreturn redirect("/c", 301)\n'
        '@app.route("/c")\ndef c():\nreturn "the end"\n'
        '@app.route("/away")\ndef away():\nreturn redirect("https://example.com/")\n',
    )
    run(page)
    asked = []
    page.on(
        "request",
        lambda r: (
            asked.append(json.loads(r.post_data).get("follow_redirects"))
            if r.url.endswith("/requests")
            else None
        ),
    )
    status, body = page.get_by_test_id("response-status"), page.get_by_test_id("response-body")

    # Off (the default): the 302 itself, and a Follow button that asks the host to follow.
    expect(page.get_by_test_id("follow-redirects")).not_to_be_checked()
    type_path(page, "/a")
    page.keyboard.press("Enter")
    expect(status).to_have_text("302 FOUND")
    expect(page.locator("#response-location")).to_have_text("/b")
    page.get_by_test_id("response-follow").click()
    expect(status).to_have_text("200 OK")
    expect(body).to_contain_text("the end")
    expect(page.get_by_test_id("response-redirects")).to_have_text("followed 302 → /b, 301 → /c")
    expect(page.get_by_test_id("request-path")).to_have_value("/a")  # the request as written
    assert asked == [False, True]

    # On: followed at once; a redirect off the app is not, and the page says why.
    page.get_by_test_id("follow-redirects").check()
    type_path(page, "/a")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("response-redirects")).to_have_text("followed 302 → /b, 301 → /c")
    expect(body).to_contain_text("the end")
    type_path(page, "/away")
    page.keyboard.press("Enter")
    expect(status).to_have_text("302 FOUND")
    expect(page.locator("#response-not-followed")).to_be_visible()
    expect(page.get_by_test_id("response-follow")).to_be_hidden()
    expect(page.get_by_test_id("response-redirects")).to_be_hidden()
    assert asked == [False, True, True, True]
    page.reload()  # the switch is remembered
    expect(page.get_by_test_id("follow-redirects")).to_be_checked()


def test_copy_as_curl_targets_the_apps_address_through_the_host(page, live_server):
    echo_app(page)
    page.get_by_test_id("request-method").click()
    page.keyboard.type("POST")
    type_path(page, "/echo?q=it's")
    page.get_by_role("tab", name=re.compile("^Headers")).first.click()
    page.get_by_test_id("request-headers").locator(".kv-row").last.locator(".name").click()
    page.keyboard.type("X-Token")
    page.keyboard.press("Tab")
    page.keyboard.type("abc")
    page.get_by_role("tab", name=re.compile("^Body")).click()
    page.get_by_role("radio", name="JSON").check()
    page.get_by_test_id("request-body").click()
    page.keyboard.type('{"a": [1, 2]}')

    page.get_by_test_id("curl-copy-button").click()
    command = page.get_by_test_id("curl-command").input_value()
    url = shlex.split(command.replace("\\\n", " "))[-1]
    assert url.startswith(f"{live_server}/apps/") and url.endswith("/echo?q=it's"), command
    # The real curl, as an attendee's laptop would run it: it reaches the app through the host.
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    head, _, reply = done.stdout.partition("\n\n")  # text mode reads \r\n as \n
    assert head.startswith("HTTP/1.1 200"), done.stdout
    got = json.loads(reply)
    assert got["json"] == {"a": [1, 2]} and got["token"] == "abc" and got["args"] == {"q": "it's"}

    # The command follows the request as it is edited, and imports back to the same request.
    type_path(page, "/echo?q=again")
    expect(page.get_by_test_id("curl-command")).to_have_value(re.compile(r"/echo\?q=again'?$"))
    page.get_by_test_id("curl-import-button").click()
    page.keyboard.type(page.get_by_test_id("curl-command").input_value())
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("request-path")).to_have_value("/echo?q=again")
    expect(page.get_by_test_id("request-method")).to_have_value("POST")
    expect(page.get_by_test_id("request-body")).to_have_value('{"a": [1, 2]}')
