"""How a child is isolated: the bubblewrap command line, or a plain process as a fallback.

Both modes run the same bootstrap, which sets the rlimits and (as root) drops to the sandbox's
own uid before any visitor code runs. Bubblewrap adds what a plain process cannot have: no
network, no view of the host's files or environment, its own pid namespace, a size-capped
directory of its own and a seccomp filter (seccomp.py) on the system calls it may make.
"""

import errno
import functools
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import seccomp

log = logging.getLogger(__name__)

CHILD_DIR = Path(__file__).with_name("child")  # the child's own program: bootstrap + tracing
BOOTSTRAP = CHILD_DIR / "bootstrap.py"
SANDBOX_ETC = Path(__file__).with_name("etc")  # the sandbox's own /etc/hosts and nsswitch.conf
PACKAGE_DIR = Path(__file__).resolve().parent.parent

# Inside the bubblewrap sandbox.
SANDBOX_CHILD_DIR = "/opt/playground"
SANDBOX_BOOTSTRAP = f"{SANDBOX_CHILD_DIR}/bootstrap.py"
SANDBOX_SOURCE = "/opt/snippet"
SANDBOX_DATA = "/opt/data"  # what the app kept from its last run (data.py)
SANDBOX_WORKDIR = "/sandbox"

CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    # Threads each reserve a malloc arena; keep the address space limit about real memory.
    "MALLOC_ARENA_MAX": "2",
}

# Isolated from PYTHON* variables and the user's site; unbuffered, so each print reaches the
# log as it happens; no .pyc files written into the visitor's directory.
PYTHON_FLAGS = ["-I", "-u", "-B"]
# What the bootstrap of a cold start needs to copy the files in, empty its capability bounding
# set and drop to the sandbox's uid.
BOOTSTRAP_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_SETPCAP")

PROCESS_WARNING = (
    "bubblewrap is not available: snippets run as plain processes with rlimits only. They can "
    "reach the network and read the host's files. Install bubblewrap (apt-get install bubblewrap) "
    "before letting anyone else use this playground."
)


@dataclass(frozen=True)
class Launch:
    """What the sandbox process needs to start one child."""

    argv: list[str]
    cwd: str
    env: dict[str, str]
    # The child inherits these; the caller closes them once it has started.
    pass_fds: tuple[int, ...] = ()


class Process:
    """Rlimits (and a uid of its own where it can): for machines without bubblewrap."""

    name = "process"
    warning = PROCESS_WARNING
    can_warm_start = False
    program = str(BOOTSTRAP)  # the child's program, as the child sees it

    @property
    def separate_uid(self) -> bool:
        """Can another uid run our Python? Not when it lives in root's home, as with pyenv."""
        return all(_traversable(Path(p)) for p in (sys.prefix, sys.base_prefix))

    def workdir(self, hostdir: Path) -> str:
        """The snippet's root as the child sees it."""
        return str(hostdir)

    def launch(self, hostdir: Path, child_args: list[str], info_fd: int | None = None) -> Launch:
        argv = [
            sys.executable,
            *PYTHON_FLAGS,
            str(BOOTSTRAP),
            "--workdir",
            str(hostdir),
            "--data-from",
            str(data_dir(hostdir)),
            *child_args,
        ]
        return Launch(argv, str(hostdir), {**CHILD_ENV, "HOME": str(hostdir)})

    def files_root(self, pid1: int | None, hostdir: Path) -> str | None:
        """Where the host reaches the files of a running sandbox: they are its own."""
        return str(hostdir)


class Bubblewrap:
    """A bubblewrap sandbox: read-only system and Python, nothing else of the host."""

    name = "bubblewrap"
    separate_uid = True  # the binds make our Python traversable
    program = SANDBOX_BOOTSTRAP

    @property
    def can_warm_start(self) -> bool:
        """A zygote's child enters a jail with setns(), which takes root (no user namespace to
        join first) and confines itself with the seccomp filter, which takes libseccomp."""
        return self.privileged and self.seccomp is not None

    def __init__(self, disk_bytes: int):
        self.disk_bytes = disk_bytes
        self.privileged = os.geteuid() == 0
        self.seccomp = seccomp.compile_filter()
        self.warning = None if self.seccomp else seccomp.WARNING

    @functools.cached_property
    def _python_binds(self) -> list[str]:
        """Read-only binds of the Python install (and venv) with their parents traversable."""
        roots = python_roots()
        args: list[str] = []
        made: set[Path] = set()
        for root in sorted(roots):
            if root == Path("/usr") or Path("/usr") in root.parents:
                continue
            for parent in reversed(root.parents):
                # bwrap would create missing parents with mode 0700, which the dropped uid
                # cannot cross.
                if parent != Path("/") and parent not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            args += ["--ro-bind", str(root), str(root)]
        # An installed copy of the host package sits in site-packages: hide it (and the one we
        # run from, if it is there), the child needs none of it.
        hidden = {p for root in roots for p in root.glob("lib/python*/site-packages/playground")}
        hidden |= {PACKAGE_DIR} if any(r in PACKAGE_DIR.parents for r in roots) else set()
        for package in sorted(hidden):
            args += ["--tmpfs", str(package)]
        return args

    @functools.cached_property
    def _system_binds(self) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        args += ["--perms", "0755", "--dir", "/etc"]
        # mime.types: Python's mimetypes (and so Flask's static files) answers as outside.
        for etc in ("/etc/ssl", "/etc/localtime", "/etc/mime.types"):
            if os.path.exists(etc):
                args += ["--ro-bind", etc, etc]
        for name in ("hosts", "nsswitch.conf"):  # localhost resolves, and nothing tries DNS
            args += ["--ro-bind", str(SANDBOX_ETC / name), f"/etc/{name}"]
        return args

    def workdir(self, hostdir: Path) -> str:
        return SANDBOX_WORKDIR

    def launch(
        self,
        hostdir: Path,
        child_args: list[str],
        info_fd: int | None = None,
        filtered: bool = True,
    ) -> Launch:
        """A cold start: bubblewrap runs a fresh Python with the bootstrap."""
        argv, pass_fds = self._jail_argv(hostdir, info_fd, filtered, caps=BOOTSTRAP_CAPS)
        argv += [
            "--",
            sys.executable,
            *PYTHON_FLAGS,
            SANDBOX_BOOTSTRAP,
            *self.warm_args(child_args),
        ]
        return Launch(argv, str(hostdir), {}, pass_fds)

    def jail(self, hostdir: Path, info_fd: int) -> Launch:
        """A sandbox with nobody in it yet, for a warm start: a shell says "ready" once every
        mount is made, then sleeps until the jail is stopped; the zygote's child enters it
        (child/zygote.py) and confines itself as the bootstrap would after a cold start."""
        argv, _ = self._jail_argv(hostdir, info_fd, filtered=False, caps=())
        argv += ["--", "/bin/sh", "-c", "echo ready && exec sleep infinity"]
        return Launch(argv, str(hostdir), {})

    def warm_args(self, child_args: list[str]) -> list[str]:
        """The bootstrap's arguments for a warm child (the zygote adds the fds it passes on)."""
        return [
            "--workdir",
            SANDBOX_WORKDIR,
            "--copy-from",
            SANDBOX_SOURCE,
            "--data-from",
            SANDBOX_DATA,
            *child_args,
        ]

    def files_root(self, pid1: int | None, hostdir: Path) -> str | None:
        """Where the host reaches the files of a running sandbox: through its pid 1's root."""
        return f"/proc/{pid1}/root{SANDBOX_WORKDIR}" if pid1 else None

    def warm_env(self) -> dict[str, str]:
        """A warm child's environment: what a cold one gets from bubblewrap."""
        return {**CHILD_ENV, "HOME": SANDBOX_WORKDIR, "PWD": SANDBOX_WORKDIR}

    def _jail_argv(
        self, hostdir: Path, info_fd: int | None, filtered: bool, caps: tuple[str, ...]
    ) -> tuple[list[str], tuple[int, ...]]:
        argv = [
            "bwrap",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            *self._system_binds,
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            # Shared memory (multiprocessing's locks, Werkzeug's debugger): the app's own.
            "--perms",
            "1777",
            "--size",
            str(self.disk_bytes),
            "--tmpfs",
            "/dev/shm",
            "--perms",
            "1777",
            "--size",
            str(self.disk_bytes),
            "--tmpfs",
            "/tmp",
            # After /tmp: a venv may live under it and must not be hidden by the tmpfs.
            *self._python_binds,
            "--perms",
            "0755",
            "--size",
            str(self.disk_bytes),
            "--tmpfs",
            SANDBOX_WORKDIR,
            "--perms",
            "0755",
            "--dir",
            "/opt",
            "--ro-bind",
            str(CHILD_DIR),
            SANDBOX_CHILD_DIR,
            "--ro-bind",
            str(hostdir),
            SANDBOX_SOURCE,
            "--ro-bind-try",
            str(data_dir(hostdir)),
            SANDBOX_DATA,
            "--chdir",
            SANDBOX_WORKDIR,
            "--clearenv",
        ]
        for name, value in {**CHILD_ENV, "HOME": SANDBOX_WORKDIR}.items():
            argv += ["--setenv", name, value]
        if self.privileged:
            # Only what is asked for (the bootstrap's copy and uid change); the uid change
            # then clears these too.
            argv += ["--cap-drop", "ALL"]
            argv += [arg for cap in caps for arg in ("--cap-add", cap)]
        else:
            argv += ["--unshare-user", "--cap-drop", "ALL"]
        if info_fd is not None:
            argv += ["--info-fd", str(info_fd)]
        pass_fds: tuple[int, ...] = ()
        if self.seccomp and filtered:
            pass_fds = (seccomp.pipe_with(self.seccomp),)
            argv += ["--seccomp", str(pass_fds[0])]
        return argv, pass_fds

    def works(self) -> bool:
        """A harmless probe: does Python start in the sandbox, with no way out to the network
        and no way to the host's own ports? Without the seccomp filter, which would refuse the
        connect() before the namespace is put to the test."""
        if not shutil.which("bwrap"):
            return False
        with socket.socket() as host_port:
            host_port.bind(("127.0.0.1", 0))
            host_port.listen()
            probe = (
                "import socket\n"
                "for address in "
                f"[('127.0.0.1', {host_port.getsockname()[1]}), ('192.0.2.1', 80)]:\n"
                "    try:\n        socket.create_connection(address, timeout=2)\n"
                "        print('reached', address)\n"
                "    except OSError as e:\n        print(e.errno)\n"
            )
            launch = self.launch(Path("/tmp"), [], filtered=False)
            argv = launch.argv[: launch.argv.index("--") + 1] + [sys.executable, "-I", "-c", probe]
            try:
                done = subprocess.run(
                    argv, capture_output=True, text=True, timeout=20, pass_fds=launch.pass_fds
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.warning("bubblewrap probe failed: %s", exc)
                return False
            finally:
                for fd in launch.pass_fds:
                    os.close(fd)
        # Refused on its own loopback, unreachable beyond it.
        if done.stdout.split() != [str(errno.ECONNREFUSED), str(errno.ENETUNREACH)]:
            log.warning("bubblewrap probe failed: %s %s", done.stdout.strip(), done.stderr.strip())
            return False
        return True


Isolation = Process | Bubblewrap


def data_dir(hostdir: Path) -> Path:
    """The folder the host keeps a sandbox's data in between runs (data.py)."""
    return hostdir.with_name(hostdir.name + ".data")


def python_roots() -> set[Path]:
    """Where the Python that children run is installed, and its venv: the sandbox sees them at
    the same paths."""
    roots = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix)}
    roots.add(Path(sys.executable).resolve().parent.parent)
    return roots


def _python_paths() -> re.Pattern[bytes]:
    """The start of a path into the Python install's libraries (`/root/.pyenv/.../lib/python3.11`),
    as the child names them: unresolved (sys.prefix) or resolved."""
    roots = {str(p) for p in (sys.base_prefix, sys.prefix)} | {str(p) for p in python_roots()}
    names = sorted((re.escape(root.encode()) for root in roots), key=len, reverse=True)
    return re.compile(b"(?:" + b"|".join(names) + rb")(?=/lib(?:64)?/python)")


PYTHON_PATHS = _python_paths()
HOST_CHILD_DIR = str(CHILD_DIR.resolve()).encode()


def hide_python(raw: bytes) -> bytes:
    """`raw` (a line the child wrote) with the host's Python install shown as `<python>`, and
    the child's program where a cold child sees it: an ImportError or a traceback would
    otherwise show where the host keeps its virtualenv and its checkout (a warm child's
    modules were imported by the zygote, from the host's paths)."""
    return PYTHON_PATHS.sub(b"<python>", raw).replace(HOST_CHILD_DIR, SANDBOX_CHILD_DIR.encode())


def _traversable(path: Path) -> bool:
    """Whether every directory down to `path` lets other users through."""
    return all(os.stat(p).st_mode & 0o001 for p in [path.resolve(), *path.resolve().parents])


def choose(mode: str, disk_bytes: int) -> Isolation:
    """The isolation for `mode` (auto, bubblewrap or process)."""
    if mode not in ("auto", "bubblewrap", "process"):
        raise ValueError(f"unknown sandbox mode {mode!r}: use auto, bubblewrap or process")
    if mode == "process":
        return Process()
    bwrap = Bubblewrap(disk_bytes)
    if bwrap.works():
        return bwrap
    if mode == "bubblewrap":
        raise RuntimeError("--sandbox bubblewrap was asked for, but bubblewrap does not work here")
    log.warning(PROCESS_WARNING)
    return Process()
