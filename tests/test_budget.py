"""The host's budget (docs/security.md): what a visitor or a child sends may cost the host only
a bounded amount of memory, CPU time and threads, and a child past a bound is stopped with the
limit named. Hostile snippets run only once the attack suite's probe has proved the sandbox
isolated (the `attacker` fixture)."""

import json
import socket
import threading
import time
import urllib.request
from email.message import Message

import pytest
from simple_websocket import ConnectionClosed

from playground import cookies
from playground.services import services_of
from playground.serving import BoundedServer
from playground.sockets import cookieless
from playground.visitors import COOKIE
from tests.servers import start_server, stop_server
from tests.test_attacks import app, attacker, isolated, route  # noqa: F401 - fixtures
from tests.test_cookies import compressed
from tests.test_sandbox import EVENTS_FD
from tests.wsclient import Client


def session_bomb(inflated: int) -> str:
    """A value shaped like a compressed Flask session whose payload inflates to `inflated` bytes
    of nested JSON."""
    return compressed(b'{"a":' + b"[" * (inflated // 2) + b"]" * (inflated // 2) + b"}")


def test_session_cookie_bombs_cost_a_bounded_amount(attacker, app):
    bomb = session_bomb(1 << 20)  # 1 MB of nesting in about a kilobyte
    assert len(bomb) < cookies.MAX_COOKIE_BYTES
    sandbox = attacker.start(
        route(
            "from flask import make_response\nresponse = make_response('set')\n"
            f"for i in range(20):\n    response.set_cookie(f'bomb{{i}}', {bomb!r})\n"
            "return response"
        )
    )
    started = time.monotonic()
    reply = attacker.exchange(sandbox, "GET", "/attack")
    jar = attacker.client.get(f"/api/sandboxes/{sandbox['id']}/cookies")
    assert time.monotonic() - started < 10  # not a timing: 20 decoded bombs took minutes
    assert len(reply["cookies"]) == 20 and all(c["flask_session"] is None for c in reply["cookies"])
    assert len(jar.data) < 64 * 1024  # the values, not megabytes of decoded JSON


NESTED_EVENTS = EVENTS_FD + route("""
import json, os
fd = events_fd()
line = b'{"type": "request", "trace": ' + b"[" * 60_000 + b"]" * 60_000 + b"}\\n"
for _ in range(COUNT):
    os.write(fd, line)
return "written"
""")


def test_events_are_kept_as_text_and_counted_as_such(attacker, app):
    """Nested JSON once grew the host by 170 MB a sandbox: now each event is its text."""
    sandbox = attacker.start(NESTED_EVENTS.replace("COUNT", "8"))
    assert attacker.exchange(sandbox, "GET", "/attack")["body"] == "written"
    held = next(s for s in services_of(app).sandboxes.all() if s.id == sandbox["id"])
    assert held.events.size <= app.config["LOG_BYTES"]
    assert all(isinstance(f.text, str) for f in held.events.after(0))


def test_a_child_flooding_its_events_pipe_is_stopped_with_the_limit_named(attacker, app):
    sandbox = attacker.start(NESTED_EVENTS.replace("COUNT", "1000"))
    attacker.send(sandbox, "GET", "/attack")  # it never gets to answer
    state = attacker.wait_for_state(sandbox, "failed", timeout=20)
    assert state["error"]["limit"] == "LIMIT_EVENT_BYTES_PER_SECOND"


@pytest.fixture
def small_server():
    """A real server whose sockets may take 4 of its 16 threads."""
    proc, url = start_server(
        env={
            "PLAYGROUND_MAX_SOCKETS": "4",
            "PLAYGROUND_HOST_THREADS": "16",
            "PLAYGROUND_MAX_SOCKETS_PER_VISITOR": "2",
            "PLAYGROUND_BODY_TIMEOUT": "1",
        }
    )
    try:
        yield url
    finally:
        stop_server(proc)


def visitor_cookie(url: str) -> str:
    with urllib.request.urlopen(url + "/", timeout=10) as page:
        return page.headers["Set-Cookie"].split(";", 1)[0]


def socket_to(url: str, cookie: str | None) -> Client:
    headers = {"Cookie": cookie} if cookie else {}
    return Client.connect(url.replace("http", "ws", 1) + "/ws/follow?presence=1", headers=headers)


def test_a_socket_needs_a_visitor_the_page_has_met(small_server):
    ws = socket_to(small_server, None)
    with pytest.raises(ConnectionClosed):
        ws.receive(timeout=10)
    assert ws.close_reason == 1008


def head(fields: dict) -> Message:
    message = Message()
    for name, value in fields.items():
        message[name] = value
    return message


def test_a_cookieless_socket_is_answered_by_its_head_alone():
    """sockets.cookieless, which python -m playground's server asks before any WSGI work; what
    it leaves goes on to Flask, which refuses it the slower way or lets it in."""
    settings = {"TRUSTED_PROXIES": 0, "ALLOWED_HOSTS": ["127.0.0.1:5000"]}
    opening = {
        "Host": "127.0.0.1:5000",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    answer = cookieless(head(opening), settings)
    assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in answer  # RFC 6455's
    assert answer.endswith(b"\r\n\r\n\x88\x11\x03\xf0unknown_visitor")  # close, 1008
    assert cookieless(head({**opening, "Cookie": f"{COOKIE}=forged"}), settings) is None
    assert cookieless(head({**opening, "Host": "evil.example:5000"}), settings) is None  # 400
    assert cookieless(head({**opening, "Upgrade": "h2c"}), settings) is None
    assert cookieless(head(opening), {**settings, "TRUSTED_PROXIES": 1}) is None
    # The worst a head can bring (http.server reads lines of at most 64 KB): one pass each.
    crumbs = "; ".join(f"c{n}=v" for n in range(6000))
    assert cookieless(head({**opening, "Cookie": crumbs}), settings) == answer
    assert cookieless(head({**opening, "Host": "h" * 65_000}), settings) is None
    assert cookieless(head({**opening, "Sec-WebSocket-Key": "k" * 65_000}), settings)


def test_a_refused_socket_without_a_connection_to_close_is_a_plain_403(client):
    """Under a server that hands the app no connection (here Flask's test client), the refusal
    is an ordinary answer, not a 500."""
    response = client.get(
        "/ws/follow?presence=1",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert response.status_code == 403 and response.json["error"]["code"] == "unknown_visitor"


def test_sockets_take_only_their_share_of_the_host_threads(small_server):
    held = [socket_to(small_server, visitor_cookie(small_server)) for _ in range(4)]
    try:
        for ws in held:
            assert json.loads(ws.receive(timeout=10))["type"] == "live"
        refused = socket_to(small_server, visitor_cookie(small_server))
        frame = json.loads(refused.receive(timeout=10))
        assert frame["type"] == "error" and frame["code"] == "too_many_sockets"
        with urllib.request.urlopen(small_server + "/", timeout=10) as page:
            assert page.status == 200  # the page and the API still have threads
    finally:
        for ws in held:
            ws.close()


def test_a_trickled_body_gets_a_clear_408(small_server):
    port = int(small_server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/sandboxes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408")


def test_slow_heads_are_cut_at_their_deadline():
    served = threading.Event()

    def app(environ, start_response):
        served.set()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = BoundedServer("127.0.0.1", 0, app, threads=2, header_timeout=1.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slow = []
    try:
        for _ in range(2):  # every thread taken by a client that never finishes its head
            conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            conn.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
            slow.append(conn)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=10) as answer:
            assert answer.read() == b"ok"
        assert [conn.recv(1) for conn in slow] == [b"", b""]  # cut, not served
    finally:
        for conn in slow:
            conn.close()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def patient_app():
    """CPU seconds enough that only the runaway check can stop a spinning route."""
    from playground import create_app

    patient = create_app({"TESTING": True, "REQUEST_TIMEOUT": 1.5, "LIMIT_CPU_SECONDS": 600})
    yield patient
    services_of(patient).sandboxes.shutdown()


def test_a_route_spinning_after_its_504_is_stopped_with_the_route_named(attacker, patient_app):
    from tests.conftest import Visitor

    visitor = Visitor(patient_app.test_client())
    sandbox = visitor.start(route("while True:\n    pass"))
    assert visitor.send(sandbox, "GET", "/attack").status_code == 504
    state = visitor.wait_for_state(sandbox, "failed", timeout=20)
    assert state["error"]["limit"] == "REQUEST_TIMEOUT"
    assert state["error"]["message"] == (
        "GET /attack spun the CPU for 1.5 s without answering: stopped (REQUEST_TIMEOUT)."
    )


def test_a_route_that_sleeps_past_its_504_is_left_alone(attacker, patient_app):
    from tests.conftest import Visitor

    visitor = Visitor(patient_app.test_client())
    sandbox = visitor.start(route("import time\ntime.sleep(30)\nreturn 'late'"))
    assert visitor.send(sandbox, "GET", "/attack").status_code == 504
    time.sleep(2)  # longer than the runaway check
    assert visitor.client.get(f"/api/sandboxes/{sandbox['id']}").json["state"] == "running"
    assert visitor.exchange(sandbox)["body"] == "hi"
