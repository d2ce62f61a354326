"""An app's address through the host (gateway.py): any client that reaches the host reaches the
app, and what the app answers never acts as the host."""

import http.client
import json
import subprocess
from urllib.parse import urlsplit

import pytest

from playground.gateway import COOKIE_SHIM, with_cookie_shim
from tests.test_live import Api

APP = """from flask import Flask, make_response, redirect, request, url_for
app = Flask(__name__)

@app.route("/echo/<path:rest>", methods=["GET", "POST"])
def echo(rest):
    return {"path": request.full_path, "raw": request.environ.get("RAW_URI"),
            "method": request.method, "body": request.get_data(as_text=True),
            "cookies": request.cookies}

@app.route("/hostile")
def hostile():
    response = make_response("<script>parent.document.title = 'owned'</script>")
    response.headers["Clear-Site-Data"] = '"*"'
    response.headers["Strict-Transport-Security"] = "max-age=31536000"
    response.headers["X-Custom"] = "kept"
    response.set_cookie("playground_visitor", "forged")
    response.set_cookie("mine", "1", path="/echo")
    return response

@app.route("/away")
def away():
    return redirect("/echo/after?x=1")

@app.route("/here")
def here():
    return redirect(url_for("echo", rest="there"))

PAGES = {"head": "<!doctype html><html lang=en><HEAD data-x=1><title>t</title></HEAD><body>hi</body>",
         "bare": "<!DOCTYPE html>\\n<p>no head</p>"}

@app.route("/pages/<name>")
def pages(name):
    return PAGES[name]
"""


@pytest.fixture
def app_url(live_server):
    owner = Api(live_server)
    sandbox = owner.call("POST", "/api/sandboxes", {"files": {"app.py": APP}})
    assert sandbox["state"] == "running", sandbox["error"]
    yield sandbox["url"]
    owner.call("DELETE", f"/api/sandboxes/{sandbox['id']}")


def ask(url: str, method="GET", body=None, headers=None):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request(
        method,
        parts.path + (f"?{parts.query}" if parts.query else ""),
        body=body,
        headers=headers or {},
    )
    response = conn.getresponse()
    return response, response.read()


def test_curl_reaches_the_app_through_the_host(app_url):
    done = subprocess.run(
        ["curl", "-s", "-X", "POST", "--data-binary", "hello", app_url + "echo/a%2Fb?q=1"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    echoed = json.loads(done.stdout)
    assert echoed["raw"] == "/echo/a%2Fb?q=1"  # percent-encoding as sent, byte for byte
    assert echoed["method"] == "POST" and echoed["body"] == "hello"


def test_the_host_cookie_never_reaches_the_app(app_url):
    _, data = ask(app_url + "echo/x", headers={"Cookie": "playground_visitor=secret; a=1"})
    assert json.loads(data)["cookies"] == {"a": "1"}


def test_what_the_app_answers_cannot_act_as_the_host(app_url):
    response, _ = ask(app_url + "hostile")
    prefix = urlsplit(app_url).path.rstrip("/")
    assert "sandbox" in response.getheader("Content-Security-Policy")
    assert response.getheader("Clear-Site-Data") is None
    assert response.getheader("Strict-Transport-Security") is None
    assert response.getheader("X-Custom") == "kept"
    cookies = response.headers.get_all("Set-Cookie")
    assert all(f"Path={prefix}/" in c and "Domain" not in c for c in cookies)
    assert any(c.startswith("mine=1") and f"Path={prefix}/echo" in c for c in cookies)


def test_redirects_stay_within_the_app(app_url):
    response, _ = ask(app_url + "away")
    prefix = urlsplit(app_url).path.rstrip("/")
    assert response.status == 302 and response.getheader("Location") == f"{prefix}/echo/after?x=1"


def test_the_app_makes_addresses_that_lead_back_through_the_gateway(app_url):
    response, _ = ask(app_url + "here")
    prefix = urlsplit(app_url).path.rstrip("/")
    assert response.getheader("Location") == f"{prefix}/echo/there"


def test_an_unknown_address_is_a_clear_404(live_server):
    response, data = ask(live_server + "/apps/not-a-token/")
    assert response.status == 404 and json.loads(data)["error"]["code"] == "no_such_app"


def test_the_apps_content_type_comes_once(app_url):
    response, _ = ask(app_url + "echo/x")
    assert response.headers.get_all("Content-Type") == ["application/json"]


FRAMED = {"Sec-Fetch-Dest": "iframe"}


@pytest.mark.parametrize(
    "path, before, after",
    [
        (
            "pages/head",
            b"<!doctype html><html lang=en><HEAD data-x=1>",
            b"<title>t</title></HEAD><body>hi</body>",
        ),
        ("pages/bare", b"<!DOCTYPE html>", b"\n<p>no head</p>"),
    ],
)
def test_a_framed_page_gets_a_cookie_jar_of_its_own_first(app_url, path, before, after):
    response, data = ask(app_url + path, headers=FRAMED)
    assert data == before + COOKIE_SHIM + after
    assert int(response.getheader("Content-Length")) == len(data)
    _, untouched = ask(app_url + path)  # not a frame's navigation: as the app sent it
    assert untouched == before + after


def test_only_html_answers_to_a_frame_get_the_cookie_jar(app_url):
    _, data = ask(app_url + "echo/x", headers=FRAMED)
    assert json.loads(data)["path"] == "/echo/x?"


@pytest.mark.parametrize(
    "page, at",
    [
        (b"<p>no doctype, no head</p>", 0),
        (
            b"<head " * 10_000 + b"<head>",
            60_000 + len(b"<head>"),
        ),  # an unclosed <head stops at the next tag
        (b"<header>a</header><head>", len(b"<header>a</header><head>")),
    ],
)
def test_the_cookie_jar_goes_before_the_pages_own_scripts(page, at):
    assert with_cookie_shim(page) == page[:at] + COOKIE_SHIM + page[at:]
