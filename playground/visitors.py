"""Who is asking: a random visitor id in a signed host cookie (never named `session`).

The cookie is set on a visitor's first API call; sandboxes are owned by that id.
"""

import secrets
import threading
from collections import Counter
from contextlib import contextmanager

from flask import current_app, g, request
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


def remember(response):
    """after_request: give a new visitor their cookie."""
    if g.get("new_visitor"):
        response.set_cookie(COOKIE, _serializer().dumps(g.visitor), httponly=True,
                            samesite="Strict", max_age=30 * 24 * 3600)
    return response


def same_origin() -> bool:
    """False when a browser says the call comes from another site."""
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")


@contextmanager
def socket_slot():
    """Hold one of the visitor's WebSockets for as long as the block runs: each holds a host
    thread for its whole life, so one visitor may not open hundreds."""
    visitor = current()
    held, lock = current_app.extensions.setdefault(
        "playground.sockets", (Counter(), threading.Lock()))
    limit = current_app.config["MAX_SOCKETS_PER_VISITOR"]
    with lock:
        if held[visitor] >= limit:
            raise PlaygroundError(429, "too_many_sockets", f"you have {limit} live connections "
                                  "open already: close some tabs of the playground.")
        held[visitor] += 1
    try:
        yield
    finally:
        with lock:
            held[visitor] -= 1
            if not held[visitor]:
                del held[visitor]
