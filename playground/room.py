"""The room of presenter mode: who presents, what followers start from, and the hub they wait on.

The presenter proves who they are with PRESENTER_TOKEN; from then on their visitor id is the
presenter's. Their page streams what they open and type (with cursor and scroll) over
`/ws/present` (presenter.py); the API reports their runs and exchanges (`Room.ran`,
`Room.exchanged`). Everything goes into one event log, the hub: each follower's WebSocket handler
waits on it and sends what is new. A follower who joins, or falls further behind than the hub
remembers, gets a snapshot first.

Followers may send their own requests to the presenter's app, each with a cookie jar of their own
and a rate limit; they can never change the presenter's code.
"""

import math
import secrets
import threading
import time

from .cookies import Jar, Jars
from .errors import PlaygroundError
from .files import app_spec, checked
from .ratelimit import RateLimit
from .sandbox.events import EventLog, Frame
from .sandbox.sandbox import Sandbox

HUB_EVENTS = 64  # kept with whole file texts; a follower further behind gets a snapshot
HUB_BYTES = 64 * 1024 * 1024  # 64 edits of MAX_FILE_BYTES, and more
PRESENTER_MESSAGES = {"open", "edit", "view", "watch"}


def latest(frames: list[Frame]) -> list[Frame]:
    """The frames worth sending to a follower who is behind: a keystroke is dropped when a later
    one of the same file is already there, a cursor move when a later view or edit is."""
    kept, edited, viewed = [], set(), False
    for frame in reversed(frames):
        kind, path = frame.kind, frame.key
        if (kind == "edit" and path in edited) or (kind == "view" and viewed):
            continue
        if kind == "edit":
            edited.add(path)
        viewed = viewed or kind in ("edit", "view")
        kept.append(frame)
    return kept[::-1]


class Room:
    def __init__(self, settings: dict):
        self.settings = settings
        self.hub = EventLog(HUB_EVENTS, HUB_BYTES)
        self.presence = EventLog(16, HUB_BYTES)  # only "live" events, for pages with a badge
        self.presenter: str | None = None  # the presenter's visitor id
        self.sandbox: Sandbox | None = None  # the presenter's app, as last run
        self.state: dict = {}
        self.watchers = 0  # followers connected to the hub
        self.jars = Jars(settings["MAX_FOLLOWERS"])  # followers' own, for the presenter's app
        self.limit = RateLimit(
            "requests to the presenter's app",
            settings["FOLLOWER_REQUESTS_PER_MINUTE"] / 60,
            settings["FOLLOWER_REQUEST_BURST"],
            "minute",
        )
        self._lock = threading.Lock()

    # -- who presents ------------------------------------------------------------------------

    def is_presenter(self, visitor: str) -> bool:
        return self.presenter is not None and secrets.compare_digest(self.presenter, visitor)

    def claim(self, visitor: str, token: object) -> None:
        if not isinstance(token, str) or not secrets.compare_digest(
            token.encode("utf-8", "replace"), self.settings["PRESENTER_TOKEN"].encode()
        ):
            raise PlaygroundError(
                403,
                "bad_token",
                "that is not the presenter token (python -m playground prints it at start-up).",
            )
        with self._lock:
            self.presenter, self.sandbox = visitor, None
            self.state = {}
            self._publish("live", live=True)

    def release(self, visitor: str) -> None:
        if not self.is_presenter(visitor):
            raise PlaygroundError(403, "not_presenter", "only the presenter can stop presenting.")
        with self._lock:
            self.presenter, self.sandbox = None, None
            self._publish("live", live=False)

    def status(self, visitor: str) -> dict:
        return {
            "live": self.presenter is not None,
            "presenting": self.is_presenter(visitor),
            "title": self.state.get("title"),
            "followers": self.watchers,
            "running": self.sandbox is not None and self.sandbox.state == "running",
        }

    # -- what is broadcast -------------------------------------------------------------------

    def _publish(self, kind: str, **fields: object) -> None:
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
        self.hub.append(kind, key=fields.get("path"), **fields)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "type": "snapshot",
                "seq": self.hub.last_seq,
                "time": time.time(),
                "live": self.presenter is not None,
                **self.state,
            }

    def liveness(self) -> dict:
        """What a page that only shows a badge starts from."""
        return {"type": "live", "seq": self.presence.last_seq, "live": self.presenter is not None}

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

    def _open(self, kind: str, message: dict) -> dict:
        files = checked(message)
        title, slug, path = message.get("title"), message.get("slug"), message.get("path")
        path = path if isinstance(path, str) and path in files else "app.py"
        try:
            app = app_spec(message)
        except PlaygroundError:
            app = None  # an App field half typed: the files still go out, as a Run would fail
        return {
            "slug": slug if isinstance(slug, str) else None,
            "files": files,
            "app": app,
            "path": path,
            "title": title[:200] if isinstance(title, str) else None,
            "cursor": [0, 0],
            "scroll": {"top": 0, "left": 0},
        }

    def _edit(self, kind: str, message: dict) -> dict:
        """An edit (the active file's whole text) or a view change (cursor, scroll, file)."""
        path = message.get("path")
        cursor = message.get("cursor") or [0, 0]
        scroll = message.get("scroll") or {}
        if (
            not isinstance(path, str)
            or not isinstance(cursor, list)
            or len(cursor) != 2
            or not all(isinstance(c, int) for c in cursor)
            or not isinstance(scroll, dict)
            or not all(finite(v) for v in scroll.values())
        ):
            raise PlaygroundError(
                400,
                "bad_message",
                "an edit needs a path, a cursor [start, end] "
                "and a scroll {top, left} of finite numbers.",
            )
        fields = {
            "path": path,
            "cursor": cursor,
            "scroll": {k: float(scroll.get(k) or 0) for k in ("top", "left")},
        }
        if kind == "edit":
            text = message.get("text")
            limit = self.settings["MAX_FILE_BYTES"]
            if not isinstance(text, str) or len(text.encode("utf-8", "surrogatepass")) > limit:
                raise PlaygroundError(
                    413, "bad_text", "an edit needs the file's text, within MAX_FILE_BYTES."
                )
            fields["text"] = text
        return fields

    def _watch(self, kind: str, message: dict) -> dict:
        return {"on": bool(message.get("on"))}

    def ran(self, sandbox: Sandbox) -> None:
        """The API started (or restarted) a sandbox: the presenter's is shown to followers."""
        if not self.is_presenter(sandbox.owner):
            return
        with self._lock:
            self.sandbox = sandbox
            self._publish("run", **_run(sandbox))

    def stopped(self, sandbox: Sandbox) -> None:
        """The API deleted a sandbox: if it was the presenter's app on show, it is no more."""
        with self._lock:
            if self.sandbox is sandbox:
                self._publish("run", **_run(sandbox))

    def exchanged(self, sandbox: Sandbox, result: dict) -> None:
        """The presenter sent a request and got `result`: show both to followers."""
        if not self.is_presenter(sandbox.owner):
            return
        with self._lock:
            self._publish("exchange", request=result["request"], response=result)

    # -- followers' own requests -------------------------------------------------------------

    def seat(self, visitor: str) -> tuple[Sandbox, Jar]:
        """The presenter's app for one follower, with their own jar, once their rate allows
        another request."""
        sandbox = self.sandbox
        if self.presenter is None or sandbox is None or sandbox.state != "running":
            raise PlaygroundError(
                409, "presenter_not_running", "the presenter's app is not running right now."
            )
        self.limit.take(visitor)
        return sandbox, self.jars.of(sandbox, visitor)

    def watching(self, step: int) -> None:
        with self._lock:
            self.watchers += step


def _run(sandbox: Sandbox) -> dict:
    """A run as followers see it: the sandbox's state, error and routes, not its id."""
    return {k: v for k, v in sandbox.snapshot().items() if k != "id"}


def finite(value: object) -> bool:
    """A JSON number a follower's page can parse back: JSON has no Infinity, and Python's
    ints have no bound (10**400 is no float)."""
    if not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
