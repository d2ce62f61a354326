"""The proxy: byte for byte, any method, cookies like a browser, clear 502/504s."""

import base64
import json
import time
import types

import pytest

from playground import exchange, proxy
from playground.cookies import Jar
from playground.errors import PlaygroundError
from tests.test_sandbox import EVENTS_FD

SERVE = '\napp.run(host="0.0.0.0", port=5000)\n'
ECHO = (
    """from flask import Flask, request, Response
import time
app = Flask(__name__)

@app.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PATCH", "PUT", "DELETE", "BREW"])
@app.route("/<path:rest>", methods=["GET", "POST", "PATCH", "PUT", "DELETE", "BREW"])
def echo(rest):
    return {"method": request.method, "raw_uri": request.environ.get("RAW_URI") or
            request.environ.get("REQUEST_URI"), "path": request.path, "args": request.args,
            "headers": list(request.headers.items()), "body": request.get_data(as_text=True)}

@app.route("/slow")
def slow():
    time.sleep(30)
    return "late"

@app.route("/big")
def big():
    return "x" * 3_000_000

@app.route("/forever")
def forever():
    def chunks():
        while True:
            yield "y" * 65536
    return Response(chunks())

@app.route("/png")
def png():
    return Response(bytes(range(256)), mimetype="image/png")

@app.route("/set")
def set_cookies():
    r = Response("set")
    r.set_cookie("flavour", "chocolate", path="/")
    r.set_cookie("ephemeral", "soon", max_age=60)  # not 1 s: a busy machine outlived it
    return r

@app.route("/unset")
def unset():
    r = Response("unset")
    r.delete_cookie("flavour")
    return r
"""
    + SERVE
)


@pytest.fixture
def echo(visitor):
    sandbox = visitor.start(ECHO)
    assert sandbox["state"] == "running", sandbox["error"]
    return sandbox


def seen(visitor, sandbox, *args, **kwargs) -> dict:
    return json.loads(visitor.exchange(sandbox, *args, **kwargs)["body"])


def test_headers_are_sent_as_given_in_order(visitor, echo):
    given = {"X-First": "1", "Host": "example.test", "x-lower": "kept as typed"}
    reply = visitor.exchange(echo, "GET", "/", headers=given)
    assert reply["request"]["headers"] == [list(item) for item in given.items()]
    got = json.loads(reply["body"])["headers"]  # Werkzeug title-cases names and reorders them
    assert sorted(got) == [["Host", "example.test"], ["X-First", "1"], ["X-Lower", "kept as typed"]]


def test_host_is_added_when_not_given_and_nothing_else(visitor, echo):
    got = seen(visitor, echo)
    assert [name for name, _ in got["headers"]] == ["Host"]


@pytest.mark.parametrize("method", ["PATCH", "BREW", "DELETE"])
def test_any_method_token_with_a_body(visitor, echo, method):
    got = seen(
        visitor, echo, method, "/", body='{"a": 1}', headers={"Content-Type": "application/json"}
    )
    assert got["method"] == method and got["body"] == '{"a": 1}'
    assert ["Content-Length", "8"] in got["headers"]


def test_percent_encoded_path_and_query_arrive_as_given(visitor, echo):
    got = seen(visitor, echo, "GET", "/caf%C3%A9/a%2Fb?q=%20x&q=y")
    assert got["raw_uri"] == "/caf%C3%A9/a%2Fb?q=%20x&q=y"
    assert got["path"] == "/café/a/b" and got["args"] == {"q": " x"}


def test_very_long_path(visitor, echo):
    long = "/" + "a" * 8000
    reply = visitor.exchange(echo, "GET", long)
    assert reply["status"] == 200 and json.loads(reply["body"])["path"] == long


@pytest.mark.parametrize(
    "path, code",
    [
        ("no-slash", "bad_path"),
        ("/a b", "bad_path"),
        ("/é", "bad_path"),
        ("/x\r\nEvil: 1", "bad_path"),
    ],
)
def test_paths_that_are_not_request_targets_are_refused(visitor, echo, path, code):
    response = visitor.send(echo, "GET", path)
    assert response.status_code == 400 and response.json["error"]["code"] == code


@pytest.mark.parametrize(
    "method, headers, code",
    [
        ("GE T", {}, "bad_method"),
        ("", {}, "bad_method"),
        ("GET", {"X-Evil": "a\r\nInjected: yes"}, "bad_header"),
        ("GET", {"Bad Name": "x"}, "bad_header"),
    ],
)
def test_bad_methods_and_headers_are_refused(visitor, echo, method, headers, code):
    response = visitor.send(echo, method, "/", headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == code


def test_slow_route_is_a_504(visitor, echo):
    response = visitor.send(echo, "GET", "/slow")
    assert response.status_code == 504
    assert response.json["error"]["code"] == "child_timeout"
    assert "did not answer within" in response.json["error"]["message"]
    assert visitor.exchange(echo, "GET", "/x")["status"] == 200  # the app still answers


def test_big_body_is_truncated_at_the_cap(visitor, echo, app):
    reply = visitor.exchange(echo, "GET", "/big")
    assert reply["truncated"] is True
    assert len(reply["body"]) == app.config["MAX_BODY_BYTES"]


def test_endless_body_is_cut_off(visitor, echo, app):
    reply = visitor.exchange(echo, "GET", "/forever")
    assert reply["truncated"] is True and reply["size"] == app.config["MAX_BODY_BYTES"]


def test_binary_body_comes_back_base64(visitor, echo):
    reply = visitor.exchange(echo, "GET", "/png")
    assert reply["body"] == "" and base64.b64decode(reply["body_base64"]) == bytes(range(256))
    assert reply["content_type"] == "image/png"


def test_head_gives_no_body(visitor, echo):
    reply = visitor.exchange(echo, "HEAD", "/x")
    assert reply["status"] == 200 and reply["body"] == "" and reply["size"] == 0


def test_cookie_jar_keeps_updates_and_deletes(visitor, echo, client):
    reply = visitor.exchange(echo, "GET", "/set")
    assert {c["name"] for c in reply["set_cookies"]} == {"flavour", "ephemeral"}
    assert {c["name"] for c in reply["cookies"]} == {"flavour", "ephemeral"}
    got = seen(visitor, echo, "GET", "/")
    assert dict(got["headers"])["Cookie"] in (
        "flavour=chocolate; ephemeral=soon",
        "ephemeral=soon; flavour=chocolate",
    )
    reply = visitor.exchange(echo, "GET", "/unset")
    assert reply["set_cookies"][0]["deleted"] is True
    assert "flavour" not in {c["name"] for c in reply["cookies"]}
    jar = client.get(f"/api/sandboxes/{echo['id']}/cookies").json["cookies"]
    assert [c["name"] for c in jar] == ["ephemeral"]


def test_an_explicit_cookie_header_wins_over_the_jar(visitor, echo):
    visitor.exchange(echo, "GET", "/set")
    got = seen(visitor, echo, "GET", "/", headers={"Cookie": "mine=1"})
    assert dict(got["headers"])["Cookie"] == "mine=1"


def test_cookies_can_be_edited_and_cleared(visitor, echo, client):
    base = f"/api/sandboxes/{echo['id']}/cookies"
    assert client.put(base, json={"name": "hand", "value": "made"}).status_code == 200
    assert dict(seen(visitor, echo)["headers"])["Cookie"] == "hand=made"
    assert client.delete(f"{base}/hand").status_code == 200
    assert client.delete(f"{base}/hand").status_code == 404
    visitor.exchange(echo, "GET", "/set")
    assert client.delete(base).json == {"cookies": []}
    assert "Cookie" not in dict(seen(visitor, echo)["headers"])


def test_request_summary_events_come_with_the_exchange(visitor, echo):
    reply = visitor.exchange(echo, "GET", "/hello?x=1")
    (event,) = reply["events"]
    assert (event["type"], event["method"], event["path"], event["query"], event["status"]) == (
        "request",
        "GET",
        "/hello",
        "x=1",
        200,
    )


def test_a_stopped_app_is_a_409(visitor, echo, client):
    client.put(f"/api/sandboxes/{echo['id']}", json={"files": {"app.py": "raise SystemExit(1)\n"}})
    response = visitor.send(echo, "GET", "/")
    assert response.status_code == 409 and response.json["error"]["code"] == "not_running"


def test_a_head_trickled_byte_by_byte_still_ends_at_the_deadline(visitor, app):
    sandbox = visitor.start("""from flask import Flask, request
import time
app = Flask(__name__)

@app.route("/")
def trickle():
    sock = request.environ["werkzeug.socket"]  # past Werkzeug, straight onto the wire
    sock.sendall(b"HTTP/1.1 200 OK\\r\\n")
    while True:
        sock.sendall(b"X-Drip: 1\\r\\n")
        time.sleep(0.4)
""")
    started = time.monotonic()
    response = visitor.send(sandbox, "GET", "/")
    assert response.status_code == 504 and response.json["error"]["code"] == "child_timeout"
    assert time.monotonic() - started < app.config["REQUEST_TIMEOUT"] + 2


def test_no_port_means_no_request():
    """A child that has just died has no port; None must never become port 80."""
    gone = types.SimpleNamespace(scheme="http", port=None, state="running")
    with pytest.raises(PlaygroundError) as refused:
        exchange.send_to(
            gone,
            Jar(),
            proxy.Request("GET", "/", [], None),
            False,
            {"REQUEST_TIMEOUT": 1, "MAX_BODY_BYTES": 10},
        )
    assert refused.value.status == 409


def test_what_the_app_writes_on_the_events_pipe_cannot_break_the_host(visitor, client):
    sandbox = visitor.start(
        """from flask import Flask
import os
app = Flask(__name__)
"""
        + EVENTS_FD
        + """
@app.route("/forge")
def forge():
    fd = events_fd()
    for junk in [b"[1, 2]", b"42", b"not json", b'{"type": "request", "kind": 1, "seq": -5}',
                 b'{"type": "exception", "error": "no dict"}', b'{"type": "ready", "routes": 7}',
                 b'{"type": "request", "' + b"x" * 300_000 + b'": 1}']:
        os.write(fd, junk + b"\\n")
    return "forged"

@app.route("/")
def home():
    return "still here"
"""
    )
    assert visitor.exchange(sandbox, "GET", "/forge")["body"] == "forged"
    assert visitor.exchange(sandbox, "GET", "/")["body"] == "still here"
    events = client.get(f"/api/sandboxes/{sandbox['id']}/events").json["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)) and all(s > 0 for s in seqs)
    assert all("kind" not in e for e in events)
    assert client.delete(f"/api/sandboxes/{sandbox['id']}").json["state"] == "stopped"


def test_a_cookie_the_proxy_could_not_send_is_refused(echo, client):
    response = client.put(f"/api/sandboxes/{echo['id']}/cookies", json={"name": "c", "value": "€"})
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_cookie"
