"""Highlighting inside its budget: what the text workers cost a typical text, and how the host
answers GET / while 20 clients post texts that are slow to highlight.

    python benchmarks/highlight.py [seconds of each attack, default 20]

1. Latency of highlight_or_plain() through the workers against render() (Pygments) in this
   process, for a request head, a 5 KB template and a 30 KB JSON body.
2. A real server (`python -m playground`): GET / p50/p99 idle, then while 20 clients (each
   without a cookie, so no rate limit holds them) post in a loop the 1 MB quadratic HTTP input,
   then texts that reach the workers and run to the deadline (200 KB of Python that takes
   Pygments seconds), then how long SIGTERM takes with the attack still going.
"""

import http.client
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import summary  # noqa: E402

from playground import create_app, highlight  # noqa: E402
from playground.services import services_of  # noqa: E402
from tests.servers import start_server, stop_server  # noqa: E402

HEAD = (
    "POST /login?next=%2Fprofile HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,*/*;q=0.8\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n"
    "Cookie: session=eyJ1c2VyIjoiYWRhIn0.Zk3x1A.abcdefghijklmnop\r\n\r\n"
)
ROW = (
    '  <tr class="{{ loop.cycle("odd", "even") }}">\n'
    '    <td><a href="{{ url_for("user", name=user.name) }}">{{ user.name|e }}</a></td>\n'
    "    <td>{% if user.admin %}<b>admin</b>{% else %}&mdash;{% endif %}</td>\n  </tr>\n"
)
TEMPLATE = (
    "{% extends 'base.html' %}\n{% block body %}\n<table>\n"
    "{% for user in users %}\n" + ROW * 24 + "{% endfor %}\n</table>\n{% endblock %}\n"
)
BODY = json.dumps(
    [
        {
            "id": i,
            "name": f"user {i}",
            "email": f"user{i}@example.com",
            "tags": ["a", "b"],
            "admin": i % 7 == 0,
            "score": i * 1.5,
        }
        for i in range(185)
    ],
    indent=2,
)

PAYLOADS = {
    "quadratic": {"code": "a" * 1_000_000, "language": "http"},
    "slow": {"code": "a:" * 100_000, "language": "python"},  # linear, but seconds of Pygments
}


def pool_against_pygments(n: int = 200) -> None:
    app = create_app({"TESTING": True})
    pool = services_of(app).text_workers
    pool.run("os:getpid", timeout=30)  # started, as on a server that has highlighted once
    print("Highlighting latency: through the text workers vs Pygments in this process")
    timeout = app.config["HIGHLIGHT_TIMEOUT"]
    for name, code, language in [
        (f"request head ({len(HEAD)} B)", HEAD, "http"),
        (f"template ({len(TEMPLATE)} B)", TEMPLATE, "jinja"),
        (f"JSON body ({len(BODY)} B)", BODY, "json"),
    ]:
        direct, pooled = [], []
        for _ in range(n):
            started = time.perf_counter()
            highlight.render(code, language)
            direct.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert highlight.highlight_or_plain(code, language, pool, timeout).fallback is None
            pooled.append(time.perf_counter() - started)
        summary(f"{name}, Pygments here", direct)
        summary(f"{name}, text worker", pooled)
    pool.shutdown()


def percentiles(name: str, samples: list) -> None:
    samples = sorted(samples)
    p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]
    print(
        f"  {name:<52} p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   "
        f"max {samples[-1] * 1000:7.1f} ms   (n={len(samples)})"
    )


def get_page(port: int, seconds: float) -> list:
    """GET / every 50 ms for `seconds`; the latencies."""
    samples, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/")
        assert conn.getresponse().read().startswith(b"<!doctype html>")
        conn.close()
        samples.append(time.perf_counter() - started)
        time.sleep(0.05)
    return samples


class Attack:
    """20 clients posting `payload` to /api/highlight in a loop, in a process of their own (so
    their work does not slow the measuring one), until stopped."""

    def __init__(self, port: int, payload: str, clients: int = 20):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--attack", str(port), payload, str(clients)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> dict:
        out, _ = self.proc.communicate("stop\n", timeout=120)
        return json.loads(out)


def attack(port: int, payload: str, clients: int) -> None:
    """The attacking process: count answers by fallback until a line comes on stdin."""
    body, running, lock = json.dumps(PAYLOADS[payload]).encode(), [True], threading.Lock()
    counts = {"answers": 0, "errors": 0, "fallbacks": {}}

    def client():
        while running[0]:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(
                    "POST",
                    "/api/highlight",
                    body=body,
                    headers={"Content-Type": "application/json"},
                )
                reply = conn.getresponse().read()
                conn.close()
                fallback = re.search(rb'"fallback":\s*(null|"\w+")', reply)[1].decode()
                with lock:
                    counts["answers"] += 1
                    counts["fallbacks"][fallback] = counts["fallbacks"].get(fallback, 0) + 1
            except (OSError, TypeError, http.client.HTTPException):
                with lock:
                    counts["errors"] += 1
                time.sleep(0.1)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    sys.stdin.readline()
    running[0] = False
    for thread in threads:
        thread.join(60)
    print(json.dumps(counts))


def under_attack(seconds: float) -> None:
    proc, url = start_server()
    port = int(url.rsplit(":", 1)[1])
    try:
        print(f"\nGET / on a real server ({seconds:g} s each)")
        percentiles("idle", get_page(port, min(seconds, 10)))
        for name, payload in [
            ("20 clients posting 1 MB of 'a' as http", "quadratic"),
            ("20 clients posting 200 KB of 'a:' as python", "slow"),
        ]:
            attackers = Attack(port, payload)
            time.sleep(1)
            percentiles(f"while {name}", get_page(port, seconds))
            counts = attackers.stop()
            print(
                f"    {counts['answers']} highlights answered, fallbacks "
                f"{counts['fallbacks']}, {counts['errors']} errors"
            )
        attackers = Attack(port, "slow")
        time.sleep(2)
        started = time.monotonic()
        proc.terminate()
        proc.wait(120)
        print(f"  SIGTERM to exit, 20 clients still posting: {time.monotonic() - started:.2f} s")
        attackers.stop()
    finally:
        stop_server(proc)


def main() -> None:
    if sys.argv[1:2] == ["--attack"]:
        return attack(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    pool_against_pygments()
    under_attack(seconds)


if __name__ == "__main__":
    main()
