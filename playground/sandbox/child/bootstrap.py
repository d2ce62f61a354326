"""The child's own program: set the sandbox up, then run the visitor's app (runner.py).

This program runs *inside* the sandbox, before any visitor code, and imports nothing from the
host package: the files beside it are the whole child (report.py: what it tells the host, in the
format protocol.py holds; discovery.py: which app; runner.py: serving it; flask_trace.py: what
Flask did; commands.py: the flask command; zygote.py: warm starts). With `--command` it is a
`flask` command for the app instead, started by the app's own process (commands.py).
"""

import argparse
import ctypes
import faulthandler
import json
import os
import resource
import shutil
import signal
import sys

# python -I leaves this program's directory off sys.path; start() hands the slot to the visitor.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import commands  # noqa: E402 - the modules next to this one
from report import Reporter  # noqa: E402
from runner import Runner  # noqa: E402

# The modules beside this one, imported by their plain names (each holds what it imported).
CHILD_MODULES = (
    "bootstrap",
    "commands",
    "discovery",
    "flask_trace",
    "protocol",
    "report",
    "runner",
    "zygote",
)

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_NO_NEW_PRIVS = 38

RLIMITS = {
    "memory": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "processes": resource.RLIMIT_NPROC,
    "open_files": resource.RLIMIT_NOFILE,
    "file_size": resource.RLIMIT_FSIZE,
    "core": resource.RLIMIT_CORE,
}


def confine(args: argparse.Namespace, seccomp: bytes | None = None) -> None:
    """Limits first, then drop root for the sandbox's own uid, with an empty capability
    bounding set; the visitor's code runs after.

    A cold start's bubblewrap has dropped every capability but what this needs, and installed
    the seccomp filter. A warm child (zygote.py) is forked by root in the host's namespaces and
    installs `seccomp` (raw BPF) itself, after no_new_privs, as the last step before the
    visitor's code.
    """
    for name, value in json.loads(args.limits).items():
        # CPU: SIGXCPU at the soft limit tells the host which limit it was; the kernel
        # sends SIGKILL instead when soft and hard are equal.
        hard = value + 1 if name == "cpu" else value
        resource.setrlimit(RLIMITS[name], (value, hard))
    libc = ctypes.CDLL(None, use_errno=True)
    if args.uid is not None and os.geteuid() == 0:
        drop_bounding_set(libc)
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        os.setgroups([])
        os.setresgid(args.uid, args.uid, args.uid)
        os.setresuid(args.uid, args.uid, args.uid)  # clears the capabilities left
    if seccomp is not None:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        load_seccomp(libc, seccomp)
    # Set after the uid change, which clears it: the child never outlives its parent.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def drop_bounding_set(libc: ctypes.CDLL) -> None:
    """No capability can ever be gained again, by this process or anything it runs."""
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"could not drop capability {cap}")


class SockFprog(ctypes.Structure):
    """struct sock_fprog: a BPF program, as prctl(PR_SET_SECCOMP) takes it."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_seccomp(libc: ctypes.CDLL, program: bytes) -> None:
    """Install the filter the host compiled (seccomp.py); BPF instructions are 8 bytes each."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "could not install the seccomp filter")


def prepare_workdir(args: argparse.Namespace) -> None:
    """Copy the snippet into the sandbox's own (size-capped) directory, owned by its uid, over
    what the app kept from its last run."""
    if args.data_from and os.path.isdir(args.data_from):
        shutil.copytree(args.data_from, args.workdir, dirs_exist_ok=True)
    if args.copy_from:
        shutil.copytree(args.copy_from, args.workdir, dirs_exist_ok=True)
    if args.uid is not None and os.geteuid() == 0:
        # Bottom-up, the root last: once a directory is the uid's, root (without
        # CAP_DAC_OVERRIDE) can no longer look inside it.
        for root, dirs, files in os.walk(args.workdir, topdown=False):
            for name in dirs + files:
                os.chown(os.path.join(root, name), args.uid, args.uid, follow_symlinks=False)
        os.chmod(args.workdir, 0o700)  # other sandboxes' uids stay out
        os.chown(args.workdir, args.uid, args.uid)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--copy-from")
    parser.add_argument("--data-from", help="what the app kept from its last run")
    parser.add_argument("--socket-fd", type=int)
    parser.add_argument("--events-fd", type=int)
    parser.add_argument("--control-fd", type=int)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--app", help="the app, as `flask --app` takes it")
    parser.add_argument("--program", help="this program's path in the sandbox")
    parser.add_argument("--command", help="run `flask` with these arguments (JSON) instead")
    return parser.parse_args(argv)


def start(args: argparse.Namespace, seccomp: bytes | None = None) -> None:
    """Set the sandbox up, then run the visitor's app; never returns. The same for a cold start
    (main) and a warm one (zygote.py)."""
    faulthandler.enable()  # a segfault still tells the visitor where it happened
    prepare_workdir(args)
    confine(args, seccomp)
    os.chdir(args.workdir)
    sys.path[0] = args.workdir  # this program's directory gives way to the visitor's own
    leave_names_to_the_visitor()
    sys.argv = ["app.py"]
    report = Reporter(args.workdir, args.events_fd)
    # The host asks, before it gives up on a start that makes no progress: where is it stuck?
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        Runner(report, args.socket_fd, args.control_fd, args.app, args.program).run()
    except BaseException as exc:  # everything, sys.exit included, is reported
        report.emit("failed", error=report.describe(exc))
        sys.stderr.flush()
    os._exit(1)


def leave_names_to_the_visitor() -> None:
    """Forget our modules' plain names (each module holds what it imported): a visitor's own
    report.py or commands.py must be theirs when their code imports it."""
    for name in CHILD_MODULES:
        sys.modules.pop(name, None)


def main() -> None:
    args = options()
    if args.command is not None:  # already in the sandbox, started by the app's process
        leave_names_to_the_visitor()
        sys.exit(commands.main(json.loads(args.command), args.workdir, args.app))
    start(args)


if __name__ == "__main__":
    main()
