"""cookies.py: a browser's cookie jar for the proxy, and Flask's session cookie taken apart within
its caps. Real http.client responses, parsed from bytes; real Flask-signed sessions."""

import base64
import datetime
import gc
import http.client
import json
import socket
import uuid
import weakref
import zlib

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from playground import cookies
from playground.cookies import Jar, Jars

APP = "http://127.0.0.1:5001"  # where the proxy sends a sandbox's requests

# Shaped like a Flask session, yet none: each once made the host answer 500.
NOT_SESSIONS = {
    "a timestamp gmtime refuses": "e30._____________________w.sig",
    "a datetime tag around a number": "eyIgZCI6NX0.AAAA.sig",
    "a dict-item tag around a dict": "eyIgZGkiOnt9fQ.AAAA.sig",
}


def compressed(payload: bytes) -> str:
    """A session value (unsigned) whose payload is `payload`, zlib-compressed as Flask does."""
    data = base64.urlsafe_b64encode(zlib.compress(payload, 9)).decode().rstrip("=")
    return f".{data}.AAAA.sig"


def signer():
    """The serializer of a real Flask app's session cookie, with a secret key of its own."""
    app = Flask("signer")
    app.secret_key = "not the playground's"
    return SecureCookieSessionInterface().get_signing_serializer(app)


def signed(payload: dict) -> str:
    return signer().dumps(payload)


def answer(*set_cookies: str) -> http.client.HTTPResponse:
    """A real http.client response, parsed from the bytes of a head with these Set-Cookies."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        head = "".join(f"Set-Cookie: {c}\r\n" for c in set_cookies)
        theirs.sendall(f"HTTP/1.1 200 OK\r\n{head}Content-Length: 0\r\n\r\n".encode("latin-1"))
        response = http.client.HTTPResponse(ours)
        response.begin()
    return response


def jar_after(*set_cookies: str, url: str = APP + "/") -> Jar:
    jar = Jar()
    with answer(*set_cookies) as response:
        jar.update(url, response)
    return jar


# -- taking a session apart ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "session, shown",
    [
        ({"visits": 3}, {"visits": 3}),
        ({"user": {"id": 7, "roles": ["admin"]}}, {"user": {"id": 7, "roles": ["admin"]}}),
        # Flask's tagged values, shown as JSON can show them.
        ({"raw": b"\x00\xff"}, {"raw": "b'\\x00\\xff'"}),
        ({"pair": (1, 2)}, {"pair": [1, 2]}),
        (
            {"at": datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)},
            {"at": "2024-05-01 12:00:00+00:00"},
        ),
        ({"id": uuid.UUID(int=1)}, {"id": "00000000-0000-0000-0000-000000000001"}),
        ({"_flashes": [("message", "hi")]}, {"_flashes": [["message", "hi"]]}),
    ],
    ids=["int", "nested", "bytes", "tuple", "datetime", "uuid", "flashes"],
)
def test_a_flask_session_is_read_without_its_secret(session, shown):
    value = signed(session)
    decoded = cookies.decode_flask_session(value)
    assert decoded["payload"] == shown
    assert decoded["compressed"] is value.startswith(".")
    assert decoded["signature"] == value.rsplit(".", 1)[1]
    signed_at = datetime.datetime.fromtimestamp(decoded["timestamp"], datetime.UTC)
    assert decoded["signed_at"] == signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    json.dumps(decoded)  # the API sends it as it is


def test_a_compressed_session_is_read_and_says_so():
    value = signed({"big": "x" * 500})
    assert value.startswith(".")  # Flask compresses when that is shorter
    decoded = cookies.decode_flask_session(value)
    assert decoded["compressed"] is True and decoded["payload"] == {"big": "x" * 500}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "a.b",
        "a.b.c.d",
        "..",
        "!!!.AAAA.sig",
        base64.urlsafe_b64encode(b"not json").decode().rstrip("=") + ".AAAA.sig",
        base64.urlsafe_b64encode(b"[1, 2]").decode().rstrip("=") + ".AAAA.sig",  # JSON, no dict
        base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=") + ".AAAA.sig",  # no UTF-8
        ".bm90IHpsaWI.AAAA.sig",  # compressed, says the dot; it is not
        compressed(b"[" * (8 << 20)),  # a zip bomb, and no JSON either
        *NOT_SESSIONS.values(),
    ],
    ids=[
        "empty",
        "plain",
        "two-parts",
        "four-parts",
        "dots",
        "not-base64",
        "not-json",
        "a-list",
        "not-utf8",
        "not-zlib",
        "zip-bomb",
        *NOT_SESSIONS,
    ],
)
def test_anything_else_is_no_session(value):
    assert cookies.decode_flask_session(value) is None


@pytest.mark.parametrize(
    "inflated, decoded",
    [
        (cookies.MAX_SESSION_BYTES, True),
        (cookies.MAX_SESSION_BYTES + 1, False),
        (8 << 20, False),  # never inflated whole in the host
    ],
)
def test_a_compressed_session_is_inflated_up_to_its_cap(inflated, decoded):
    payload = json.dumps({"a": "x" * (inflated - 9)}).encode()
    assert len(payload) == inflated
    assert (cookies.decode_flask_session(compressed(payload)) is not None) is decoded


def test_a_session_nested_past_pythons_stack_is_no_session():
    depth = (cookies.MAX_SESSION_BYTES - 6) // 2  # within the cap: the parser must refuse it
    value = compressed(b'{"a":' + b"[" * depth + b"]" * depth + b"}")
    assert len(value) < cookies.MAX_COOKIE_BYTES  # it fits in a cookie
    assert cookies.decode_flask_session(value) is None


def test_a_tampered_session_keeps_its_stamp_and_signature_and_the_apprefuses_it():
    value = signed({"user": "alice"})
    tampered = cookies.tamper_flask_session(value, {"user": "admin"})
    assert tampered.split(".")[1:] == value.split(".")[1:]
    assert cookies.decode_flask_session(tampered)["payload"] == {"user": "admin"}
    serializer = signer()
    assert serializer.loads(value) == {"user": "alice"}
    with pytest.raises(BadSignature):
        serializer.loads(tampered)


@pytest.mark.parametrize("value", ["plain", *NOT_SESSIONS.values()])
def test_only_a_session_can_be_tampered_with(value):
    assert cookies.tamper_flask_session(value, {"a": 1}) is None


# -- the jar, as a browser keeps it ---------------------------------------------------------------


@pytest.mark.parametrize(
    "set_cookies, url, header",
    [
        (["flavour=chocolate; Path=/"], APP + "/", "flavour=chocolate"),
        (["a=1", "b=2"], APP + "/x", "a=1; b=2"),
        (["admin=1; Path=/admin"], APP + "/", None),
        (["admin=1; Path=/admin"], APP + "/admin/users", "admin=1"),
        (["secure=1; Secure"], APP + "/", None),
        (["secure=1; Secure"], APP.replace("http", "https") + "/", "secure=1"),
        (["gone=1; Max-Age=0"], APP + "/", None),
        (["old=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"], APP + "/", None),
        (["session=.eJy.AAAA.sig; HttpOnly; SameSite=Lax"], APP + "/", "session=.eJy.AAAA.sig"),
    ],
    ids=[
        "plain",
        "two",
        "other-path",
        "its-path",
        "secure-over-http",
        "secure-over-https",
        "max-age-0",
        "expired",
        "attributes",
    ],
)
def test_the_cookie_header_is_what_a_browser_would_send(set_cookies, url, header):
    assert jar_after(*set_cookies).header_for(url) == header


def test_a_cookie_the_appdeletes_leaves_the_jar():
    jar = jar_after("flavour=chocolate; Path=/", "kept=1")
    with answer('flavour=""; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/') as r:
        jar.update(APP + "/unset", r)
    assert jar.names() == {"kept"} and jar.header_for(APP + "/") == "kept=1"


def test_the_jar_lists_each_cookie_as_the_api_shows_it():
    session = signed({"visits": 1})
    jar = jar_after(
        f"session={session}; HttpOnly; Path=/; SameSite=Lax",
        "theme=dark; Max-Age=3600; Secure; samesite=strict; httponly",
    )
    listed = {c["name"]: c for c in jar.list()}
    assert listed["session"] == {
        "name": "session",
        "value": session,
        "domain": "127.0.0.1",
        "path": "/",
        "expires": None,
        "secure": False,
        "httponly": True,
        "samesite": "Lax",
        "flask_session": cookies.decode_flask_session(session),
    }
    theme = listed["theme"]
    assert (theme["secure"], theme["httponly"], theme["samesite"]) == (True, True, "strict")
    assert theme["expires"] > 0 and theme["flask_session"] is None
    json.dumps(listed)


def test_a_visitor_edits_the_jar_by_hand():
    jar = jar_after("a=1", "b=2")
    jar.set("a", "changed")
    jar.set("c", "3", path="/deep")
    assert jar.header_for(APP + "/") == "a=changed; b=2"
    assert jar.header_for(APP + "/deep/x") == "c=3; a=changed; b=2"  # the longer path first
    assert jar.delete("b") is True and jar.delete("b") is False
    assert jar.names() == {"a", "c"}
    jar.clear()
    assert jar.names() == set() and jar.list() == [] and jar.header_for(APP + "/") is None


# -- what a child's cookies may cost the host -----------------------------------------------------


@pytest.mark.parametrize(
    "sizes, kept",
    [
        ([100] * (cookies.MAX_COOKIES + 20), cookies.MAX_COOKIES),  # a browser's count
        ([cookies.MAX_COOKIE_BYTES], 1),
        ([cookies.MAX_COOKIE_BYTES + 1], 0),  # one too large is dropped
        ([4000] * 20, cookies.MAX_JAR_BYTES // 4000),  # the jar's total
        ([4000] * 16 + [1600, 10], 17),  # the one past the total goes, not a smaller one after
    ],
    ids=["count", "largest", "too-large", "total", "past-the-total"],
)
def test_a_jar_drops_what_passes_a_browsers_limits(sizes, kept):
    """`sizes`: the length of each cookie's name and value together, set in this order."""
    jar = Jar()
    for n, size in enumerate(sizes):
        name = f"c{n:03}"
        jar.set(name, "x" * (size - len(name)))
    assert len(jar.names()) == kept
    assert sum(len(c["name"]) + len(c["value"]) for c in jar.list()) <= cookies.MAX_JAR_BYTES


def test_decoded_sessions_shown_together_have_a_cap():
    jar = cookies.Jar()
    payload = {"n": "x" * 40_000}  # compresses to almost nothing, shows as 40 KB
    value = compressed(json.dumps(payload).encode())
    for i in range(10):
        jar.set(f"s{i}", value)
    listed = jar.list()
    shown = [c for c in listed if c["flask_session"]]
    assert 0 < len(shown) <= cookies.MAX_SESSIONS_SHOWN_BYTES // 40_000
    assert len(json.dumps(listed)) < cookies.MAX_SESSIONS_SHOWN_BYTES + 64 * 1024


# -- jars per app and person ---------------------------------------------------------------------


class App:
    """Something a jar goes with (a sandbox, in the host): any object that can be weakly held."""


def test_each_person_has_a_jar_of_their_own_for_each_app():
    jars, first, second = Jars(per_app=4), App(), App()
    alice = jars.of(first, "alice")
    assert jars.of(first, "alice") is alice
    assert jars.of(first, "bob") is not alice
    assert jars.of(second, "alice") is not alice


def test_an_appkeeps_the_jars_of_the_people_who_used_it_last():
    jars, app = Jars(per_app=2), App()
    alice, bob = jars.of(app, "alice"), jars.of(app, "bob")
    assert jars.of(app, "alice") is alice  # alice is now the latest
    jars.of(app, "carol")  # one too many: bob's goes
    assert jars.of(app, "alice") is alice
    assert jars.of(app, "bob") is not bob


def test_jars_go_with_their_app():
    jars, app = Jars(per_app=2), App()
    jar = weakref.ref(jars.of(app, "alice"))
    del app
    gc.collect()
    assert jar() is None
