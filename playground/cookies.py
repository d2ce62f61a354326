"""Cookies as a browser would keep them for one sandbox, and Flask's session cookie taken apart.

The jar is the standard library's `http.cookiejar.CookieJar`, which already honours expiry,
deletion, paths and the Secure flag; we only adapt the proxy's request and response to it.
"""

import base64
import http.cookiejar
import json
import threading
import time
import urllib.request
import zlib

from flask.json.tag import TaggedJSONSerializer

# Flask's default session cookie name; a snippet may change it, so any value that looks like a
# signed Flask session is decoded, whatever its name.
_SERIALIZER = TaggedJSONSerializer()
# A browser's limits (RFC 6265 asks for at least these): what a child sets beyond them is
# dropped, so a snippet cannot grow the host's memory, or every answer, without end.
MAX_COOKIES = 180
MAX_COOKIE_BYTES = 4096
MAX_SESSION_BYTES = 1 << 20  # a compressed session decompressed: no zip bomb in the host


class Jar:
    def __init__(self):
        self._jar = http.cookiejar.CookieJar()
        self._lock = threading.Lock()

    def header_for(self, url: str) -> str | None:
        """The Cookie header a browser would send to `url`, or None."""
        request = urllib.request.Request(url)
        with self._lock:
            self._jar.add_cookie_header(request)
        return request.get_header("Cookie")

    def update(self, url: str, response) -> None:
        """Take the Set-Cookie headers of `response` (an http.client.HTTPResponse) for `url`."""
        with self._lock:
            self._jar.extract_cookies(response, urllib.request.Request(url))
            self._trim()

    def list(self) -> list:
        with self._lock:
            self._jar.clear_expired_cookies()
            return [describe(c) for c in self._jar]

    def names(self) -> set:
        with self._lock:
            return {c.name for c in self._jar}

    def clear(self) -> None:
        with self._lock:
            self._jar.clear()

    def delete(self, name: str) -> bool:
        with self._lock:
            found = [c for c in self._jar if c.name == name]
            for c in found:
                self._jar.clear(c.domain, c.path, c.name)
        return bool(found)

    def set(self, name: str, value: str, path: str = "/", domain: str = "127.0.0.1") -> None:
        """Add or replace a cookie by hand, as a visitor editing it in the panel would."""
        cookie = http.cookiejar.Cookie(
            0, name, value, None, False, domain, False, False, path, True, False, None, True,
            None, None, {})
        with self._lock:
            self._jar.set_cookie(cookie)
            self._trim()

    def _trim(self) -> None:
        """Keep to a browser's limits (lock held)."""
        for i, c in enumerate(list(self._jar)):
            if i >= MAX_COOKIES or len(c.name) + len(c.value or "") > MAX_COOKIE_BYTES:
                self._jar.clear(c.domain, c.path, c.name)


def describe(cookie: http.cookiejar.Cookie) -> dict:
    return {
        "name": cookie.name, "value": cookie.value, "domain": cookie.domain,
        "path": cookie.path, "expires": cookie.expires, "secure": cookie.secure,
        "httponly": cookie.has_nonstandard_attr("HttpOnly")
        or cookie.has_nonstandard_attr("httponly"),
        "samesite": cookie.get_nonstandard_attr("SameSite")
        or cookie.get_nonstandard_attr("samesite"),
        "flask_session": decode_flask_session(cookie.value or ""),
    }


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tamper_flask_session(value: str, payload: dict) -> str | None:
    """`value` with a new payload and its old timestamp and signature: what a visitor without the
    app's secret key can make, and what the app must refuse. None for anything but a session."""
    if decode_flask_session(value) is None:
        return None
    stamp, signature = value.rsplit(".", 2)[1:]
    data = _SERIALIZER.dumps(payload).encode("utf-8")
    return f"{base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')}.{stamp}.{signature}"


def decode_flask_session(value: str) -> dict | None:
    """Take a Flask session cookie apart without its secret: it is signed, not encrypted.

    The format (itsdangerous' URLSafeTimedSerializer) is `payload.timestamp.signature`, with a
    leading "." when the payload was zlib-compressed. Returns None for anything else.
    """
    compressed = value.startswith(".")
    parts = value[1:].split(".") if compressed else value.split(".")
    if len(parts) != 3:
        return None
    payload, stamp, signature = parts
    try:
        data = _b64decode(payload)
        if compressed:
            inflate = zlib.decompressobj()
            data = inflate.decompress(data, MAX_SESSION_BYTES)
            if inflate.unconsumed_tail:
                return None
        session = _SERIALIZER.loads(data.decode("utf-8"))
        timestamp = int.from_bytes(_b64decode(stamp), "big")
        signed_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
        if not isinstance(session, dict):
            return None
        # Tagged values (bytes, datetimes, tuples...) shown as JSON can show them.
        payload = json.loads(json.dumps(session, default=str))
    # Any child can set any value, and Flask's tag decoder, gmtime and json raise all sorts
    # (KeyError, StopIteration, OverflowError, RecursionError...): such a cookie is no session.
    except Exception:
        return None
    return {"payload": payload, "compressed": compressed, "timestamp": timestamp,
            "signed_at": signed_at, "signature": signature}
