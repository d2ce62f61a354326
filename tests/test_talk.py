"""The talk's examples, as the talk wrote them (the catalog keeps them verbatim), run in real
sandboxes and answer through the proxy. test_snippets.py checks each snippet's suggested
requests; this file looks closer at what the engine must get right for them."""

import pytest

from playground.services import services_of


@pytest.fixture
def talk(visitor, client):
    """Start the catalog's snippet `slug` as a visitor would; returns the sandbox."""

    def start(slug: str) -> dict:
        files = client.get(f"/api/snippets/{slug}").json["files"]
        return visitor.start(files.pop("app.py"), files=files)

    return start


def test_hello_world(visitor, talk):
    sandbox = talk("hello")
    assert sandbox["state"] == "running", sandbox["error"]
    assert sandbox["scheme"] == "http" and isinstance(sandbox["port"], int)
    assert [r["rule"] for r in sandbox["routes"]] == ["/static/<path:filename>", "/"]
    reply = visitor.exchange(sandbox, "GET", "/")
    assert (reply["status"], reply["reason"], reply["body"]) == (200, "OK", "I'm a home page")
    assert ["Content-Type", "text/html; charset=utf-8"] in reply["headers"]


def test_isolation_is_reported(talk, app):
    sandbox = talk("hello")
    expected = services_of(app).sandboxes.isolation.name
    assert sandbox["isolation"] == expected
    assert (sandbox["warning"] is None) == (expected == "bubblewrap")


def test_ssl_snippet_serves_https(visitor, talk):
    sandbox = talk("ssl")
    assert sandbox["state"] == "running", sandbox["error"]
    assert sandbox["scheme"] == "https"
    assert visitor.exchange(sandbox)["body"] == "I'm a home page"


@pytest.mark.parametrize(
    "path, status, body",
    [
        ("/hello", 200, "I'm a hello page"),
        ("/hello/one_step_deeper", 200, "I'm a hello page"),
        ("/hello/optional_slash/", 200, "I can have a slash"),
        ("/hello/no_slash", 200, "No slash for you."),
        ("/hello/no_slash/", 404, "Not Found"),
        ("/anything/", 200, "echo anything"),
        ("/test/5/", 200, "echo 5"),
        ("/10/10", 200, "20"),
        (
            "/I%20can%20type%20whatever%20I%20really%20want%20in%20here%20''%25%25&^(*!/",
            200,
            "echo I can type whatever I really want in here ''%%&^(*!",
        ),  # a str is not escaped
    ],
)
def test_routes(visitor, talk, path, status, body):
    reply = visitor.exchange(talk("routes"), "GET", path)
    assert reply["status"] == status
    assert body in reply["body"]


def test_optional_slash_redirects_and_can_be_followed(visitor, talk):
    sandbox = talk("routes")
    reply = visitor.exchange(sandbox, "GET", "/hello/optional_slash")
    assert reply["status"] == 308
    assert dict(reply["headers"])["Location"].endswith("/hello/optional_slash/")
    followed = visitor.exchange(sandbox, "GET", "/hello/optional_slash", follow_redirects=True)
    assert followed["status"] == 200 and followed["body"] == "I can have a slash"
    assert followed["redirects"] == [{"status": 308, "location": "/hello/optional_slash/"}]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE"])
def test_all_eight_methods(visitor, talk, method):
    reply = visitor.exchange(talk("routes"), method, "/all_methods")
    assert reply["status"] == 200
    # OPTIONS too: listed in methods=, it reaches the view instead of Flask's automatic answer.
    assert reply["body"] == method


def test_head_has_headers_and_no_body(visitor, talk):
    reply = visitor.exchange(talk("routes"), "HEAD", "/all_methods")
    assert reply["status"] == 200 and reply["body"] == ""
    assert dict(reply["headers"])["Content-Length"] == "4"


def test_method_not_allowed_and_custom_methods(visitor, talk):
    sandbox = talk("routes")
    assert visitor.exchange(sandbox, "DELETE", "/")["status"] == 405
    assert visitor.exchange(sandbox, "BREW", "/all_methods")["status"] == 405
    assert visitor.exchange(sandbox, "POST", "/", body="{}")["body"] == "POST"


def test_session_counter_counts_in_the_jar(visitor, talk):
    sandbox = talk("sessions")
    bodies = [visitor.exchange(sandbox)["body"] for _ in range(3)]
    assert bodies == ["1", "2", "3"]
    reply = visitor.exchange(sandbox)
    (cookie,) = reply["cookies"]
    assert cookie["name"] == "session" and cookie["httponly"]
    assert cookie["flask_session"]["payload"] == {"number_of_calls": 4}
    assert reply["set_cookies"][0]["name"] == "session"


def test_duplicate_endpoint_fails_like_flask(talk):
    sandbox = talk("duplicate-names")
    assert sandbox["state"] == "failed"
    error = sandbox["error"]
    assert error["type"] == "AssertionError"
    assert "overwriting an existing endpoint function: hello_page" in error["message"]
    assert error["file"] == "app.py" and error["line"] > 1
    assert error["traceback"].startswith('Traceback (most recent call last):\n  File "app.py"')
    assert "site-packages" not in error["traceback"]  # trimmed to the visitor's frames


def test_division_by_zero_is_a_500_and_an_event(visitor, talk):
    sandbox = talk("division")
    assert visitor.exchange(sandbox, "GET", "/div/1/2")["body"] == "0.5"
    reply = visitor.exchange(sandbox, "GET", "/div/1/0")
    assert reply["status"] == 500
    exception = next(e for e in reply["events"] if e["type"] == "exception")
    assert exception["error"]["type"] == "ZeroDivisionError"
    assert (exception["error"]["file"], exception["error"]["line"]) == ("app.py", 7)
    assert exception["path"] == "/div/1/0"


def test_duplicate_urls_first_one_wins(visitor, talk):
    assert visitor.exchange(talk("duplicate-urls"), "GET", "/hello")["body"] == "I'm a hello page"


def test_templates_from_a_cwd_relative_folder(visitor, talk):
    sandbox = talk("templates")
    assert visitor.exchange(sandbox, "GET", "/if/")["status"] == 200
    assert "Nothing" in visitor.exchange(sandbox, "GET", "/for/")["body"]


def test_template_that_does_not_compile(visitor, talk):
    reply = visitor.exchange(talk("missing-endif"), "GET", "/missing_endif/")
    assert reply["status"] == 500
    error = next(e for e in reply["events"] if e["type"] == "exception")["error"]
    assert error["type"] == "TemplateSyntaxError"
    assert error["file"] == "the_flask_module/templates/missing_endif.html"
    assert "endif" in error["message"]


def test_jsonify(visitor, talk):
    reply = visitor.exchange(talk("jsonify"), "GET", "/")
    assert dict(reply["headers"])["Content-Type"] == "application/json"
    assert '"the_tree_stooges"' in reply["body"]


def test_request_object_sees_the_query(visitor, talk):
    reply = visitor.exchange(talk("request"), "GET", "/request_example?argument=testing")
    assert reply["status"] == 200 and "testing" in reply["body"]


def test_g_is_not_subscriptable(visitor, talk):
    reply = visitor.exchange(talk("g"))
    assert reply["status"] == 500
    error = next(e for e in reply["events"] if e["type"] == "exception")["error"]
    assert error["type"] == "TypeError" and "subscriptable" in error["message"]
