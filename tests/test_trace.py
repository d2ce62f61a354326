"""What happens inside Flask on every request: the route map in match order, which rule answered
(or why none did), the lifecycle trace, the heads on the wire, the session and TLS panels."""

import re
import socket
import subprocess
import threading

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.serving import make_server

from tests.test_sandbox import certificate  # noqa: F401 - a fixture


@pytest.fixture
def talk(visitor, client):
    """Start the catalog's snippet `slug` as a visitor would; returns the sandbox."""

    def start(slug: str) -> dict:
        files = client.get(f"/api/snippets/{slug}").json["files"]
        sandbox = visitor.start(files.pop("app.py"), files=files)
        assert sandbox["state"] == "running", sandbox["error"]
        return sandbox

    return start


def steps(exchange: dict) -> list:
    return [step["step"] for step in exchange["trace"]["steps"]]


def step(exchange: dict, name: str) -> dict:
    return next(s for s in exchange["trace"]["steps"] if s["step"] == name)


# -- the route map -------------------------------------------------------------------------------

PRECEDENCE_PATHS = [
    "/route_name",
    "/42",
    "/-42",
    "/hello",
    "/a/b/c",
    "/route_name/edit",
    "/page/edit",
    "/4.2",
    "/static/app.css",
]


def alone_matches(rule: str, path: str) -> bool:
    """Whether `rule`, alone in a map, matches `path` (a trailing-slash redirect is no match)."""
    try:
        Map([Rule(rule, endpoint="x")]).bind("localhost").match(path)
    except (HTTPException, RequestRedirect):
        return False
    return True


def test_routes_are_listed_in_the_order_werkzeug_tries_them(visitor, talk):
    sandbox = talk("precedence")
    rules = [r["rule"] for r in sandbox["routes"]]
    # Static segments first, then int, then string, then path; the declaration order (the
    # reverse of this) never mattered.
    assert rules == [
        "/static/<path:filename>",
        "/route_name/<action>",
        "/route_name",
        "/<int:arg_name>",
        "/<arg_name>/edit",
        "/<arg_name>",
        "/<path:anything>",
    ]
    for path in PRECEDENCE_PATHS:
        answered = visitor.exchange(sandbox, "GET", path)["route"]
        first = next(i for i, rule in enumerate(rules) if alone_matches(rule, path))
        assert answered["outcome"] == "matched", path
        assert answered["rule"]["index"] == first, (path, answered, rules[first])
        assert answered["rule"]["rule"] == rules[first]


def test_each_route_says_its_converters_methods_and_view(talk):
    routes = {r["endpoint"]: r for r in talk("routes")["routes"]}
    assert routes["add_ints"]["converters"] == {"int_left": "int", "int_right": "int"}
    assert routes["echo"]["converters"] == {"text_to_echo": "string"}
    assert routes["get_or_post"]["methods"] == ["GET", "HEAD", "OPTIONS", "POST", "PUT"]
    assert routes["optional_extra_slash"]["strict_slashes"] is True
    assert routes["echo"]["view"] == {"name": "echo", "file": "app.py", "line": 26}


def test_a_match_names_the_rule_and_its_view_arguments(visitor, talk):
    route = visitor.exchange(talk("routes"), "GET", "/10/10")["route"]
    assert route["rule"]["rule"] == "/<int:int_left>/<int:int_right>"
    assert route["rule"]["endpoint"] == "add_ints"
    assert route["view_args"] == {"int_left": 10, "int_right": 10}


def test_the_talks_int_example_reports_the_308_and_the_rule_behind_it(visitor, talk):
    sandbox = talk("routes")
    exchange = visitor.exchange(sandbox, "GET", "/5")
    route = exchange["route"]
    assert exchange["status"] == 308
    assert route["outcome"] == "redirect" and route["status"] == 308
    assert route["location"].endswith("/5/")
    assert route["rule"]["rule"] == "/<text_to_echo>/" and route["rule"]["endpoint"] == "echo"
    assert sandbox["routes"][route["rule"]["index"]]["endpoint"] == "echo"
    assert "view" not in steps(exchange)  # Flask answered without calling any view


def test_405_names_the_rule_and_the_methods_it_allows(visitor, talk):
    route = visitor.exchange(talk("routes"), "DELETE", "/")["route"]
    assert route["outcome"] == "method_not_allowed" and route["status"] == 405
    assert route["allowed"] == ["GET", "HEAD", "OPTIONS", "POST", "PUT"]
    assert route["rule"]["endpoint"] == "get_or_post"


def test_404_says_no_rule_matched_and_which_one_nearly_did(visitor, talk):
    sandbox = talk("routes")
    route = visitor.exchange(sandbox, "GET", "/hello/no_slash/")["route"]
    assert route["outcome"] == "not_found" and route["rule"] is None
    assert route["near"]["rule"] == "/hello/no_slash"
    route = visitor.exchange(sandbox, "GET", "/test/five/")["route"]
    assert route["outcome"] == "not_found" and route["near"] is None


# -- the lifecycle trace ---------------------------------------------------------------------------


def test_division_by_zero_is_reported_at_the_view_step(visitor, talk):
    exchange = visitor.exchange(talk("division"), "GET", "/div/1/0")
    assert steps(exchange) == [
        "received",
        "match",
        "request_started",
        "view",
        "exception",
        "response",
        "teardown",
    ]
    assert step(exchange, "view")["error"]["type"] == "ZeroDivisionError"
    error = step(exchange, "exception")["error"]
    assert (error["type"], error["file"], error["line"]) == ("ZeroDivisionError", "app.py", 7)
    assert step(exchange, "response")["status"] == 500


def test_the_templates_snippet_lists_the_template_and_its_context_names(visitor, talk):
    exchange = visitor.exchange(talk("templates"), "GET", "/for/")
    template = step(exchange, "template")
    assert template["name"] == "for_example.html"
    assert template["context"] == ["word_list"]
    assert template["injected"] == ["g", "request"]
    view = step(exchange, "view")
    assert (
        view["at_ms"]
        <= template["at_ms"]
        <= template["at_ms"] + template["ms"]
        <= view["at_ms"] + view["ms"]
    )


HOOKS = """from flask import Flask, g, request
app = Flask(__name__)

@app.before_request
def who():
    g.user = "ada"

@app.after_request
def tag(response):
    return response

@app.teardown_request
def tidy(error):
    pass

@app.route("/form", methods=["POST"])
def form():
    g.fields = len(request.form)
    return "ok"

@app.route("/unread", methods=["POST"])
def unread():
    return "not read"
"""


def test_hooks_are_steps_in_the_order_flask_runs_them(visitor):
    sandbox = visitor.start(HOOKS)
    exchange = visitor.exchange(
        sandbox,
        "POST",
        "/form?page=2",
        body="a=1&b=2",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "theme=dark"},
    )
    assert steps(exchange) == [
        "received",
        "match",
        "request_started",
        "before_request",
        "view",
        "after_request",
        "response",
        "teardown_request",
        "teardown",
    ]
    assert [
        step(exchange, s)["name"] for s in ("before_request", "after_request", "teardown_request")
    ] == ["who", "tag", "tidy"]
    times = [s["at_ms"] for s in exchange["trace"]["steps"]]
    assert times == sorted(times) and exchange["trace"]["total_ms"] >= times[-1]
    seen = exchange["trace"]["request"]
    assert seen["args"] == [["page", "2"]] and seen["form"] == [["a", "1"], ["b", "2"]]
    assert seen["cookies"] == [["theme", "dark"]] and seen["body_read"] is True
    assert ["Content-Type", "application/x-www-form-urlencoded"] in seen["headers"]
    assert exchange["trace"]["g"] == {"user": "'ada'", "fields": "2"}


def test_a_body_the_app_never_read_stays_unread(visitor):
    sandbox = visitor.start(HOOKS)
    exchange = visitor.exchange(
        sandbox,
        "POST",
        "/unread",
        body="a=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    seen = exchange["trace"]["request"]
    assert exchange["body"] == "not read"
    assert seen["form"] is None and seen["body_read"] is False


FRAGILE = """from flask import Flask, Request, g, request
app = Flask(__name__)

class Fussy(Request):
    @property
    def form(self):  # the app never reads it; the trace's own reading of it will fail
        raise LookupError("no form for you")

app.request_class = Fussy

class Odd:
    def __repr__(self):
        raise RuntimeError("no repr for you")

@app.route("/", methods=["POST"])
def home():
    g.odd = Odd()
    request.get_data()
    return "fine"
"""


def test_what_the_trace_cannot_describe_leaves_the_answer_alone(visitor):
    sandbox = visitor.start(FRAGILE)
    exchange = visitor.exchange(
        sandbox,
        "POST",
        "/",
        body="a=" + "x" * 100,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert exchange["status"] == 200 and exchange["body"] == "fine"
    assert exchange["trace"]["g"] == {"odd": "<repr() raised RuntimeError>"}
    assert step(exchange, "trace_error")["error"]["type"] == "LookupError"


# -- the wire ------------------------------------------------------------------------------------


def test_raw_heads_are_the_bytes_on_the_wire_and_curl_repeats_them(visitor, talk, client):
    sandbox = talk("routes")
    exchange = visitor.exchange(
        sandbox,
        "POST",
        "/",
        body="{}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    raw, port = exchange["raw"], sandbox["port"]
    assert raw["request"] == (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 2\r\n\r\n"
    )
    assert raw["response"].startswith("HTTP/1.1 200 OK\r\n")
    assert raw["response"].endswith("Content-Length: 4\r\nConnection: close\r\n\r\n")
    # The page highlights the heads when it shows them (POST /api/highlight), not every exchange.
    assert (
        '<span class="nf">POST</span>'
        in client.post("/api/highlight", json={"code": raw["request"], "language": "http"}).json[
            "html"
        ]
    )
    curl = subprocess.run(raw["curl"], shell=True, capture_output=True, timeout=10)
    assert curl.returncode == 0, curl.stderr
    assert curl.stdout.endswith(b"\r\n\r\nPOST")
    assert re.sub(rb"Date: [^\r]*", b"", curl.stdout.split(b"\r\n\r\n")[0] + b"\r\n\r\n") == re.sub(
        rb"Date: [^\r]*", b"", raw["response"].encode("latin-1")
    )


ECHO = """from flask import Flask, g, render_template_string, request, session
app = Flask("the_flask_module")
app.config["SECRET_KEY"] = "not a secret"

@app.before_request
def before():
    g.path = request.path

@app.after_request
def after(response):
    response.headers["X-Path"] = g.path
    return response

@app.route("/echo", methods=["POST"])
def echo():
    return render_template_string(
        "{% for k, v in headers %}{{ k }}: {{ v }}\\n{% endfor %}{{ body }}|{{ visits }}",
        headers=request.headers.items(), body=request.get_data(as_text=True),
        visits=session.get("visits"))

@app.route("/quiet")
def quiet():
    return "no session here"
"""


def send_raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return re.sub(rb"Date: [^\r]*\r\n", b"", b"".join(chunks))


def test_tracing_adds_nothing_to_what_the_child_received_or_sent(visitor):
    """The same bytes to the traced child and to the same app under a plain Werkzeug server."""
    namespace = {}
    exec(compile(ECHO, "echo_app.py", "exec"), namespace)
    plain_app = namespace["app"]
    cookie = SecureCookieSessionInterface().get_signing_serializer(plain_app).dumps({"visits": 3})
    body = b"a=1&b=2"
    requests = [
        b"POST /echo?x=1 HTTP/1.1\r\nHost: example\r\nCookie: session="
        + cookie.encode()
        + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body,
        # A session cookie the view never looks at: the trace checks its signature all the
        # same, and must not mark the session accessed (that would add "Vary: Cookie").
        b"GET /quiet HTTP/1.1\r\nHost: example\r\nCookie: session="
        + cookie.encode()
        + b"\r\nConnection: close\r\n\r\n",
    ]
    sandbox = visitor.start(ECHO)
    server = make_server("127.0.0.1", 0, plain_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        answers = [
            (send_raw(sandbox["port"], data), send_raw(server.server_port, data))
            for data in requests
        ]
    finally:
        server.shutdown()
        thread.join(5)
    for traced, plain in answers:
        assert traced == plain
    echoed, quiet = (traced for traced, _ in answers)
    assert b"\nHost: example\nCookie: session=" in echoed and echoed.endswith(b"a=1&amp;b=2|3")
    assert b"Vary" not in quiet and quiet.endswith(b"no session here")
    events = visitor.client.get(f"/api/sandboxes/{sandbox['id']}/events").json["events"]
    served = [e for e in events if e["type"] == "request"]
    assert [e["trace"]["session"]["valid"] for e in served] == [True, True]


# -- sessions ----------------------------------------------------------------------------------


def test_the_session_inspector_decodes_the_counter_and_tamper_is_refused(visitor, talk):
    sandbox = talk("sessions")
    visitor.exchange(sandbox)
    exchange = visitor.exchange(sandbox)
    assert exchange["body"] == "2" and exchange["trace"]["session"]["valid"] is True
    cookie = next(c for c in exchange["cookies"] if c["name"] == "session")
    assert cookie["flask_session"]["payload"] == {"number_of_calls": 2}

    tampered = visitor.client.post(
        f"/api/sandboxes/{sandbox['id']}/cookies/session/tamper",
        json={"payload": {"number_of_calls": 100}},
    )
    assert tampered.status_code == 200, tampered.json
    forged = next(c for c in tampered.json["cookies"] if c["name"] == "session")
    assert forged["flask_session"]["payload"] == {"number_of_calls": 100}
    assert forged["flask_session"]["signature"] == cookie["flask_session"]["signature"]

    exchange = visitor.exchange(sandbox)
    session = exchange["trace"]["session"]
    assert session["valid"] is False and "does not match" in session["reason"]
    assert exchange["body"] == "1"  # a new session, counting from the start
    fresh = next(c for c in exchange["cookies"] if c["name"] == "session")
    assert fresh["flask_session"]["payload"] == {"number_of_calls": 1}


def test_tamper_needs_a_flask_session(visitor, talk):
    sandbox = talk("sessions")
    url = f"/api/sandboxes/{sandbox['id']}/cookies/session/tamper"
    assert visitor.client.post(url, json={"payload": {}}).status_code == 404
    visitor.client.put(
        f"/api/sandboxes/{sandbox['id']}/cookies", json={"name": "session", "value": "plain"}
    )
    assert visitor.client.post(url, json={"payload": {}}).json["error"]["code"] == "not_a_session"


# -- TLS ---------------------------------------------------------------------------------------


def test_the_tls_panel_describes_the_ssl_snippets_certificate(visitor, talk):
    exchange = visitor.exchange(talk("ssl"))
    tls = exchange["tls"]
    assert tls["protocol"] in ("TLSv1.2", "TLSv1.3") and tls["cipher"]["bits"] >= 128
    cert = tls["certificate"]
    assert "CN=localhost" in cert["subject"] and cert["self_signed"] is True
    assert cert["key_type"] == "RSA" and cert["key_size"] == 2048
    assert cert["signature_hash"] == "sha256" and cert["valid_now"] is True
    assert cert["not_before"] < cert["not_after"]
    assert visitor.exchange(talk("hello"))["tls"] is None


def test_the_talks_1024_bit_certificate_is_refused_and_explained(visitor, client, certificate):
    files = client.get("/api/snippets/ssl").json["files"]
    files.update(certificate[1024])
    sandbox = visitor.start(files.pop("app.py"), files=files)
    error = sandbox["error"]
    assert error["type"] == "SSLError"
    assert "2048 bits" in error["explanation"] and "1024-bit" in error["explanation"]
    assert [(c["file"], c["key_size"]) for c in error["certificates"]] == [("ssl.cert", 1024)]
    again = visitor.client.get(f"/api/sandboxes/{sandbox['id']}").json
    assert again["error"]["explanation"] == error["explanation"]


def test_the_match_order_follows_werkzeug_on_an_app_of_our_own():
    """The child's walk of Werkzeug's matcher, checked without a sandbox on tricky rules."""
    from playground.sandbox.child.flask_trace import match_order

    app = Flask(__name__)
    for rule in [
        "/<path:p>",
        "/<a>/<int:b>",
        "/<int:a>/<b>",
        "/x/",
        "/x",
        "/<float:f>",
        "/<a>/y",
        "/x/<b>",
    ]:
        app.add_url_rule(rule, rule, lambda **kw: "")
    order = [r.rule for r in match_order(app.url_map)]
    adapter = app.url_map.bind("localhost")
    for path in ["/x", "/x/", "/x/y", "/1/y", "/1/2", "/a/2", "/1.5", "/a/b/c", "/q", "/x/2"]:
        try:
            rule, _ = adapter.match(path, return_rule=True)
        except RequestRedirect:
            continue
        first = next(r for r in order if alone_matches(r, path))
        assert rule.rule == first, (path, order)
