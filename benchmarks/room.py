"""A full room: N visitors each run a snippet and poke it, while a few hostile snippets run.

A real host (`python -m playground`, default settings). Each visitor arrives within the ramp,
presses Run (POST /api/sandboxes) and then sends requests through the proxy with a think time
between them, as people in a talk do. Meanwhile hostile visitors keep running the attacks of
tests/test_attacks.py: a CPU spin in a route, a memory bomb, a fork bomb, a print flood and a
route that never answers. Prints the latency of proxied requests, run start-up, errors (any
answer a well-behaved visitor should not get), and the peak memory of the host and its children.

    python benchmarks/room.py [--visitors 100] [--requests 20] [--hostile 4] [--ramp 30] [--think 2]
                              [--attacks "fork bomb,print flood"] [--abuse all|"highlight,shares"]

`--abuse` adds the attacks on the host itself (benchmarks/abuse.py: the highlighter's worst
case, session-cookie bombs, WebSocket and slowloris floods, an events-pipe flood, shares and
presenter-token scripts that drop their cookie), one attacker each, for the whole run, in a
process of their own at the lowest CPU priority (an attacker's CPU is their own laptop's). A probe
asks for the page (GET /) every 100 ms, first for 5 s on the quiet host, then all along.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from abuse import ATTACKS  # noqa: E402 - for the names

from tests.servers import start_server, stop_server  # noqa: E402

SNIPPET = """from flask import Flask, request, session
app = Flask(__name__)
app.secret_key = "dev"

@app.route("/")
def home():
    return "Hello, room!"

@app.route("/count")
def count():
    session["n"] = session.get("n", 0) + 1
    return {"n": session["n"], "agent": request.headers.get("User-Agent")}

app.run(host="0.0.0.0", port=5000)
"""

HOSTILE = {
    "cpu spin in a route": (
        "from flask import Flask\napp = Flask(__name__)\n@app.route('/')\n"
        "def spin():\n    while True:\n        pass\n"
    ),
    "memory bomb": "hoard = []\nwhile True:\n    hoard.append(b'x' * (16 * 1024 * 1024))\n",
    "fork bomb": "import os\nwhile True:\n    os.fork()\n",
    "print flood": "while True:\n    print('x' * 1000)\n",
    "never answers": (
        "import time\nfrom flask import Flask\napp = Flask(__name__)\n"
        "@app.route('/')\ndef wait():\n    time.sleep(10 ** 6)\n"
    ),
}


class Visitor:
    """One browser: its own cookie, its own keep-alive connection to the host."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.cookie = None

    def call(self, method: str, path: str, payload=None):
        headers = {"Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        body = json.dumps(payload).encode() if payload is not None else None
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = json.loads(response.read() or b"null")
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, data


class Room:
    def __init__(self, url: str, args):
        self.url = url
        self.args = args
        self.lock = threading.Lock()
        self.latencies, self.startups, self.errors = [], [], []
        self.hostile_runs = {name: [] for name in args.attacks}
        self.done = threading.Event()

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def visitor(self, index: int) -> None:
        time.sleep(self.args.ramp * index / self.args.visitors)
        me = Visitor(self.url)
        started = time.perf_counter()
        status, sandbox = me.call("POST", "/api/sandboxes", {"files": {"app.py": SNIPPET}})
        with self.lock:
            self.startups.append(time.perf_counter() - started)
        if status != 201 or sandbox["state"] != "running":
            return self.error(f"run: {status} {sandbox}")
        for n in range(self.args.requests):
            time.sleep(random.uniform(0, 2 * self.args.think))
            path = random.choice(["/", "/count"])
            started = time.perf_counter()
            request = {"method": "GET", "path": path, "headers": {"User-Agent": "room"}}
            status, reply = me.call("POST", f"/api/sandboxes/{sandbox['id']}/requests", request)
            elapsed = time.perf_counter() - started
            if status != 200 or reply["status"] != 200:
                self.error(f"request {n}: {status} {str(reply)[:200]}")
                continue
            with self.lock:
                self.latencies.append(elapsed)

    def hostile(self, index: int) -> None:
        me = Visitor(self.url)
        names = self.args.attacks
        n = index
        while not self.done.is_set():
            name = names[n % len(names)]
            n += 1
            files = {"app.py": HOSTILE[name]}
            status, sandbox = me.call("POST", "/api/sandboxes", {"files": files})
            if status == 429:  # the run rate limit: wait as a visitor would be told to
                time.sleep(3)
                continue
            outcome = (sandbox.get("error") or {}).get("limit") or sandbox.get("state") or status
            if status == 201 and sandbox["state"] == "running":
                status, reply = me.call(
                    "POST",
                    f"/api/sandboxes/{sandbox['id']}/requests",
                    {"method": "GET", "path": "/"},
                )
                outcome = reply["error"]["code"] if status != 200 else reply["status"]
            with self.lock:
                self.hostile_runs[name].append(str(outcome))
            if "id" in sandbox:
                me.call("DELETE", f"/api/sandboxes/{sandbox['id']}")


def probe(url: str, until: threading.Event, samples: list, errors: list) -> None:
    """GET / every 100 ms, as a newcomer opening the page would."""
    parts = urlsplit(url)
    while not until.wait(0.1):
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                errors.append(f"GET /: {response.status}")
        except OSError as exc:
            errors.append(f"GET /: {exc}")
        samples.append(time.perf_counter() - started)


def percentile(samples: list, p: float) -> float:
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * p))] if samples else float("nan")


def figures(name: str, samples: list) -> str:
    p50, p99, most = (
        x * 1000
        for x in (
            percentile(samples, 0.5),
            percentile(samples, 0.99),
            max(samples, default=float("nan")),
        )
    )
    return (
        f"  {name:<17} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   max {most:7.1f} ms"
        f"   (n={len(samples)})"
    )


def memory_peaks(pid: int) -> tuple:
    """The host's peak RSS and the peak of all its children together (their cgroup), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    peak_kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    groups = list(
        Path("/sys/fs/cgroup/memory").glob(f"**/playground-{pid}-*/memory.max_usage_in_bytes")
    )
    host = int(peak_kib) / 1024
    children = int(groups[0].read_text()) / 1024 / 1024 if groups else float("nan")
    return host, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20, help="requests per visitor")
    parser.add_argument("--hostile", type=int, default=4, help="hostile visitors")
    parser.add_argument(
        "--ramp", type=float, default=30.0, help="seconds over which visitors arrive"
    )
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between requests")
    parser.add_argument(
        "--attacks",
        type=lambda text: text.split(","),
        default=list(HOSTILE),
        help="which attacks the hostile visitors take turns at (comma-separated)",
    )
    parser.add_argument(
        "--abuse",
        default="",
        help=f"attacks on the host beside the room (comma-separated, or all): {', '.join(ATTACKS)}",
    )
    args = parser.parse_args()
    abuse = list(ATTACKS) if args.abuse == "all" else [a for a in args.abuse.split(",") if a]

    room_size = args.visitors + args.hostile + 10
    proc, url = start_server(env={"PLAYGROUND_MAX_SANDBOXES": str(room_size)})
    room = Room(url, args)
    quiet, busy, probe_errors = [], [], []
    struck = {}
    try:
        quiet_done = threading.Event()
        prober = threading.Thread(target=probe, args=(url, quiet_done, quiet, probe_errors))
        prober.start()
        time.sleep(5)
        quiet_done.set()
        prober.join()
        prober = threading.Thread(target=probe, args=(url, room.done, busy, probe_errors))
        attackers = (
            subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("abuse.py")), url, ",".join(abuse)],
                stdout=subprocess.PIPE,
                text=True,
                preexec_fn=lambda: os.nice(19),
            )
            if abuse
            else None
        )
        hostile = [
            threading.Thread(target=room.hostile, args=(i,), daemon=True)
            for i in range(args.hostile)
        ]
        visitors = [threading.Thread(target=room.visitor, args=(i,)) for i in range(args.visitors)]
        began = time.perf_counter()
        for thread in [prober, *hostile, *visitors]:
            thread.start()
        for thread in visitors:
            thread.join()
        room.done.set()
        if attackers:
            attackers.terminate()
            struck = json.loads(attackers.communicate(timeout=60)[0] or "{}")
        for thread in [prober, *hostile]:
            thread.join(30)
        took = time.perf_counter() - began
        host_mb, children_mb = memory_peaks(proc.pid)
    finally:
        stop_server(proc)

    print(
        f"room: {args.visitors} visitors x {args.requests} requests (think {args.think:g} s, "
        f"ramp {args.ramp:g} s), {args.hostile} hostile visitors, {took:.0f} s"
    )
    print(figures("GET /, quiet", quiet))
    print(
        figures("GET /, in the room", busy)
        + f"   p99 {percentile(busy, 0.99) / percentile(quiet, 0.99):.1f}x quiet"
    )
    print(figures("proxied requests", room.latencies))
    print(figures("run start-up", room.startups))
    print(f"  errors            {len(room.errors)} (honest visitors), {len(probe_errors)} (GET /)")
    for error in (room.errors + probe_errors)[:10]:
        print(f"    {error}")
    for name, n in struck.items():
        print(f"  abuse: {name:<20} {n} times")
    print(f"  peak memory       host {host_mb:.0f} MB, children together {children_mb:.0f} MB")
    for name, outcomes in room.hostile_runs.items():
        counts = {o: outcomes.count(o) for o in sorted(set(outcomes))}
        print(f"  hostile: {name:<20} {counts}")
    print(
        f"  mean request rate {len(room.latencies) / took:.0f} per second; "
        f"median latency {statistics.median(room.latencies) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
