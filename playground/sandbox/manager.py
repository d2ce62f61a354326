"""`SandboxManager`: who owns which sandbox, the caps on how many, and the idle reaper.

Runs take turns to start (MAX_STARTING at once): a room pressing Run together queues instead of
starving the host of CPU. A host that died without cleaning up leaves directories, cgroups and
perhaps processes in its uid block; the next host removes them before it starts (hostblock.py).
"""

import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import isolation
from .cgroups import Cgroups, all_sandboxes_memory
from .errors import (
    NoSuchSandbox,
    PlaygroundBusy,
    PlaygroundFull,
    SandboxError,
    ShuttingDown,
    TooManySandboxes,
)
from .hostblock import UIDS_PER_HOST, HostBlock
from .isolation import Bubblewrap
from .kill import kill_uids
from .sandbox import Sandbox
from .zygote import Zygote

log = logging.getLogger(__name__)
WARM_STARTS_PER_CORE = 16
POOL_CHECK_SECONDS = 0.5  # how often the pool looks whether it holds as many as are wanted
POOL_QUIET_SECONDS = 0.5  # since the last start, before the pool parks another


class SandboxManager:
    def __init__(self, settings: dict):
        self.settings = settings
        self.isolation = isolation.choose(settings["SANDBOX_MODE"], settings["LIMIT_DISK_BYTES"])
        if self.isolation.warning:
            log.warning("!" * 20 + " %s " + "!" * 20, self.isolation.warning)
        self._sandboxes: dict[str, Sandbox] = {}
        self._by_token: dict[str, Sandbox] = {}
        self._uids: set[int] = set()
        self._uid_counter = -1
        self.block = HostBlock(settings["SANDBOX_UID_BASE"])
        self.uids = self.block.uids
        remove_stale_dirs(self.block)
        if os.geteuid() == 0:
            kill_uids(self.uids)  # a dead host that had our block may have left some
        self.cgroups = Cgroups.detect(settings, self.block)
        self.zygote = None
        if settings["WARM_START"] and self.isolation.can_warm_start:
            # Only bubblewrap with a seccomp filter can (Bubblewrap.can_warm_start).
            assert isinstance(self.isolation, Bubblewrap) and self.isolation.seccomp
            self.zygote = Zygote(self.isolation.seccomp)
        self.basedir = Path(tempfile.mkdtemp(prefix=f"flask-{self.block.name}-"))
        self.basedir.chmod(0o711)  # a dropped uid may enter its own directory, list none
        self.capacity = capacity(settings)
        per_core = WARM_STARTS_PER_CORE if self.zygote else 1
        self._starting = threading.BoundedSemaphore(
            settings["MAX_STARTING"] or per_core * (os.cpu_count() or 1)
        )
        self._lock = threading.Lock()
        self._closed = threading.Event()
        # Parked sandboxes: warm runs started before their files, owned by nobody yet. A Run
        # takes one, so that it only writes its files and says go (sandbox.py `park`).
        self._pool: list[Sandbox] = []
        self._pool_wanted = threading.Condition()
        self._last_start = 0.0
        self.demand: Callable[[], int] = lambda: 0  # pages open: set by the host
        threading.Thread(target=self._reap, name="sandbox-reaper", daemon=True).start()
        if self.zygote:
            self._pooling = threading.Thread(
                target=self._keep_pool, name="sandbox-pool", daemon=True
            )
            self._pooling.start()

    def _next_uid(self) -> int | None:
        """A uid of its own for each live sandbox, so limits and kills apply to it alone."""
        if os.geteuid() != 0 or not self.isolation.separate_uid:
            return None
        # Not reused at once: a stopped sandbox's last sweep must never hit a new one.
        while True:
            self._uid_counter = (self._uid_counter + 1) % UIDS_PER_HOST
            uid = self.uids.start + self._uid_counter
            if uid not in self._uids:
                self._uids.add(uid)
                return uid

    def create(
        self,
        owner: str,
        files: dict[str, bytes],
        label: str | None = None,
        app_spec: str | None = None,
    ) -> Sandbox:
        with self._lock:
            if self._closed.is_set():
                raise ShuttingDown("the playground is shutting down.")
            mine = self.owned_by(owner)
            if len(mine) >= self.settings["MAX_SANDBOXES_PER_VISITOR"]:
                raise TooManySandboxes(
                    f"you already have {len(mine)} apps running: stop one before starting another.",
                    sandboxes=[{"id": s.id, "label": s.label, "state": s.state} for s in mine],
                )
            sandbox = self._parked()
            if sandbox is None:
                if len(self._sandboxes) + len(self._pool) >= self.capacity:
                    raise PlaygroundFull(
                        "the playground is full, try again in a minute.", retry_after=60
                    )
                sandbox = self._new()
            sandbox.owner, sandbox.label, sandbox.app_spec = owner, label, app_spec
            self._sandboxes[sandbox.id] = sandbox
            self._by_token[sandbox.token] = sandbox
        try:
            self.start(sandbox, files)
        except BaseException:  # busy, or the disk refused its files: it must not hold a place
            self._remove(sandbox)
            raise
        return sandbox

    def _new(self) -> Sandbox:
        """A sandbox of nobody's yet, with an id, a uid and a folder of its own (lock held)."""
        sandbox_id = secrets.token_urlsafe(12)
        return Sandbox(
            sandbox_id,
            "",
            self.isolation,
            self.settings,
            self._next_uid(),
            self.basedir / sandbox_id,
            self.cgroups,
            zygote=self.zygote,
        )

    def _parked(self) -> Sandbox | None:
        """A parked sandbox still waiting for its files, taken out of the pool (lock held);
        one whose child has died meanwhile is left for the pool's thread to discard."""
        with self._pool_wanted:
            for sandbox in reversed(self._pool):
                if sandbox.parked:
                    self._pool.remove(sandbox)
                    self._pool_wanted.notify()
                    return sandbox
        return None

    def _keep_pool(self) -> None:
        """Keep as many parked sandboxes as pages are open (at least POOL_MIN, at most
        POOL_MAX, within the capacity), parking one after another, but never while runs are
        starting: a room pressing Run together takes them, and the pool fills again after."""
        short = 0
        while not self._closed.is_set():
            quiet = time.monotonic() - self._last_start >= POOL_QUIET_SECONDS
            if short <= 0 or not quiet:
                with self._pool_wanted:
                    self._pool_wanted.wait(POOL_CHECK_SECONDS)
            with self._pool_wanted:
                target = min(
                    self.settings["POOL_MAX"], max(self.settings["POOL_MIN"], self.demand())
                )
                dead = [s for s in self._pool if not s.parked]
                extra = [s for s in self._pool if s.parked][target:]  # pages were closed
                self._pool = [s for s in self._pool if s.parked][:target]
                room = self.capacity - len(self._sandboxes) - len(self._pool)
                short = min(target - len(self._pool), room)
            for sandbox in dead + extra:
                self._discard(sandbox)
            if short <= 0 or time.monotonic() - self._last_start < POOL_QUIET_SECONDS:
                continue
            if self._closed.is_set():  # woken by shutdown
                return
            with self._lock:
                sandbox = self._new()
            try:
                parked = sandbox.park()
            except SandboxError as error:  # its files could not be written (a full disk)
                log.warning("could not park a sandbox: %s", error)
                parked = False
                self._closed.wait(POOL_CHECK_SECONDS)  # and not again at once
            if parked and not self._closed.is_set():
                with self._pool_wanted:
                    self._pool.append(sandbox)
            else:
                self._discard(sandbox)

    def _discard(self, sandbox: Sandbox) -> None:
        sandbox.stop()
        with self._lock:
            self._uids.discard(sandbox.uid)

    def pool(self) -> list[Sandbox]:
        """The parked sandboxes, waiting for a Run."""
        with self._pool_wanted:
            return list(self._pool)

    def start(self, sandbox: Sandbox, files: dict[str, bytes], reset_data: bool = False) -> dict:
        """(Re)start `sandbox` once it is its turn; PlaygroundBusy if the queue does not move in
        time."""
        if not self._starting.acquire(timeout=self.settings["START_QUEUE_TIMEOUT"]):
            raise PlaygroundBusy(
                "the playground is busy starting other visitors' apps: try again in a few seconds.",
                retry_after=5,
            )
        self._last_start = time.monotonic()
        try:
            return sandbox.start(files, reset_data)
        finally:
            self._starting.release()
            self._last_start = time.monotonic()

    def get(self, sandbox_id: str, owner: str) -> Sandbox:
        """The visitor's own sandbox; anyone else's looks exactly like a missing one."""
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None or not secrets.compare_digest(sandbox.owner, owner):
            raise NoSuchSandbox(
                "there is no such sandbox (it may have been stopped after being "
                "idle): press Run to start one."
            )
        sandbox.touch()
        return sandbox

    def by_token(self, token: str) -> Sandbox | None:
        """The sandbox whose address through the host has `token`, whoever asks."""
        return self._by_token.get(token)

    def owned_by(self, owner: str) -> list[Sandbox]:
        """The owner's sandboxes, oldest first."""
        return [s for s in list(self._sandboxes.values()) if secrets.compare_digest(s.owner, owner)]

    def all(self) -> list[Sandbox]:
        """Every sandbox held, all visitors together."""
        return list(self._sandboxes.values())

    def newest_running(self, owner: str) -> Sandbox | None:
        """The owner's running sandbox they used last, if any."""
        mine = [
            s
            for s in list(self._sandboxes.values())
            if s.state == "running" and secrets.compare_digest(s.owner, owner)
        ]
        return max(mine, key=lambda s: s.last_used, default=None)

    def holds(self, sandbox: Sandbox) -> bool:
        """Whether `sandbox` is still one of ours (not deleted, not reaped)."""
        return self._sandboxes.get(sandbox.id) is sandbox

    def delete(self, sandbox_id: str, owner: str) -> None:
        sandbox = self.get(sandbox_id, owner)
        self._remove(sandbox)

    def remove(self, sandbox: Sandbox) -> None:
        """Stop `sandbox` for good, whoever owns it (the reaper, shutdown, tests)."""
        self._remove(sandbox)

    def _remove(self, sandbox: Sandbox) -> None:
        sandbox.stop()
        with self._lock:
            self._sandboxes.pop(sandbox.id, None)
            self._by_token.pop(sandbox.token, None)
            self._uids.discard(sandbox.uid)

    def _reap(self) -> None:
        while not self._closed.wait(min(30.0, self.settings["IDLE_TIMEOUT"] / 2)):
            idle_since = time.monotonic() - self.settings["IDLE_TIMEOUT"]
            for sandbox in list(self._sandboxes.values()):
                if sandbox.last_used < idle_since:
                    log.info("stopping idle sandbox %s", sandbox.id)
                    self._remove(sandbox)

    def shutdown(self) -> None:
        """Stop every child and remove every directory: nothing is left behind."""
        self._closed.set()
        with self._pool_wanted:
            self._pool_wanted.notify_all()
        if self.zygote:  # the sandbox it may be parking is its to stop: let it
            self._pooling.join(self.settings["START_TIMEOUT"])
        with self._pool_wanted:
            parked, self._pool = self._pool, []
        for sandbox in parked:
            self._discard(sandbox)
        for sandbox in list(self._sandboxes.values()):
            self._remove(sandbox)
        if self.zygote:
            self.zygote.close()
        shutil.rmtree(self.basedir, ignore_errors=True)
        if self.cgroups:
            self.cgroups.close()
        self.block.release()


def capacity(settings: dict) -> int:
    """MAX_SANDBOXES, or what the machine's memory for sandboxes holds (and the uid block)."""
    if settings["MAX_SANDBOXES"]:
        return settings["MAX_SANDBOXES"]
    held = all_sandboxes_memory(settings) // settings["SANDBOX_MEMORY_ESTIMATE"]
    return max(1, min(held, UIDS_PER_HOST // 2))  # uids are not reused at once


def remove_stale_dirs(block: HostBlock) -> None:
    """The working directories of playgrounds that are no longer running."""
    for entry in Path(tempfile.gettempdir()).glob("flask-playground-*"):
        if block.is_stale(entry.name):
            log.info("removing a dead playground's directory %s", entry)
            shutil.rmtree(entry, ignore_errors=True)
