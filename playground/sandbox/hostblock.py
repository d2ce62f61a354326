"""A host's block of sandbox uids, held with a lock so that no two live hosts ever share one.

Each host (each SandboxManager: tests make several in one process) sweeps the uids of its block
when it starts and when a sandbox stops, so two hosts sharing a block would kill each other's
children. The block is claimed with flock() on a lock file, released by the kernel when the host
dies however it dies. Everything a host leaves on the machine is named after it,
`playground-<pid>-<block>` (its working directory, its cgroups), so a later host knows what a
dead one left: a block whose lock is free, or its own block under another host's name.
"""

import fcntl
import os
import re
import tempfile
from pathlib import Path

UIDS_PER_HOST = 2000
UID_BLOCKS = 4000
LOCKS = Path(tempfile.gettempdir()) / f"flask-playground-locks-{os.getuid()}"  # one per user
NAME = re.compile(r"playground-\d+-(\d+)")


class HostBlock:
    def __init__(self, uid_base: int):
        LOCKS.mkdir(mode=0o700, exist_ok=True)
        start = os.getpid() % UID_BLOCKS  # the usual block of a host with this pid
        for offset in range(UID_BLOCKS):
            self.number = (start + offset) % UID_BLOCKS
            self._fd = _lock(self.number)
            if self._fd is not None:
                break
        else:
            raise RuntimeError("every block of sandbox uids is held by a running playground")
        first = uid_base + self.number * UIDS_PER_HOST
        self.uids = range(first, first + UIDS_PER_HOST)
        self.name = f"playground-{os.getpid()}-{self.number}"

    def is_stale(self, name: str) -> bool:
        """Whether `name` (a directory or cgroup) was left by a host that is no longer running."""
        found = NAME.search(name)
        if found is None or found.group(0) == self.name:
            return False
        number = int(found.group(1))
        if number == self.number:
            return True  # ours now: its old host is gone
        fd = _lock(number)
        if fd is None:
            return False  # its host is alive
        os.close(fd)
        return True

    def release(self) -> None:
        """Give the block up (once: shutdown runs both when asked and at exit)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _lock(number: int) -> int | None:
    """An fd holding the lock of block `number`, or None if a running host holds it."""
    fd = os.open(LOCKS / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
