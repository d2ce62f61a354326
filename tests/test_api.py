"""The API's own rules: owners, Origin, JSON, caps and validation."""

import pytest

from tests.servers import wait_until

HELLO = 'from flask import Flask\napp = Flask(__name__)\n@app.route("/")\ndef home():\n    return "hi"\n'


def test_visitors_cannot_see_each_others_sandboxes(visitor, make_client):
    sandbox = visitor.start(HELLO)
    stranger = make_client()
    base = f"/api/sandboxes/{sandbox['id']}"
    assert stranger.get(base).status_code == 404
    assert stranger.post(f"{base}/requests", json={"method": "GET", "path": "/"}).status_code == 404
    assert stranger.get(f"{base}/events").status_code == 404
    assert stranger.get(f"{base}/cookies").status_code == 404
    assert stranger.delete(base).status_code == 404
    assert stranger.put(base, json={"files": {"app.py": HELLO}}).status_code == 404
    assert visitor.client.get(base).json["state"] == "running"


def test_visitor_cookie_is_signed_and_not_named_session(client):
    response = client.post("/api/sandboxes", json={"files": {"app.py": HELLO}})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("playground_visitor=") and "HttpOnly" in cookie
    forged = client.application.test_client()
    forged.set_cookie("playground_visitor", "someone-else")
    assert forged.get(f"/api/sandboxes/{response.json['id']}").status_code == 404


def test_cross_origin_calls_are_refused(client):
    response = client.post(
        "/api/sandboxes",
        json={"files": {"app.py": HELLO}},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403 and response.json["error"]["code"] == "cross_origin"
    same = client.post(
        "/api/sandboxes", json={"files": {"app.py": HELLO}}, headers={"Origin": "http://localhost"}
    )
    assert same.status_code == 201


def test_json_is_required(client):
    response = client.post(
        "/api/sandboxes", data="files=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    response = client.post("/api/sandboxes", data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_json"


@pytest.mark.parametrize(
    "files, code",
    [
        ({}, "bad_files"),
        ([], "bad_files"),
        ({"app.py": HELLO, "../escape.py": "x"}, "bad_path"),
        ({"app.py": HELLO, "/etc/passwd": "x"}, "bad_path"),
        ({"app.py": HELLO, "a/./b.py": "x"}, "bad_path"),
        ({"app.py": 3}, "bad_files"),
        ({"app.py": "x" * 300_000}, "file_too_large"),
        ({"app.py": HELLO, **{f"f{i}.txt": "" for i in range(60)}}, "too_many_files"),
    ],
)
def test_bad_files_get_a_clear_4xx(client, files, code):
    response = client.post("/api/sandboxes", json={"files": files})
    assert 400 <= response.status_code < 500 and response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_per_visitor_cap(visitor, app):
    for _ in range(app.config["MAX_SANDBOXES_PER_VISITOR"]):
        visitor.start(HELLO)
    response = visitor.client.post("/api/sandboxes", json={"files": {"app.py": HELLO}})
    assert response.status_code == 429 and response.json["error"]["code"] == "too_many_sandboxes"


def test_unknown_things_are_json_404s(client):
    assert client.get("/api/sandboxes/nope").json["error"]["code"] == "no_such_sandbox"
    assert client.get("/api/snippets/nope").status_code == 404
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_events_are_readable_after_the_fact(visitor):
    sandbox = visitor.start(
        HELLO.replace('return "hi"', 'print("\\x1b[1mprinted!\\x1b[0m")\n    return "hi"')
    )  # colours go
    visitor.exchange(sandbox)

    def printed() -> list | None:
        events = visitor.client.get(f"/api/sandboxes/{sandbox['id']}/events").json["events"]
        lines = [e["line"] for e in events if e["type"] == "log"]
        if "printed!" in lines and any('"GET / HTTP/1.1" 200' in line for line in lines):
            return events
        return None

    # Output lines arrive on their own pipe, a moment later.
    events = wait_until(printed, 10, "the view's print and its request line in the events")
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["state", "state"] and "request" in kinds
    later = visitor.client.get(f"/api/sandboxes/{sandbox['id']}/events?after={events[-2]['seq']}")
    assert later.json["events"] == events[-1:]
