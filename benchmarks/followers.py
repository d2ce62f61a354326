"""Presenter to followers: how long a keystroke takes to reach 100 WebSocket followers, and what
each follower costs the host in memory.

A real host (`python -m playground`); one presenter typing over /ws/present (a whole-file edit
every 30 ms, as the page's debounce sends them); N followers on /ws/follow, all read by one
selector loop in this process (wsproto), so the client side stays cheap and the figures are the
host's. A follower who is behind gets only the latest text (older keystrokes are skipped), so the
latency of keystroke k at a follower is the time from sending k to that follower receiving k or a
later one: how long the mirror lags what the presenter typed. Both ends use this process's clock.

    python benchmarks/followers.py [followers] [keystrokes]
"""

import json
import selectors
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

from wsproto import ConnectionType, WSConnection
from wsproto.events import Ping, Request, TextMessage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.servers import start_server, stop_server  # noqa: E402
from tests.test_live import Api  # noqa: E402

TOKEN = "benchmark-token"
TYPING_INTERVAL = 0.030
CODE = (Path(__file__).resolve().parent.parent / "snippets/14-sessions/app.py").read_text()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


class Followers:
    """N WebSocket followers read by one thread: the receipt time of every edit, by its number."""

    def __init__(self, port: int, n: int):
        self.selector = selectors.DefaultSelector()
        self.received = [[] for _ in range(n)]  # per follower: (keystroke number, receipt time)
        self.snapshots = 0  # written by the reading thread only
        self.conns = []
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", port))
            ws = WSConnection(ConnectionType.CLIENT)
            sock.sendall(ws.send(Request(host=f"127.0.0.1:{port}", target="/ws/follow")))
            state = {"ws": ws, "text": "", "received": self.received[len(self.conns)]}
            self.selector.register(sock, selectors.EVENT_READ, state)
            self.conns.append(sock)
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            for key, _ in self.selector.select(0.2):
                state = key.data
                data = key.fileobj.recv(262144)
                now = time.perf_counter()
                state["ws"].receive_data(data or None)
                for event in state["ws"].events():
                    if isinstance(event, TextMessage):
                        state["text"] += event.data
                        if event.message_finished:
                            self.message(state, json.loads(state["text"]), now)
                            state["text"] = ""
                    elif isinstance(event, Ping):
                        key.fileobj.sendall(state["ws"].send(event.response()))

    def message(self, state, event, now):
        if event["type"] == "snapshot":
            self.snapshots += 1
        elif event["type"] == "edit":
            state["received"].append((int(event["text"].rsplit("#", 1)[1]), now))

    def lags(self, sent: dict) -> list:
        """For every follower and keystroke: seconds until it had that keystroke or a later one."""
        lags = []
        for received in self.received:
            later = iter(received)
            number, at = next(later)
            for k, started in sent.items():
                while number < k:
                    number, at = next(later)
                lags.append(at - started)
        return lags

    def close(self):
        self.running = False
        self.thread.join()
        for sock in self.conns:
            sock.close()


def wait_until(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.01)


def percentile(samples, p):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(len(samples) * p))]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    keystrokes = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    proc, url = start_server(env={"PLAYGROUND_PRESENTER_TOKEN": TOKEN})
    port = int(url.rsplit(":", 1)[1])
    try:
        presenter = Api(url)
        presenter.call("POST", "/api/presenter", {"token": TOKEN})
        up = presenter.websocket("/ws/present")
        up.send(
            json.dumps(
                {
                    "type": "open",
                    "slug": "sessions",
                    "title": "Sessions",
                    "files": {"app.py": CODE},
                    "path": "app.py",
                }
            )
        )
        time.sleep(0.5)
        before_rss, before_threads = rss_kib(proc.pid), threads(proc.pid)

        followers = Followers(port, n)
        wait_until(lambda: followers.snapshots == n)
        time.sleep(1.0)  # let the host settle before reading its memory
        after_rss, after_threads = rss_kib(proc.pid), threads(proc.pid)

        sent = {}
        for i in range(keystrokes):
            text = f"{CODE}# typing {'x' * (i % 40)} #{i}"
            sent[i] = time.perf_counter()
            up.send(
                json.dumps(
                    {
                        "type": "edit",
                        "path": "app.py",
                        "text": text,
                        "cursor": [len(text), len(text)],
                        "scroll": {"top": 0},
                    }
                )
            )
            time.sleep(TYPING_INTERVAL)
        last = keystrokes - 1
        wait_until(lambda: all(r and r[-1][0] == last for r in followers.received))
        latencies = [lag * 1000 for lag in followers.lags(sent)]
        delivered = sum(map(len, followers.received))
        followers.close()
        up.close()
    finally:
        stop_server(proc)

    print(
        f"{n} followers, {keystrokes} keystrokes of {len(CODE)}+ characters, one every "
        f"{TYPING_INTERVAL * 1000:.0f} ms: {delivered} of {n * keystrokes} edits sent, "
        "the rest skipped for a later one"
    )
    print(
        f"  keystroke to follower    p50 {percentile(latencies, 0.50):7.2f} ms   "
        f"p90 {percentile(latencies, 0.90):7.2f} ms   p99 {percentile(latencies, 0.99):7.2f} ms"
        f"   max {max(latencies):7.2f} ms   mean {statistics.mean(latencies):7.2f} ms"
    )
    per = (after_rss - before_rss) / n
    print(
        f"  host memory              {before_rss / 1024:.1f} MiB before, "
        f"{after_rss / 1024:.1f} MiB with followers: {per:.0f} KiB RSS per follower "
        f"({(after_threads - before_threads) / n:.1f} threads each)"
    )


if __name__ == "__main__":
    main()
