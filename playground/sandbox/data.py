"""What an app keeps between runs: its instance folder, and SQLite files beside its code.

A run's files live in its sandbox's own tmpfs, gone with it. Before a run ends, what the app
wrote there that is data (not one of the snippet's files) is copied into a folder the host keeps
for the sandbox, and the next run starts with it (the bootstrap copies it in before the
snippet's files, which win). A new sandbox, or a run asked to reset its data, starts clean.

The copy reads a tree the app controls, from the host: it never follows a link (each step is
opened relative to its directory, O_NOFOLLOW), takes regular files only, and stops at
LIMIT_DISK_BYTES or MAX_FILES, so it costs what the app's own disk may hold and no more.
"""

import fnmatch
import os
import shutil
import stat
from pathlib import Path

INSTANCE = "instance"
DATA_FILES = (
    "*.db",
    "*.sqlite",
    "*.sqlite3",
    "*.db-journal",
    "*.sqlite-journal",
    "*.sqlite3-journal",
    "*.db-wal",
    "*.db-shm",
    "*.sqlite-wal",
    "*.sqlite-shm",
    "*.sqlite3-wal",
    "*.sqlite3-shm",
)
MAX_FILES = 1000
COPY_CHUNK = 1 << 16


def is_data(path: str) -> bool:
    """Whether a file the app wrote (its path from the snippet's root) is data it keeps."""
    return path.split("/", 1)[0] == INSTANCE or any(
        fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern) for pattern in DATA_FILES
    )


def save(root: str, into: Path, snippet: set[str], max_bytes: int) -> None:
    """Copy the data under `root` (the sandbox's files as the host reaches them) into `into`,
    replacing what was kept there; the snippet's own files are not data."""
    fresh = into.with_name(into.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    budget = [max_bytes, MAX_FILES]
    try:
        top = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        shutil.rmtree(fresh, ignore_errors=True)
        return  # the run is gone already: keep what was saved last
    try:
        _copy_dir(top, "", fresh, snippet, budget)
    finally:
        os.close(top)
    shutil.rmtree(into, ignore_errors=True)
    fresh.rename(into)


def _copy_dir(fd: int, prefix: str, into: Path, snippet: set[str], budget: list[int]) -> None:
    for name in os.listdir(fd):
        path = f"{prefix}{name}"
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            try:
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                continue
            try:
                _copy_dir(child, path + "/", into, snippet, budget)
            finally:
                os.close(child)
        elif stat.S_ISREG(info.st_mode) and path not in snippet and is_data(path):
            if budget[1] <= 0 or info.st_size > budget[0]:
                continue
            budget[0] -= info.st_size
            budget[1] -= 1
            _copy_file(fd, name, into / path)


def _copy_file(fd: int, name: str, to: Path) -> None:
    try:
        source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    except OSError:
        return
    try:
        if not stat.S_ISREG(os.fstat(source).st_mode):
            return  # swapped for something else meanwhile
        to.parent.mkdir(parents=True, exist_ok=True)
        with open(to, "wb") as out:
            while chunk := os.read(source, COPY_CHUNK):
                out.write(chunk)
    finally:
        os.close(source)
