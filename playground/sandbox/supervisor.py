"""The supervisor of one run: a thread that starts the child, pumps its streams and notices its
exit, then says why it ended in the visitor's terms.

A child starts warm where it can: bubblewrap builds an empty jail and the zygote forks a child,
with Flask already imported, into it (zygote.py, child/zygote.py). Otherwise, or when no zygote
answers after WARM_ATTEMPTS, it starts cold: bubblewrap runs a fresh Python with the bootstrap.
Either way the isolation is the same, and so is everything after the start.

The thread lives exactly as long as the child, which matters: bubblewrap's --die-with-parent
follows the thread that spawned it.
"""

import json
import os
import re
import selectors
import socket
import subprocess
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import limits
from .isolation import Bubblewrap
from .kill import describe_status, kill_uids, killing_signal
from .limits import host_error
from .pump import Pump
from .run import Run
from .zygote import ZygoteLost

if TYPE_CHECKING:
    from .sandbox import Sandbox

# faulthandler's dump of a stuck child: `  File "/sandbox/app.py", line 3 in <module>`
STACK_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
WARM_ATTEMPTS = 2  # zygotes lost before a run starts cold


class Started:
    """A child on its way: the process the host waits for (bubblewrap, or the plain process),
    and the streams to pump, by name."""

    def __init__(self, proc: subprocess.Popen[bytes], streams: dict[int, str]):
        self.proc = proc
        self.streams = streams


def supervise(sandbox: "Sandbox", run: Run, listener: socket.socket) -> None:
    """Start the child of `run`, serve it until it exits, record how it ended."""
    started = None
    try:
        for _ in range(WARM_ATTEMPTS if sandbox.zygote else 0):
            try:
                started = warm(sandbox, run, listener)
                break
            except ZygoteLost:
                continue
        else:
            if not run.parked:  # a parked run is warm or nothing: the pool tries again later
                started = cold(sandbox, run, listener)
    except OSError as exc:
        sandbox.error = host_error("SandboxError", f"could not start the sandbox: {exc}")
    finally:
        # Only the child holds the socket now: if it dies, connecting fails at once.
        listener.close()
    if started is None:
        run.close_control()
        if run.group:
            run.group.remove()
        exited(sandbox, run, -1)
        run.settled.set()
        return
    try:
        Pump(sandbox, run).until_closed(started.streams)
    finally:
        for fd in started.streams:
            os.close(fd)
    status = started.proc.wait()
    run.close_control()
    exited(sandbox, run, status if run.exit_status is None else run.exit_status)
    if sandbox.uid is not None:
        kill_uids((sandbox.uid,))  # whatever the app left behind
    if run.group:
        run.group.remove()
    run.settled.set()


def spawn(
    sandbox: "Sandbox",
    run: Run,
    argv: list[str],
    pass_fds: Iterable[int],
    stdout: int,
    stderr: int,
    cwd: str,
    env: dict[str, str],
) -> subprocess.Popen[bytes] | None:
    """Start `argv` in the run's control group; None if the run was stopped first."""
    with run.lock:
        if run.stopping:
            return None
        if sandbox.cgroups:
            run.group = sandbox.cgroups.create(sandbox.id, sandbox.settings)
            argv = run.group.wrap(argv)
        run.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            pass_fds=tuple(pass_fds),
            start_new_session=True,
        )
        return run.proc


def cold(sandbox: "Sandbox", run: Run, listener: socket.socket) -> Started | None:
    """bubblewrap (or a plain process) runs a fresh Python with the bootstrap."""
    events_r, events_w = os.pipe()
    control_r, run.control = os.pipe()
    os.set_blocking(run.control, False)  # a child that reads no commands never blocks the host
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    # bubblewrap tells us its pid 1 on this pipe; a plain process has no use for one.
    info_r, info_w = os.pipe() if sandbox.isolation.name == "bubblewrap" else (None, None)
    child_args = [
        "--socket-fd",
        str(listener.fileno()),
        "--events-fd",
        str(events_w),
        "--control-fd",
        str(control_r),
        *bootstrap_args(sandbox),
    ]
    launch = sandbox.isolation.launch(sandbox.hostdir, child_args, info_fd=info_w)
    passed = [
        fd
        for fd in (listener.fileno(), events_w, control_r, info_w, *launch.pass_fds)
        if fd is not None
    ]
    streams = {out_r: "stdout", err_r: "stderr", events_r: "events"}
    if info_r is not None:
        streams[info_r] = "info"
    try:
        proc = spawn(sandbox, run, launch.argv, passed, out_w, err_w, launch.cwd, launch.env)
    finally:
        for fd in [out_w, err_w, *passed[1:]]:
            os.close(fd)
    if proc is None:
        for fd in streams:
            os.close(fd)
        return None
    return Started(proc, streams)


def warm(sandbox: "Sandbox", run: Run, listener: socket.socket) -> Started | None:
    """bubblewrap builds an empty jail; the zygote forks the child into it."""
    isolation = sandbox.isolation
    # Only bubblewrap can warm start (Bubblewrap.can_warm_start), and only then is there a zygote.
    assert sandbox.zygote is not None and isinstance(isolation, Bubblewrap)
    pipes = {name: os.pipe() for name in ("stdout", "stderr", "events", "status", "ready", "info")}
    reads = {r: name for name, (r, _w) in pipes.items()}
    control_r, control_w = os.pipe()
    launch = isolation.jail(sandbox.hostdir, info_fd=pipes["info"][1])
    try:
        proc = spawn(
            sandbox,
            run,
            launch.argv,
            [pipes["info"][1]],
            pipes["ready"][1],
            pipes["stderr"][1],
            launch.cwd,
            launch.env,
        )
    finally:
        os.close(pipes["info"][1])
        os.close(pipes["ready"][1])
    # In child/zygote.py's order (FDS); the host keeps the control pipe's write end.
    passed = [listener.fileno(), pipes["events"][1], control_r] + [
        pipes[name][1] for name in ("stdout", "stderr", "status")
    ]
    if proc is None:  # stopped before it began
        for fd in [*reads, *passed[1:], control_w]:
            os.close(fd)
        return None
    try:
        deadline = time.monotonic() + sandbox.settings["START_TIMEOUT"]
        if not jail_ready(run, pipes["info"][0], pipes["ready"][0], deadline):
            raise OSError("bubblewrap did not make the sandbox")  # its stderr says why
        assert run.pid1 is not None
        request = {
            "args": isolation.warm_args(bootstrap_args(sandbox)),
            "env": isolation.warm_env(),
            "cgroups": run.group.procs() if run.group else [],
            "park": run.parked,
        }
        # The jail's pid 1, alive now (its shell said "ready" and sleeps): a pidfd names that
        # process and no other, whatever happens to its pid later.
        jail = os.pidfd_open(run.pid1)
        try:
            sandbox.zygote.spawn(
                request, [jail, *passed], timeout=max(deadline - time.monotonic(), 0.1)
            )
        finally:
            os.close(jail)
    except (OSError, ZygoteLost):
        sandbox.kill(run)  # the jail, and anything that may have entered it
        proc.wait()
        for fd in [*reads, *passed[1:], control_w]:
            os.close(fd)
        run.pid1 = None
        raise
    for fd in passed[1:]:
        os.close(fd)
    os.set_blocking(control_w, False)  # a child that reads no commands never blocks the host
    run.control = control_w
    run.waiting.set()  # a parked run's child now waits for its files
    return Started(proc, reads)


def jail_ready(run: Run, info: int, ready: int, deadline: float) -> bool:
    """Wait for the jail's pid 1 (bubblewrap's info) and its "ready" (all mounts made)."""
    selector = selectors.DefaultSelector()
    selector.register(info, selectors.EVENT_READ)
    selector.register(ready, selectors.EVENT_READ)
    said, seen = b"", b""
    try:
        while run.pid1 is None or not seen.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or run.stopping:
                return False
            for key, _ in selector.select(min(remaining, 0.5)):
                data = os.read(key.fd, 4096)
                if not data:  # bubblewrap closes its info pipe once it has written
                    if key.fd == ready or run.pid1 is None:
                        return False
                    selector.unregister(info)
                elif key.fd == info:
                    said += data
                    try:
                        run.pid1 = int(json.loads(said)["child-pid"])
                    except (ValueError, KeyError, TypeError):
                        pass  # not all of it yet
                else:
                    seen += data
        return True
    finally:
        selector.close()


def exited(sandbox: "Sandbox", run: Run, status: int) -> None:
    """Record why the child of `run` ended: the state becomes `stopped` or `failed`."""
    limit = run.stopped_for or limits.for_exit(
        killing_signal(status), run.group is not None and run.group.oom_killed()
    )
    if run.timed_out:
        error = timeout_error(sandbox, run)
    elif limit:  # before the child's own report: a MemoryError may be how the OOM began
        error = host_error(
            "LimitExceeded",
            limits.message(limit, sandbox.settings, run.stopped_detail),
            tail=run.tail,
            limit=limit,
        )
    elif sandbox.error:  # the child said why before it exited
        error = sandbox.error
    elif run.stopping:
        sandbox.set_state(run, "stopped", exit_status=status)
        return
    else:
        error = host_error(
            "ChildExited", f"the app exited ({describe_status(status)})", tail=run.tail
        )
    sandbox.set_state(run, "failed", error=error, exit_status=status)


def timeout_error(sandbox: "Sandbox", run: Run) -> dict:
    error = host_error(
        "TimeoutError",
        limits.message("START_TIMEOUT", sandbox.settings),
        tail=run.tail,
        limit="START_TIMEOUT",
    )
    # faulthandler's dump lists the innermost frame first.
    root = sandbox.isolation.workdir(sandbox.hostdir)
    for line in run.tail:
        found = STACK_LINE.search(line)
        if found and found["file"].startswith(root + "/"):
            error["file"], error["line"] = found["file"][len(root) + 1 :], int(found["line"])
            break
    return error


def bootstrap_args(sandbox: "Sandbox") -> list[str]:
    """The bootstrap's arguments but the fds: its limits, its uid, the app to look for."""
    settings = sandbox.settings
    limits_ = {
        "memory": settings["LIMIT_ADDRESS_SPACE_BYTES"],
        "cpu": settings["LIMIT_CPU_SECONDS"],
        "processes": settings["LIMIT_PROCESSES"],
        "open_files": settings["LIMIT_OPEN_FILES"],
        "file_size": settings["LIMIT_FILE_BYTES"],
        "core": 0,
    }
    args = ["--limits", json.dumps(limits_), "--program", sandbox.isolation.program]
    if sandbox.uid is not None:
        args += ["--uid", str(sandbox.uid)]
    if sandbox.app_spec:
        args += ["--app", sandbox.app_spec]
    return args
