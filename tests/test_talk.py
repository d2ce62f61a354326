"""The talk's examples, pasted as the talk wrote them, run and answer through the proxy."""

import pytest

HELLO = '''from flask import Flask
app = Flask("the_flask_module")

@app.route("/") # This is some decorator magic. Please ask if you need it explained.
def home_page():
    return "I'm a home page"

app.run(host="0.0.0.0", port=5000)
'''

ROUTES = '''from flask import Flask
app = Flask("the_flask_module")

@app.route("/hello")
def hello_page():
    return "I'm a hello page"

@app.route("/hello/one_step_deeper")
def hello_deeper():
    return "I'm a hello page"

@app.route("/hello/optional_slash/")
def optional_extra_slash():
    return "I can have a slash"

@app.route("/hello/no_slash")
def no_extra_slash():
    return "No slash for you."

@app.route('/<text_to_echo>/')
def echo(text_to_echo):
    return "echo {}".format(text_to_echo)

@app.route('/test/<int:int_to_echo>/')
def echo_only_ints(int_to_echo):
    return "echo {}".format(int_to_echo)

@app.route('/<int:int_left>/<int:int_right>')
def add_ints(int_left, int_right):
    return "{}".format(int_left + int_right)

from flask import request
@app.route('/', methods=["GET", "POST", "PUT"])
def get_or_post():
    return request.method

@app.route('/all_methods', methods=["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE"])
def all_methods():
    return request.method


app.run(host="0.0.0.0", port=5000)
'''

SESSION = '''from flask import Flask, session
app = Flask("the_flask_module")
app.config["SECRET_KEY"] = "I'm totally a unguessable secret."

@app.route("/")
def session_example():
    # The session object isn't a defaultdict
    try:
        session["number_of_calls"] += 1
    except KeyError:
        session["number_of_calls"] = 1
    return str(session["number_of_calls"])

app.run(host="0.0.0.0", port=5000)
'''


def test_hello_world(visitor):
    sandbox = visitor.start(HELLO)
    assert sandbox["state"] == "running", sandbox["error"]
    assert sandbox["scheme"] == "http" and isinstance(sandbox["port"], int)
    assert [r["rule"] for r in sandbox["routes"]] == ["/static/<path:filename>", "/"]
    reply = visitor.exchange(sandbox, "GET", "/")
    assert (reply["status"], reply["reason"], reply["body"]) == (200, "OK", "I'm a home page")
    assert ["Content-Type", "text/html; charset=utf-8"] in reply["headers"]


def test_isolation_is_reported(visitor, app):
    sandbox = visitor.start(HELLO)
    expected = app.extensions["playground.sandboxes"].isolation.name
    assert sandbox["isolation"] == expected
    assert (sandbox["warning"] is None) == (expected == "bubblewrap")


@pytest.mark.parametrize("path, status, body", [
    ("/hello", 200, "I'm a hello page"),
    ("/hello/one_step_deeper", 200, "I'm a hello page"),
    ("/hello/optional_slash/", 200, "I can have a slash"),
    ("/hello/no_slash", 200, "No slash for you."),
    ("/hello/no_slash/", 404, "Not Found"),
    ("/anything/", 200, "echo anything"),
    ("/test/5/", 200, "echo 5"),
    ("/10/10", 200, "20"),
    ("/I%20can%20type%20whatever%20I%20really%20want%20in%20here%20''%25%25&^(*!/", 200,
     "echo I can type whatever I really want in here ''%%&^(*!"),  # a str is not escaped
])
def test_routes(visitor, path, status, body):
    sandbox = visitor.start(ROUTES)
    reply = visitor.exchange(sandbox, "GET", path)
    assert reply["status"] == status
    assert body in reply["body"]


def test_optional_slash_redirects_and_can_be_followed(visitor):
    sandbox = visitor.start(ROUTES)
    reply = visitor.exchange(sandbox, "GET", "/hello/optional_slash")
    assert reply["status"] == 308
    assert dict(reply["headers"])["Location"].endswith("/hello/optional_slash/")
    followed = visitor.exchange(sandbox, "GET", "/hello/optional_slash", follow_redirects=True)
    assert followed["status"] == 200 and followed["body"] == "I can have a slash"
    assert followed["redirects"] == [{"status": 308, "location": "/hello/optional_slash/"}]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE"])
def test_all_eight_methods(visitor, method):
    sandbox = visitor.start(ROUTES)
    reply = visitor.exchange(sandbox, method, "/all_methods")
    assert reply["status"] == 200
    # OPTIONS too: listed in methods=, it reaches the view instead of Flask's automatic answer.
    assert reply["body"] == method


def test_head_has_headers_and_no_body(visitor):
    sandbox = visitor.start(ROUTES)
    reply = visitor.exchange(sandbox, "HEAD", "/all_methods")
    assert reply["status"] == 200 and reply["body"] == ""
    assert dict(reply["headers"])["Content-Length"] == "4"


def test_method_not_allowed_and_custom_methods(visitor):
    sandbox = visitor.start(ROUTES)
    assert visitor.exchange(sandbox, "DELETE", "/")["status"] == 405
    reply = visitor.exchange(sandbox, "BREW", "/all_methods")
    assert reply["status"] == 405
    assert visitor.exchange(sandbox, "POST", "/", body="{}")["body"] == "POST"


def test_session_counter_counts_in_the_jar(visitor):
    sandbox = visitor.start(SESSION)
    bodies = [visitor.exchange(sandbox)["body"] for _ in range(3)]
    assert bodies == ["1", "2", "3"]
    reply = visitor.exchange(sandbox)
    (cookie,) = reply["cookies"]
    assert cookie["name"] == "session" and cookie["httponly"]
    assert cookie["flask_session"]["payload"] == {"number_of_calls": 4}
    assert reply["set_cookies"][0]["name"] == "session"


def test_duplicate_endpoint_fails_like_flask(visitor):
    sandbox = visitor.start('''from flask import Flask
app = Flask("the_flask_module")


@app.route("/hello")
def hello_page():
    return "I'm a hello page"

@app.route("/different_route")
def hello_page():
    return "Different route"


app.run(host="0.0.0.0", port=5000)
''')
    assert sandbox["state"] == "failed"
    error = sandbox["error"]
    assert error["type"] == "AssertionError"
    assert "overwriting an existing endpoint function: hello_page" in error["message"]
    assert (error["file"], error["line"]) == ("app.py", 9)
    assert error["traceback"].startswith("Traceback (most recent call last):\n  File \"app.py\"")
    assert "site-packages" not in error["traceback"]  # trimmed to the visitor's frames


def test_division_by_zero_is_a_500_and_an_event(visitor):
    sandbox = visitor.start('''from flask import Flask
app = Flask("the_flask_module")


@app.route('/div/<int:int_left>/<int:int_right>')
def div_ints(int_left, int_right):
    return "{}".format(int_left / int_right)


app.run(host="0.0.0.0", port=5000)
''')
    assert visitor.exchange(sandbox, "GET", "/div/1/2")["body"] == "0.5"
    reply = visitor.exchange(sandbox, "GET", "/div/1/0")
    assert reply["status"] == 500
    exception = next(e for e in reply["events"] if e["type"] == "exception")
    assert exception["error"]["type"] == "ZeroDivisionError"
    assert (exception["error"]["file"], exception["error"]["line"]) == ("app.py", 7)
    assert exception["path"] == "/div/1/0"


def test_duplicate_urls_first_one_wins(visitor):
    sandbox = visitor.start('''from flask import Flask
app = Flask("the_flask_module")

@app.route("/hello")
def hello_page():
    return "I'm a hello page"

@app.route("/hello")
def second_hello_page():
    return "Different route"

app.run(host="0.0.0.0", port=5000)
''')
    assert visitor.exchange(sandbox, "GET", "/hello")["body"] == "I'm a hello page"


TEMPLATE_APP = '''import os
from flask import Flask, render_template
template_dir = os.path.join(os.getcwd(), "the_flask_module", "templates")
app = Flask("the_flask_module", template_folder=template_dir)

@app.route('/if/')
def if_template():
    return render_template("{name}", oxford_comma=True)

app.run(host="0.0.0.0", port=5000)
'''


def test_templates_from_a_cwd_relative_folder(visitor):
    sandbox = visitor.start(TEMPLATE_APP.format(name="if_example.html"), files={
        "the_flask_module/templates/if_example.html":
            "red, white{% if oxford_comma %},{% endif %} and blue"})
    assert visitor.exchange(sandbox, "GET", "/if/")["body"] == "red, white, and blue"


def test_template_that_does_not_compile(visitor):
    sandbox = visitor.start(TEMPLATE_APP.format(name="missing_endif.html"), files={
        "the_flask_module/templates/missing_endif.html":
            "<p>\nred, white{%- if oxford_comma -%},\nand blue</p>\n"})
    reply = visitor.exchange(sandbox, "GET", "/if/")
    assert reply["status"] == 500
    error = next(e for e in reply["events"] if e["type"] == "exception")["error"]
    assert error["type"] == "TemplateSyntaxError"
    assert error["file"] == "the_flask_module/templates/missing_endif.html"
    assert "endif" in error["message"]


def test_jsonify_and_request_object(visitor):
    sandbox = visitor.start('''from flask import Flask, jsonify, request
app = Flask("the_flask_module")

@app.route('/')
def for_template():
    return jsonify({"the_tree_stooges": ["Moe", "Larry", "Curley"]})

@app.route("/request_example")
def request_values():
    return "argument={} agent={}".format(request.args.get("argument"), request.headers.get("User-Agent"))

app.run(host="0.0.0.0", port=5000)
''')
    reply = visitor.exchange(sandbox, "GET", "/")
    assert dict(reply["headers"])["Content-Type"] == "application/json"
    assert '"the_tree_stooges"' in reply["body"]
    reply = visitor.exchange(sandbox, "GET", "/request_example?argument=testing",
                             headers={"User-Agent": "talk/1.0"})
    assert reply["body"] == "argument=testing agent=talk/1.0"


def test_g_is_not_subscriptable(visitor):
    sandbox = visitor.start('''from flask import Flask, g
app = Flask("the_flask_module")
app.config["SECRET_KEY"] = "I'm totally a unguessable secret."

@app.route("/")
def session_example():
    try:
        g["number_of_calls"] += 1
    except KeyError:
        g["number_of_calls"] = 1
    return str(g["number_of_calls"])

app.run(host="0.0.0.0", port=5000)
''')
    reply = visitor.exchange(sandbox)
    assert reply["status"] == 500
    error = next(e for e in reply["events"] if e["type"] == "exception")["error"]
    assert error["type"] == "TypeError" and "subscriptable" in error["message"]
