"""Real playground servers for tests, and the processes their sandboxes and text workers leave."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

from playground.workers import MARKER


def sandbox_processes(uids: range) -> list:
    """Pids running as one of `uids` (a host's block of sandbox uids)."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                pass
    return pids


def worker_processes(host_pid: int) -> list:
    """Pids of the text workers a host started (workers.py marks them with its pid)."""
    marker = f"{MARKER}\0{host_pid}\0".encode()
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                    if marker in cmdline.read():
                        pids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return pids


def start_server(*args, env=None):
    """`python -m playground --port 0 ...`; returns (process, base URL) once it serves."""
    proc = subprocess.Popen([sys.executable, "-m", "playground", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 30
    for line in proc.stdout:
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found:
            # Keep draining its output so the server never blocks on a full pipe.
            proc.drain = threading.Thread(target=proc.stdout.read, daemon=True)
            proc.drain.start()
            return proc, found.group(0)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError("the playground did not start")


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.drain.join(5)
    proc.stdout.close()
    leftovers = worker_processes(proc.pid)
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"text workers outlived their host: {leftovers}"
