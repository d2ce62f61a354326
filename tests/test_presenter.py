"""Presenter mode on a real server: the token, the broadcast to followers over real WebSockets,
and followers' own requests to the presenter's app (their own cookie jar, a rate limit)."""

import json
import urllib.error
from pathlib import Path

import pytest
from simple_websocket import ConnectionClosed

from playground import create_app
from playground.room import latest
from playground.sandbox.events import Frame
from playground.services import services_of
from tests.servers import start_server, stop_server, wait_until
from tests.test_live import Api, closed_by_server, receive_until

TOKEN = "presenter-token-for-tests"
SESSIONS = (Path(__file__).parent.parent / "snippets/14-sessions/app.py").read_text("utf-8")
BURST = 4


@pytest.fixture(scope="module")
def server():
    proc, url = start_server(
        env={
            "PLAYGROUND_PRESENTER_TOKEN": TOKEN,
            "PLAYGROUND_FOLLOWER_REQUEST_BURST": str(BURST),
            "PLAYGROUND_FOLLOWER_REQUESTS_PER_MINUTE": "1",
        }
    )
    try:
        yield url
    finally:
        stop_server(proc)


def status_of(api, method, path, payload=None):
    """(status, JSON) whatever the status."""
    try:
        return 200, api.call(method, path, payload)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def presenter(server):
    api = Api(server)
    assert api.call("POST", "/api/presenter", {"token": TOKEN})["presenting"] is True
    yield api
    status_of(api, "DELETE", "/api/presenter")


def test_only_the_token_makes_a_presenter(server):
    stranger = Api(server)
    status, answer = status_of(stranger, "POST", "/api/presenter", {"token": "guess"})
    assert status == 403 and answer["error"]["code"] == "bad_token"
    assert stranger.call("GET", "/api/presenter")["presenting"] is False
    ws = stranger.websocket("/ws/present")
    with pytest.raises(ConnectionClosed):
        ws.receive(timeout=5)
    assert ws.close_reason == 1008


def test_guessing_the_token_is_rate_limited_per_visitor_and_for_everyone():
    app = create_app(
        {
            "TESTING": True,
            "PRESENTER_TOKEN": TOKEN,
            "RATE_PRESENTER_TRY_BURST": 3,
            "RATE_ALL_PRESENTER_TRY_BURST": 5,
        }
    )
    try:
        guesser = app.test_client()
        codes = [
            guesser.post("/api/presenter", json={"token": f"guess {n}"}).status_code
            for n in range(3)
        ]
        refused = guesser.post("/api/presenter", json={"token": TOKEN})  # even the right one
        assert codes == [403] * 3 and refused.status_code == 429
        error = refused.json["error"]
        assert "tries of the presenter token" in error["message"] and error["retry_after"] >= 1
        # A script that drops its cookie is a new visitor each time; all of them share a limit.
        codes = [
            app.test_client().post("/api/presenter", json={"token": "guess"}).status_code
            for _ in range(3)
        ]
        assert codes == [403, 403, 429]
        error = app.test_client().post("/api/presenter", json={"token": TOKEN}).json["error"]
        assert error["code"] == "rate_limited" and "all visitors together" in error["message"]
        assert "Try again in" in error["message"]
    finally:
        services_of(app).sandboxes.shutdown()


def test_only_the_presenter_stops_presenting(presenter, server):
    follower = Api(server)
    assert follower.call("GET", "/api/presenter")["live"] is True
    status, answer = status_of(follower, "DELETE", "/api/presenter")
    assert status == 403 and answer["error"]["code"] == "not_presenter"


def test_followers_see_typing_runs_and_exchanges(presenter, server):
    follower, watcher = Api(server), Api(server)
    follower.call("GET", "/api/snippets")
    watcher.call("GET", "/api/snippets")  # sockets are for visitors the page has met
    ws = follower.websocket("/ws/follow")
    badge = watcher.websocket("/ws/follow?presence=1")
    up = presenter.websocket("/ws/present")
    try:
        first = json.loads(ws.receive(timeout=10))
        assert first["type"] == "snapshot" and first["live"] is True
        assert json.loads(badge.receive(timeout=10))["live"] is True
        up.send(
            json.dumps(
                {
                    "type": "open",
                    "slug": "sessions",
                    "title": "Sessions",
                    "files": {"app.py": SESSIONS},
                    "path": "app.py",
                }
            )
        )
        for n in range(1, 4):
            up.send(
                json.dumps(
                    {
                        "type": "edit",
                        "path": "app.py",
                        "text": SESSIONS + "#" * n,
                        "cursor": [len(SESSIONS) + n] * 2,
                        "scroll": {"top": n},
                    }
                )
            )
        edits = receive_until(ws, lambda e: e["type"] == "edit" and e["text"].endswith("###"))
        assert edits[0]["type"] == "open" and edits[0]["title"] == "Sessions"
        # In order; keystrokes a follower is behind on may be skipped for a later one.
        typed = [e["text"][len(SESSIONS) :] for e in edits[1:]]
        assert typed == sorted(typed) and set(typed) <= {"#", "##", "###"}
        assert edits[-1]["cursor"] == [len(SESSIONS) + 3] * 2 and edits[-1]["scroll"]["top"] == 3

        sandbox = presenter.call("POST", "/api/sandboxes", {"files": {"app.py": SESSIONS}})
        run = receive_until(ws, lambda e: e["type"] == "run")[-1]
        assert run["state"] == "running" and "id" not in run
        presenter.call(
            "POST", f"/api/sandboxes/{sandbox['id']}/requests", {"method": "GET", "path": "/"}
        )
        exchange = receive_until(ws, lambda e: e["type"] == "exchange")[-1]
        assert exchange["request"]["path"] == "/" and exchange["response"]["body"] == "1"

        # A latecomer starts from a snapshot holding all of it.
        late = follower.websocket("/ws/follow")
        snapshot = json.loads(late.receive(timeout=10))
        late.close()
        assert snapshot["files"]["app.py"].endswith("###") and snapshot["slug"] == "sessions"
        assert snapshot["run"]["state"] == "running"
        assert snapshot["exchange"]["response"]["body"] == "1"
        # The presence badge heard nothing of the typing.
        assert badge.receive(timeout=0.5) is None
    finally:
        for socket in (ws, badge, up):
            socket.close()


def test_presenter_messages_are_checked(presenter):
    up = presenter.websocket("/ws/present")
    try:
        up.send("not json")
        assert json.loads(up.receive(timeout=10))["code"] == "bad_json"
        up.send(json.dumps({"type": "edit", "path": "nowhere.py", "text": "", "cursor": [0, 0]}))
        assert json.loads(up.receive(timeout=10))["code"] == "bad_path"
        up.send(json.dumps({"type": "open", "files": {"../x": "y"}}))
        assert json.loads(up.receive(timeout=10))["code"] == "bad_path"
        up.send(json.dumps({"type": "view", "path": "app.py", "scroll": {"top": "far"}}))
        assert json.loads(up.receive(timeout=10))["code"] == "bad_message"
        up.send(json.dumps({"type": "run"}))  # runs go through the API, never a message
        assert json.loads(up.receive(timeout=10))["code"] == "bad_message"
    finally:
        up.close()


def test_the_app_field_goes_out_with_the_files_and_never_holds_them_back(presenter, server):
    follower = Api(server)
    follower.call("GET", "/api/snippets")
    ws = follower.websocket("/ws/follow")
    up = presenter.websocket("/ws/present")
    try:
        json.loads(ws.receive(timeout=10))  # the snapshot
        for app in ("app:app", "half typed("):
            files = {"app.py": SESSIONS + f"# {app}"}
            up.send(json.dumps({"type": "open", "slug": "sessions", "files": files, "app": app}))
            opened = receive_until(ws, lambda e: e["type"] == "open")[-1]
            assert opened["files"] == files
            assert opened["app"] == (app if app == "app:app" else None)
    finally:
        for socket in (ws, up):
            socket.close()


def test_each_follower_has_their_own_cookie_jar_and_a_rate_limit(presenter, server):
    sandbox = presenter.call("POST", "/api/sandboxes", {"files": {"app.py": SESSIONS}})
    ask = {"method": "GET", "path": "/"}
    assert presenter.call("POST", f"/api/sandboxes/{sandbox['id']}/requests", ask)["body"] == "1"
    alice, bob = Api(server), Api(server)
    alice.call("GET", "/api/snippets")
    bob.call("GET", "/api/snippets")
    counts = [alice.call("POST", "/api/presenter/requests", ask)["body"] for _ in range(3)]
    assert counts == ["1", "2", "3"]
    assert bob.call("POST", "/api/presenter/requests", ask)["body"] == "1"
    # The presenter's own session went on counting on its own.
    assert presenter.call("POST", f"/api/sandboxes/{sandbox['id']}/requests", ask)["body"] == "2"

    alice.call("POST", "/api/presenter/requests", ask)  # the last of her burst
    status, answer = status_of(alice, "POST", "/api/presenter/requests", ask)
    assert status == 429 and answer["error"]["code"] == "rate_limited"
    assert bob.call("POST", "/api/presenter/requests", ask)["body"] == "2"

    # Followers reach the app, never the code: the sandbox itself is the presenter's alone.
    status, _ = status_of(
        bob, "PUT", f"/api/sandboxes/{sandbox['id']}", {"files": {"app.py": "import os"}}
    )
    assert status == 404
    presenter.call("DELETE", f"/api/sandboxes/{sandbox['id']}")
    status, answer = status_of(bob, "POST", "/api/presenter/requests", ask)
    assert status == 409 and answer["error"]["code"] == "presenter_not_running"


def test_presenting_again_shows_the_app_that_is_running(presenter, server):
    """Stopping and starting presenting (or presenting from a new tab) keeps the app on show."""
    sandbox = presenter.call("POST", "/api/sandboxes", {"files": {"app.py": SESSIONS}})
    presenter.call("DELETE", "/api/presenter")
    presenter.call("POST", "/api/presenter", {"token": TOKEN})
    follower = Api(server)
    ask = {"method": "GET", "path": "/"}
    assert follower.call("POST", "/api/presenter/requests", ask)["body"] == "1"
    presenter.call("DELETE", f"/api/sandboxes/{sandbox['id']}")


@pytest.mark.parametrize(
    "frames, kept",
    [
        ([(1, "edit", "a", ""), (2, "edit", "a", ""), (3, "edit", "a", "")], [3]),
        ([(1, "edit", "a", ""), (2, "edit", "b", ""), (3, "edit", "a", "")], [2, 3]),
        ([(1, "view", "a", ""), (2, "view", "a", ""), (3, "run", None, "")], [2, 3]),
        ([(1, "view", "a", ""), (2, "edit", "b", ""), (3, "exchange", None, "")], [2, 3]),
        ([(1, "edit", "a", ""), (2, "open", None, ""), (3, "edit", "a", "")], [2, 3]),
        ([(1, "edit", "a", ""), (2, "view", "a", "")], [1, 2]),
    ],
)
def test_a_follower_behind_gets_only_the_latest_keystrokes(frames, kept):
    assert [frame.seq for frame in latest([Frame(*f) for f in frames])] == kept


def test_followers_read_the_presenters_live_log(presenter, server):
    follower = Api(server)
    follower.call("GET", "/api/snippets")
    sandbox = presenter.call("POST", "/api/sandboxes", {"files": {"app.py": SESSIONS}})
    log = follower.websocket("/ws/follow/log")
    try:
        presenter.call(
            "POST", f"/api/sandboxes/{sandbox['id']}/requests", {"method": "GET", "path": "/"}
        )
        seen = receive_until(
            log, lambda e: e["type"] == "log" and '"GET / HTTP/1.1" 200' in e["line"]
        )
        assert seen[0]["type"] == "state"  # from the start of the app's log
        presenter.call("DELETE", f"/api/sandboxes/{sandbox['id']}")
        wait_until(lambda: closed_by_server(log), 10, "the app's stop to close its log")
    finally:
        if log.connected:
            log.close()


def test_followers_see_the_presenters_exchanges_not_the_previews_assets(presenter, server):
    follower = Api(server)
    follower.call("GET", "/api/snippets")
    ws = follower.websocket("/ws/follow")
    try:
        json.loads(ws.receive(timeout=10))  # the snapshot
        sandbox = presenter.call("POST", "/api/sandboxes", {"files": {"app.py": SESSIONS}})
        run = receive_until(ws, lambda e: e["type"] == "run")[-1]
        assert "url" not in run and sandbox["url"] not in json.dumps(run)  # the app's key
        ask = {"method": "GET", "headers": {}, "body": None}
        presenter.call(
            "POST",
            f"/api/sandboxes/{sandbox['id']}/requests",
            {**ask, "path": "/static/style.css", "preview": True},
        )
        presenter.call("POST", f"/api/sandboxes/{sandbox['id']}/requests", {**ask, "path": "/"})
        shown = receive_until(ws, lambda e: e["type"] == "exchange")
        assert [e["request"]["path"] for e in shown if e["type"] == "exchange"] == ["/"]
    finally:
        ws.close()
