"""The supervisor of one run: a thread that spawns the child, pumps its streams and notices its
exit, then says why it ended in the visitor's terms.

The thread lives exactly as long as the child, which matters: bubblewrap's --die-with-parent
follows the thread that spawned it.
"""

import json
import os
import re
import socket
import subprocess
from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import limits
from .kill import describe_status, kill_uids, killing_signal
from .pump import Pump
from .run import Run

if TYPE_CHECKING:
    from .sandbox import Sandbox

# faulthandler's dump of a stuck child: `  File "/sandbox/app.py", line 3 in <module>`
STACK_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def supervise(sandbox: "Sandbox", run: Run, listener: socket.socket) -> None:
    """Spawn the child of `run`, serve it until it exits, record how it ended."""
    events_r, events_w = os.pipe()
    # bubblewrap tells us its pid 1 on this pipe; a plain process has no use for one.
    info_r, info_w = os.pipe() if sandbox.isolation.name == "bubblewrap" else (None, None)
    settings = sandbox.settings
    child_args = ["--socket-fd", str(listener.fileno()), "--events-fd", str(events_w),
                  "--limits", json.dumps(child_limits(settings)),
                  "--start-timeout", str(settings["START_TIMEOUT"])]
    if sandbox.uid is not None:
        child_args += ["--uid", str(sandbox.uid)]
    launch = sandbox.isolation.launch(sandbox.hostdir, child_args, info_fd=info_w)
    passed = [fd for fd in (listener.fileno(), events_w, info_w, *launch.pass_fds)
              if fd is not None]
    argv = launch.argv
    readers = [fd for fd in (events_r, info_r) if fd is not None]
    try:
        with run.lock:
            if not run.stopping:  # stopped before it began: spawn nothing
                if sandbox.cgroups:
                    run.group = sandbox.cgroups.create(sandbox.id, settings)
                    argv = run.group.wrap(argv)
                run.proc = subprocess.Popen(
                    argv, cwd=launch.cwd, env=launch.env, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=passed,
                    start_new_session=True)
    except OSError as exc:
        sandbox.error = host_error("SandboxError", f"could not start the sandbox: {exc}")
    finally:
        # Only the child holds the socket now: if it dies, connecting fails at once.
        listener.close()
        for fd in passed[1:]:
            os.close(fd)
    if run.proc is None:
        for fd in readers:
            os.close(fd)
        if run.group:
            run.group.remove()
        exited(sandbox, run, -1)
        run.settled.set()
        return
    assert run.proc.stdout and run.proc.stderr
    streams = {run.proc.stdout.fileno(): "stdout", run.proc.stderr.fileno(): "stderr",
               events_r: "events"}
    if info_r is not None:
        streams[info_r] = "info"
    try:
        Pump(sandbox, run).until_closed(streams)
    finally:
        for fd in readers:
            os.close(fd)
    status = run.proc.wait()
    run.proc.stdout.close()
    run.proc.stderr.close()
    exited(sandbox, run, status)  # the visitor hears at once; then the sweep
    if sandbox.uid is not None:
        kill_uids((sandbox.uid,))  # whatever the app left behind
    if run.group:
        run.group.remove()
    run.settled.set()


def exited(sandbox: "Sandbox", run: Run, status: int) -> None:
    """Record why the child of `run` ended: the state becomes `stopped` or `failed`."""
    limit = run.stopped_for or limits.for_exit(
        killing_signal(status), run.group is not None and run.group.oom_killed())
    if run.timed_out:
        error = timeout_error(sandbox, run)
    elif limit:  # before the child's own report: a MemoryError may be how the OOM began
        error = host_error("LimitExceeded", limits.message(limit, sandbox.settings),
                           tail=run.tail, limit=limit)
    elif sandbox.error:  # the child said why before it exited
        error = sandbox.error
    elif run.stopping:
        sandbox.set_state(run, "stopped", exit_status=status)
        return
    else:
        error = host_error("ChildExited", f"the app exited ({describe_status(status)})",
                           tail=run.tail)
    sandbox.set_state(run, "failed", error=error, exit_status=status)


def timeout_error(sandbox: "Sandbox", run: Run) -> dict:
    error = host_error("TimeoutError", limits.message("START_TIMEOUT", sandbox.settings),
                       tail=run.tail, limit="START_TIMEOUT")
    # faulthandler's dump lists the innermost frame first.
    root = sandbox.isolation.workdir(sandbox.hostdir)
    for line in run.tail:
        found = STACK_LINE.search(line)
        if found and found["file"].startswith(root + "/"):
            error["file"], error["line"] = found["file"][len(root) + 1:], int(found["line"])
            break
    return error


def host_error(kind: str, message: str, tail: Iterable[str] = (),
               limit: str | None = None) -> dict:
    """An error the host noticed (not one the child reported), with the child's last output."""
    output = "\n".join(tail)
    return {"type": kind, "message": message, "file": None, "line": None, "limit": limit,
            "traceback": f"Last output of the app:\n{output}" if output else ""}


def child_limits(settings: dict) -> dict:
    """The rlimits the bootstrap sets, by its names for them."""
    return {"memory": settings["LIMIT_MEMORY_BYTES"], "cpu": settings["LIMIT_CPU_SECONDS"],
            "processes": settings["LIMIT_PROCESSES"], "open_files": settings["LIMIT_OPEN_FILES"],
            "file_size": settings["LIMIT_FILE_BYTES"], "core": 0}
