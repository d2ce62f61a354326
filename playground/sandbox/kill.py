"""Killing a child's processes, and telling how one died.

Stopping kills four ways (sandbox.py): bubblewrap's pid 1, whose pid namespace dies with it; the
process group; every process of the run's cgroup (cgroups.py); and every process of the
sandbox's uid, which catches what called setsid() in process mode.
"""

import os
import signal
import time
from collections.abc import Callable, Container


def signal_quietly(kill: Callable[[int, int], None], pid: int) -> None:
    """SIGKILL `pid` (or process group) with `kill`, ignoring a process that is already gone."""
    try:
        kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_uids(uids: Container[int]) -> None:
    """SIGKILL every process whose uid is in `uids` (each sandbox has its own) until none is
    left."""
    for _ in range(100):
        if not signal_uids(uids, signal.SIGKILL):
            return
        time.sleep(0.01)


def processes_of(uids: Container[int]) -> list[int]:
    """The pids of every process whose uid is in `uids`."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                pass
    return pids


def signal_uids(uids: Container[int], signum: int) -> int:
    """Send `signum` to every process whose uid is in `uids`; how many there were."""
    pids = processes_of(uids)
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass
    return len(pids)


def killing_signal(status: int) -> int | None:
    """Popen gives -N for a signal; bubblewrap passes its child's death on as 128 + N."""
    signum = -status if status < 0 else status - 128 if status > 128 else 0
    return signum if signum in signal.valid_signals() and signum > 0 else None


def describe_status(status: int) -> str:
    signum = killing_signal(status)
    return f"killed by {signal.Signals(signum).name}" if signum else f"exit status {status}"
