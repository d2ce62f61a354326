"""The fork server ("zygote"): Flask already imported, forking warm children on the host's word.

A cold start runs a fresh Python in bubblewrap and spends ~150 ms of CPU importing Flask. This
program imports it once; each start is then a fork, whose memory is shared copy-on-write. It is
part of the child's program (standard library, Flask and the modules beside it, nothing of the
host package) and never runs visitor code:

    zygote (root, the host's namespaces, one thread)
      └─ starter: enters the namespaces of a jail that bubblewrap built for this run
         (sandbox/isolation.py) with one setns() on its pid 1's pidfd, and forks
           └─ child: joins the run's cgroup, becomes a new session, and runs bootstrap.start():
              copy the files in, rlimits, empty capability bounding set, the sandbox's own uid,
              no_new_privs, the seccomp filter, then the app, exactly as a cold start does

The starter stays outside the jail's pid namespace (setns() of a pid namespace applies to the
children made afterwards), waits for the child and writes how it ended on its status pipe:
{"pid": N} once forked, then {"exit": status} (Popen's convention: -N for a signal), or
{"error": message} when the jail could not be entered. A parked child (the host's pool of
sandboxes ready for the next Run) waits for the host's go, its files, before the cold steps.
The host talks to the zygote over a Unix socket: a JSON request with the run's file
descriptors (SCM_RIGHTS), the starter's pid as the answer.
"""

import ctypes
import gc
import json
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootstrap  # noqa: E402 - the modules next to this one
import runner  # noqa: E402

MAX_REQUEST = 64 * 1024
# CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWPID | CLONE_NEWNS: the
# jail's own; the pid namespace applies to the children forked afterwards.
JAIL_NAMESPACES = 0x08000000 | 0x04000000 | 0x40000000 | 0x02000000 | 0x20000000 | 0x00020000
# Each request's descriptors, in order: the jail's pid 1 (a pidfd), then the run's own.
FDS = ("jail", "socket", "events", "control", "stdout", "stderr", "status")
libc = ctypes.CDLL(None, use_errno=True)


def preload() -> None:
    """What every app needs, imported once and shared by every fork."""
    import flask  # noqa: F401
    import jinja2  # noqa: F401
    import werkzeug.serving  # noqa: F401

    runner.runtime()


def serve(host: socket.socket, seccomp: bytes) -> None:
    """Fork a starter for each request until the host closes the socket."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the starters
    while True:
        message, fds, _flags, _address = socket.recv_fds(host, MAX_REQUEST, len(FDS))
        if not message:
            return
        try:
            request = json.loads(message)
            passed = dict(zip(FDS, fds, strict=True))
            pid = os.fork()
        except (ValueError, OSError) as exc:
            host.send(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        else:
            if pid == 0:
                host.close()
                starter(request, passed, seccomp)  # never returns
            host.send(json.dumps({"pid": pid}).encode())
        for fd in fds:
            os.close(fd)


def starter(request: dict, fds: dict, seccomp: bytes) -> None:
    """Enter the jail, fork the child there, wait for it, report how it ended."""
    status = fds["status"]
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Opened before entering anything: these paths are the host's.
        groups = [os.open(path, os.O_WRONLY) for path in request["cgroups"]]
        # The jail's pid 1 as a pidfd the host opened: all its namespaces at once, and never
        # another process's, even if that pid were reused. Entering its mount namespace makes
        # its root (where bubblewrap pivoted) this process's root and working directory.
        if libc.setns(fds["jail"], JAIL_NAMESPACES) != 0:
            raise OSError(ctypes.get_errno(), "setns(the jail's namespaces)")
        os.close(fds.pop("jail"))
        os.chdir("/")
        pid = os.fork()  # fails once the jail's pid 1 is gone: a stopped run starts nothing
    except Exception as exc:  # told to the host, whatever it is
        report(status, error=f"could not enter the sandbox: {type(exc).__name__}: {exc}")
        os._exit(1)
    if pid == 0:
        child(request, fds, groups, seccomp)  # never returns
    for fd in [*groups, *(fd for name, fd in fds.items() if name != "status")]:
        os.close(fd)
    report(status, pid=pid)
    _, wait_status = os.waitpid(pid, 0)
    report(status, exit=os.waitstatus_to_exitcode(wait_status))
    os._exit(0)


def child(request: dict, fds: dict, groups: list[int], seccomp: bytes) -> None:
    """In the jail: the run's cgroup, a session of its own, then a cold start's very steps."""
    try:
        for fd in groups:
            os.write(fd, b"0")  # "0": the writer itself
            os.close(fd)
        os.setsid()
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fds["stdout"], 1)
        os.dup2(fds["stderr"], 2)
        for fd in (null, fds["stdout"], fds["stderr"], fds["status"]):
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        args = bootstrap.options(
            [
                *request["args"],
                "--socket-fd",
                str(fds["socket"]),
                "--events-fd",
                str(fds["events"]),
                "--control-fd",
                str(fds["control"]),
            ]
        )
    except BaseException as exc:  # noqa: BLE001 - no app without its cgroup
        os.write(2, f"playground: could not start the app: {exc}\n".encode())
        os._exit(1)
    if request.get("park"):  # started before its files: they come with the host's go
        args.app = wait_for_go(fds["control"]).get("app")
    bootstrap.start(args, seccomp)


def wait_for_go(control: int) -> dict:
    """Block until the host's go (protocol.go): the snippet's files are in place. Read a byte
    at a time, so that nothing after the line is taken from the commands' pipe."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(control, 1)
        if not byte:  # the host gave the sandbox up before using it
            os._exit(0)
        line += byte
    said = json.loads(line)
    return said if isinstance(said, dict) else {}


def report(fd: int, **fields: object) -> None:
    try:
        os.write(fd, json.dumps(fields).encode() + b"\n")
    except OSError:
        pass  # the host stopped listening: it is stopping the run


def main() -> None:
    host = socket.socket(fileno=int(sys.argv[1]))
    libc.prctl(bootstrap.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the host
    hello = json.loads(host.recv(MAX_REQUEST))
    seccomp = bytes.fromhex(hello["seccomp"])
    preload()
    # What is imported now is shared with every fork until one writes to it; the collector
    # would write to all of it (each object's header) at its first full pass. Frozen, it never
    # looks at them: each child keeps only what it changes.
    gc.freeze()
    host.send(b'{"ready": true}')
    serve(host, seccomp)


if __name__ == "__main__":
    main()
