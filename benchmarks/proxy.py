"""Proxy overhead: the same request sent straight to the child's port, through the proxy
in-process, and through a real host over HTTP, measured in the same run.

    python benchmarks/proxy.py [requests]
"""

import http.client
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import APP, summary  # noqa: E402

from tests.servers import start_server, stop_server  # noqa: E402


def timed(fn, n: int) -> list:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    # One visitor sends them all: lift the per-visitor rate limit for the measurement.
    proc, url = start_server(
        env={
            "PLAYGROUND_RATE_REQUESTS_PER_SECOND": "1000000",
            "PLAYGROUND_RATE_REQUEST_BURST": "1000000",
        }
    )
    host_port = int(url.rsplit(":", 1)[1])
    try:
        host = http.client.HTTPConnection("127.0.0.1", host_port, timeout=10)
        cookie = {}

        def api(method, path, payload=None):
            headers = {"Content-Type": "application/json", **cookie}
            host.request(
                method, path, body=json.dumps(payload) if payload else None, headers=headers
            )
            response = host.getresponse()
            if response.getheader("Set-Cookie"):
                cookie["Cookie"] = response.getheader("Set-Cookie").split(";", 1)[0]
            return json.loads(response.read())

        sandbox = api("POST", "/api/sandboxes", {"files": {"app.py": APP.format(port=5000)}})
        port = sandbox["port"]

        def direct():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/", headers={"Host": f"127.0.0.1:{port}"})
            assert conn.getresponse().read() == b"I'm a home page"
            conn.close()

        def proxied():
            reply = api(
                "POST", f"/api/sandboxes/{sandbox['id']}/requests", {"method": "GET", "path": "/"}
            )
            assert reply["body"] == "I'm a home page"

        def host_only():
            assert api("GET", f"/api/sandboxes/{sandbox['id']}")["state"] == "running"

        timed(direct, 20), timed(proxied, 20), timed(host_only, 20)  # warm up
        print(
            f"one GET /, {n} times each, interleaved in blocks of 50 "
            f"(isolation: {sandbox['isolation']})"
        )
        straight, through, floor = [], [], []
        for _ in range(n // 50):
            straight += timed(direct, 50)
            through += timed(proxied, 50)
            floor += timed(host_only, 50)
        base = summary("straight to the child's port", straight)
        ours = summary("through the host (HTTP API + proxy)", through)
        # What any call to the host costs (a connection, a thread, Flask), child or not: the
        # floor under the overhead, since Werkzeug's server closes every connection.
        summary("the host alone (GET /api/sandboxes/<id>)", floor)
        print(
            f"  proxy overhead at the median: {(ours - base) * 1000:.2f} ms (target <= 1 ms); "
            f"ratio {ours / base:.2f}x"
        )
        api("DELETE", f"/api/sandboxes/{sandbox['id']}")
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
