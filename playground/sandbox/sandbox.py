"""`Sandbox`: one visitor's app, run as a child process on a socket the host bound for it.

A sandbox outlives its runs: "Run" again (PUT) stops the child and starts a new one with the
same id and event log. Each run (run.py) has a supervisor thread (supervisor.py) that spawns the
child and pumps what it writes (pump.py) into the log; each gets a control group of its own where
the machine has them (cgroups.py), and when a child dies of a limit the error names it
(limits.py).
"""

import os
import secrets
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

from . import data, limits
from .cgroups import Cgroups
from .child import protocol
from .errors import CommandsBusy, CommandTimeout, FilesNotWritten, NoSuchSandbox, NotRunning
from .events import EventLog
from .isolation import Isolation, data_dir
from .kill import kill_uids, signal_quietly, signal_uids
from .run import Run
from .supervisor import supervise
from .zygote import Zygote

PROGRESS_CHECK_SECONDS = 1.0  # how often a slow start is asked whether it is still working
PROGRESS_SHARE = 0.1  # of that time it must want the CPU to be called working
COMMAND_GRACE_SECONDS = 5.0  # beyond a command's own timeout, which the child enforces
RUNAWAY_CHECK_SECONDS = 1.0  # how long a route that timed out is watched
RUNAWAY_SHARE = 0.5  # of that time a route must want the CPU to be called spinning
DUMP_WAIT_SECONDS = 1.0  # how long a stuck child has to say where it is stuck


class Sandbox:
    def __init__(
        self,
        sandbox_id: str,
        owner: str,
        isolation: Isolation,
        settings: dict,
        uid: int | None,
        hostdir: Path,
        cgroups: Cgroups | None = None,
        label: str | None = None,
        zygote: Zygote | None = None,
    ):
        self.id = sandbox_id
        self.owner = owner
        self.label = label  # what the visitor calls it (the snippet's title), for refusals
        self.token = secrets.token_urlsafe(16)  # its address through the host (gateway.py)
        self.app_spec: str | None = None  # which app, as `flask --app` takes it; None: look
        self.isolation = isolation
        self.cgroups = cgroups
        self.zygote = zygote  # starts its children warm, when there is one
        self.settings = settings
        self.uid = uid
        self.hostdir = hostdir
        self.events = EventLog(settings["LOG_LINES"], settings["LOG_BYTES"])
        self.last_used = time.monotonic()
        self.state = "stopped"
        self.scheme: str | None = None
        self.error: dict | None = None
        self.exit_status: int | None = None
        self.routes: list[dict] = []
        self.runtime: dict | None = None
        self._run: Run | None = None
        self._lock = threading.Lock()  # one start or stop at a time
        self._data_lock = threading.Lock()  # one copy of its data at a time
        self._snippet_files: set[str] = set()  # not data: the run's own files
        self._removed = False  # stopped for good: a start still queued must not revive it

    # -- what the API shows ----------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        return self._run.port if self._run and self.state == "running" else None

    def snapshot(self) -> dict:
        return {
            "id": self.id,
            "state": self.state,
            "scheme": self.scheme,
            "port": self.port,
            "isolation": self.isolation.name,
            "warning": self.isolation.warning,
            "error": self.error,
            "routes": self.routes,
            "exit_status": self.exit_status,
            "runtime": self.runtime,
            "label": self.label,
            "app": self.app_spec,
        }

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def set_state(self, run: Run, state: str, **fields: object) -> None:
        """Record a state change of `run`, unless a newer run has replaced it."""
        if run is not self._run:
            return
        for name, value in fields.items():
            setattr(self, name, value)
        self.state = state
        self.events.append(
            "state",
            state=state,
            port=self.port,
            scheme=self.scheme,
            error=self.error,
            exit_status=self.exit_status,
        )

    def child_said(self, run: Run, kind: str, fields: dict) -> None:
        """An event from the child of `run` (child/protocol.py), already bounded and filtered."""
        if run is not self._run:
            return
        if kind == "ready":
            if self.state != "starting":  # the visitor's code may write one too: the first counts
                return
            routes, runtime = fields.get("routes"), fields.get("runtime")
            self.set_state(
                run,
                "running",
                scheme="https" if fields.get("scheme") == "https" else "http",
                routes=routes if isinstance(routes, list) else [],
                runtime=runtime if isinstance(runtime, dict) else None,
            )
            run.settled.set()
        elif kind == "failed":  # the state changes when the child has exited
            self.error = limits.explain(fields.get("error"), self.settings)
        else:
            if kind == "exception":
                fields["error"] = limits.explain(fields.get("error"), self.settings)
            # What the host looks events up by: the port of an exchange, a command's id.
            key = fields.get("id" if kind == "command" else "remote_port")
            self.events.append(kind, key=key if isinstance(key, int) else None, **fields)

    # -- start and stop --------------------------------------------------------------------------

    def start(self, files: dict[str, bytes], reset_data: bool = False) -> dict:
        """(Re)start the app with `files` ({path: bytes}), and what it kept from its last run
        unless `reset_data`; answer once it serves, has failed or timed out."""
        with self._lock:
            if self._removed:
                raise NoSuchSandbox(
                    "this sandbox was stopped while it waited for its turn to "
                    "start: press Run again."
                )
            run = self._go(files) if self.parked else None
            if run is None:
                self._stop_run()
                if reset_data:
                    shutil.rmtree(data_dir(self.hostdir), ignore_errors=True)
                self._write_files(files)
                run = self._launch(parked=False)
        if not self._started(run):
            self._give_up(run)
        self.touch()
        return self.snapshot()

    @property
    def parked(self) -> bool:
        """Started before its files and waiting for them (the manager's pool)."""
        run = self._run
        return run is not None and run.parked and run.waiting.is_set() and not run.settled.is_set()

    def park(self) -> bool:
        """Start a warm run as far as it can go without its files: the jail built, the child
        forked into it and waiting. `start` then only writes the files and says go. Whether it
        got there (it may not: no zygote answered)."""
        with self._lock:
            self._write_files({})
            run = self._launch(parked=True)
        while not run.waiting.wait(0.1):
            if run.settled.is_set():
                return False
        return True

    def _launch(self, parked: bool) -> Run:
        """A new run with its supervisor thread (lock held)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        run = self._run = Run(listener.getsockname()[1])
        run.parked = parked
        self.scheme, self.error, self.exit_status, self.routes = None, None, None, []
        self.runtime = None
        if not parked:
            self.set_state(run, "starting")
        run.thread = threading.Thread(
            target=supervise, args=(self, run, listener), name=f"sandbox-{self.id}", daemon=True
        )
        run.thread.start()
        return run

    def _go(self, files: dict[str, bytes]) -> Run | None:
        """Give the parked run its files (into the folder its jail already binds) and its go;
        None if it can no longer take them (lock held)."""
        run = self._run
        assert run is not None
        self._fill(files)
        with run.lock:
            try:
                if run.control is None:
                    raise BrokenPipeError
                os.write(run.control, protocol.go(self.app_spec))
            except OSError:
                return None
        run.parked = False
        self.set_state(run, "starting")
        return run

    def _started(self, run: Run) -> bool:
        """Whether the child settled (served, failed, exited) in time: START_TIMEOUT, and on a
        busy machine as long as it keeps using CPU, up to START_TIMEOUT_MAX. A valid snippet
        is not failed because the host was busy; one waiting for ever at import is."""
        if run.settled.wait(self.settings["START_TIMEOUT"]):
            return True
        started = time.monotonic() - self.settings["START_TIMEOUT"]
        wanted = run.group.busy_seconds() if run.group else None
        longest = self.settings["START_TIMEOUT_MAX"]
        while wanted is not None and time.monotonic() - started < longest:
            if run.settled.wait(PROGRESS_CHECK_SECONDS):
                return True
            now = run.group.busy_seconds() if run.group else None
            if now is None or now - wanted < PROGRESS_SHARE * PROGRESS_CHECK_SECONDS:
                break
            wanted = now
        return run.settled.is_set()

    def command(self, args: list[str], input: str, timeout: float) -> dict:
        """Run `flask <args>` inside the running app's sandbox (child/commands.py); its exit
        code, output and time, or a CommandTimeout."""
        run = self._run
        if run is None or self.state != "running":
            raise NotRunning(
                f"the app is not running (it is {self.state}): commands run inside "
                "it, so press Run first."
            )
        with run.lock:
            run.commands += 1
            asked, after = run.commands, self.events.last_seq
            try:
                if run.control is None:
                    raise BrokenPipeError
                os.write(run.control, protocol.command(asked, args, input, timeout))
            except BlockingIOError:  # the pipe is full of commands waiting their turn
                raise CommandsBusy(
                    "the app is still busy with earlier commands.", retry_after=timeout
                ) from None
            except OSError:
                raise NotRunning("the app stopped before the command could start.") from None
        answer = self.events.wait_for(
            lambda f: f.kind == "command" and f.key == asked, after, timeout + COMMAND_GRACE_SECONDS
        )
        if answer is None:
            raise CommandTimeout(f"the command did not answer within {timeout:g} s.")
        return answer.event()

    def answered_too_late(self, what: str) -> None:
        """A request (`what`: "GET /") got no answer in REQUEST_TIMEOUT. A route that sleeps is
        left alone; one still spinning the CPU would go on until LIMIT_CPU_SECONDS, and every
        later request would time out behind it: watch it a moment, and stop it if it spins."""
        run = self._run
        if run is not None and run.group is not None:
            threading.Thread(
                target=self._stop_if_spinning,
                args=(run, what),
                name=f"runaway-{self.id}",
                daemon=True,
            ).start()

    def _stop_if_spinning(self, run: Run, what: str) -> None:
        assert run.group is not None
        before = run.group.busy_seconds()
        time.sleep(RUNAWAY_CHECK_SECONDS)
        wanted = run.group.busy_seconds() - before
        if (
            wanted >= RUNAWAY_SHARE * RUNAWAY_CHECK_SECONDS
            and run is self._run
            and not run.stopped_for
        ):
            run.stopped_for, run.stopped_detail = "REQUEST_TIMEOUT", what
            self.kill(run)

    def _give_up(self, run: Run) -> None:
        """Stop a start that made no progress, once the child said where it was stuck."""
        run.timed_out = self.settings["START_TIMEOUT"]
        if self.uid is not None:
            signal_uids((self.uid,), signal.SIGUSR1)  # faulthandler's dump (bootstrap.start)
            deadline = time.monotonic() + DUMP_WAIT_SECONDS
            while time.monotonic() < deadline and not any("File " in line for line in run.tail):
                time.sleep(0.02)
        run.stopping = True
        self.kill(run)
        if run.thread:
            run.thread.join(5)

    def stop(self) -> None:
        """Stop for good (the manager no longer holds this sandbox)."""
        with self._lock:
            self._removed = True
            self._stop_run(keep_data=False)
            shutil.rmtree(self.hostdir, ignore_errors=True)
            shutil.rmtree(data_dir(self.hostdir), ignore_errors=True)

    def _stop_run(self, keep_data: bool = True) -> None:
        run = self._run
        if run is None:
            return
        run.stopping = True
        if keep_data:
            self.save_data(run)
        self.kill(run)
        if run.thread:
            run.thread.join(10)

    def save_data(self, run: Run) -> None:
        """Keep what the app of `run` wrote that is data, for its next run (data.py)."""
        root = self.isolation.files_root(run.pid1, self.hostdir)
        with self._data_lock:
            if root and run.proc and run.proc.poll() is None:
                data.save(
                    root,
                    data_dir(self.hostdir),
                    self._snippet_files,
                    self.settings["LIMIT_DISK_BYTES"],
                )

    def _write_files(self, files: dict[str, bytes]) -> None:
        shutil.rmtree(self.hostdir, ignore_errors=True)
        try:
            self.hostdir.mkdir(parents=True)
            data_dir(self.hostdir).mkdir(exist_ok=True)
        except OSError as error:
            raise FilesNotWritten(
                f"the playground could not write the snippet's files: {error.strerror}."
            ) from None
        self._fill(files)

    def _fill(self, files: dict[str, bytes]) -> None:
        """Write `files` into the sandbox's folder, which must exist (a parked run's jail binds
        that very folder: it is filled, never made anew)."""
        self._snippet_files = set(files)
        try:
            for name, content in files.items():
                path = self.hostdir / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        except OSError as error:  # the host's disk is full, or a name the API let through
            raise FilesNotWritten(
                f"the playground could not write the snippet's files: {error.strerror}."
            ) from None

    def kill(self, run: Run) -> None:
        """Kill the child's whole tree, daemons that called setsid() included."""
        with run.lock:
            # Once reaped, its pids may belong to someone else: only signal a live child.
            if run.proc and run.proc.poll() is None:
                if run.pid1:
                    signal_quietly(os.kill, run.pid1)  # bubblewrap's pid 1: the namespace dies
                signal_quietly(os.killpg, run.proc.pid)  # started with start_new_session
        if run.group:
            run.group.kill()
        if self.uid is not None:
            kill_uids((self.uid,))
