"""Presenter mode: one presenter's editor, runs and exchanges, broadcast live to followers.

The presenter proves who they are with PRESENTER_TOKEN; from then on their visitor id is the
presenter's. Their page streams what they open and type (with cursor and scroll) over
`/ws/present`; the API reports their runs and exchanges (`Room.ran`, `Room.exchanged`). Everything
goes into one `EventLog`, the hub: each follower's WebSocket handler waits on it and sends what is
new. A follower who joins, or falls further behind than the hub remembers, gets a snapshot first.

Followers may send their own requests to the presenter's app, each with a cookie jar of their own
and a rate limit; they can never change the presenter's code.
"""

import itertools
import json
import math
import secrets
import threading
import time
from collections import OrderedDict, deque

from flask import Blueprint, current_app, request

from . import api, visitors
from .cookies import Jar
from .errors import PlaygroundError
from .live import CHECK_SECONDS, KEEPALIVE_SECONDS, sock
from .ratelimit import RateLimit

bp = Blueprint("presenter", __name__)
bp.before_request(api.guard)
HUB_EVENTS = 64  # kept with whole file texts; a follower further behind gets a snapshot
PRESENTER_MESSAGES = {"open", "edit", "view", "watch"}


class Hub:
    """Numbered events that follower handlers wait on, like a sandbox's EventLog, but each event
    is kept as the JSON text it is sent as: serialised once, not once per follower."""

    def __init__(self, maxlen: int):
        self._frames = deque(maxlen=maxlen)  # (seq, kind, path, text)
        self._seq = 0
        self._changed = threading.Condition()

    @property
    def last_seq(self) -> int:
        return self._seq

    def append(self, kind: str, **fields) -> None:
        with self._changed:
            self._seq += 1
            text = json.dumps({"seq": self._seq, "time": time.time(), "type": kind, **fields})
            self._frames.append((self._seq, kind, fields.get("path"), text))
            self._changed.notify_all()

    def wait_after(self, seq: int, timeout: float) -> list | None:
        """The frames after `seq`, waiting up to `timeout` for the first; None when some of them
        are no longer kept (the caller is too far behind)."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > seq, timeout)
            missing = self._seq - seq
            if missing > len(self._frames):
                return None
            return list(itertools.islice(reversed(self._frames), missing))[::-1]


def latest(frames: list) -> list:
    """The frames worth sending to a follower who is behind: a keystroke is dropped when a later
    one of the same file is already there, a cursor move when a later view or edit is."""
    kept, edited, viewed = [], set(), False
    for frame in reversed(frames):
        _seq, kind, path, _text = frame
        if (kind == "edit" and path in edited) or (kind == "view" and viewed):
            continue
        if kind == "edit":
            edited.add(path)
        viewed = viewed or kind in ("edit", "view")
        kept.append(frame)
    return kept[::-1]


class Seat:
    """The presenter's sandbox as one follower uses it: the same app, their own cookie jar."""

    def __init__(self, sandbox, jar: Jar):
        self._sandbox = sandbox
        self.jar = jar

    def __getattr__(self, name):
        return getattr(self._sandbox, name)


class Room:
    def __init__(self, settings: dict):
        self.settings = settings
        self.hub = Hub(HUB_EVENTS)
        self.presence = Hub(16)  # only "live" events, for pages that just show a badge
        self.presenter = None  # the presenter's visitor id
        self.sandbox = None  # the presenter's app, as last run
        self.state = {}
        self.watchers = 0  # followers connected to the hub
        self._jars = OrderedDict()  # follower's visitor id -> their Jar, the most recent last
        self.limit = RateLimit("requests to the presenter's app",
                               settings["FOLLOWER_REQUESTS_PER_MINUTE"] / 60,
                               settings["FOLLOWER_REQUEST_BURST"], "minute")
        self._lock = threading.Lock()

    # -- who presents ------------------------------------------------------------------------

    def is_presenter(self, visitor: str) -> bool:
        return self.presenter is not None and secrets.compare_digest(self.presenter, visitor)

    def claim(self, visitor: str, token) -> None:
        if not isinstance(token, str) or not secrets.compare_digest(
                token.encode("utf-8", "replace"), self.settings["PRESENTER_TOKEN"].encode()):
            raise PlaygroundError(403, "bad_token", "that is not the presenter token (python -m "
                                  "playground prints it at start-up).")
        with self._lock:
            self.presenter, self.sandbox = visitor, None
            self._jars.clear()
            self.state = {}
            self._publish("live", live=True)

    def release(self, visitor: str) -> None:
        if not self.is_presenter(visitor):
            raise PlaygroundError(403, "not_presenter", "only the presenter can stop presenting.")
        with self._lock:
            self.presenter, self.sandbox = None, None
            self._jars.clear()
            self._publish("live", live=False)

    def status(self, visitor: str) -> dict:
        return {"live": self.presenter is not None, "presenting": self.is_presenter(visitor),
                "title": self.state.get("title"), "followers": self.watchers,
                "running": self.sandbox is not None and self.sandbox.state == "running"}

    # -- what is broadcast -------------------------------------------------------------------

    def _publish(self, kind: str, **fields) -> None:
        """Record the change in the state followers start from, and tell them (lock held).
        Followers hear every kind; badges (the presence hub) only whether someone presents."""
        if kind == "live":
            self.presence.append(kind, **fields)
        elif kind == "edit":
            self.state["files"] = {**self.state.get("files", {}), fields["path"]: fields["text"]}
            self.state.update(path=fields["path"], cursor=fields["cursor"], scroll=fields["scroll"])
        elif kind in ("run", "exchange", "watch"):
            self.state[kind] = fields
        else:  # open, view
            if kind == "open" and fields["slug"] != self.state.get("slug"):
                self.state.pop("exchange", None)  # another snippet's answer: nothing to compare
            self.state.update(fields)
        self.hub.append(kind, **fields)

    def snapshot(self) -> dict:
        with self._lock:
            return {"type": "snapshot", "seq": self.hub.last_seq, "time": time.time(),
                    "live": self.presenter is not None, **self.state}

    def receive(self, visitor: str, message: dict) -> None:
        """One message from the presenter's page: what they opened, typed or looked at."""
        kind = message.get("type")
        if not isinstance(kind, str) or kind not in PRESENTER_MESSAGES:
            raise PlaygroundError(400, "bad_message", f"unknown message type {kind!r}.")
        parse = {"open": self._open, "edit": self._edit, "view": self._edit, "watch": self._watch}
        fields = parse[kind](kind, message)
        with self._lock:
            if not self.is_presenter(visitor):
                raise PlaygroundError(403, "not_presenter", "someone else is presenting now.")
            if kind in ("edit", "view") and fields["path"] not in self.state.get("files", {}):
                raise PlaygroundError(400, "bad_path", "open a snippet before editing it.")
            self._publish(kind, **fields)

    def _open(self, kind, message) -> dict:
        files = api.checked_files(message)
        title, slug, path = message.get("title"), message.get("slug"), message.get("path")
        path = path if isinstance(path, str) and path in files else "app.py"
        return {"slug": slug if isinstance(slug, str) else None, "files": files, "path": path,
                "title": title[:200] if isinstance(title, str) else None,
                "cursor": [0, 0], "scroll": {"top": 0, "left": 0}}

    def _edit(self, kind, message) -> dict:
        """An edit (the active file's whole text) or a view change (cursor, scroll, file)."""
        path = message.get("path")
        cursor = message.get("cursor") or [0, 0]
        scroll = message.get("scroll") or {}
        if (not isinstance(path, str) or not isinstance(cursor, list) or len(cursor) != 2
                or not all(isinstance(c, int) for c in cursor) or not isinstance(scroll, dict)
                or not all(finite(v) for v in scroll.values())):
            raise PlaygroundError(400, "bad_message", "an edit needs a path, a cursor [start, end] "
                                  "and a scroll {top, left} of finite numbers.")
        fields = {"path": path, "cursor": cursor,
                  "scroll": {k: float(scroll.get(k) or 0) for k in ("top", "left")}}
        if kind == "edit":
            text = message.get("text")
            limit = self.settings["MAX_FILE_BYTES"]
            if not isinstance(text, str) or len(text.encode("utf-8", "surrogatepass")) > limit:
                raise PlaygroundError(413, "bad_text", "an edit needs the file's text, within "
                                      "MAX_FILE_BYTES.")
            fields["text"] = text
        return fields

    def _watch(self, kind, message) -> dict:
        return {"on": bool(message.get("on"))}

    def ran(self, sandbox) -> None:
        """The API started (or restarted) a sandbox: the presenter's is shown to followers."""
        if not self.is_presenter(sandbox.owner):
            return
        with self._lock:
            self.sandbox = sandbox
            self._publish("run", **_run(sandbox))

    def stopped(self, sandbox) -> None:
        """The API deleted a sandbox: if it was the presenter's app on show, it is no more."""
        with self._lock:
            if self.sandbox is sandbox:
                self._publish("run", **_run(sandbox))

    def exchanged(self, sandbox, result: dict) -> None:
        """The presenter sent a request and got `result`: show both to followers."""
        if not self.is_presenter(sandbox.owner):
            return
        with self._lock:
            self._publish("exchange", request=result["request"], response=result)

    # -- followers' own requests -------------------------------------------------------------

    def seat(self, visitor: str) -> Seat:
        """The presenter's app for one follower, once their rate allows another request."""
        sandbox = self.sandbox
        if self.presenter is None or sandbox is None or sandbox.state != "running":
            raise PlaygroundError(409, "presenter_not_running", "the presenter's app is not "
                                  "running right now.")
        self.limit.take(visitor)
        with self._lock:
            jar = self._jars.pop(visitor, None) or Jar()
            self._jars[visitor] = jar
            while len(self._jars) > self.settings["MAX_FOLLOWERS"]:
                self._jars.popitem(last=False)
        return Seat(sandbox, jar)

    def watching(self, step: int) -> None:
        with self._lock:
            self.watchers += step


def _run(sandbox) -> dict:
    """A run as followers see it: the sandbox's state, error and routes, not its id."""
    return {k: v for k, v in sandbox.snapshot().items() if k != "id"}


def finite(value) -> bool:
    """A JSON number a follower's page can parse back: JSON has no Infinity, and Python's
    ints have no bound (10**400 is no float)."""
    if not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def room() -> Room:
    return current_app.extensions["playground.room"]


@bp.get("/api/presenter")
def presenter_status():
    return room().status(visitors.current())


@bp.post("/api/presenter")
def start_presenting():
    room().claim(visitors.current(), api.body().get("token"))
    running = api.manager().newest_running(visitors.current())
    if running is not None:  # presenting again, or from another tab: their app is the one shown
        room().ran(running)
    return room().status(visitors.current())


@bp.delete("/api/presenter")
def stop_presenting():
    room().release(visitors.current())
    return room().status(visitors.current())


@bp.post("/api/presenter/requests")
def follower_request():
    """A follower's own request to the presenter's app: their jar, their rate limit."""
    return api.relay(room().seat(visitors.current()), api.body())


@sock.route("/ws/present", bp=bp)
def present(ws):
    """The presenter's page: each message is what they opened, typed or scrolled to."""
    visitor = visitors.current()
    if not visitors.same_origin() or not room().is_presenter(visitor):
        ws.close(reason=1008, message="only the presenter may present")
        return
    try:
        with visitors.socket_slot():
            relay_presenter(ws, visitor)
    except PlaygroundError as error:
        ws.send(json.dumps({"type": "error", **error.to_json()["error"]}))
    ws.close(reason=1000, message="you are no longer the presenter")


def relay_presenter(ws, visitor: str) -> None:
    while room().is_presenter(visitor):
        message = ws.receive(timeout=KEEPALIVE_SECONDS)
        if message is None:
            continue
        try:
            data = json.loads(message)
            if not isinstance(data, dict):
                raise ValueError
            room().receive(visitor, data)
        except ValueError:
            ws.send(json.dumps({"type": "error", "code": "bad_json", "message": "send JSON."}))
        except PlaygroundError as error:
            ws.send(json.dumps({"type": "error", **error.to_json()["error"]}))


@sock.route("/ws/follow", bp=bp)
def follow(ws):
    """A snapshot of what the presenter shows, then every change. `?presence=1`: only whether
    a presenter is live."""
    if not visitors.same_origin():
        ws.close(reason=1008, message="calls from another site are refused")
        return
    try:
        with visitors.socket_slot():
            mirror(ws, room(), following=not request.args.get("presence"))
    except PlaygroundError as error:
        ws.send(json.dumps({"type": "error", **error.to_json()["error"]}))
        ws.close(reason=1008, message=error.code)


def mirror(ws, here: Room, following: bool) -> None:
    """Send the whole picture, then each change; the whole picture again if we fell behind."""
    log = here.hub if following else here.presence

    def picture() -> dict:
        if following:
            return here.snapshot()
        return {"type": "live", "seq": log.last_seq, "live": here.presenter is not None}

    counted = 1 if following else 0  # the presenter's follower count leaves badges out
    here.watching(counted)
    try:
        first = picture()
        ws.send(json.dumps(first))
        seen, quiet = first["seq"], 0.0
        while ws.connected:  # checked each second, so a closed tab frees its thread at once
            frames = log.wait_after(seen, CHECK_SECONDS)
            if frames is None:  # missed some: start again from the whole picture
                again = picture()
                frames = [(again["seq"], again["type"], None, json.dumps(again))]
            elif not frames:
                quiet += CHECK_SECONDS
                if quiet >= KEEPALIVE_SECONDS:
                    ws.send('{"type": "keepalive"}')  # keeps proxies from timing out
                    quiet = 0.0
            for seq, _kind, _path, text in latest(frames):
                ws.send(text)
            if frames:
                seen = frames[-1][0]
    finally:
        here.watching(-counted)
