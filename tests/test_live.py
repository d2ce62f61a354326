"""The WebSocket: a real client on a real server receives a sandbox's events as they happen."""

import json
import time
import urllib.request

import pytest
from simple_websocket import ConnectionClosed

from tests.servers import start_server, stop_server
from tests.wsclient import Client

HELLO = ('from flask import Flask\napp = Flask(__name__)\n@app.route("/")\ndef home():\n'
         '    print("hello from the view")\n    return "hi"\n')


class Api:
    """The HTTP API of a live server, with the visitor cookie kept like a browser would."""

    def __init__(self, base):
        self.base = base
        self.cookie = None

    def call(self, method, path, payload=None):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=json.dumps(payload).encode() if payload else None,
                                         headers={"Content-Type": "application/json"})
        if self.cookie:
            request.add_header("Cookie", self.cookie)
        with urllib.request.urlopen(request, timeout=30) as response:
            cookie = response.headers.get("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0]
            return json.load(response)

    def websocket(self, path, **headers):
        if self.cookie:
            headers["Cookie"] = self.cookie
        return Client.connect(self.base.replace("http", "ws", 1) + path, headers=headers)


def receive_until(ws, predicate, limit=200):
    events = []
    for _ in range(limit):
        event = json.loads(ws.receive(timeout=10))
        events.append(event)
        if predicate(event):
            return events
    pytest.fail(f"no matching event among {events}")


def test_websocket_streams_state_logs_and_requests(live_server):
    api = Api(live_server)
    sandbox = api.call("POST", "/api/sandboxes", {"files": {"app.py": HELLO}})
    ws = api.websocket(f"/ws/sandboxes/{sandbox['id']}")
    try:
        history = receive_until(ws, lambda e: e["type"] == "state" and e["state"] == "running")
        assert history[0]["type"] == "state" and history[0]["state"] == "starting"
        api.call("POST", f"/api/sandboxes/{sandbox['id']}/requests", {"method": "GET", "path": "/"})
        live = receive_until(ws, lambda e: e["type"] == "log" and '"GET / HTTP/1.1" 200' in e["line"])
        assert any(e["type"] == "request" and e["path"] == "/" and e["status"] == 200 for e in live)
        assert any(e["type"] == "log" and e["line"] == "hello from the view" for e in live)
        seqs = [e["seq"] for e in history + live]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        api.call("DELETE", f"/api/sandboxes/{sandbox['id']}")
        receive_until(ws, lambda e: e["type"] == "state" and e["state"] == "stopped")
    finally:
        ws.close()


def test_websocket_of_someone_elses_sandbox_is_refused(live_server):
    owner, stranger = Api(live_server), Api(live_server)
    sandbox = owner.call("POST", "/api/sandboxes", {"files": {"app.py": HELLO}})
    stranger.call("GET", "/api/snippets")  # a visitor cookie of their own
    ws = stranger.websocket(f"/ws/sandboxes/{sandbox['id']}")
    try:
        event = json.loads(ws.receive(timeout=10))
        assert event["type"] == "error" and event["code"] == "no_such_sandbox"
        with pytest.raises(ConnectionClosed):
            ws.receive(timeout=10)
        assert ws.close_reason == 1008
    finally:
        owner.call("DELETE", f"/api/sandboxes/{sandbox['id']}")


def test_one_visitor_cannot_hold_every_host_thread_with_websockets():
    proc, url = start_server(env={"PLAYGROUND_MAX_SOCKETS_PER_VISITOR": "2"})
    try:
        visitor = Api(url)
        visitor.call("GET", "/api/presenter")  # their visitor cookie
        assert visitor.cookie
        held = [visitor.websocket("/ws/follow?presence=1") for _ in range(2)]
        for ws in held:
            assert json.loads(ws.receive(timeout=10))["type"] == "live"
        third = visitor.websocket("/ws/follow?presence=1")
        event = json.loads(third.receive(timeout=10))
        assert event["type"] == "error" and event["code"] == "too_many_sockets"
        held.pop().close()  # one closed: a place is free again
        for _ in range(50):
            again = visitor.websocket("/ws/follow?presence=1")
            if json.loads(again.receive(timeout=10))["type"] == "live":
                break
            time.sleep(0.1)
        else:
            pytest.fail("a closed socket never gave its place back")
    finally:
        stop_server(proc)
