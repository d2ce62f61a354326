"""Shared snippets kept in SQLite under a short key (the routes that share and open them:
shares.py).

The key is a hash of the files themselves, so sharing the same content twice gives the same link
and a link can never be made to point at other content. The database sits in the instance folder
and so outlives the process: links keep working after a restart.

The disk they take has a budget: SHARES_MAX_BYTES of the files' JSON, with the running total in
a row of its own (no share sums them all). A share that does not fit makes room by removing the
shares least recently opened (or made), never one opened within SHARE_KEEP_DAYS; without enough
of those it is refused (SharesFull). An opening is recorded when the last record is older than a
hundredth of that time, so reading a link is not a write each time.
"""

import base64
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

KEY_LENGTH = 10  # base32 characters: 50 bits, plenty for a talk's worth of shares
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS shares (key TEXT PRIMARY KEY, files TEXT NOT NULL, slug TEXT, "
    "created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS used (bytes INTEGER NOT NULL)",
)
# Added since (databases made before get them): when each share was last opened, the bytes of
# its files' JSON (both with the budget), and which app to run, as `flask --app` names it.
COLUMNS = {"opened": "REAL", "size": "INTEGER", "app": "TEXT"}


class SharesFull(Exception):
    """No room for another share: every one kept was opened within the keep time."""


def key_for(files: dict, app: str | None = None) -> str:
    """The short key of some files (and the app to run of them): the same files, in any order,
    always give the same key; shares made before the App field keep theirs."""
    shared = {"files": files, "app": app} if app else files
    canonical = json.dumps(shared, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:KEY_LENGTH]


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One writer at a time: the budget is read and spent in one go."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class ShareStore:
    def __init__(self, path: Path, max_bytes: int, keep_seconds: float):
        self.path = path
        self.max_bytes = max_bytes
        self.keep_seconds = keep_seconds
        self._ready = False

    def _connect(self) -> closing[sqlite3.Connection]:
        # One short-lived connection per call: sqlite3 connections belong to one thread, and
        # the server runs a thread per request. Nothing touches the disk before the first share.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        if not self._ready:
            self._prepare(db)
            self._ready = True
        return closing(db)

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> None:
        """The tables, and what a database made before the budget lacks."""
        with _transaction(db):
            for statement in SCHEMA:
                db.execute(statement)
            present = {row[1] for row in db.execute("PRAGMA table_info(shares)")}
            for name, kind in COLUMNS.items():
                if name not in present:
                    db.execute(f"ALTER TABLE shares ADD COLUMN {name} {kind}")
            db.execute("CREATE INDEX IF NOT EXISTS shares_by_opened ON shares (opened)")
            db.execute(
                "UPDATE shares SET opened = created, size = length(CAST(files AS BLOB)) "
                "WHERE size IS NULL"
            )
            if db.execute("SELECT count(*) FROM used").fetchone()[0] == 0:
                db.execute("INSERT INTO used SELECT coalesce(sum(size), 0) FROM shares")

    def put(self, files: dict, slug: str | None, app: str | None = None) -> str:
        """Keep `files` under their key, within the budget (SharesFull when there is no room)."""
        key = key_for(files, app)
        text = json.dumps(files, ensure_ascii=False)
        size = len(text.encode("utf-8"))
        now = time.time()
        with self._connect() as db, _transaction(db):
            if db.execute("UPDATE shares SET opened = ? WHERE key = ?", (now, key)).rowcount:
                return key  # shared again: the same link, in use
            self._make_room(db, size, now)
            db.execute(
                "INSERT INTO shares (key, files, slug, created, opened, size, app) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, text, slug, now, now, size, app),
            )
            db.execute("UPDATE used SET bytes = bytes + ?", (size,))
        return key

    def _make_room(self, db: sqlite3.Connection, size: int, now: float) -> None:
        """Remove the shares least recently opened until `size` more bytes fit in the budget,
        never one opened within `keep_seconds`. Reads at most as many shares as fit in `size`."""
        excess = db.execute("SELECT bytes FROM used").fetchone()[0] + size - self.max_bytes
        removed, freed = [], 0
        unused = db.execute(
            "SELECT key, size FROM shares WHERE opened < ? ORDER BY opened",
            (now - self.keep_seconds,),
        )
        for key, share_size in unused:
            if freed >= excess:
                break
            removed.append((key,))
            freed += share_size
        if freed < excess:
            raise SharesFull
        db.executemany("DELETE FROM shares WHERE key = ?", removed)
        db.execute("UPDATE used SET bytes = bytes - ?", (freed,))

    def get(self, key: str) -> dict | None:
        """The share under `key`, recording that it was opened."""
        now = time.time()
        with self._connect() as db:
            row = db.execute(
                "SELECT files, slug, created, opened, app FROM shares WHERE key = ?", (key,)
            ).fetchone()
            if row and row[3] < now - self.keep_seconds / 100:
                db.execute("UPDATE shares SET opened = ? WHERE key = ?", (now, key))
        if row is None:
            return None
        return {
            "key": key,
            "files": json.loads(row[0]),
            "slug": row[1],
            "created": row[2],
            "app": row[4],
        }
