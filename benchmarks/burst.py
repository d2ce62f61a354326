"""A room pressing Run in the same second: N visitors run the talk's hello app at once, then each
sends it a request; the time from pressing Run to that first answer, and the errors.

A real host (`python -m playground`, default settings but MAX_SANDBOXES), each visitor with a
connection, cookie and presence socket of its own (a page open, for which the host parks a
sandbox), all released by one barrier after `--settle` seconds. Also prints the CPU time the
host and its children used per start (/proc), which on a shared machine is the steadier figure.

    python benchmarks/burst.py [--visitors 100] [--cold]
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from room import Visitor, figures  # noqa: E402

from tests.servers import start_server, stop_server  # noqa: E402
from tests.wsclient import Client  # noqa: E402

HELLO = (Path(__file__).resolve().parent.parent / "snippets" / "01-hello" / "app.py").read_text()


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of the children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (the zygote and its starters, the jails, the apps)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def sandboxes_cpu(pid: int) -> float:
    """CPU time of everything the host `pid` started that is still running."""
    total = 0.0
    for child in descendants(pid):
        try:
            total += cpu_seconds(child)
        except OSError:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=100)
    parser.add_argument("--cold", action="store_true", help="without the zygote (WARM_START)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the host")
    parser.add_argument(
        "--settle", type=float, default=8.0, help="seconds between the pages opening and the burst"
    )
    args = parser.parse_args()
    env = {
        "PLAYGROUND_MAX_SANDBOXES": str(args.visitors + 10),
        **dict(e.split("=", 1) for e in args.env),
    }
    if args.cold:
        env["PLAYGROUND_WARM_START"] = "false"
    proc, url = start_server(env=env)
    visitors = [Visitor(url) for _ in range(args.visitors)]
    pages = []
    for visitor in visitors:  # the page is open: its cookie, its connection, its presence socket
        visitor.call("GET", "/api/snippets")
        pages.append(
            Client.connect(
                url.replace("http", "ws", 1) + "/ws/follow?presence=1",
                headers={"Cookie": visitor.cookie},
            )
        )
    time.sleep(args.settle)  # the host parks a sandbox for each page open (POOL_MAX)
    gate = threading.Barrier(args.visitors + 1)
    waits, errors, lock = [], [], threading.Lock()

    def press_run(me: Visitor) -> None:
        gate.wait()
        pressed = time.perf_counter()
        status, sandbox = me.call(
            "POST", "/api/sandboxes", {"files": {"app.py": HELLO}, "label": "Hello"}
        )
        if status != 201 or sandbox["state"] != "running":
            with lock:
                errors.append(f"run: {status} {str(sandbox)[:200]}")
            return
        status, reply = me.call(
            "POST", f"/api/sandboxes/{sandbox['id']}/requests", {"method": "GET", "path": "/"}
        )
        with lock:
            if status != 200 or reply["status"] != 200:
                errors.append(f"request: {status} {str(reply)[:200]}")
            else:
                waits.append(time.perf_counter() - pressed)

    try:
        threads = [threading.Thread(target=press_run, args=(v,)) for v in visitors]
        for thread in threads:
            thread.start()
        host_before, children_before = cpu_seconds(proc.pid), sandboxes_cpu(proc.pid)
        gate.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        took = time.perf_counter() - began
        host_cpu = cpu_seconds(proc.pid) - host_before
        children_cpu = sandboxes_cpu(proc.pid) - children_before
    finally:
        for page in pages:
            page.close()
        stop_server(proc)
    print(
        f"burst: {args.visitors} visitors press Run at once on the talk's hello app "
        f"({'cold' if args.cold else 'warm'} starts), all answered in {took:.2f} s"
    )
    print(figures("Run -> 1st answer", waits))
    print(f"  errors            {len(errors)}")
    for error in errors[:10]:
        print(f"    {error}")
    print(
        f"  CPU per start     host {host_cpu / args.visitors * 1000:.1f} ms, its children "
        f"(zygote, jails, apps) {children_cpu / args.visitors * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
