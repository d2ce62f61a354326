"""Control groups: memory, processes and CPU for a sandbox's whole process tree.

Rlimits count per process (memory, CPU time) or per uid (processes); a group counts the whole
tree, and the kernel tells us afterwards whether it killed one for memory. Groups
nest under the host's own group (read from /proc/self/cgroup, never a fixed path), in a parent
`playground-<pid>` that caps all sandboxes together and gives the host priority for the CPU:

    <host's group>/playground-<pid>-<block>/<sandbox id>      in each of memory, pids and cpu

These are cgroup v1 controllers, which is what machines like ours offer (their unified v2
hierarchy holds no memory, pids or cpu controller). cgroup v2 would need a delegated subtree
(systemd's Delegate=yes) and is not supported yet: there, as anywhere the three controllers are
not writable, the rlimits stand alone, with a warning.
"""

import logging
import os
import re
import signal
import time
from pathlib import Path

from .hostblock import HostBlock

log = logging.getLogger(__name__)

# A long period lets a start-up burst (Flask imports in ~150 ms of CPU) run unthrottled, while
# a child that spins still gets LIMIT_CPU_SHARE of a core over any second. (1 s is the most.)
CPU_PERIOD_US = 1_000_000

WARNING = (
    "no usable cgroups (memory, pids, cpu): sandboxes are held by rlimits alone, which "
    "count each process on its own. Run the host where it may create cgroups."
)


class Group:
    """One sandbox's group: a directory in each controller's hierarchy."""

    def __init__(self, dirs: dict):
        self.dirs = dirs  # controller -> directory

    def _read(self, controller: str, name: str) -> str:
        try:
            return (self.dirs[controller] / name).read_text()
        except (KeyError, OSError):
            return ""

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv` started by a shell that first moves itself into the group, so that nothing
        the sandbox forks can start outside it."""
        procs = self.procs()
        script = (
            'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
        )
        return ["/bin/sh", "-c", script, "sh", *procs, "--", *argv]

    def procs(self) -> list[str]:
        """The files a process writes itself into ("0") to join the group."""
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def busy_seconds(self) -> float:
        """How long its threads have wanted the CPU: run on it, waited in the run queue for
        it, or been held back by the group's quota. A thread that spins keeps adding to this on
        a busy machine too, where it gets little CPU; one that sleeps adds nothing."""
        total = 0
        for pid in _lines(self.dirs["cpu"] / "cgroup.procs"):
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue  # gone meanwhile
            for task in tasks:
                try:
                    ran, waited, _ = Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()
                except (OSError, ValueError):
                    continue
                total += int(ran) + int(waited)
        stat = dict(
            line.split()
            for line in self._read("cpu", "cpu.stat").splitlines()
            if line.count(" ") == 1
        )
        return (total + int(stat.get("throttled_time", 0))) / 1e9

    def oom_killed(self) -> bool:
        """Did the kernel kill one of its processes for memory?"""
        text = self._read("memory", "memory.oom_control")
        return bool(re.search(r"^oom_kill [1-9]", text, re.M))

    def kill(self) -> None:
        """SIGKILL every process in the group until it is empty."""
        for _ in range(100):
            pids = {int(p) for d in self.dirs.values() for p in _lines(d / "cgroup.procs")}
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill()
        for directory in set(self.dirs.values()):
            _rmdir(directory)


class Cgroups:
    """Where this host makes its sandboxes' groups, and how to set their limits."""

    def __init__(self, parents: dict):
        self.parents = parents  # controller -> this host's playground-<pid>-<block> directory

    @classmethod
    def detect(cls, settings: dict, block: HostBlock) -> "Cgroups | None":
        """The groups of this machine, with the parent group of the host holding `block` made;
        None if unusable."""
        host_dirs = _v1()
        if host_dirs is None:
            log.warning(WARNING)
            return None
        parents = {}
        try:
            for controller, directory in host_dirs.items():
                remove_stale(directory, block)
                parents[controller] = directory / block.name
            groups = cls(parents)
            groups._make_parent(settings)
        except OSError as exc:
            log.warning("%s (%s)", WARNING, exc)
            return None
        log.info("cgroups for sandboxes: %s", ", ".join(str(p) for p in parents.values()))
        return groups

    def _make_parent(self, settings: dict) -> None:
        for directory in self.parents.values():
            directory.mkdir(exist_ok=True)
        self._set_memory(self.parents["memory"], all_sandboxes_memory(settings))
        (self.parents["cpu"] / "cpu.shares").write_text(str(settings["SANDBOXES_CPU_WEIGHT"]))

    @staticmethod
    def _set_memory(directory: Path, limit: int) -> None:
        (directory / "memory.limit_in_bytes").write_text(str(limit))
        if (directory / "memory.memsw.limit_in_bytes").exists():
            (directory / "memory.memsw.limit_in_bytes").write_text(str(limit))  # no swapping out

    def create(self, name: str, settings: dict) -> Group:
        """A fresh group for one run of a sandbox, with its limits set."""
        dirs = {c: parent / name for c, parent in self.parents.items()}
        group = Group(dirs)
        if dirs["memory"].exists():
            group.remove()  # a previous run's, with its counters
        for directory in set(dirs.values()):
            directory.mkdir()
        self._set_memory(dirs["memory"], settings["LIMIT_MEMORY_BYTES"])
        quota = max(1000, int(settings["LIMIT_CPU_SHARE"] * CPU_PERIOD_US))
        (dirs["pids"] / "pids.max").write_text(str(settings["LIMIT_PROCESSES"]))
        (dirs["cpu"] / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (dirs["cpu"] / "cpu.cfs_quota_us").write_text(str(quota))
        return group

    def close(self) -> None:
        for directory in set(self.parents.values()):
            _remove_tree(directory)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _rmdir(directory: Path) -> None:
    """Remove an emptied group: its last processes may take a moment to be reaped."""
    for _ in range(100):
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
    log.warning("could not remove cgroup %s", directory)


def _remove_tree(directory: Path) -> None:
    for child in [c for c in directory.iterdir() if c.is_dir()] if directory.is_dir() else []:
        Group({"any": child}).remove()
    Group({"any": directory}).remove()


def remove_stale(host_dir: Path, block: HostBlock) -> None:
    """Remove the groups of playgrounds that died without cleaning up (kill -9, a crash)."""
    for entry in host_dir.iterdir() if host_dir.is_dir() else []:
        if entry.is_dir() and block.is_stale(entry.name):
            log.info("removing a dead playground's cgroup %s", entry)
            _remove_tree(entry)


def _own_group(controller: str) -> str | None:
    """This process's group in the hierarchy of `controller`."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


def _mounts(fstype: str) -> list[tuple[Path, str, set[str]]]:
    """(mount point, root inside the hierarchy, super options) of each mount of `fstype`."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        dash = fields.index("-")
        if fields[dash + 1] == fstype:
            found.append((Path(fields[4]), fields[3], set(fields[dash + 3].split(","))))
    return found


def _inside(mount: Path, root: str, group: str) -> Path:
    relative = os.path.relpath(group, root) if group.startswith(root) else group.lstrip("/")
    return (mount / relative).resolve()


def _writable(directory: Path) -> bool:
    return directory.is_dir() and os.access(directory, os.W_OK)


def _v1() -> dict[str, Path] | None:
    dirs: dict[str, Path] = {}
    for mount, root, options in _mounts("cgroup"):
        for controller in ("memory", "pids", "cpu"):
            group = _own_group(controller)
            if controller in options and group is not None:
                directory = _inside(mount, root, group)
                if _writable(directory):
                    dirs[controller] = directory
    return dirs if len(dirs) == 3 else None


def all_sandboxes_memory(settings: dict) -> int:
    """What all the children together may use: LIMIT_ALL_SANDBOXES_MEMORY_BYTES, or half the
    machine's memory."""
    return settings["LIMIT_ALL_SANDBOXES_MEMORY_BYTES"] or (
        os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    )
