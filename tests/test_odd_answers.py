"""Odd but harmless things a child may answer, or a visitor may send, that once made the host
answer 500 (or worse): each now gets the exchange, or a clear 4xx, and the host keeps going."""

import datetime
import io
import json
import sys
import time
import uuid
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from playground import cookies
from playground.errors import PlaygroundError, from_sandbox
from playground.room import Room
from playground.sandbox.errors import NoSuchSandbox
from playground.services import services_of
from tests.servers import sandbox_processes
from tests.test_cookies import NOT_SESSIONS

SHA256_WITH_RSA = bytes.fromhex("06092a864886f70d01010b")  # the DER of OID 1.2.840.113549.1.1.11


def route(body: str, imports: str = "") -> str:
    return (
        f"from flask import Flask, make_response, redirect\n{imports}app = Flask(__name__)\n\n"
        "@app.route('/')\ndef view():\n" + "".join(f"    {line}\n" for line in body.splitlines())
    )


def test_cookies_no_session_decoder_can_read_are_plain_cookies(visitor, client):
    """Values shaped like a Flask session, with a timestamp gmtime refuses or a payload Flask's
    tags misread (test_cookies.py decodes them, and a zlib bomb), set by a child: shown as they
    are, never decoded, never a 500."""
    odd = dict(zip("abc", NOT_SESSIONS.values(), strict=True))
    code = route(
        "response = make_response('set')\n"
        + "".join(f"response.set_cookie({name!r}, {value!r})\n" for name, value in odd.items())
        + "return response"
    )
    sandbox = visitor.start(code)
    reply = visitor.exchange(sandbox)
    assert sorted(c["name"] for c in reply["cookies"]) == ["a", "b", "c"]
    assert all(c["flask_session"] is None for c in reply["cookies"])
    assert visitor.exchange(sandbox)["status"] == 200  # and the next one too
    jar = client.get(f"/api/sandboxes/{sandbox['id']}/cookies")
    assert jar.status_code == 200 and len(jar.json["cookies"]) == 3


def test_more_headers_than_http_client_reads_is_a_clear_502(visitor):
    sandbox = visitor.start(route("return 'many', 200, [(f'X-{i}', 'x') for i in range(150)]"))
    answer = visitor.send(sandbox)
    assert answer.status_code == 502 and answer.json["error"]["code"] == "child_bad_response"
    assert "more than 100 headers" in answer.json["error"]["message"]


def test_the_jar_keeps_to_a_browsers_limits(visitor):
    code = route(
        "import random\nresponse = make_response('many')\n"
        "for i in range(90):  # http.client reads 100 headers at most\n"
        "    response.set_cookie(f'c{random.random()}', 'x' * 100)\n"
        "response.set_cookie('huge', 'x' * 5000)\n"
        "return response"
    )
    sandbox = visitor.start(code)
    for _ in range(3):
        reply = visitor.exchange(sandbox)
    names = [c["name"] for c in reply["cookies"]]
    assert len(names) == cookies.MAX_COOKIES and "huge" not in names


@pytest.mark.parametrize("charset", ["undefined", "idna", "hex", "no-such-codec"])
def test_a_charset_that_decodes_no_text_gives_the_body_as_base64(visitor, charset):
    sandbox = visitor.start(
        route(
            f"return '\\u00e9t\\u00e9' * 3, 200, {{'Content-Type': 'text/plain; charset={charset}'}}"
        )
    )
    reply = visitor.exchange(sandbox)
    assert reply["status"] == 200
    assert reply["body"] == "" and reply["body_base64"]


def certificate_with_an_unknown_signature_algorithm() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(datetime.datetime(2036, 1, 1))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    assert der.count(SHA256_WITH_RSA) == 2  # the tbsCertificate's and the outer one
    odd = der.replace(SHA256_WITH_RSA, SHA256_WITH_RSA[:-1] + b"\x7f")  # 1.2.840.113549.1.1.127
    return x509.load_der_x509_certificate(odd).public_bytes(serialization.Encoding.PEM)


def test_a_certificate_with_an_algorithm_we_do_not_know_is_still_described(client):
    pem = certificate_with_an_unknown_signature_algorithm().decode()
    app_py = "import ssl\nraise ssl.SSLError(1, '[SSL] the talk used a certificate like this')\n"
    for _ in range(2):  # the first answer used to be a 500, with the sandbox's place kept
        created = client.post("/api/sandboxes", json={"files": {"app.py": app_py, "cert.pem": pem}})
        assert created.status_code == 201, created.json
        error = created.json["error"]
        assert created.json["state"] == "failed" and error["type"] == "SSLError"
        [described] = error["certificates"]
        assert described["subject"] == "CN=odd" and described["signature_hash"] is None
        assert described["key_type"] == "RSA" and described["key_size"] == 2048
        assert client.delete(f"/api/sandboxes/{created.json['id']}").status_code == 200


def test_a_start_that_comes_after_its_stop_is_refused(visitor, client, app):
    """A PUT queued behind other visitors' starts, then a DELETE: the PUT must not revive it."""
    manager = services_of(app).sandboxes
    sandbox = visitor.start(route("return 'hi'"))
    held = next(s for s in manager.all() if s.id == sandbox["id"])
    assert client.delete(f"/api/sandboxes/{sandbox['id']}").status_code == 200
    with pytest.raises(NoSuchSandbox) as refused:
        held.start({"app.py": route("return 'revived'")})
    assert from_sandbox(refused.value).status == 404
    assert held.state == "stopped" and not held.hostdir.exists()
    assert sandbox_processes(range(held.uid, held.uid + 1)) == []


def test_a_path_too_long_for_the_disk_is_refused_before_anything_stops(visitor, client):
    sandbox = visitor.start(route("return 'still here'"))
    deep = "/".join(["d" * 250] * 17) + "/f.py"
    answer = client.put(
        f"/api/sandboxes/{sandbox['id']}",
        json={"files": {"app.py": route("return 'x'"), deep: "x = 1\n"}},
    )
    assert answer.status_code == 400 and "longer than 1024 bytes" in answer.json["error"]["message"]
    assert visitor.exchange(sandbox)["body"] == "still here"


@pytest.mark.parametrize(
    "path", ["/api/shares", "/api/highlight", "/api/download", "/api/sandboxes"]
)
def test_json_nested_deeper_than_pythons_stack_is_bad_json(client, path):
    answer = client.post(path, data="[" * 50_000, content_type="application/json")
    assert answer.status_code == 400 and answer.json["error"]["code"] in ("bad_json", "bad_request")


def test_tampering_with_odd_payloads_or_cookies_is_a_clear_400(visitor, client, talk_session):
    sandbox = visitor.start(talk_session)
    visitor.exchange(sandbox, "GET", "/")
    base = f"/api/sandboxes/{sandbox['id']}/cookies"
    deep = {}  # deep enough for Flask's tagger (frames per level), not for json (one per level)
    for _ in range(int(sys.getrecursionlimit() * 0.6)):
        deep = {"a": deep}
    answer = client.post(f"{base}/session/tamper", json={"payload": deep})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_payload"
    bare = visitor.start(
        route(
            "response = make_response('bare')\n"
            "response.headers['Set-Cookie'] = 'bare'\nreturn response"
        )
    )
    assert [c["value"] for c in visitor.exchange(bare)["cookies"]] == [None]
    answer = client.post(
        f"/api/sandboxes/{bare['id']}/cookies/bare/tamper", json={"payload": {"a": 1}}
    )
    assert answer.status_code == 400 and answer.json["error"]["code"] == "not_a_session"


@pytest.fixture
def talk_session():
    return route(
        "session['n'] = session.get('n', 0) + 1\nreturn str(session['n'])",
        "from flask import session\n",
    ).replace("app = Flask(__name__)\n", "app = Flask(__name__)\napp.secret_key = 'k'\n")


def test_a_share_with_an_odd_slug_just_has_none(client):
    files = {"app.py": f"# {uuid.uuid4()}: a share of its own\n"}
    answer = client.post("/api/shares", json={"files": files, "slug": []})
    assert answer.status_code == 201
    assert client.get(f"/api/shares/{answer.json['key']}").json["slug"] is None


def test_a_download_with_a_huge_name_gets_a_short_folder(client):
    answer = client.post(
        "/api/download", json={"files": {"app.py": "x = 1\n"}, "name": "a" * 70_000}
    )
    assert answer.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(answer.data)).namelist()
    assert names and all(name.startswith("a" * 100 + "/") for name in names)


def test_following_redirects_keeps_to_one_request_timeout(visitor, app):
    """A route that is slow and redirects to itself: ten hops must not make ten timeouts."""
    sandbox = visitor.start(route("time.sleep(0.4)\nreturn redirect('/')", "import time\n"))
    started = time.monotonic()
    answer = visitor.send(sandbox, "GET", "/", follow_redirects=True)
    took = time.monotonic() - started
    assert took < app.config["REQUEST_TIMEOUT"] + 1.5, took
    assert answer.status_code == 504 or len(answer.json["redirects"]) < 10


@pytest.mark.parametrize(
    "message",
    [
        {"type": []},
        {"type": {"edit": 1}},
        {"type": "view", "path": "app.py", "cursor": [0, 0], "scroll": {"top": float("inf")}},
        {"type": "view", "path": "app.py", "cursor": [0, 0], "scroll": {"top": 10**400}},
    ],
)
def test_a_presenters_odd_message_is_refused_and_followers_stay_readable(app, message):
    room = Room({**app.config, "PRESENTER_TOKEN": "token"})
    with app.app_context():
        room.claim("presenter", "token")
        room.receive("presenter", {"type": "open", "files": {"app.py": "x = 1\n"}})
        with pytest.raises(PlaygroundError) as refused:
            room.receive("presenter", message)
    assert refused.value.status == 400
    json.loads(json.dumps(room.snapshot()), parse_constant=pytest.fail)  # no Infinity, no NaN
