"""The host's own web defences: the guard on every call that changes something (same origin,
JSON), the one on every WebSocket, security headers on every response, the per-visitor rate
limits, no debug mode, only the names it serves (hosts.py), and (behind TRUSTED_PROXIES reverse
proxies) the public scheme and host name.

The Content-Security-Policy keeps host pages to the host's own scripts, styles and connections,
and lets no other site frame them. One concession: a child's HTML is previewed in an
`<iframe sandbox srcdoc>`, and such a frame inherits this policy, so inline scripts (the
snippet's own, and the preview's link handler) must be allowed. The frame has no
`allow-same-origin`, so those scripts run in an opaque origin that cannot reach the host's page,
cookies or API; the page itself builds its DOM from text, never from visitors' HTML.
"""

import socket
import threading
from typing import IO

from flask import Flask, Response, abort, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SessionInterface, SessionMixin
from flask.wrappers import Request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from . import errors, hosts, visitors
from .errors import PlaygroundError
from .watchdog import WATCHDOG

CHANGING = ("POST", "PUT", "DELETE", "PATCH")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self' blob: data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def guard() -> None:
    """before_request: never under Werkzeug's debugger; a call that changes something comes
    from our own page; a body arrives within BODY_TIMEOUT (a client trickling it would hold a
    host thread)."""
    refuse_the_debugger()
    # The gateway (an app's address through the host) is the app's, not the host's API.
    if request.method in CHANGING and request.blueprint != "gateway" and not visitors.same_origin():
        raise PlaygroundError(403, "cross_origin", "calls from another site are refused.")
    connection = request.environ.get("werkzeug.socket")  # python -m playground's own server
    if connection is not None and (
        request.content_length or request.environ.get("wsgi.input_terminated")
    ):
        g.body = TimedBody(
            request.environ["wsgi.input"],
            connection,
            request.content_length,
            current_app.config["BODY_TIMEOUT"],
        )
        request.environ["wsgi.input"] = g.body


class TimedBody:
    """A request's body that must be read within BODY_TIMEOUT of its head: a client trickling
    it would hold a host thread. Only what a view reads is read (one that refuses the call
    first, a rate limit say, reads none of it); at the deadline the reads end (SHUT_RD) and
    the call is answered 408 (`late`)."""

    def __init__(
        self, stream: IO[bytes], connection: socket.socket, length: int | None, timeout: float
    ):
        self.stream, self.left, self.timeout = stream, length, timeout
        self.connection = connection
        self.late = threading.Event()
        self.cutoff = WATCHDOG.after(timeout, self._cut)

    def read(self, size: int = -1) -> bytes:
        return self._counted(self.stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._counted(self.stream.readline(size))

    def _cut(self) -> None:
        self.late.set()
        stop_reading(self.connection)

    def _counted(self, data: bytes) -> bytes:
        if self.left is not None:
            self.left -= len(data)
            if self.left <= 0:
                self.done()
        return data

    def done(self) -> None:
        WATCHDOG.cancel(self.cutoff)


def end_body(_error: BaseException | None) -> None:
    """teardown_request: the body's deadline ends with its request."""
    if "body" in g:
        g.body.done()


def body_too_slow(error: ClientDisconnected) -> Response | ClientDisconnected:
    """A body cut at its deadline is a 408 that says so; another disconnect, Werkzeug's 400."""
    if "body" in g and g.body.late.is_set():
        return errors.answer(
            PlaygroundError(
                408,
                "request_timeout",
                f"the request's body did not arrive within {g.body.timeout:g} s (BODY_TIMEOUT).",
            )
        )
    return error


def stop_reading(connection: socket.socket) -> None:
    """End a blocked read (the answer can still be written)."""
    try:
        connection.shutdown(socket.SHUT_RD)
    except OSError:
        pass


def body() -> dict:
    """The request's JSON object: a 415 for another type, a 400 for anything but an object."""
    if request.content_length and not request.is_json:
        raise PlaygroundError(415, "json_required", "send JSON (Content-Type: application/json).")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise PlaygroundError(400, "bad_json", "the request body must be a JSON object.")
    return data


def check_socket() -> None:
    """The guard of a WebSocket: only our own page may open one."""
    if not visitors.same_origin():
        raise PlaygroundError(403, "cross_origin", "calls from another site are refused.")


def secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def too_large(_error: RequestEntityTooLarge) -> Response:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return errors.answer(
        PlaygroundError(
            413,
            "request_too_large",
            f"the request is larger than "
            f"{limit} bytes, the most the playground reads "
            "(MAX_CONTENT_LENGTH).",
        )
    )


def refuse_the_debugger() -> None:
    """`flask run --debugger` wraps the app in Werkzeug's debugger even with debug off: it
    would run any Python a visitor types, on the host. Refuse to serve under it."""
    if "werkzeug.debug.preserve_context" in request.environ:
        abort(500, "the playground refuses to run under Werkzeug's debugger")


class NoSessions(SessionInterface):
    """The host keeps no Flask session (visitors.py signs a cookie of its own): opening one for
    every request would only build a signing serializer for nothing."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        pass


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with JSON nested deeper than Python's stack refused as bad JSON: the
    `get_json(silent=True)` callers expect a ValueError, not a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: object) -> object:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None


def init_app(app: Flask) -> None:
    if app.debug:
        # Werkzeug's debugger runs any Python a visitor types, on the host.
        raise RuntimeError("the playground must never run in debug mode (FLASK_DEBUG, --debug)")
    app.json = JSONProvider(app)
    app.session_interface = NoSessions()
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        proxied = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
        app.wsgi_app = proxied  # type: ignore[method-assign]  # as Flask's docs add middleware
    app.before_request(hosts.check)  # first: a name not ours gets nothing (DNS rebinding)
    app.before_request(guard)
    app.after_request(secure_headers)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(ClientDisconnected, body_too_slow)
    app.teardown_request(end_body)
