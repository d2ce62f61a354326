"""Which limit a child hit, told in the visitor's terms.

A child that runs into a limit either sees an error it may report itself (MemoryError, EAGAIN
from fork, EMFILE, EFBIG, ENOSPC) or is killed by a signal (SIGXCPU for CPU time, SIGKILL from
the kernel's OOM killer, SIGSYS from the seccomp filter). Each becomes an error whose `limit`
names the setting (SECCOMP, the filter, has none), and whose message says what the limit is, so a
visitor knows it was the playground and not their code's logic.
"""

import errno
import re
import signal
from collections.abc import Iterable

ERRNO = re.compile(r"\[Errno (\d+)\]")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


# setting -> what the visitor reads, given the settings
MESSAGES = {
    "LIMIT_MEMORY_BYTES": lambda s: (
        "the app ran out of memory: it may use "
        f"{_mb(s['LIMIT_MEMORY_BYTES'])}, and ask for "
        f"{_mb(s['LIMIT_ADDRESS_SPACE_BYTES'])} at most at once"
    ),
    "LIMIT_CPU_SECONDS": lambda s: f"the app used up its {s['LIMIT_CPU_SECONDS']} s of CPU time",
    "LIMIT_PROCESSES": lambda s: (
        f"the app may run {s['LIMIT_PROCESSES']} processes and threads "
        "at once, and tried to start more"
    ),
    "LIMIT_OPEN_FILES": lambda s: (
        f"the app may have {s['LIMIT_OPEN_FILES']} files (and sockets) "
        "open at once, and tried to open more"
    ),
    "LIMIT_FILE_BYTES": lambda s: (
        f"a file the app wrote grew past {_mb(s['LIMIT_FILE_BYTES'])}, the largest allowed"
    ),
    "LIMIT_DISK_BYTES": lambda s: (
        f"the app's directory is full: it may write {_mb(s['LIMIT_DISK_BYTES'])}"
    ),
    "LIMIT_OUTPUT_BYTES": lambda s: (
        f"the app printed more than {_mb(s['LIMIT_OUTPUT_BYTES'])} and was stopped"
    ),
    "LIMIT_EVENT_BYTES_PER_SECOND": lambda s: (
        "the app wrote on the playground's events pipe "
        "faster than "
        f"{s['LIMIT_EVENT_BYTES_PER_SECOND'] // 1024} KB a "
        "second and was stopped"
    ),
    "START_TIMEOUT": lambda s: (
        f"the app did not start serving within {s['START_TIMEOUT']:g} s: "
        "is something at import time waiting forever?"
    ),
    # Not a setting: the sandbox's system call filter (seccomp.py) kills for a call of another
    # ABI (i386's int 0x80, x32), which would slip past its rules.
    "SECCOMP": lambda s: (
        "the app made a system call the sandbox does not allow (one of another "
        "architecture's ABI) and was stopped"
    ),
}

BY_ERRNO = {
    errno.EAGAIN: "LIMIT_PROCESSES",
    errno.EMFILE: "LIMIT_OPEN_FILES",
    errno.EFBIG: "LIMIT_FILE_BYTES",
    errno.ENOSPC: "LIMIT_DISK_BYTES",
    errno.EDQUOT: "LIMIT_DISK_BYTES",
    errno.ENOMEM: "LIMIT_MEMORY_BYTES",
}

BY_SIGNAL: dict[int, str] = {
    signal.SIGXCPU: "LIMIT_CPU_SECONDS",
    signal.SIGXFSZ: "LIMIT_FILE_BYTES",
    signal.SIGSYS: "SECCOMP",
}


def message(limit: str, settings: dict, detail: str | None = None) -> str:
    if limit == "REQUEST_TIMEOUT":  # which route it was
        return (
            f"{detail or 'a route'} spun the CPU for {settings['REQUEST_TIMEOUT']:g} s without "
            f"answering: stopped ({limit})."
        )
    return f"{MESSAGES[limit](settings)} ({limit})."


def for_error(error: dict) -> str | None:
    """The limit behind an exception the child reported, if it was one."""
    kind, text = error.get("type"), error.get("message") or ""
    if kind == "MemoryError":
        return "LIMIT_MEMORY_BYTES"
    if kind == "RuntimeError" and "can't start new thread" in text:
        return "LIMIT_PROCESSES"
    found = ERRNO.search(text)
    return BY_ERRNO.get(int(found.group(1))) if found else None


def explain(error: dict | None, settings: dict) -> dict | None:
    """`error` with `limit` set and the limit told first in its message, when one was hit."""
    if not error:
        return error
    limit = for_error(error)
    if limit is None:
        return {**error, "limit": None}
    original = error.get("message") or error.get("type")
    return {**error, "limit": limit, "message": f"{message(limit, settings)} {original}".strip()}


def for_exit(signum: int | None, oom_killed: bool) -> str | None:
    """The limit behind a child's death by `signum`."""
    if oom_killed:
        return "LIMIT_MEMORY_BYTES"
    return BY_SIGNAL.get(signum) if signum is not None else None


def host_error(kind: str, message: str, tail: Iterable[str] = (), limit: str | None = None) -> dict:
    """An error the host noticed (not one the child reported), with the child's last output."""
    output = "\n".join(tail)
    return {
        "type": kind,
        "message": message,
        "file": None,
        "line": None,
        "limit": limit,
        "traceback": f"Last output of the app:\n{output}" if output else "",
    }
