"""The WebSocket: a real client on a real server receives a sandbox's events as they happen."""

import base64
import json
import os
import socket
import struct
import urllib.request

import pytest
from simple_websocket import ConnectionClosed

from tests.servers import start_server, stop_server, wait_until
from tests.wsclient import Client

HELLO = (
    'from flask import Flask\napp = Flask(__name__)\n@app.route("/")\ndef home():\n'
    '    print("hello from the view")\n    return "hi"\n'
)


class Api:
    """The HTTP API of a live server, with the visitor cookie kept like a browser would."""

    def __init__(self, base):
        self.base = base
        self.cookie = None

    def call(self, method, path, payload=None):
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(payload).encode() if payload else None,
            headers={"Content-Type": "application/json"},
        )
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
        text = ws.receive(timeout=10)
        assert text is not None, f"no event within 10 s, after {events}"
        events.append(json.loads(text))
        if predicate(events[-1]):
            return events
    pytest.fail(f"no matching event among {events}")


def closed_by_server(ws) -> bool:
    """Whether the server has closed `ws`, once what it sent before is read."""
    try:
        ws.receive(timeout=0.1)
    except ConnectionClosed:
        return True
    return False


def test_websocket_streams_state_logs_and_requests(live_server):
    api = Api(live_server)
    sandbox = api.call("POST", "/api/sandboxes", {"files": {"app.py": HELLO}})
    ws = api.websocket(f"/ws/sandboxes/{sandbox['id']}")
    try:
        history = receive_until(ws, lambda e: e["type"] == "state" and e["state"] == "running")
        assert history[0]["type"] == "state" and history[0]["state"] == "starting"
        api.call("POST", f"/api/sandboxes/{sandbox['id']}/requests", {"method": "GET", "path": "/"})
        live = receive_until(
            ws, lambda e: e["type"] == "log" and '"GET / HTTP/1.1" 200' in e["line"]
        )
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
        wait_until(
            lambda: (
                json.loads(visitor.websocket("/ws/follow?presence=1").receive(timeout=10))["type"]
                == "live"
            ),
            10,
            "a closed socket to give its place back",
            interval=0.1,
        )
    finally:
        stop_server(proc)


def raw_websocket(api, path):
    """A WebSocket on a plain TCP socket, to see every byte the server sends; returns it once
    the 101 answer is read."""
    host, port = api.base.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    conn.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Cookie: {api.cookie}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        byte = conn.recv(1)
        assert byte, f"the server closed the connection within its answer's head: {head!r}"
        head += byte
    assert head.startswith(b"HTTP/1.1 101"), head
    return conn


def read_to_eof(conn) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def frames(data: bytes) -> list:
    """(opcode, payload) of each unmasked server frame; fails on bytes that are not a frame."""
    found = []
    while data:
        length, start = data[1] & 0x7F, 2
        if length == 126:
            length, start = struct.unpack("!H", data[2:4])[0], 4
        assert data[1] & 0x80 == 0 and length != 127 and len(data) >= start + length, data[:80]
        found.append((data[0] & 0x0F, data[start : start + length]))
        data = data[start + length :]
    return found


@pytest.mark.parametrize("closer", ["client", "server"])
def test_a_socket_ends_with_its_close_frame_and_nothing_after(live_server, closer):
    """Chrome logs "Invalid frame header" for any byte after the close frame (flask-sock under
    Werkzeug wrote an HTTP answer there): whoever closes, the close frame is the last thing
    sent, then the TCP connection closes."""
    api = Api(live_server)
    sandbox = api.call("POST", "/api/sandboxes", {"files": {"app.py": HELLO}})
    conn = raw_websocket(api, f"/ws/sandboxes/{sandbox['id']}")
    if closer == "client":
        mask, code = os.urandom(4), struct.pack("!H", 1000)
        conn.sendall(
            bytes([0x88, 0x80 | len(code)])
            + mask
            + bytes(b ^ mask[i % 4] for i, b in enumerate(code))
        )
    else:
        api.call("DELETE", f"/api/sandboxes/{sandbox['id']}")
    sent = frames(read_to_eof(conn))
    conn.close()
    assert sent[-1][0] == 0x8 and sent[-1][1][:2] == struct.pack("!H", 1000), sent[-3:]
    assert [op for op, _ in sent[:-1]] == [0x1] * (len(sent) - 1)  # text frames before it
    if closer == "client":
        api.call("DELETE", f"/api/sandboxes/{sandbox['id']}")
