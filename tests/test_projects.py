"""Real Flask projects in real sandboxes: a package with an app factory found as `flask --app`
finds it, the flask command, data that stays between runs, debug mode, streams, and the
quickstart's own file names. The package flow is compared, answer by answer, with the same flow
under Flask's test client in this process."""

import importlib
import re
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

PROJECT = Path(__file__).parent / "projects" / "jotter"
HELLO = (
    'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/")\ndef hello():\n'
    '    return "Hello, World!"\n'
)


def project_files() -> dict:
    return {
        p.relative_to(PROJECT).as_posix(): p.read_text()
        for p in PROJECT.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# (method, path, form): register, log in, write, edit and delete notes, as a visitor would.
FLOW = [
    ("GET", "/", None),
    ("GET", "/new", None),  # not logged in: off to the login page
    ("POST", "/auth/register", {"name": "ada", "password": "lovelace"}),
    ("POST", "/auth/register", {"name": "ada", "password": "again"}),  # taken
    ("POST", "/auth/login", {"name": "ada", "password": "wrong"}),
    ("POST", "/auth/login", {"name": "ada", "password": "lovelace"}),
    ("GET", "/", None),
    ("POST", "/new", {"title": "First", "text": "Engines can weave."}),
    ("POST", "/new", {"title": "", "text": "no title"}),
    ("POST", "/new", {"title": "Second", "text": "Numbers."}),
    ("POST", "/1/edit", {"title": "First, edited", "text": "Engines weave patterns."}),
    ("GET", "/2/edit", None),
    ("POST", "/2/delete", None),
    ("GET", "/", None),
    ("GET", "/9/edit", None),
    ("GET", "/static/style.css", None),
    ("GET", "/auth/logout", None),
]


def answer_of_test_client(client, method, path, form) -> tuple:
    with client.open(path, method=method, data=form) as response:
        return (
            response.status_code,
            response.headers.get("Location"),
            response.get_data(as_text=True),
        )


def answer_of_sandbox(visitor, sandbox, method, path, form) -> tuple:
    reply = visitor.exchange(
        sandbox,
        method,
        path,
        headers=FORM if form is not None else None,
        body=urlencode(form) if form is not None else None,
    )
    location = next((v for k, v in reply["headers"] if k.lower() == "location"), None)
    return reply["status"], location, reply["body"]


@pytest.fixture
def in_process(tmp_path):
    """The same package under Flask's test client, imported from this checkout."""
    sys.path.insert(0, str(PROJECT))
    try:
        jotter = importlib.import_module("jotter")
        app = jotter.create_app({"TESTING": False, "DATABASE": str(tmp_path / "j.sqlite")})
        with app.app_context():  # as the flask command gives it
            assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        yield app.test_client()
    finally:
        sys.path.remove(str(PROJECT))
        for name in [m for m in sys.modules if m == "jotter" or m.startswith("jotter.")]:
            del sys.modules[name]


def test_a_tutorial_shaped_package_runs_as_under_flask(visitor, client, in_process):
    sandbox = visitor.start(None, project_files())  # no app.py, no hint: the only package
    assert sandbox["state"] == "running", sandbox["error"]
    init = client.post(f"/api/sandboxes/{sandbox['id']}/commands", json={"args": ["init-db"]})
    assert init.status_code == 200 and init.json["exit_code"] == 0, init.json
    assert init.json["output"] == "The notebook is empty and ready.\n"
    for method, path, form in FLOW:
        expected = answer_of_test_client(in_process, method, path, form)
        assert answer_of_sandbox(visitor, sandbox, method, path, form) == expected, (method, path)

    # Run again: the notebook is still there, and ada can log in.
    rerun = client.put(f"/api/sandboxes/{sandbox['id']}", json={"files": project_files()})
    assert rerun.json["state"] == "running", rerun.json["error"]
    login = ("POST", "/auth/login", {"name": "ada", "password": "lovelace"})
    assert answer_of_sandbox(visitor, sandbox, *login)[:2] == (302, "/")
    assert "First, edited" in answer_of_sandbox(visitor, sandbox, "GET", "/", None)[2]

    # Reset data: a fresh notebook with no table (init-db was never run there).
    reset = client.put(
        f"/api/sandboxes/{sandbox['id']}", json={"files": project_files(), "reset_data": True}
    )
    assert reset.json["state"] == "running"
    assert answer_of_sandbox(visitor, sandbox, *login)[0] == 500


def test_the_flask_command_lists_and_runs_the_apps_commands(visitor, client):
    sandbox = visitor.start(None, project_files())
    url = f"/api/sandboxes/{sandbox['id']}/commands"
    helped = client.post(url, json={"args": ["--help"]}).json
    assert (
        helped["exit_code"] == 0 and "init-db" in helped["output"] and "routes" in helped["output"]
    )
    routes = client.post(url, json={"args": ["routes"]}).json["output"]
    assert re.search(r"notes\.edit\s+GET, POST\s+/<int:id>/edit", routes)
    shell = client.post(
        url, json={"args": ["shell", "-c", "print(app.name, len(app.url_map._rules))"]}
    )
    assert shell.json == {**shell.json, "exit_code": 0, "output": "jotter 9\n"}
    typed = client.post(url, json={"args": ["shell"], "input": "print(6 * 7)\n"}).json
    assert "42" in typed["output"]
    unknown = client.post(url, json={"args": ["no-such"]}).json
    assert unknown["exit_code"] == 2 and "No such command" in unknown["output"]
    log = client.get(f"/api/sandboxes/{sandbox['id']}/events").json["events"]
    assert any(e["type"] == "log" and e["line"] == "$ flask routes" for e in log)


def test_a_command_past_its_timeout_is_stopped(make_client):
    from playground import create_app
    from playground.services import services_of
    from tests.conftest import Visitor

    app = create_app({"TESTING": True, "COMMAND_TIMEOUT": 1.0})
    try:
        visitor = Visitor(app.test_client())
        sandbox = visitor.start(
            HELLO + "import click, time\n\n@app.cli.command('wait')\n"
            "def wait():\n    time.sleep(60)\n"
        )
        done = visitor.client.post(
            f"/api/sandboxes/{sandbox['id']}/commands", json={"args": ["wait"]}
        ).json
        assert done["exit_code"] != 0 and "did not end within 1 s" in done["output"]
    finally:
        services_of(app).sandboxes.shutdown()


def test_commands_need_a_running_app(visitor, client):
    sandbox = visitor.start("raise SystemExit(3)\n")
    refused = client.post(f"/api/sandboxes/{sandbox['id']}/commands", json={"args": ["routes"]})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_running"
    bad = client.post(f"/api/sandboxes/{sandbox['id']}/commands", json={"args": "routes"})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "bad_args"


@pytest.mark.parametrize(
    "files, spec",
    [
        ({"hello.py": HELLO}, None),  # the quickstart's own name: the only module with an app
        ({"wsgi.py": HELLO.replace("app", "application")}, None),
        ({"hello.py": HELLO, "notes.md": "not code"}, None),
        (
            {
                "shop/__init__.py": HELLO.replace("app =", "def create_app():\n    app =")
                .replace("\n@app", "\n    @app")
                .replace("\ndef hello", "\n    def hello")
                .replace('\n    return "Hello', '\n        return "Hello')
                + "    return app\n"
            },
            None,
        ),
        (
            {
                "factory.py": "from flask import Flask\n\ndef create_app(name):\n    app = Flask(name)\n"
                "    app.add_url_rule('/', 'hello', lambda: 'Hello, World!')\n    return app\n"
            },
            "factory:create_app('hello')",
        ),
        ({"app.py": HELLO + "other = 1\n", "hello.py": "x = 1\n"}, "app:app"),
    ],
)
def test_apps_are_found_as_flask_finds_them(visitor, client, files, spec):
    response = client.post(
        "/api/sandboxes", json={"files": files, **({"app": spec} if spec else {})}
    )
    sandbox = response.json
    assert sandbox["state"] == "running", sandbox["error"]
    assert sandbox["app"] == spec  # the App field it runs with, for the page and followers
    assert visitor.exchange(sandbox)["body"] == "Hello, World!"


def test_a_factory_that_needs_arguments_says_how_to_call_it(visitor, client):
    code = "from flask import Flask\n\n\ndef create_app(config):\n    return Flask(__name__)\n"
    sandbox = client.post("/api/sandboxes", json={"files": {"make.py": code}}).json
    error = sandbox["error"]
    assert sandbox["state"] == "failed" and (error["file"], error["line"]) == ("make.py", 4)
    assert "make:create_app(args)" in error["message"]


@pytest.mark.parametrize(
    "files, words",
    [
        ({"app.py": "x = 1\n"}, "app.py ran to its end without calling app.run()"),
        ({"README.md": "# nothing to run"}, "No Flask app found"),
        ({"a.py": HELLO, "b.py": HELLO}, "More than one module could be the app (a.py, b.py)"),
    ],
)
def test_no_app_found_says_what_was_looked_for(client, files, words):
    sandbox = client.post("/api/sandboxes", json={"files": files}).json
    assert sandbox["state"] == "failed" and words in sandbox["error"]["message"]
    assert "App field" in sandbox["error"]["message"]


def test_a_bad_app_spec_is_a_clear_400(client):
    response = client.post("/api/sandboxes", json={"files": {"a.py": HELLO}, "app": "a b"})
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_app"


def test_a_visitors_own_module_named_like_ours_is_theirs(visitor):
    sandbox = visitor.start(
        None,
        {
            "app.py": HELLO.replace('"Hello, World!"', "report.WORDS").replace(
                "from flask", "import report\nfrom flask"
            ),
            "report.py": 'WORDS = "my own report"\n',
        },
    )
    assert visitor.exchange(sandbox)["body"] == "my own report"


def test_a_snippet_that_deletes_its_own_file_still_runs(visitor):
    sandbox = visitor.start("import os\n" + HELLO + "os.remove(__file__)\napp.run()\n")
    assert sandbox["state"] == "running", sandbox["error"]
    assert visitor.exchange(sandbox)["body"] == "Hello, World!"


def test_debug_mode_shows_werkzeugs_debugger_running_in_the_sandbox(visitor):
    sandbox = visitor.start(
        HELLO + "@app.route('/boom')\ndef boom():\n    secret = 42\n"
        "    1 / 0\n\napp.run(debug=True)\n"
    )
    page = visitor.exchange(sandbox, "GET", "/boom")
    assert page["status"] == 500 and "Werkzeug Debugger" in page["body"]
    secret = re.search(r'SECRET = "([^"]+)"', page["body"]).group(1)
    frame = re.findall(r'<div class="frame" id="frame-(\d+)">', page["body"])[-1]
    ran = visitor.exchange(
        sandbox,
        "GET",
        f"/boom?__debugger__=yes&cmd=__import__(%22os%22).getuid()&frm={frame}&s={secret}",
    )
    uid = int(re.search(r"(\d+)", ran["body"].split("&gt;&gt;&gt;")[-1]).group(1))
    assert ran["status"] == 200 and uid != 0  # the sandbox's own uid, never the host's root
    local = visitor.exchange(
        sandbox, "GET", f"/boom?__debugger__=yes&cmd=secret&frm={frame}&s={secret}"
    )
    assert "42" in local["body"]  # the console sees the frame's own variables


def test_a_stream_that_breaks_keeps_what_it_sent(visitor):
    sandbox = visitor.start(
        HELLO + "import time\n\n@app.route('/stream')\ndef stream():\n"
        "    def lines():\n        yield 'first\\n'\n        time.sleep(0.2)\n"
        "        yield 'second\\n'\n        raise ValueError('the source ran dry')\n"
        "    return app.response_class(lines(), mimetype='text/plain')\n"
    )
    reply = visitor.exchange(sandbox, "GET", "/stream")
    assert reply["status"] == 200 and reply["body"] == "first\nsecond\n"
    assert reply["error"]["code"] == "stream_broken"
    assert [c["size"] for c in reply["chunks"]] == [6, 7]
    assert reply["chunks"][1]["at_ms"] - reply["chunks"][0]["at_ms"] >= 150
    [exception] = [e for e in reply["events"] if e["type"] == "exception"]
    assert exception["error"]["message"] == "the source ran dry"
    assert (exception["error"]["file"], exception["error"]["line"]) == ("app.py", 15)


def test_a_whole_answer_is_not_a_broken_stream(visitor):
    reply = visitor.exchange(visitor.start(HELLO))
    assert reply["error"] is None and sum(c["size"] for c in reply["chunks"]) == reply["size"]
