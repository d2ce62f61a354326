"""Shared snippets kept in SQLite under a short key (the routes that share and open them:
shares.py).

The key is a hash of the files themselves, so sharing the same content twice gives the same link
and a link can never be made to point at other content. The database sits in the instance folder
and so outlives the process: links keep working after a restart.
"""

import base64
import hashlib
import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

KEY_LENGTH = 10  # base32 characters: 50 bits, plenty for a talk's worth of shares
SCHEMA = """CREATE TABLE IF NOT EXISTS shares (
    key TEXT PRIMARY KEY, files TEXT NOT NULL, slug TEXT, created REAL NOT NULL)"""


def key_for(files: dict) -> str:
    """The short key of some files: the same files (in any order) always give the same key."""
    canonical = json.dumps(files, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:KEY_LENGTH]


class ShareStore:
    def __init__(self, path: Path):
        self.path = path

    def _connect(self):
        # One short-lived connection per call: sqlite3 connections belong to one thread, and
        # the server runs a thread per request. Nothing touches the disk before the first share.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute(SCHEMA)
        return closing(db)

    def put(self, files: dict, slug: str | None) -> str:
        key = key_for(files)
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO shares (key, files, slug, created) "
                       "VALUES (?, ?, ?, ?)",
                       (key, json.dumps(files, ensure_ascii=False), slug, time.time()))
        return key

    def get(self, key: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT files, slug, created FROM shares WHERE key = ?",
                             (key,)).fetchone()
        if row is None:
            return None
        return {"key": key, "files": json.loads(row[0]), "slug": row[1], "created": row[2]}
