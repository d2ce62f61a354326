"""The host protects itself and its visitors: headers, no debugger, origins, rate limits, caps,
and a shutdown or restart that leaves nothing behind."""

import base64
import json
import math
import os
import re
import secrets
import signal
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from simple_websocket import ConnectionClosed

from playground import create_app, hosts
from playground.services import services_of
from playground.serving import BoundedServer
from playground.visitors import COOKIE
from tests.conftest import Visitor
from tests.servers import sandbox_processes, start_server, stop_server, wait_until
from tests.test_sandbox import HELLO, host_uids
from tests.wsclient import Client


@pytest.fixture
def make_app():
    """Hosts with settings of a test's own, all shut down afterwards."""
    made = []

    def make(**config):
        app = create_app({"TESTING": True, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        services_of(app).sandboxes.shutdown()


def test_host_pages_have_a_content_security_policy(client):
    page = client.get("/")
    policy = page.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "connect-src 'self'",
    ):
        assert directive in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    api = client.get("/api/snippets")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_debug_mode_is_refused(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="debug mode"):
        create_app({"TESTING": True})


def test_the_werkzeug_debugger_is_not_on_the_host(client):
    assert client.get("/console").status_code == 404
    assert client.get("/?__debugger__=yes&cmd=resource&f=style.css").data.find(b"Werkzeug") == -1


def test_websocket_from_another_site_is_refused(live_server):
    ws = Client.connect(
        live_server.replace("http", "ws", 1) + "/ws/sandboxes/anything",
        headers={"Origin": "http://evil.example"},
    )
    with pytest.raises(ConnectionClosed):
        ws.receive(timeout=10)
    assert ws.close_reason == 1008


# 256 sandboxes: their ids and tokens hold enough bytes to count how often each value comes.
SAMPLE_VISITORS, SAMPLE_RUNS = 8, 32
ID_BYTES, TOKEN_BYTES = 12, 16  # 96 and 128 random bits
# A chi-square of 256 byte counts (255 degrees of freedom) passes this by chance about once in
# three million samples; a skewed generator passes it by far.
CHI_SQUARE_BOUND = 385


def secret_bytes(text: str, size: int) -> bytes:
    """`text` read as base64url of `size` bytes without padding (secrets.token_urlsafe's form);
    fails on anything else."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+", text), text
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert len(data) == size and base64.urlsafe_b64encode(data).rstrip(b"=").decode() == text
    return data


def token_of(sandbox: dict) -> bytes:
    """The secret in a sandbox's address through the host, `.../apps/<token>/`."""
    return secret_bytes(sandbox["url"].rstrip("/").rsplit("/", 1)[1], TOKEN_BYTES)


def assert_random(runs: list[list[bytes]], what: str) -> None:
    """Fail unless the secrets of `runs` (each visitor's, in the order they were made) look
    uniformly random: none repeats; none is near the one made before it, as a counter's or a
    clock's would be; no bit is fixed for a visitor; every bit is set in about half; every
    byte value comes about equally often."""
    flat = [secret for run in runs for secret in run]
    bits = len(flat[0]) * 8
    assert len(set(flat)) == len(flat), f"a {what} came twice"
    for run in runs:
        numbers = [int.from_bytes(secret, "big") for secret in run]
        near = [
            (a, b)
            for a, b in zip(numbers, numbers[1:], strict=False)
            if abs(a - b) < 1 << (bits - 32)
        ]
        assert not near, f"{what}s made one after the other are close: {near}"
        fixed = [bit for bit in range(bits) if len({n >> bit & 1 for n in numbers}) == 1]
        assert not fixed, f"bits {fixed} are the same in all {what}s of one visitor"
    numbers = [int.from_bytes(secret, "big") for secret in flat]
    for bit in range(bits):
        ones = sum(n >> bit & 1 for n in numbers)
        assert abs(ones - len(flat) / 2) <= 3 * math.sqrt(len(flat)), (  # six deviations
            f"bit {bit} is set in {ones} of {len(flat)} {what}s"
        )
    counts = Counter(b"".join(flat))
    expected = len(flat) * len(flat[0]) / 256
    chi_square = sum((counts[value] - expected) ** 2 / expected for value in range(256))
    assert chi_square < CHI_SQUARE_BOUND, f"the bytes of {what}s are skewed: {counts}"


def test_sandbox_ids_cannot_be_guessed(make_app):
    """Ids carry 96 random bits and the gateway tokens in `url` 128 (secrets.token_urlsafe):
    many made at once by several visitors look like bytes from a CSPRNG, not a counter, the
    clock or the owner; the same visitor on a second host gets other ones."""
    secret_key = secrets.token_hex(32)
    app = make_app(SECRET_KEY=secret_key, RATE_RUN_BURST=SAMPLE_RUNS)

    def runs(visitor) -> list[dict]:
        made = []
        for _ in range(SAMPLE_RUNS):  # fails at once (no app in it), but is a sandbox all the same
            answer = visitor.post("/api/sandboxes", json={"files": {"app.py": "x = 1\n"}})
            assert answer.status_code == 201, answer.json
            assert visitor.delete(f"/api/sandboxes/{answer.json['id']}").status_code == 200
            made.append(answer.json)
        return made

    visitors = [app.test_client() for _ in range(SAMPLE_VISITORS)]
    with ThreadPoolExecutor(SAMPLE_VISITORS) as pool:
        made = list(pool.map(runs, visitors))
    ids = [[secret_bytes(s["id"], ID_BYTES) for s in run] for run in made]
    tokens = [[token_of(s) for s in run] for run in made]
    assert_random(ids, "sandbox id")
    assert_random(tokens, "gateway token")
    assert set(b"".join(s for run in ids + tokens for s in run)) == set(range(256))

    # The same visitor on a second host, started a moment later: nothing repeats.
    again = make_app(SECRET_KEY=secret_key).test_client()
    cookie = visitors[0].get_cookie(COOKIE).value
    again.set_cookie(COOKIE, cookie)
    answer = again.post("/api/sandboxes", json={"files": {"app.py": "x = 1\n"}})
    assert answer.status_code == 201 and again.get_cookie(COOKIE).value == cookie  # the same one
    assert secret_bytes(answer.json["id"], ID_BYTES) not in {s for run in ids for s in run}
    assert token_of(answer.json) not in {s for run in tokens for s in run}


def test_runs_are_rate_limited_per_visitor(make_app):
    app = make_app(RATE_RUN_BURST=2, RATE_RUNS_PER_MINUTE=1)
    visitor, other = app.test_client(), app.test_client()
    codes = [visitor.post("/api/sandboxes", json={"files": {}}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    refused = visitor.post("/api/sandboxes", json={"files": {}}).json["error"]
    assert refused["code"] == "rate_limited" and "Try again in" in refused["message"]
    assert other.post("/api/sandboxes", json={"files": {}}).status_code == 400


def test_requests_are_rate_limited_per_visitor(make_app):
    app = make_app(RATE_REQUEST_BURST=3, RATE_REQUESTS_PER_SECOND=0.1)
    visitor = app.test_client()
    codes = [visitor.post("/api/sandboxes/nope/requests", json={}).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_a_full_playground_says_so(make_app):
    app = make_app(MAX_SANDBOXES=1)
    first = app.test_client().post("/api/sandboxes", json={"files": {"app.py": HELLO}})
    assert first.status_code == 201
    refused = app.test_client().post("/api/sandboxes", json={"files": {"app.py": HELLO}})
    assert refused.status_code == 503 and refused.json["error"]["code"] == "playground_full"
    assert "try again" in refused.json["error"]["message"]


def test_starts_take_turns_and_a_long_queue_is_refused(make_app):
    app = make_app(MAX_STARTING=1, START_QUEUE_TIMEOUT=0.5)
    slow = "import time\ntime.sleep(2)\n" + HELLO
    results = []
    thread = threading.Thread(
        target=lambda: results.append(
            app.test_client().post("/api/sandboxes", json={"files": {"app.py": slow}})
        ),
        daemon=True,
    )
    thread.start()
    wait_until(services_of(app).sandboxes.all, 10, "the slow app's start to begin", interval=0.01)
    refused = app.test_client().post("/api/sandboxes", json={"files": {"app.py": HELLO}})
    thread.join(30)
    assert not thread.is_alive(), "the slow app's start never answered"
    assert refused.status_code == 503 and refused.json["error"]["code"] == "playground_busy"
    assert results[0].status_code == 201 and results[0].json["state"] == "running"
    assert len(services_of(app).sandboxes.all()) == 1  # the refused one is gone


def _start_sandbox(url: str) -> dict:
    request = urllib.request.Request(
        f"{url}/api/sandboxes",
        method="POST",
        data=json.dumps({"files": {"app.py": HELLO}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _leftovers(pid: int) -> list:
    """What a host with this pid may leave: its directory and its cgroups."""
    found = list(Path(tempfile.gettempdir()).glob(f"flask-playground-{pid}-*"))
    found += [p for p in Path("/sys/fs/cgroup").glob(f"**/playground-{pid}-*") if p.is_dir()]
    return found


def test_a_killed_host_leaves_nothing_once_restarted_and_a_stopped_one_nothing_at_all():
    crashed, url = start_server()
    assert _start_sandbox(url)["state"] == "running"
    crashed.send_signal(signal.SIGKILL)  # no clean-up at all
    crashed.wait()
    stop_server(crashed)
    assert _leftovers(crashed.pid), "a killed host leaves its directory behind"

    restarted, url = start_server()
    try:
        assert _leftovers(crashed.pid) == []
        assert _start_sandbox(url)["state"] == "running"
        if os.geteuid() == 0:
            assert sandbox_processes(host_uids(restarted.pid))
    finally:
        stop_server(restarted)  # SIGTERM: the graceful way
    assert restarted.returncode == 0
    assert _leftovers(restarted.pid) == []
    if os.geteuid() == 0:
        assert sandbox_processes(host_uids(restarted.pid)) == []
        assert sandbox_processes(host_uids(crashed.pid)) == []


def test_api_errors_are_json_even_for_huge_bodies(client):
    response = client.post(
        "/api/sandboxes", data=b"x" * (9 * 1024 * 1024), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_too_large"


def test_unknown_origin_cannot_change_anything(client):
    response = client.delete("/api/sandboxes/x", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and response.json["error"]["code"] == "cross_origin"


def test_behind_a_trusted_proxy_the_public_origin_is_the_hosts(make_app):
    app = make_app(TRUSTED_PROXIES=1, ALLOWED_HOSTS=["play.example"])
    forwarded = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "play.example",
        "Origin": "https://play.example",
    }
    response = app.test_client().post("/api/sandboxes", json={"files": {}}, headers=forwarded)
    assert response.status_code == 400  # past the Origin check, refused for its empty files
    assert response.json["error"]["code"] == "bad_files"
    spoofed = {**forwarded, "Origin": "https://evil.example"}
    assert (
        app.test_client().post("/api/sandboxes", json={"files": {}}, headers=spoofed).status_code
        == 403
    )
    # The forwarded name is the one checked: a rebound name passes the proxy as it came.
    rebound = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "Origin": "https://evil.example",
    }
    refused = app.test_client().post("/api/sandboxes", json={"files": {}}, headers=rebound)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "unknown_host"


def _status(url: str, host: str, path: str = "/", **headers) -> int:
    """The status of GET `path` from the server at `url`, sent with the Host header `host`."""
    request = urllib.request.Request(url + path, headers={"Host": host, **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        with error:
            assert json.load(error)["error"]["code"] == "unknown_host"
            return error.code


def _websocket_status(url: str, host: str) -> int:
    """The status a WebSocket handshake to /ws/follow gets, sent with Host (and Origin) `host`."""
    address = urllib.parse.urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(
            f"GET /ws/follow?presence=1 HTTP/1.1\r\nHost: {host}\r\n"
            f"Origin: http://{host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        return int(conn.recv(4096).split(b" ", 2)[1])


def test_a_name_the_host_does_not_serve_is_refused_dns_rebinding(live_server):
    """A page on evil.example whose name now resolves to this machine calls with its own
    origin: Origin equals Host, so only the Host itself tells it apart."""
    port = urllib.parse.urlsplit(live_server).port
    rebound = f"evil.example:{port}"
    assert _status(live_server, rebound) == 400
    assert _status(live_server, rebound, "/api/snippets") == 400
    assert _websocket_status(live_server, rebound) == 400
    request = urllib.request.Request(
        f"{live_server}/api/presenter",
        method="POST",
        data=b'{"token": "x"}',
        headers={
            "Host": rebound,
            "Origin": f"http://{rebound}",
            "Content-Type": "application/json",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    with refused.value:
        assert refused.value.code == 400  # it would have passed the Origin check
    # What it serves, by the names of this machine's loopback at that port.
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert _status(live_server, host) == 200
        assert _websocket_status(live_server, host) == 101
    assert _status(live_server, f"localhost:{port + 1}") == 400


def test_allowed_hosts_by_setting_and_by_default(make_app):
    listed = make_app(ALLOWED_HOSTS="play.example, 127.0.0.1:8080").test_client()
    assert listed.get("/api/snippets", headers={"Host": "play.example"}).status_code == 200
    assert listed.get("/api/snippets", headers={"Host": "127.0.0.1:8080"}).status_code == 200
    assert listed.get("/api/snippets", headers={"Host": "127.0.0.1:8081"}).status_code == 400
    refused = listed.get("/")  # the test client's Host: localhost
    assert refused.status_code == 400 and "ALLOWED_HOSTS" in refused.json["error"]["message"]
    unset = make_app().test_client()  # not run by `python -m playground`: loopback names
    assert unset.get("/api/snippets").status_code == 200
    assert unset.get("/api/snippets", headers={"Host": "127.0.0.1:9"}).status_code == 200
    assert unset.get("/api/snippets", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    "host, allowed, refused",
    [
        # Without a port, a name is matched alone: simple-websocket's client never sends one.
        (
            "127.0.0.1",
            ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "LocalHost.:5000", "localhost"],
            [
                "192.168.1.10:5000",
                "evil.example:5000",
                "localhost:5001",
                "127.0.0.1:x",
                "evil.example",
                "localhost:\xb2",  # a digit to str.isdigit, no number to int()
                "localhost:" + "5" * 5000,  # int() refuses that many digits
            ],
        ),
        (
            "0.0.0.0",
            ["192.168.1.10:5000", "localhost:5000", "[fe80::1]:5000"],
            ["evil.example:5000", "192.168.1.10:5001", "10.0.0.1.evil.example:5000"],
        ),
        ("play.example", ["play.example:5000", "localhost:5000"], ["evil.example:5000"]),
    ],
)
def test_python_m_playground_answers_to_what_it_serves(host, allowed, refused):
    entries = hosts.served(host, 5000)
    assert [h for h in allowed if not hosts.allowed(h, entries)] == []
    assert [h for h in refused if hosts.allowed(h, entries)] == []


def test_the_host_serves_at_most_host_threads_connections_at_once():
    busy, most = [0], [0]
    lock = threading.Lock()

    def slow_app(environ, start_response):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.3)
        with lock:
            busy[0] -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = BoundedServer("127.0.0.1", 0, slow_app, threads=2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.port}/"
        clients = [
            threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=10).read())
            for _ in range(6)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
    finally:
        server.shutdown()
        server.server_close()
    assert most[0] == 2


def test_the_werkzeug_debugger_is_refused_even_with_debug_off(app):
    from werkzeug.debug import DebuggedApplication

    debugged = DebuggedApplication(app.wsgi_app, evalex=True)
    client = app.test_client()
    client.application.wsgi_app, original = debugged, app.wsgi_app
    try:
        response = client.get("/")
    finally:
        app.wsgi_app = original
    assert response.status_code == 500 and b"Flask Playground" not in response.data


def test_highlight_refuses_other_sites(client):
    response = client.post(
        "/api/highlight",
        json={"code": "x = 1", "language": "python"},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403 and response.json["error"]["code"] == "cross_origin"


def test_a_run_refused_for_a_cap_costs_no_run(make_app):
    app = make_app(RATE_RUN_BURST=2, RATE_RUNS_PER_MINUTE=1, MAX_SANDBOXES_PER_VISITOR=1)
    visitor = Visitor(app.test_client())
    visitor.start(HELLO)
    for _ in range(3):  # refused for the cap each time: the run rate is not spent
        refused = visitor.client.post("/api/sandboxes", json={"files": {"app.py": HELLO}})
        assert refused.json["error"]["code"] == "too_many_sandboxes"
    assert visitor.client.post("/api/sandboxes", json={"files": {}}).status_code == 400
