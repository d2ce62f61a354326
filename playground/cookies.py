"""Cookies as a browser would keep them, and Flask's session cookie taken apart.

A jar is the standard library's `http.cookiejar.CookieJar`, which already honours expiry,
deletion, paths and the Secure flag; we only adapt the proxy's request and response to it. Jars
are kept per app and per person (`Jars`): a visitor's own panel, and each follower of the
presenter, has one of their own.

A child chooses every cookie it sets, so what they may cost the host is bounded: a browser's
count and size, a total per jar, and a Flask session is decoded once per value, within a cap on
its decompressed size, not on every exchange.
"""

import base64
import http.client
import http.cookiejar
import json
import threading
import time
import urllib.request
import weakref
import zlib
from collections import OrderedDict

from flask.json.tag import TaggedJSONSerializer

# Flask's default session cookie name; a snippet may change it, so any value that looks like a
# signed Flask session is decoded, whatever its name.
_SERIALIZER = TaggedJSONSerializer()
# A browser's limits (RFC 6265 asks for at least these): what a child sets beyond them is
# dropped, so a snippet cannot grow the host's memory, or every answer, without end.
MAX_COOKIES = 180
MAX_COOKIE_BYTES = 4096
MAX_JAR_BYTES = 64 * 1024  # names and values of one jar together
MAX_SESSION_BYTES = 64 * 1024  # a compressed session decompressed: no zip bomb in the host
MAX_SESSIONS_SHOWN_BYTES = 128 * 1024  # decoded sessions of one jar shown together


class Jar:
    def __init__(self) -> None:
        self._jar = http.cookiejar.CookieJar()
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[dict | None, int]] = {}  # value -> (session, its size)

    def header_for(self, url: str) -> str | None:
        """The Cookie header a browser would send to `url`, or None."""
        request = urllib.request.Request(url)
        with self._lock:
            self._jar.add_cookie_header(request)
        return request.get_header("Cookie")

    def update(self, url: str, response: http.client.HTTPResponse) -> None:
        """Take the Set-Cookie headers of `response` (an http.client.HTTPResponse) for `url`."""
        with self._lock:
            self._jar.extract_cookies(response, urllib.request.Request(url))
            self._trim()

    def list(self) -> list[dict]:
        """Every cookie, described; Flask sessions decoded up to MAX_SESSIONS_SHOWN_BYTES."""
        listed, shown = [], 0
        with self._lock:
            self._jar.clear_expired_cookies()
            for cookie in self._jar:
                session, size = self._session(cookie.value or "")
                shown += size
                if shown > MAX_SESSIONS_SHOWN_BYTES:
                    session = None
                listed.append({**describe(cookie), "flask_session": session})
        return listed

    def _session(self, value: str) -> tuple[dict | None, int]:
        """The value decoded as a Flask session, once per value, with its size (lock held)."""
        if value not in self._sessions:
            session = decode_flask_session(value)
            size = len(json.dumps(session["payload"])) if session else 0
            self._sessions[value] = (session, size)
        return self._sessions[value]

    def names(self) -> set[str]:
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
            0,
            name,
            value,
            None,
            False,
            domain,
            False,
            False,
            path,
            True,
            False,
            None,
            True,
            None,
            None,
            {},
        )
        with self._lock:
            self._jar.set_cookie(cookie)
            self._trim()

    def _trim(self) -> None:
        """Keep to a browser's limits, and forget decoded sessions no cookie holds (lock held)."""
        total = 0
        for i, c in enumerate(list(self._jar)):
            size = len(c.name) + len(c.value or "")
            total += size
            if i >= MAX_COOKIES or size > MAX_COOKIE_BYTES or total > MAX_JAR_BYTES:
                self._jar.clear(c.domain, c.path, c.name)
                total -= size
        values = {c.value for c in self._jar}
        self._sessions = {v: d for v, d in self._sessions.items() if v in values}


class Jars:
    """The jars of one kind of client (visitors' panels, followers), each app and person its
    own; a jar goes with its app, and an app keeps the `per_app` used last."""

    def __init__(self, per_app: int):
        self.per_app = per_app
        self._apps: weakref.WeakKeyDictionary[object, OrderedDict[str, Jar]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def of(self, app: object, person: str) -> Jar:
        with self._lock:
            jars = self._apps.setdefault(app, OrderedDict())
            jar = jars.pop(person, None) or Jar()
            jars[person] = jar
            while len(jars) > self.per_app:
                jars.popitem(last=False)
            return jar


def describe(cookie: http.cookiejar.Cookie) -> dict:
    """A cookie as the API shows it (without its decoded session)."""
    return {
        "name": cookie.name,
        "value": cookie.value,
        "domain": cookie.domain,
        "path": cookie.path,
        "expires": cookie.expires,
        "secure": cookie.secure,
        "httponly": cookie.has_nonstandard_attr("HttpOnly")
        or cookie.has_nonstandard_attr("httponly"),
        "samesite": cookie.get_nonstandard_attr("SameSite")
        or cookie.get_nonstandard_attr("samesite"),
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
    return {
        "payload": payload,
        "compressed": compressed,
        "timestamp": timestamp,
        "signed_at": signed_at,
        "signature": signature,
    }
