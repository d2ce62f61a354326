"""Who is asking: a random visitor id in a signed host cookie (never named `session`), and how
many live connections each visitor holds.

The cookie comes with the first answer a visitor gets; sandboxes are owned by that id.
"""

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

from .errors import PlaygroundError

COOKIE = "playground_visitor"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="visitor")


def current() -> str:
    """The visitor id of this request, made up (and set in the response) if it has none."""
    if "visitor" not in g:
        try:
            g.visitor = _serializer().loads(request.cookies.get(COOKIE, ""))
        except BadSignature:
            g.visitor = secrets.token_urlsafe(16)
            g.new_visitor = True
    return g.visitor


def known() -> str:
    """The visitor id of a request that must come from a page the host served (a WebSocket):
    a client without a valid cookie is refused rather than made a new visitor."""
    visitor = current()
    if g.get("new_visitor"):
        raise PlaygroundError(
            403,
            "unknown_visitor",
            "open the playground's page first: it "
            "gives your browser the cookie this connection needs.",
        )
    return visitor


def remember(response: Response) -> Response:
    """after_request: give a new visitor their cookie with whatever they asked for first (the
    page, an API call), so that the sockets their page opens next come from a known visitor.
    A WebSocket's answer is written before this one (which meets a closed pipe): none is made."""
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return response
    if request.blueprint != "gateway" and request.endpoint != "static":
        current()
    if g.get("new_visitor"):
        response.set_cookie(
            COOKIE,
            _serializer().dumps(g.visitor),
            httponly=True,
            samesite="Strict",
            max_age=30 * 24 * 3600,
        )
    return response


def same_origin() -> bool:
    """False when a browser says the call comes from another site."""
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")


class Slots:
    """How many sockets are open, in all and per visitor."""

    def __init__(self, total: int, per_visitor: int):
        self.total = total
        self.per_visitor = per_visitor
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()

    def visitors(self) -> int:
        """Visitors holding a socket: the pages open, near enough."""
        with self._lock:
            return len(self._held)

    @contextmanager
    def hold(self, visitor: str) -> Iterator[None]:
        with self._lock:
            if self._held.total() >= self.total:
                raise PlaygroundError(
                    503,
                    "too_many_sockets",
                    "the playground has as many live "
                    "connections as it can hold: try again in a minute.",
                    retry_after=60,
                )
            if self._held[visitor] >= self.per_visitor:
                raise PlaygroundError(
                    429,
                    "too_many_sockets",
                    f"you have {self.per_visitor} "
                    "live connections open already: close some tabs of the "
                    "playground.",
                )
            self._held[visitor] += 1
        try:
            yield
        finally:
            with self._lock:
                self._held[visitor] -= 1
                if not self._held[visitor]:
                    del self._held[visitor]
