"""An app's address through the host (gateway.py): any client that reaches the host reaches the
app, and what the app answers never acts as the host."""

import http.client
import json
import subprocess
from urllib.parse import urlsplit

import pytest

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
