"""Run a named pure function on text in a few worker processes, each call with a hard deadline.

Highlighting or formatting a visitor's text can take far longer than its size suggests
(Pygments' HTTP lexer is quadratic), and done in the host it would hold the GIL and stall every
thread. Here it runs in a worker process: past its deadline the worker is killed (SIGKILL, with
its process group) and replaced, and the caller gets `Timeout` at once. While every worker is
busy at most `queue` callers wait, each for at most its deadline; the next get `Busy` at once.

Workers are fresh `python -I` programs talking over pipes, not forks of the host. The host is
multi-threaded: `os.fork()` would copy locks other threads hold (logging, imports, allocators)
into a child that can never release them, while subprocess forks and execs in C before any Python
runs. multiprocessing's spawn would be safe too, but it re-imports the host's `__main__` (pytest,
gunicorn) in every worker. `-I` keeps the environment out (PYTHONPATH, user site-packages); the
host hands the worker its own `sys.path` instead, so both run the very same modules.

A worker limits itself before it reads anything: address space, CPU seconds per call (SIGXCPU
ends a runaway call even if the host is gone), no core dumps, and the lowest CPU priority, so the
host's threads come first on a busy machine. It says when it has started (imported what it
preloads): start-up counts against no call, and a call meanwhile is `Busy` without killing it.
It exits when its pipe closes, as when the host dies.
"""

import importlib
import json
import math
import os
import queue
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import cache
from typing import BinaryIO

#: In every worker's command line, followed by the host's pid: how tests find leftover workers.
MARKER = "playground-worker-of"

WORKER_PROGRAM = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from playground.workers import serve; serve(json.loads(sys.argv[2]))"
)


class Unavailable(Exception):
    """The call has no answer; `reason` says why in one word."""

    reason = "failed"


class Busy(Unavailable):
    reason = "busy"


class Starting(Busy):
    """The worker is still starting (importing what it preloads): no reason to kill it."""


class Timeout(Unavailable):
    reason = "timeout"


class Failed(Unavailable):
    """The function raised, or the worker died or broke the protocol."""


class Pool:
    """`size` workers, started when first needed; `run()` calls a function in one of them."""

    def __init__(
        self,
        size: int,
        queue_size: int,
        memory_bytes: int,
        start_timeout: float,
        preload: Sequence[str] = (),
    ):
        self.size = size
        self.queue_size = queue_size
        self.start_timeout = start_timeout
        self.memory_bytes = memory_bytes  # also the largest answer read: no worker can hold more
        self._argv = [
            sys.executable,
            "-I",
            "-c",
            WORKER_PROGRAM,
            json.dumps(sys.path),
            json.dumps({"memory_bytes": memory_bytes, "preload": list(preload)}),
            MARKER,
            str(os.getpid()),
        ]
        # Last in, first out, so the warm workers serve and the others start only when needed.
        # None stands for a worker not started yet (or one that was killed and failed to restart).
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(size):
            self._idle.put(None)
        self._admitted = threading.BoundedSemaphore(size + queue_size)
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._closed = False

    def run(self, function: str, *args: object, timeout: float) -> object:
        """`function(*args)` ("module:name") in a worker. Raise Unavailable past `timeout` s of
        waiting for a worker, or past `timeout` s of running (the worker is then killed)."""
        if not self._admitted.acquire(blocking=False):
            raise Busy(f"all {self.size} workers are busy and {self.queue_size} calls wait")
        wait_until = time.monotonic() + timeout  # for a free worker, and for it to have started
        try:
            try:
                worker = self._idle.get(timeout=timeout)
            except queue.Empty:
                raise Busy(f"no worker was free within {timeout:g} s") from None
            try:
                worker = worker if worker and worker.alive() else self._replace(worker)
                worker.wait_until_started(wait_until, self.start_timeout)
                answer = worker.call(
                    {"function": function, "args": args, "cpu_seconds": math.ceil(timeout) + 1},
                    time.monotonic() + timeout,
                    self.memory_bytes,
                )
            except Starting:
                raise
            except Unavailable:
                # Killed now, replaced now: the new worker warms up before the next call comes.
                worker = self._replace_quietly(worker)
                raise
            finally:
                self._give_back(worker)
        finally:
            self._admitted.release()
        if "error" in answer:
            raise Failed(answer["error"])
        return answer["value"]

    def pids(self) -> list[int]:
        with self._lock:
            return [worker.proc.pid for worker in self._workers]

    def shutdown(self) -> None:
        """Kill every worker; calls from now on get `Failed`. Safe to call twice."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, set()
            idle = []
            while not self._idle.empty():
                idle.append(self._idle.get_nowait())
            for _ in idle:
                self._idle.put(None)
        for worker in workers:
            # A worker in use is closed by its caller, who gets EOF; nobody else waits on the
            # pipes of an idle one.
            worker.kill(close=worker in idle)

    def _give_back(self, worker: "_Worker | None") -> None:
        with self._lock:
            if self._closed and worker:
                worker.kill(close=True)
                worker = None
            self._idle.put(worker)

    def _replace(self, worker: "_Worker | None") -> "_Worker":
        """Kill `worker` (if any) and start another, or raise Failed when none can start."""
        if worker:
            worker.kill(close=True)
        with self._lock:
            if worker:
                self._workers.discard(worker)
            if self._closed:
                raise Failed("the playground is shutting down")
            try:
                started = _Worker(self._argv)
            except OSError as error:  # out of processes or file descriptors
                raise Failed(f"no worker could start: {error.strerror}") from None
            self._workers.add(started)
            return started

    def _replace_quietly(self, worker: "_Worker | None") -> "_Worker | None":
        """`_replace()`, with None when no worker can start."""
        try:
            return self._replace(worker)
        except Failed:
            return None


class _Worker:
    """One worker process and its two pipes, used by one caller at a time."""

    def __init__(self, argv: list[str]):
        # A session of its own: the kill takes what it started too (ruff), and a Ctrl-C meant
        # for the host does not reach it.
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, start_new_session=True
        )
        assert self.proc.stdin and self.proc.stdout  # both are pipes
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self._lock = threading.Lock()  # the process is signalled only until it is reaped
        self.started = time.monotonic()
        self.ready = False
        os.set_blocking(self.stdin.fileno(), False)
        os.set_blocking(self.stdout.fileno(), False)

    def alive(self) -> bool:
        with self._lock:
            return self.proc.poll() is None

    def wait_until_started(self, deadline: float, start_timeout: float) -> None:
        """Wait (until `deadline`) for the worker to say it is ready: its start-up is not a call's
        time, or a loaded machine would see each new worker killed before it could serve."""
        if self.ready:
            return
        broken = self.started + start_timeout
        try:
            _receive(self.stdout.fileno(), min(deadline, broken), 64)
        except Timeout:
            if time.monotonic() < broken:
                raise Starting("the worker is still starting") from None
            raise Failed(f"the worker did not start within {start_timeout:g} s") from None
        self.ready = True

    def call(self, job: dict, deadline: float, max_answer: int) -> dict:
        _send(self.stdin.fileno(), job, deadline)
        return _receive(self.stdout.fileno(), deadline, max_answer)

    def kill(self, close: bool = False) -> None:
        """SIGKILL the worker's process group and reap it; with `close`, close its pipes (only
        its caller may: another thread could be waiting on them)."""
        with self._lock:
            if self.proc.returncode is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if close:
            self.stdin.close()
            self.stdout.close()


# -- frames: 4 bytes of length, then JSON ----------------------------------------------------------


def _encode(message: dict) -> bytes:
    # Lone surrogates ("\udcff" from a visitor's JSON) travel as they came.
    data = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return len(data).to_bytes(4, "big") + data


def _decode(data: bytes) -> dict:
    return json.loads(data.decode("utf-8", "surrogatepass"))


def _wait(fd: int, event: int, deadline: float) -> None:
    poller = select.poll()  # not select(): the host's descriptors go past FD_SETSIZE
    poller.register(fd, event)
    left = deadline - time.monotonic()
    if left <= 0 or not poller.poll(left * 1000):
        raise Timeout("the worker did not answer in time")


def _send(fd: int, message: dict, deadline: float) -> None:
    data = memoryview(_encode(message))
    while data:
        _wait(fd, select.POLLOUT, deadline)
        try:
            data = data[os.write(fd, data) :]
        except BrokenPipeError:
            raise Failed("the worker died") from None


def _read(fd: int, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    while left:
        _wait(fd, select.POLLIN, deadline)
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise Failed("the worker died")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int, deadline: float, max_size: int) -> dict:
    size = int.from_bytes(_read(fd, 4, deadline), "big")
    if size > max_size:
        raise Failed(f"the worker's answer is larger than {max_size} bytes")
    try:
        return _decode(_read(fd, size, deadline))
    except ValueError:
        raise Failed("the worker's answer is not JSON") from None


# -- the worker's side ---------------------------------------------------------------------------


@cache
def _function(name: str) -> Callable[..., object]:
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _limit_cpu(seconds: int) -> None:
    """Let this call use `seconds` more CPU seconds: then SIGXCPU ends the worker."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _next_call(calls: BinaryIO) -> dict | None:
    """The host's next call; None once it has closed the pipe (even halfway through a call)."""
    header = calls.read(4)
    size = int.from_bytes(header, "big")
    body = calls.read(size) if len(header) == 4 else b""
    return _decode(body) if len(header) == 4 and len(body) == size else None


def serve(settings: dict) -> None:
    """The worker's loop: read a call, answer it, until the host closes the pipe."""
    memory = settings["memory_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(19)
    # Answers get a descriptor of their own: a stray print() goes to stderr, not into a frame.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    calls = sys.stdin.buffer
    for module in settings["preload"]:
        importlib.import_module(module)
    answers.write(_encode({"ready": True}))
    answers.flush()
    while (call := _next_call(calls)) is not None:
        _limit_cpu(call["cpu_seconds"])
        try:
            answer = {"value": _function(call["function"])(*call["args"])}
        except Exception as error:  # the caller gets Failed with this text
            answer = {"error": f"{type(error).__name__}: {error}"}
        answers.write(_encode(answer))
        answers.flush()
