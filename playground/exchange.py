"""An exchange: a visitor's request sent to a child app and everything the page shows of it.

Built in one place from explicit inputs: where the app listens (scheme, port), the cookie jar of
the person asking, and the app's event log, in which the child reports each request it served
(which rule answered, what Flask did) and each exception. Redirects are followed here, by one
rule (`proxy.redirect_target`), when the request asks for it: the page never decides itself.
"""

import time
from dataclasses import dataclass, field

from . import proxy
from .cookies import Jar
from .errors import PlaygroundError
from .files import decoded, is_utf8, value_of
from .sandbox.events import EventLog
from .sandbox.sandbox import Sandbox

MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Target:
    """A running app, as an exchange needs it."""

    scheme: str
    port: int
    events: EventLog


@dataclass
class Exchange:
    hop: proxy.Hop  # the last request sent and its answer
    cookies: list[dict]  # the jar after it
    events: list[dict]  # the child's own account: its request event, any exception
    redirects: list[dict] = field(default_factory=list)  # the hops followed to get here

    def to_json(self) -> dict:
        hop = self.hop
        text, b64 = proxy.decode(hop.body, hop.content_type)
        served = next((e for e in self.events if e["type"] == "request"), {})
        return {
            "status": hop.status,
            "reason": hop.reason,
            "headers": [[name, value] for name, value in hop.headers],
            "body": text,
            "body_base64": b64,
            "truncated": hop.truncated,
            "elapsed_ms": hop.elapsed_ms,
            "size": len(hop.body),
            "content_type": hop.content_type,
            "cookies": self.cookies,
            "set_cookies": hop.set_cookies,
            "request": request_echo(hop.request),
            "raw": hop.raw,
            "tls": hop.tls,
            "events": self.events,
            "route": served.get("route"),
            "trace": served.get("trace"),
            "redirects": self.redirects,
            "chunks": hop.chunks,
            "error": {
                "code": "stream_broken",
                "message": "the app's response ended before the "
                f"app finished it ({hop.broken}): the body so far is below; see the "
                "exception.",
            }
            if hop.broken
            else None,
        }


def request_echo(request: proxy.Request) -> dict:
    """The request as sent. `body` is its text (with U+FFFD for bytes that are not UTF-8);
    `body_base64` holds the bytes themselves when the body is not text."""
    sent = request.body or b""
    value = value_of(sent)
    return {
        "method": request.method,
        "path": request.path,
        "headers": [list(h) for h in request.headers],
        "body": value if isinstance(value, str) else sent.decode("utf-8", "replace"),
        "body_base64": None if isinstance(value, str) else value["base64"],
    }


def parse(data: dict, settings: dict) -> tuple[proxy.Request, bool]:
    """The request a visitor described in JSON, and whether to follow redirects; refused with
    a clear 4xx when the proxy could not send it."""
    method, path = data.get("method", "GET"), data.get("path", "/")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise PlaygroundError(400, "bad_headers", '"headers" must be an object {name: value}.')
    payload = body_of(data, settings["MAX_REQUEST_BODY_BYTES"])
    pairs = list(headers.items())
    check_size(path, pairs, settings)
    proxy.validate(method, path, pairs)
    return proxy.Request(method, path, pairs, payload), bool(data.get("follow_redirects"))


def body_of(data: dict, limit: int) -> bytes | None:
    """The request body: `body` (text, sent as UTF-8) or `body_base64` (any bytes: a file
    upload, a multipart form), never both; at most `limit` bytes."""
    text, b64 = data.get("body"), data.get("body_base64")
    if text is not None and b64 is not None:
        raise PlaygroundError(
            400, "bad_body", 'send "body" (text) or "body_base64" (bytes), not both.'
        )
    if b64 is not None:
        if not isinstance(b64, str):
            raise PlaygroundError(400, "bad_body", '"body_base64" must be a base64 string.')
        payload: bytes | None = decoded(b64, limit, "the request body is", "body_too_large")
    elif text is not None and not (isinstance(text, str) and is_utf8(text)):
        raise PlaygroundError(400, "bad_body", '"body" must be a string (valid UTF-8) or null.')
    else:
        payload = text.encode("utf-8") if text else None
    if payload and len(payload) > limit:
        raise PlaygroundError(
            413, "body_too_large", f"the request body is larger than {limit} bytes."
        )
    return payload or None


def check_size(path: object, headers: list[tuple[str, str]], settings: dict) -> None:
    """Refuse what the proxy could not send: too many headers, a huge path, non-Latin-1 values."""
    if len(headers) > settings["MAX_REQUEST_HEADERS"]:
        raise PlaygroundError(
            400,
            "too_many_headers",
            f"at most {settings['MAX_REQUEST_HEADERS']} headers in one request.",
        )
    if isinstance(path, str) and len(path) > settings["MAX_TARGET_BYTES"]:
        raise PlaygroundError(
            414,
            "path_too_long",
            f"the path is {len(path)} characters long; the most is {settings['MAX_TARGET_BYTES']}.",
        )
    for name, value in headers:
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise PlaygroundError(
                400,
                "bad_header",
                f"the value of {name!r} has characters HTTP "
                "headers cannot carry: percent-encode them.",
            ) from None


def run(target: Target, jar: Jar, request: proxy.Request, follow: bool, settings: dict) -> Exchange:
    """Send `request` (and, when `follow`, the redirects to the same app that answer it); every
    hop shares one REQUEST_TIMEOUT."""
    redirects: list[dict] = []
    deadline = time.monotonic() + settings["REQUEST_TIMEOUT"]
    while True:
        after = target.events.last_seq
        hop = proxy.send(
            target.scheme,
            target.port,
            jar,
            request,
            timeout=max(deadline - time.monotonic(), 0.01),
            max_body=settings["MAX_BODY_BYTES"],
        )
        events = served_events(
            target.events,
            after,
            hop.local_port,
            settings["EVENT_WAIT_SECONDS"],
            "exception" if hop.broken else "request",
        )
        path = proxy.redirect_target(hop, target.port) if follow else None
        if path is None or len(redirects) >= MAX_REDIRECTS or time.monotonic() >= deadline:
            return Exchange(hop, jar.list(), events, redirects)
        redirects.append({"status": hop.status, "location": path})
        request = redirected(request, hop.status, path)


def redirected(request: proxy.Request, status: int, path: str) -> proxy.Request:
    """The request a browser sends next: 301, 302 and 303 turn into a GET without a body."""
    if status in (301, 302, 303) and request.method != "HEAD":
        headers = [
            (k, v)
            for k, v in request.headers
            if k.lower() not in ("content-type", "content-length")
        ]
        return proxy.Request("GET", path, headers, None)
    return proxy.Request(request.method, path, request.headers, request.body)


def served_events(
    events: EventLog, after: int, port: int, wait: float, awaited: str = "request"
) -> list[dict]:
    """The child's own account of the exchange from `port`: its request summary, exceptions.
    The child reports a request as its view returns, a moment before the proxy has read it all
    (and the exception that broke a stream as the stream breaks): wait for the `awaited` one."""
    events.wait_for(lambda f: f.kind == awaited and f.key == port, after, timeout=wait)
    return [
        f.event()
        for f in events.after(after)
        if f.kind in ("request", "exception") and f.key == port
    ]


def send_to(
    sandbox: Sandbox, jar: Jar, request: proxy.Request, follow: bool, settings: dict
) -> Exchange:
    """`run` against a sandbox's app, which must be running."""
    scheme, port = sandbox.scheme, sandbox.port  # read once: a child may die meanwhile
    if sandbox.state != "running" or scheme is None or port is None:
        raise PlaygroundError(
            409, "not_running", f"the app is not running (it is {sandbox.state}): press Run first."
        )
    try:
        done = run(Target(scheme, port, sandbox.events), jar, request, follow, settings)
    except PlaygroundError as error:
        if error.code == "child_timeout":
            sandbox.answered_too_late(f"{request.method} {request.path}")
        raise
    sandbox.touch()
    return done
