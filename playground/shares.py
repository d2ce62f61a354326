"""Shared snippets: a visitor's files kept in SQLite under a short key, opened again by a link.

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

from flask import Blueprint, abort, current_app, redirect, url_for

from . import api, security, visitors
from .errors import PlaygroundError

bp = Blueprint("shares", __name__)
bp.before_request(api.guard)
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


def store() -> ShareStore:
    return current_app.extensions["playground.shares"]


def described(key: str) -> dict:
    return {"key": key, "url": url_for("shares.open_share", key=key, _external=True)}


@bp.post("/api/shares")
def create_share():
    # Each new share is kept for good: a visitor may not fill the host's disk with them.
    security.rate_limit("shares", visitors.current())
    data = api.body()
    files = api.checked_files(data)
    size = sum(len(text.encode("utf-8", "surrogatepass")) for text in files.values())
    limit = current_app.config["MAX_SHARE_BYTES"]
    if size > limit:
        raise PlaygroundError(413, "share_too_large", f"the files add up to {size} bytes; a share "
                              f"holds at most {limit}. Download them instead.")
    slug = data.get("slug")
    if not isinstance(slug, str) or api.catalog().get(slug) is None:
        slug = None  # only a snippet of the catalog is worth remembering as the origin
    return described(store().put(files, slug)), 201


@bp.get("/api/shares/<key>")
def get_share(key):
    share = store().get(key)
    if share is None:
        raise PlaygroundError(404, "no_such_share", "there is no such shared snippet: check the "
                              "link.")
    return {**described(key), "files": share["files"], "slug": share["slug"],
            "created": share["created"]}


@bp.get("/s/<key>")
def open_share(key):
    """The link people pass around: the editor, opening the shared files."""
    if store().get(key) is None:
        abort(404, description="There is no such shared snippet: check the link.")
    return redirect(url_for("views.index", share=key))
