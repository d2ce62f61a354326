"""`Sandbox`: one visitor's app, run as a child process on a socket the host bound for it.

A sandbox outlives its children: "Run" again (PUT) stops the child and starts a new one with the
same id, event log and cookie jar. Each child has a supervisor thread that spawns it, pumps its
output and events into the log, and notices when it dies. The thread lives exactly as long as the
child, which matters: bubblewrap's --die-with-parent follows the thread that spawned it.

Each run gets a control group of its own where the machine has them (cgroups.py), and when a
child dies of a limit the error names it (limits.py).
"""

import json
import logging
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from ..cookies import Jar
from ..errors import PlaygroundError
from . import limits
from .events import EventLog

log = logging.getLogger(__name__)

# What the bootstrap reports, and the fields each kind of event may carry (child/bootstrap.py).
CHILD_EVENTS = {
    "ready": ("scheme", "routes"),
    "failed": ("error",),
    "request": ("method", "path", "query", "status", "duration_ms", "remote_port", "route",
                "trace"),
    "exception": ("method", "path", "remote_port", "error"),
}
MAX_EVENT_LINE = 256 * 1024  # a request's trace is a few KB; the route map of a big app more
MAX_LINE = 1024 * 1024  # a line of output without an end is cut here
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# faulthandler's dump of a stuck child: `  File "/sandbox/app.py", line 3 in <module>`
STACK_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


class Child:
    """One run of a sandbox: the process, its socket and what it reported."""

    def __init__(self, port: int):
        self.port = port
        self.proc = None
        # Held while spawning and while killing: a stop finds no process or a whole one.
        self.lock = threading.Lock()
        self.pid1 = None  # the sandbox's pid 1 (bubblewrap) whose death takes everything with it
        self.info = b""  # bubblewrap's --info-fd JSON, which spans several lines
        self.settled = threading.Event()  # ready, failed or exited
        self.stopping = False
        self.timed_out = None  # the start-up deadline it missed, in seconds
        self.stopped_for = None  # the limit the host stopped it for (its output)
        self.group = None  # its control group, if the machine has them
        self.output_bytes = 0
        self.tail = deque(maxlen=40)  # last lines of output, for a failure message
        self.thread = None


class Sandbox:
    def __init__(self, sandbox_id: str, owner: str, isolation, settings: dict, uid, hostdir: Path,
                 cgroups=None):
        self.id = sandbox_id
        self.owner = owner
        self.isolation = isolation
        self.cgroups = cgroups
        self.settings = settings
        self.uid = uid
        self.hostdir = hostdir
        self.events = EventLog(settings["LOG_LINES"], settings["LOG_BYTES"])
        self.jar = Jar()
        self.last_used = time.monotonic()
        self.state = "stopped"
        self.scheme = None
        self.error = None
        self.exit_status = None
        self.routes = []
        self._child = None
        self._lock = threading.Lock()  # one start or stop at a time
        self._removed = False  # stopped for good: a start still queued must not revive it

    # -- what the API shows ----------------------------------------------------------------------

    @property
    def port(self):
        return self._child.port if self._child and self.state == "running" else None

    def snapshot(self) -> dict:
        return {
            "id": self.id, "state": self.state, "scheme": self.scheme, "port": self.port,
            "isolation": self.isolation.name, "warning": self.isolation.warning,
            "error": self.error, "routes": self.routes, "exit_status": self.exit_status,
        }

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def _set_state(self, child, state: str, **fields) -> None:
        """Record a state change of `child`, unless a newer run has replaced it."""
        if child is not self._child:
            return
        for name, value in fields.items():
            setattr(self, name, value)
        self.state = state
        self.events.append("state", state=state, port=self.port, scheme=self.scheme,
                           error=self.error, exit_status=self.exit_status)

    # -- start and stop --------------------------------------------------------------------------

    def start(self, files: dict) -> dict:
        """(Re)start the app with `files`; answer once it serves, has failed or timed out."""
        with self._lock:
            if self._removed:
                raise PlaygroundError(404, "no_such_sandbox", "this sandbox was stopped while "
                                      "it waited for its turn to start: press Run again.")
            self._stop_child()
            self._write_files(files)
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            child = self._child = Child(listener.getsockname()[1])
            self.scheme, self.error, self.exit_status, self.routes = None, None, None, []
            self._set_state(child, "starting")
            child.thread = threading.Thread(target=self._supervise, args=(child, listener),
                                            name=f"sandbox-{self.id}", daemon=True)
            child.thread.start()
        timeout = self.settings["START_TIMEOUT"]
        if not child.settled.wait(timeout):
            child.timed_out = timeout
            child.stopping = True
            self._kill(child)
            child.thread.join(5)
        self.touch()
        return self.snapshot()

    def stop(self) -> None:
        """Stop for good (the manager no longer holds this sandbox)."""
        with self._lock:
            self._removed = True
            self._stop_child()
            shutil.rmtree(self.hostdir, ignore_errors=True)

    def _stop_child(self) -> None:
        child = self._child
        if child is None:
            return
        child.stopping = True
        self._kill(child)
        if child.thread:
            child.thread.join(10)

    def _write_files(self, files: dict) -> None:
        shutil.rmtree(self.hostdir, ignore_errors=True)
        try:
            self.hostdir.mkdir(parents=True)
            for name, text in files.items():
                path = self.hostdir / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        except OSError as error:  # the host's disk is full, or a name the API let through
            raise PlaygroundError(507, "files_not_written", "the playground could not write "
                                  f"the snippet's files: {error.strerror}.") from None

    def _kill(self, child: Child) -> None:
        """Kill the child's whole tree, daemons that called setsid() included."""
        with child.lock:
            # Once reaped, its pids may belong to someone else: only signal a live child.
            if child.proc and child.proc.poll() is None:
                if child.pid1:
                    signal_quietly(os.kill, child.pid1)  # bubblewrap's pid 1: the namespace dies
                signal_quietly(os.killpg, child.proc.pid)  # started with start_new_session
        if child.group:
            child.group.kill()
        if self.uid is not None:
            kill_uids((self.uid,))

    # -- the supervisor thread -------------------------------------------------------------------

    def _supervise(self, child: Child, listener: socket.socket) -> None:
        events_r, events_w = os.pipe()
        # bubblewrap tells us its pid 1 on this pipe; a plain process has no use for one.
        info_r, info_w = os.pipe() if self.isolation.name == "bubblewrap" else (None, None)
        child_args = ["--socket-fd", str(listener.fileno()), "--events-fd", str(events_w),
                      "--limits", json.dumps(self._limits()),
                      "--start-timeout", str(self.settings["START_TIMEOUT"])]
        if self.uid is not None:
            child_args += ["--uid", str(self.uid)]
        launch = self.isolation.launch(self.hostdir, child_args, info_fd=info_w)
        passed = [fd for fd in (listener.fileno(), events_w, info_w, *launch.pass_fds)
                  if fd is not None]
        argv = launch.argv
        readers = [fd for fd in (events_r, info_r) if fd is not None]
        try:
            with child.lock:
                if not child.stopping:  # stopped before it began: spawn nothing
                    if self.cgroups:
                        child.group = self.cgroups.create(self.id, self.settings)
                        argv = child.group.wrap(argv)
                    child.proc = subprocess.Popen(
                        argv, cwd=launch.cwd, env=launch.env, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=passed,
                        start_new_session=True)
        except OSError as exc:
            self.error = host_error("SandboxError", f"could not start the sandbox: {exc}")
        finally:
            # Only the child holds the socket now: if it dies, connecting fails at once.
            listener.close()
            for fd in passed[1:]:
                os.close(fd)
        if child.proc is None:
            for fd in readers:
                os.close(fd)
            if child.group:
                child.group.remove()
            self._exited(child, -1)
            child.settled.set()
            return
        streams = {child.proc.stdout.fileno(): "stdout", child.proc.stderr.fileno(): "stderr",
                   events_r: "events"}
        if info_r is not None:
            streams[info_r] = "info"
        self._pump(child, streams)
        status = child.proc.wait()
        child.proc.stdout.close()
        child.proc.stderr.close()
        self._exited(child, status)  # the visitor hears at once; then the sweep
        if self.uid is not None:
            kill_uids((self.uid,))  # whatever the app left behind
        if child.group:
            child.group.remove()
        child.settled.set()

    def _pump(self, child: Child, streams: dict) -> None:
        """Read every stream of the child line by line until all of them are closed."""
        selector = selectors.DefaultSelector()
        pending = {}
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
            pending[fd] = b""
        while pending:
            for key, _ in selector.select():
                fd = key.fd
                data = os.read(fd, 65536)
                if not data:
                    if pending[fd]:
                        self._take(child, streams[fd], pending[fd])
                    selector.unregister(fd)
                    del pending[fd]
                    if streams[fd] in ("events", "info"):
                        os.close(fd)
                    continue
                *lines, pending[fd] = (pending[fd] + data).split(b"\n")
                for line in lines:
                    self._take(child, streams[fd], line)
                if len(pending[fd]) > MAX_LINE:  # a line without end: take it as it is
                    self._take(child, streams[fd], pending[fd])
                    pending[fd] = b""
        selector.close()

    def _take(self, child: Child, stream: str, raw: bytes) -> None:
        """One line from the child, which may be anything at all: nothing it writes may stop
        the pump, or its output would go unread and its exit unnoticed."""
        try:
            self._line(child, stream, raw)
        except Exception:  # noqa: BLE001 - logged, and the pump goes on
            log.exception("sandbox %s: could not take a line from %s", self.id, stream)

    def _line(self, child: Child, stream: str, raw: bytes) -> None:
        if stream == "info":  # bubblewrap's {"child-pid": N}, written before any visitor code runs
            self._bubblewrap_info(child, raw)
            return
        if child.stopped_for:
            return
        if stream == "events" and len(raw) > MAX_EVENT_LINE:
            return  # the bootstrap clips what it sends: this is the visitor writing on our pipe
        if stream in ("stdout", "stderr"):
            child.output_bytes += len(raw) + 1
            if child.output_bytes > self.settings["LIMIT_OUTPUT_BYTES"]:
                # Reading, splitting and logging costs the host CPU for every line: stop it.
                child.stopped_for = "LIMIT_OUTPUT_BYTES"
                self._kill(child)
                return
            # Terminal colours (Werkzeug 3.1.9 colours its access log) mean nothing in a page.
            line = ANSI_ESCAPE.sub("", raw.decode("utf-8", "replace"))
            line = line[: self.settings["LOG_LINE_BYTES"]]
            child.tail.append(line)
            self.events.append("log", size=len(line), stream=stream, line=line)
            return
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict) or child is not self._child:
            return
        kind = message.get("type")
        if kind not in CHILD_EVENTS:
            return
        # Only the fields the bootstrap sends: the visitor can write on this pipe too.
        message = {name: message[name] for name in CHILD_EVENTS[kind] if name in message}
        if kind == "ready":
            self._set_state(child, "running", scheme=message.get("scheme"),
                            routes=message.get("routes") or [])
            child.settled.set()
        elif kind == "failed":
            # The state changes when the child has exited.
            self.error = limits.explain(message.get("error"), self.settings)
        else:
            if kind == "exception":
                message["error"] = limits.explain(message.get("error"), self.settings)
            self.events.append(kind, size=len(raw), **message)

    def _bubblewrap_info(self, child: Child, raw: bytes) -> None:
        if child.pid1 is not None or len(child.info) > 4096:
            return
        child.info += raw + b"\n"
        try:
            pid = json.loads(child.info).get("child-pid")
        except ValueError:
            return  # not all of it yet
        if isinstance(pid, int):
            child.pid1 = pid

    def _exited(self, child: Child, status: int) -> None:
        limit = child.stopped_for or limits.for_exit(
            killing_signal(status), child.group is not None and child.group.oom_killed())
        if child.timed_out:
            error = self._timeout_error(child)
        elif limit:  # before the child's own report: a MemoryError may be how the OOM began
            error = host_error("LimitExceeded", limits.message(limit, self.settings),
                               tail=child.tail, limit=limit)
        elif self.error:  # the child said why before it exited
            error = self.error
        elif child.stopping:
            self._set_state(child, "stopped", exit_status=status)
            return
        else:
            error = host_error("ChildExited", f"the app exited ({describe_status(status)})",
                               tail=child.tail)
        self._set_state(child, "failed", error=error, exit_status=status)

    def _timeout_error(self, child: Child) -> dict:
        error = host_error("TimeoutError", limits.message("START_TIMEOUT", self.settings),
                           tail=child.tail, limit="START_TIMEOUT")
        # faulthandler's dump lists the innermost frame first.
        for line in child.tail:
            found = STACK_LINE.search(line)
            if found:
                name = self._visitor_file(found["file"])
                if name:
                    error["file"], error["line"] = name, int(found["line"])
                    break
        return error

    def _visitor_file(self, path: str):
        root = self.isolation.workdir(self.hostdir)
        if path.startswith(root + "/"):
            return path[len(root) + 1:]
        return None

    def _limits(self) -> dict:
        s = self.settings
        return {"memory": s["LIMIT_MEMORY_BYTES"], "cpu": s["LIMIT_CPU_SECONDS"],
                "processes": s["LIMIT_PROCESSES"], "open_files": s["LIMIT_OPEN_FILES"],
                "file_size": s["LIMIT_FILE_BYTES"], "core": 0}


def host_error(kind: str, message: str, tail=(), limit=None) -> dict:
    """An error the host noticed (not one the child reported), with the child's last output."""
    output = "\n".join(tail)
    return {"type": kind, "message": message, "file": None, "line": None, "limit": limit,
            "traceback": f"Last output of the app:\n{output}" if output else ""}


def killing_signal(status: int) -> int | None:
    """Popen gives -N for a signal; bubblewrap passes its child's death on as 128 + N."""
    signum = -status if status < 0 else status - 128 if status > 128 else 0
    return signum if signum in signal.valid_signals() and signum > 0 else None


def describe_status(status: int) -> str:
    signum = killing_signal(status)
    return f"killed by {signal.Signals(signum).name}" if signum else f"exit status {status}"


def signal_quietly(kill, pid: int) -> None:
    try:
        kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_uids(uids) -> None:
    """SIGKILL every process whose uid is in `uids` (each sandbox has its own) until none is left."""
    for _ in range(100):
        pids = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid in uids:
                        pids.append(int(entry.name))
                except FileNotFoundError:
                    pass
        if not pids:
            return
        for pid in pids:
            signal_quietly(os.kill, pid)
        time.sleep(0.01)
