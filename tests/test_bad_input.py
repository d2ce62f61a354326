"""Bad input from the panel and the API: every one is a 4xx with a clear message, the host stays up.

Property-based (hypothesis) for the request a visitor sends through the proxy and for a snippet's
files; a table for the classic cases.
"""

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground import create_app
from playground.errors import PlaygroundError
from playground.files import checked as checked_files
from playground.services import services_of
from tests.conftest import Visitor

ECHO = """from flask import Flask, request
app = Flask(__name__)

@app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
@app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def echo(path):
    return {"method": request.method, "path": path, "body": request.get_data(as_text=True)}

@app.route("/binary")
def binary():
    return bytes(range(256)), 200, {"Content-Type": "application/octet-stream"}
"""

QUICK = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def app():
    app = create_app(
        {
            "TESTING": True,
            "REQUEST_TIMEOUT": 3.0,
            "RATE_RUN_BURST": 1000,
            "RATE_REQUEST_BURST": 100_000,
            "RATE_REQUESTS_PER_SECOND": 100_000,
        }
    )
    yield app
    services_of(app).sandboxes.shutdown()


@pytest.fixture(scope="module")
def echo(app):
    visitor = Visitor(app.test_client())
    sandbox = visitor.start(ECHO)
    assert sandbox["state"] == "running", sandbox["error"]
    return visitor, sandbox


@pytest.fixture(autouse=True)
def no_leaked_children():
    """The echo app lives for the module; its app fixture's shutdown stops it."""
    yield


def assert_clear(response) -> None:
    """Served, or refused with a 4xx that says why; never the host's own failure."""
    assert response.status_code < 500 or response.status_code in (502, 504), response.data[:300]
    if response.status_code >= 400:
        error = response.json["error"]
        assert error["code"] and len(error["message"]) > 10, error


def assert_host_up(echo) -> None:
    visitor, sandbox = echo
    reply = visitor.exchange(sandbox, "GET", "/still/here")
    assert json.loads(reply["body"])["path"] == "still/here"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
header_names = st.text(max_size=30) | st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z")
header_values = st.text(max_size=100) | st.from_regex(r"\A[ -~]{0,60}\Z")
methods = st.text(max_size=20) | st.sampled_from(["GET", "POST", "PATCH", "BREW", "get", ""])
paths = st.text(max_size=200) | st.from_regex(r"\A/[ -~]{0,200}\Z") | st.just("*")


@QUICK
@given(
    method=methods,
    path=paths,
    body=st.none() | st.text(max_size=500),
    headers=st.dictionaries(header_names, header_values, max_size=8),
)
def test_any_request_through_the_proxy(echo, method, path, body, headers):
    visitor, sandbox = echo
    response = visitor.send(sandbox, method, path, headers=headers, body=body)
    assert_clear(response)
    if response.status_code == 200:
        assert isinstance(response.json["status"], int)


@QUICK
@given(data=json_values)
def test_any_json_as_a_request(echo, data):
    visitor, sandbox = echo
    response = visitor.client.post(
        f"/api/sandboxes/{sandbox['id']}/requests",
        data=json.dumps(data),
        content_type="application/json",
    )
    assert_clear(response)


@QUICK
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_a_body(echo, raw):
    visitor, sandbox = echo
    for url in ("/api/sandboxes", f"/api/sandboxes/{sandbox['id']}/requests"):
        response = visitor.client.post(url, data=raw, content_type="application/json")
        assert_clear(response)
        assert response.status_code != 201


files_strategy = st.dictionaries(
    st.text(max_size=40) | st.from_regex(r"\A[a-z./]{1,30}\Z") | st.just("app.py"),
    st.text(max_size=200),
    max_size=6,
)


@QUICK
@given(files=files_strategy)
def test_files_are_refused_clearly_or_can_be_written(app, files):
    """Whatever checked_files accepts, the sandbox can write to its directory."""
    with app.test_request_context():
        try:
            accepted = checked_files({"files": files})
        except PlaygroundError as error:
            assert 400 <= error.status < 500 and len(error.message) > 10
            return
    with tempfile.TemporaryDirectory() as folder:
        for name, text in accepted.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=files_strategy)
def test_files_through_the_api(echo, files):
    visitor, _ = echo
    files = {name: text for name, text in files.items() if name != "app.py"}  # no app to find
    response = visitor.client.post("/api/sandboxes", json={"files": files})
    if response.status_code == 201:  # files a sandbox can hold, in which no app is found
        assert response.json["state"] == "failed" and response.json["error"]["message"]
        visitor.client.delete(f"/api/sandboxes/{response.json['id']}")
        return
    assert 400 <= response.status_code < 500
    assert_clear(response)


HELLO = "from flask import Flask\napp = Flask(__name__)\n"


@pytest.mark.parametrize(
    "files, status, code",
    [
        ({"app.py": HELLO, **{f"f{i}": "" for i in range(5000)}}, 413, "too_many_files"),
        ({"app.py": "x" * (1024 * 1024)}, 413, "file_too_large"),
        ({"app.py": HELLO, "a\udcff.py": ""}, 400, "bad_path"),
        ({"app.py": "\ud800"}, 400, "not_utf8"),
        ({"app.py": HELLO, "x" * 300 + ".py": ""}, 400, "bad_path"),
        ({"app.py": HELLO, "a\nb.py": ""}, 400, "bad_path"),
        ({"app.py": HELLO, "lib": "", "lib/x.py": ""}, 400, "bad_path"),
        ({"app.py": HELLO, "app.py/x": ""}, 400, "bad_path"),
        ({"app.py": HELLO, ".": ""}, 400, "bad_path"),
    ],
)
def test_bad_files(echo, files, status, code):
    visitor, _ = echo
    response = visitor.client.post(
        "/api/sandboxes", data=json.dumps({"files": files}), content_type="application/json"
    )
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert_host_up(echo)


@pytest.mark.parametrize(
    "request_fields, status, code",
    [
        ({"method": "GET /evil HTTP/1.1\r\nX:"}, 400, "bad_method"),
        ({"method": "G E T"}, 400, "bad_method"),
        ({"method": None}, 400, "bad_method"),
        ({"path": "/a\r\nX-Injected: 1"}, 400, "bad_path"),
        ({"path": "no-slash"}, 400, "bad_path"),
        ({"path": "/" + "a" * 100_000}, 414, "path_too_long"),
        ({"path": "/caf\u00e9"}, 400, "bad_path"),
        ({"headers": {"X-A": "1\r\nX-Injected: 1"}}, 400, "bad_header"),
        ({"headers": {"Bad Name": "1"}}, 400, "bad_header"),
        ({"headers": {"X-Emoji": "\U0001f600"}}, 400, "bad_header"),
        ({"headers": {f"X-{i}": "1" for i in range(1000)}}, 400, "too_many_headers"),
        ({"headers": ["X-A", "1"]}, 400, "bad_headers"),
        ({"headers": {"X-A": 1}}, 400, "bad_headers"),
        ({"body": 42}, 400, "bad_body"),
        ({"body": "\udcff"}, 400, "bad_body"),
        ({"body": "x" * (2 * 1024 * 1024)}, 413, "body_too_large"),
    ],
)
def test_bad_requests(echo, request_fields, status, code):
    visitor, sandbox = echo
    payload = {"method": "GET", "path": "/", **request_fields}
    response = visitor.client.post(
        f"/api/sandboxes/{sandbox['id']}/requests",
        data=json.dumps(payload),
        content_type="application/json",
    )
    assert (response.status_code, response.json["error"]["code"]) == (status, code), response.json
    assert_host_up(echo)


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe\x00{", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"files=x", "application/x-www-form-urlencoded", 415),
        (b"{" * 100_000, "application/json", 400),
        (b'{"files": "' + b"x" * (9 * 1024 * 1024) + b'"}', "application/json", 413),
    ],
)
def test_malformed_and_huge_bodies(echo, data, content_type, status):
    visitor, _ = echo
    response = visitor.client.post("/api/sandboxes", data=data, content_type=content_type)
    assert response.status_code == status
    assert_clear(response)
    assert_host_up(echo)


def test_binary_responses_come_back_as_base64(echo):
    visitor, sandbox = echo
    reply = visitor.exchange(sandbox, "GET", "/binary")
    assert reply["body"] == "" and reply["body_base64"]
