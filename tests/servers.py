"""Real playground servers for tests, the processes their sandboxes and text workers leave, and
the one way tests wait for something: with a deadline."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from playground.sandbox.kill import processes_of as sandbox_processes  # noqa: F401 (for tests)
from playground.workers import MARKER

T = TypeVar("T")
START_SECONDS = 30  # for a playground server to say where it serves


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str | Callable[[], str],
    interval: float = 0.05,
) -> T:
    """Ask `predicate()` every `interval` seconds until it gives something true, and return
    that; past `timeout` seconds, fail saying `what` was awaited (a function giving the text is
    called then, so it may tell what was found instead)."""
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        if time.monotonic() > deadline:
            awaited = what if isinstance(what, str) else what()
            raise AssertionError(f"waited {timeout:g} s for {awaited}, in vain")
        time.sleep(interval)
    return found


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
    proc = subprocess.Popen(
        [sys.executable, "-m", "playground", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    urls: queue.Queue = queue.Queue()

    def read() -> None:
        """Find the URL in its output, and keep draining it so it never blocks on a full pipe
        (a thread, so that a server that prints nothing still meets the deadline)."""
        for line in proc.stdout:
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                urls.put(found.group(0))
        urls.put(None)  # it exited

    proc.drain = threading.Thread(target=read, daemon=True)
    proc.drain.start()
    try:
        url = urls.get(timeout=START_SECONDS)
    except queue.Empty:
        url = None
    if url is None:
        stop_server(proc)
        raise RuntimeError(
            f"the playground did not serve within {START_SECONDS} s (exit status {proc.returncode})"
        )
    return proc, url


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
