"""Send a visitor's request to a child, byte for byte, and describe what came back.

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
from urllib.parse import urlsplit

from . import trace
from .errors import PlaygroundError
from .watchdog import Watchdog

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token: methods, header names
BAD_VALUE = re.compile(r"[\x00\r\n]")
TARGET = re.compile(r"^(/[\x21-\x7e]*|\*)$")  # visible ASCII only: already percent-encoded
REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 10
WATCHDOG = Watchdog()


def validate(method: str, path: str, headers: list) -> None:
    if not isinstance(method, str) or not TOKEN.match(method):
        raise PlaygroundError(400, "bad_method", f"{method!r} is not an HTTP method: use letters "
                              "like GET or PATCH (any token is allowed, no spaces).")
    if not isinstance(path, str) or not TARGET.match(path):
        raise PlaygroundError(400, "bad_path", f"{path!r} is not a request path: it must start "
                              "with / and be percent-encoded (a space is %20).")
    for name, value in headers:
        if not TOKEN.match(name):
            raise PlaygroundError(400, "bad_header", f"{name!r} is not a valid header name.")
        if BAD_VALUE.search(value):
            raise PlaygroundError(400, "bad_header",
                                  f"the value of {name} contains a line break or NUL byte.")


def _connect(scheme: str, port: int, timeout: float) -> http.client.HTTPConnection:
    if scheme == "https":
        # The child's certificate is the visitor's, usually self-signed: show it, don't judge it.
        context = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.timed_out = False  # set by _shut when the whole exchange has run out of time
    return conn


def _decode(body: bytes, content_type: str) -> tuple[str, str | None]:
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


def exchange(sandbox, method: str, path: str, headers: list, body: bytes | None, *,
             timeout: float, max_body: int) -> dict:
    """One request and response; raises PlaygroundError 502/504 when the child gives none."""
    # Read once: a child that dies now turns the port to None, and None would mean port 80.
    scheme, port = sandbox.scheme, sandbox.port
    if not isinstance(port, int):
        raise PlaygroundError(409, "not_running", "the app is not running any more: see its log, "
                              "then press Run.")
    url = f"{scheme}://127.0.0.1:{port}{path if path != '*' else '/'}"
    given = {name.lower() for name, _ in headers}
    sent = list(headers)
    if "host" not in given:
        sent.insert(0, ("Host", f"127.0.0.1:{port}"))
    if body and not given & {"content-length", "transfer-encoding"}:
        sent.append(("Content-Length", str(len(body))))
    if "cookie" not in given:
        cookie = sandbox.jar.header_for(url)
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
    too_slow = PlaygroundError(504, "child_timeout", f"the app did not answer within {timeout:.3g} s "
                               "(is the route slow, or waiting forever?)")
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
        data, truncated = _read_body(response, max_body, deadline)
        truncated = truncated or conn.timed_out  # cut off mid-body: say so
    except (socket.timeout, TimeoutError):
        raise too_slow from None
    except ssl.SSLError as exc:
        if conn.timed_out:
            raise too_slow from None
        raise PlaygroundError(502, "child_tls", f"the TLS handshake with the app failed: {exc}") \
            from None
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        if conn.timed_out:
            raise too_slow from None
        if type(exc) in (http.client.HTTPException, http.client.LineTooLong):
            # http.client's own bounds on a head: 100 headers, 64 KiB in a line
            raise PlaygroundError(502, "child_bad_response", "the app answered beyond what the "
                                  f"playground reads: {exc}.") from None
        raise PlaygroundError(502, "child_no_response", "the app closed the connection without "
                              f"answering ({type(exc).__name__}): did it crash? See the log.") \
            from None
    finally:
        WATCHDOG.cancel(cutoff)
        if response is not None:
            response.close()  # a body cut short leaves it open
        conn.close()
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)

    before = sandbox.jar.names()
    sandbox.jar.update(url, response)
    after = sandbox.jar.names()
    content_type = response.getheader("Content-Type", "")
    text, b64 = _decode(data, content_type)
    return {
        "status": response.status, "reason": response.reason,
        "headers": [[name, value] for name, value in response.getheaders()],
        "body": text, "body_base64": b64, "truncated": truncated, "elapsed_ms": elapsed_ms,
        "size": len(data), "content_type": content_type,
        "cookies": sandbox.jar.list(),
        "set_cookies": _set_cookies(response, before, after),
        "request": {"method": method, "path": path, "headers": [list(h) for h in sent],
                    "body": (body or b"").decode("utf-8", "replace")},
        "local_port": local_port,
        "raw": {**tap.raw(response), "curl": trace.curl(url, method, sent, body)},
        "tls": tls,
    }


def _shut(conn: http.client.HTTPConnection) -> None:
    """Cut the connection from under a read that has gone on past the deadline."""
    conn.timed_out = True
    if conn.sock is not None:
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _read_body(response: http.client.HTTPResponse, max_body: int, deadline: float):
    """At most max_body bytes, and no later than the deadline; (bytes, truncated)."""
    chunks, size = [], 0
    while size <= max_body:
        if time.monotonic() > deadline:
            return b"".join(chunks), True
        chunk = response.read1(min(65536, max_body + 1 - size))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:max_body], True


def _set_cookies(response, before: set, after: set) -> list:
    """What this response's Set-Cookie headers did to the jar."""
    changes = []
    for raw in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = raw.partition("=")
        name = name.strip()
        value = rest.split(";", 1)[0].strip()
        deleted = name not in after
        changes.append({"name": name, "value": value, "raw": raw, "deleted": deleted,
                        "new": name not in before and not deleted})
    return changes


def redirect_target(result: dict, sandbox_port: int) -> str | None:
    """The path to follow for a redirect to the same app, or None."""
    if result["status"] not in REDIRECTS:
        return None
    location = next((v for k, v in result["headers"] if k.lower() == "location"), None)
    if not location:
        return None
    parts = urlsplit(location)
    try:
        elsewhere = parts.netloc and parts.port != sandbox_port
    except ValueError:  # a port that is no port: not this app
        return None
    if elsewhere:
        return None  # another site: a browser would leave the app, we stop here
    path = parts.path or "/"
    if not path.startswith("/"):
        base = result["request"]["path"].split("?", 1)[0]
        path = base.rsplit("/", 1)[0] + "/" + path
    return path + (f"?{parts.query}" if parts.query else "")
