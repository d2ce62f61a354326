"""Start-up: Run (create -> running -> first response through the proxy), from a parked sandbox
(a page is open: the pool), warm (the zygote, the pool empty) and cold (a fresh Python), against
plain `python app.py` to its first response, measured in the same run, interleaved.

    python benchmarks/startup.py [rounds]
"""

import http.client
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import APP, free_port, summary  # noqa: E402

from playground import create_app  # noqa: E402
from playground.services import services_of  # noqa: E402
from tests.servers import wait_until  # noqa: E402


def plain_python(folder: Path) -> float:
    port = free_port()
    (folder / "app.py").write_text(APP.format(port=port))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()
                return time.perf_counter() - started
            except ConnectionRefusedError:
                time.sleep(0.002)
    finally:
        proc.kill()
        proc.wait()


def playground_run(client) -> float:
    started = time.perf_counter()
    sandbox = client.post("/api/sandboxes", json={"files": {"app.py": APP.format(port=5000)}}).json
    assert sandbox["state"] == "running", sandbox["error"]
    reply = client.post(
        f"/api/sandboxes/{sandbox['id']}/requests", json={"method": "GET", "path": "/"}
    )
    assert reply.json["status"] == 200
    elapsed = time.perf_counter() - started
    client.delete(f"/api/sandboxes/{sandbox['id']}")
    return elapsed


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    # One visitor runs them all: lift the per-visitor rate limit for the measurement.
    unlimited = {"RATE_RUNS_PER_MINUTE": 1_000_000, "RATE_RUN_BURST": 1_000_000}
    parked_app = create_app({**unlimited, "POOL_MIN": 1})
    warm_app = create_app({**unlimited, "POOL_MIN": 0})  # no page open: nothing parked
    cold_app = create_app({**unlimited, "WARM_START": False})
    clients = [app.test_client() for app in (parked_app, warm_app, cold_app)]
    manager, pool = services_of(warm_app).sandboxes, services_of(parked_app).sandboxes.pool
    time.sleep(2)  # the zygote imports Flask once, before the first run
    print(
        f"start-up to first response, {rounds} rounds each, interleaved (isolation: "
        f"{manager.isolation.name}, warm starts: {manager.zygote is not None})"
    )
    plain, parked, warm, cold = [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            plain.append(plain_python(Path(folder)))
            wait_until(pool, 30, "a parked sandbox")  # as the page's visitor reads the code
            for runs, client in zip((parked, warm, cold), clients, strict=True):
                runs.append(playground_run(client))
    base = summary("plain `python app.py`", plain)
    ready = summary("playground Run, parked (a page open)", parked)
    ours = summary("playground Run, warm (zygote + proxy)", warm)
    slow = summary("playground Run, cold (fresh Python + proxy)", cold)
    print(
        f"  ratio to plain python (target <= 0.3x): parked {ready / base:.2f}x, "
        f"warm {ours / base:.2f}x; cold {slow / base:.2f}x"
    )
    for app in (parked_app, warm_app, cold_app):
        services_of(app).sandboxes.shutdown()


if __name__ == "__main__":
    main()
