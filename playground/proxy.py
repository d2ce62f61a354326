"""One hop on the wire: send a visitor's request to a child, byte for byte, and read its answer.

exchange.py builds what the visitor sees from one or more hops (redirects) and the child's own
account of them.

http.client does the wire work: `putrequest` with skip_host/skip_accept_encoding sends the method,
target and headers exactly as given, in order. The only headers we add are the ones any client must:
Host (when the visitor gave none), Content-Length (for a body that has none) and the jar's Cookie
(unless the visitor wrote their own Cookie header, which then wins).
"""

import base64
import http.client
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import trace
from .cookies import Jar
from .errors import PlaygroundError
from .watchdog import WATCHDOG

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token: methods, header names
BAD_VALUE = re.compile(r"[\x00\r\n]")
TARGET = re.compile(r"^(/[\x21-\x7e]*|\*)$")  # visible ASCII only: already percent-encoded
REDIRECTS = {301, 302, 303, 307, 308}
MAX_CHUNKS = 200  # pieces of a body whose arrival an exchange notes


@dataclass(frozen=True)
class Request:
    """A request as the visitor wrote it: sent exactly so, in this order."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes | None


def validate(method: object, path: object, headers: list[tuple[str, str]]) -> None:
    if not isinstance(method, str) or not TOKEN.match(method):
        raise PlaygroundError(
            400,
            "bad_method",
            f"{method!r} is not an HTTP method: use letters "
            "like GET or PATCH (any token is allowed, no spaces).",
        )
    if not isinstance(path, str) or not TARGET.match(path):
        raise PlaygroundError(
            400,
            "bad_path",
            f"{path!r} is not a request path: it must start "
            "with / and be percent-encoded (a space is %20).",
        )
    for name, value in headers:
        if not TOKEN.match(name):
            raise PlaygroundError(400, "bad_header", f"{name!r} is not a valid header name.")
        if BAD_VALUE.search(value):
            raise PlaygroundError(
                400, "bad_header", f"the value of {name} contains a line break or NUL byte."
            )


class Connection(http.client.HTTPConnection):
    """To 127.0.0.1 by address: no name to look up."""

    timed_out = False  # set by _shut when the whole exchange has run out of time

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.connect((self.host, self.port))


# The child's certificate is the visitor's, usually self-signed: show it, don't judge it.
UNVERIFIED = ssl._create_unverified_context()


class TLSConnection(http.client.HTTPSConnection, Connection):
    def connect(self) -> None:
        Connection.connect(self)
        self.sock = UNVERIFIED.wrap_socket(self.sock, server_hostname=self.host)


def _connect(scheme: str, port: int, timeout: float) -> Connection:
    if scheme == "https":
        # Given the context it uses, so that it does not build (and load CAs into) its own.
        return TLSConnection("127.0.0.1", port, timeout=timeout, context=UNVERIFIED)
    return Connection("127.0.0.1", port, timeout=timeout)


def decode(body: bytes, content_type: str) -> tuple[str, str | None]:
    """(text, None) for a text body, ("", base64) for anything else."""
    charset = "utf-8"
    match = re.search(r"charset=([\w-]+)", content_type or "", re.I)
    if match:
        charset = match.group(1)
    if b"\x00" not in body:
        try:
            return body.decode(charset), None
        except (LookupError, UnicodeError):  # UnicodeError: codecs such as "undefined", "idna"
            pass
    return "", base64.b64encode(body).decode("ascii")


@dataclass(frozen=True)
class Hop:
    """One request as sent (with the headers any client adds) and the answer read."""

    request: Request
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool  # cut at max_body or at the deadline
    elapsed_ms: float
    local_port: int  # the port the child saw the request come from
    tls: dict | None
    set_cookies: list[dict]  # what the Set-Cookie headers did to the jar
    raw: dict  # the heads on the wire, and curl
    chunks: list[dict]  # when each piece of the body arrived
    broken: str | None  # why a stream ended before the app finished it

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)


def send(
    scheme: str, port: int, jar: Jar, request: Request, *, timeout: float, max_body: int
) -> Hop:
    """One request and response; raises PlaygroundError 502/504 when the child gives none."""
    method, path, body = request.method, request.path, request.body
    url = f"{scheme}://127.0.0.1:{port}{path if path != '*' else '/'}"
    given = {name.lower() for name, _ in request.headers}
    sent = list(request.headers)
    if "host" not in given:
        sent.insert(0, ("Host", f"127.0.0.1:{port}"))
    if body and not given & {"content-length", "transfer-encoding"}:
        sent.append(("Content-Length", str(len(body))))
    if "cookie" not in given:
        cookie = jar.header_for(url)
        if cookie:
            sent.append(("Cookie", cookie))

    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    conn = _connect(scheme, port, timeout)
    tap = trace.Wiretap(conn)
    local_port = tls = response = None
    # The socket timeout bounds each read, not the exchange: at the deadline the connection is
    # shut under it.
    cutoff = WATCHDOG.after(timeout, lambda: _shut(conn))
    too_slow = PlaygroundError(
        504,
        "child_timeout",
        f"the app did not answer within {timeout:.3g} s (is the route slow, or waiting forever?)",
    )
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in sent:
            conn.putheader(name, value)
        conn.endheaders(body or None)
        local_port = conn.sock.getsockname()[1]
        tls = trace.session(conn.sock)
        response = conn.getresponse()
        if conn.timed_out:  # cut off mid-head, which http.client takes for its end
            raise too_slow
        received = read_body(response, max_body, deadline, started)
        received.truncated = received.truncated or conn.timed_out  # cut off mid-body: say so
    except TimeoutError:
        raise too_slow from None
    except ssl.SSLError as exc:
        if conn.timed_out:
            raise too_slow from None
        raise PlaygroundError(
            502, "child_tls", f"the TLS handshake with the app failed: {exc}"
        ) from None
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        if conn.timed_out:
            raise too_slow from None
        if type(exc) in (http.client.HTTPException, http.client.LineTooLong):
            # http.client's own bounds on a head: 100 headers, 64 KiB in a line
            raise PlaygroundError(
                502,
                "child_bad_response",
                f"the app answered beyond what the playground reads: {exc}.",
            ) from None
        raise PlaygroundError(
            502,
            "child_no_response",
            "the app closed the connection without "
            f"answering ({type(exc).__name__}): did it crash? See the log.",
        ) from None
    finally:
        WATCHDOG.cancel(cutoff)
        if response is not None:
            response.close()  # a body cut short leaves it open
        conn.close()
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)

    before = jar.names()
    jar.update(url, response)
    return Hop(
        request=Request(method, path, sent, body),
        status=response.status,
        reason=response.reason,
        headers=response.getheaders(),
        body=received.data,
        truncated=received.truncated,
        chunks=received.chunks,
        broken=received.broken,
        elapsed_ms=elapsed_ms,
        local_port=local_port,
        tls=tls,
        set_cookies=_set_cookies(response, before, jar.names()),
        raw={**tap.raw(response), "curl": trace.curl(url, method, sent, body)},
    )


def _shut(conn: Connection) -> None:
    """Cut the connection from under a read that has gone on past the deadline."""
    conn.timed_out = True
    if conn.sock is not None:
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@dataclass
class Body:
    data: bytes
    truncated: bool  # cut at max_body, or at the deadline
    chunks: list[dict]  # when each piece arrived: {"at_ms", "size"}, the first MAX_CHUNKS
    broken: str | None  # why the stream ended before the app finished it


def read_body(
    response: http.client.HTTPResponse, max_body: int, deadline: float, started: float
) -> Body:
    """At most max_body bytes, no later than the deadline, noting when each piece came; a
    stream that breaks after its head keeps what came before it."""
    pieces: list[bytes] = []
    chunks: list[dict] = []
    size = 0
    truncated, broken = True, None
    while size <= max_body and time.monotonic() <= deadline:
        try:
            piece = response.read1(min(65536, max_body + 1 - size))
        except TimeoutError:
            raise
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            truncated, broken = False, f"{type(exc).__name__}: {exc}".rstrip(": ")
            break
        if not piece:
            truncated = False
            break
        pieces.append(piece)
        size += len(piece)
        if len(chunks) < MAX_CHUNKS:
            chunks.append(
                {"at_ms": round((time.perf_counter() - started) * 1000, 3), "size": len(piece)}
            )
    return Body(b"".join(pieces)[:max_body], truncated, chunks, broken)


def _set_cookies(
    response: http.client.HTTPResponse, before: set[str], after: set[str]
) -> list[dict]:
    """What this response's Set-Cookie headers did to the jar."""
    changes = []
    for raw in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = raw.partition("=")
        name = name.strip()
        value = rest.split(";", 1)[0].strip()
        deleted = name not in after
        changes.append(
            {
                "name": name,
                "value": value,
                "raw": raw,
                "deleted": deleted,
                "new": name not in before and not deleted,
            }
        )
    return changes


def redirect_target(hop: Hop, port: int) -> str | None:
    """The path to follow for a redirect to the same app (on `port`), or None: a browser would
    leave the app for another site, and so do we."""
    location = hop.location() if hop.status in REDIRECTS else None
    if not location:
        return None
    parts = urlsplit(location)
    try:
        elsewhere = parts.netloc and parts.port != port
    except ValueError:  # a port that is no port: not this app
        return None
    if elsewhere:
        return None
    path = parts.path or "/"
    if not path.startswith("/"):
        base = hop.request.path.split("?", 1)[0]
        path = base.rsplit("/", 1)[0] + "/" + path
    target = path + (f"?{parts.query}" if parts.query else "")
    return target if TARGET.match(target) else None
