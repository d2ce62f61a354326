"""The snippet catalog: every snippet runs in a real sandbox and answers as its notes promise,
the catalog follows the talk, and a malformed snippet is refused with its name."""

import importlib.metadata
import re

import pytest

from playground import resources
from playground.snippets import Catalog, SnippetError

SLUGS = [summary["slug"] for summary in Catalog.load(resources.path("snippets")).summaries()]

# The talk's section headings, in the talk's order; our own snippets come after them.
TALK_SECTIONS = [
    "So How Do I Use Flask?",
    "So How Do I Use Flask with SSL?",
    "So what is a route?",
    "The Route Order of Precedent",
    "Flask Has a Top Down Order of Precedence",
    "What do Routes Return?",
    "What Happens If You Forget To Pass An Argument?",
    "You Know, I Think JSON is string data as well...",
    "Requests",
    "Sessions",
    "Lastly the g object",
    "Beyond the talk",
]

# Every example of the talk, in the order the talk shows it.
TALK_EXAMPLES = [
    "hello",
    "ssl",
    "routes",
    "precedence",
    "duplicate-names",
    "division",
    "duplicate-urls",
    "top-down",
    "templates",
    "missing-endif",
    "missing-argument",
    "jsonify",
    "request",
    "sessions",
    "g",
]


def fetch(client, slug: str) -> dict:
    response = client.get(f"/api/snippets/{slug}")
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize("slug", SLUGS)
def test_snippet_answers_every_suggested_request(client, slug):
    snippet = fetch(client, slug)
    response = client.post("/api/sandboxes", json={"files": snippet["files"]})
    assert response.status_code == 201, response.json
    sandbox = response.json
    try:
        if snippet["expect_error"]:
            assert sandbox["state"] == "failed", sandbox
            assert sandbox["error"]["type"] == snippet["expect_error"]["type"], sandbox["error"]
            return
        assert sandbox["state"] == "running", sandbox["error"]
        for request in snippet["requests"]:
            response = client.post(
                f"/api/sandboxes/{sandbox['id']}/requests",
                json={key: request[key] for key in ("method", "path", "headers", "body")},
            )
            assert response.status_code == 200, (request["label"], response.json)
            exchange, expect = response.json, request["expect"]
            assert exchange["status"] == expect["status"], (request["label"], exchange["body"])
            assert expect.get("body_contains", "") in exchange["body"], (
                request["label"],
                exchange["body"],
            )
    finally:
        client.delete(f"/api/sandboxes/{sandbox['id']}")


def test_ssl_snippet_serves_https(client):
    snippet = fetch(client, "ssl")
    sandbox = client.post("/api/sandboxes", json={"files": snippet["files"]}).json
    try:
        assert (sandbox["state"], sandbox["scheme"]) == ("running", "https"), sandbox["error"]
    finally:
        client.delete(f"/api/sandboxes/{sandbox['id']}")


def test_catalog_follows_the_talk(client):
    summaries = client.get("/api/snippets").json["snippets"]
    talk = [s["slug"] for s in summaries if s["section"] != "Beyond the talk"]
    assert talk == TALK_EXAMPLES
    sections = [TALK_SECTIONS.index(s["section"]) for s in summaries]
    assert sections == sorted(sections), "snippets must follow the talk's sections in order"
    assert set(sections) == set(range(len(TALK_SECTIONS))), "every section has a snippet"
    orders = [s["order"] for s in summaries]
    assert orders == sorted(set(orders))


@pytest.mark.parametrize("slug", SLUGS)
def test_snippet_has_notes_and_requests(client, slug):
    snippet = fetch(client, slug)
    assert snippet["title"].strip() and snippet["notes"].strip()
    assert snippet["notes_html"].startswith("<")
    assert snippet["requests"] or snippet["expect_error"], "suggest a request or expect an error"
    assert "app.py" in snippet["files"]
    for request in snippet["requests"]:
        assert request["label"].strip() and request["path"].startswith("/")


def test_what_the_help_says_a_snippet_may_import_imports(visitor):
    """The page's help lists what a snippet may import: each of those imports in a sandbox."""
    help_text = resources.path("templates").joinpath("_help.html").read_text("utf-8")
    listed = re.search(r'id="help-imports">(.*?)</p>', help_text, re.S).group(1)
    modules = re.findall(r"<code>(\w+)</code>", listed)
    assert {
        "flask_login",
        "flask_wtf",
        "flask_sqlalchemy",
        "flask_caching",
        "flask_debugtoolbar",
    } <= set(modules)
    code = (
        "import importlib\nfrom flask import Flask\napp = Flask(__name__)\n"
        "@app.get('/<name>')\ndef load(name):\n"
        "    return importlib.import_module(name).__name__\n"
    )
    sandbox = visitor.start(code)
    for module in modules:
        answer = visitor.exchange(sandbox, "GET", f"/{module}")
        assert (answer["status"], answer["body"]) == (200, module), [
            e["error"]["message"] for e in answer["events"] if e["type"] == "exception"
        ]


def test_a_snippet_that_imports_an_extension_says_so_in_its_requirements(client):
    """Taken home (a download), `pip install -r requirements.txt` must install what it imports
    beyond Flask and the standard library."""
    distributions = importlib.metadata.packages_distributions()
    flask_own = {"flask", "werkzeug", "jinja2", "itsdangerous", "click", "blinker", "markupsafe"}
    for slug in SLUGS:
        files = fetch(client, slug)["files"]
        imported = {
            name
            for path, text in files.items()
            if path.endswith(".py")
            for name in re.findall(r"^(?:from|import) (\w+)", text, re.M)
        }
        needed = {
            distributions[name][0].lower()
            for name in imported
            if name in distributions and name not in flask_own
        }
        listed = {
            re.split(r"[<>=~ ]", line)[0].lower()
            for line in files.get("requirements.txt", "").splitlines()
        }
        assert needed <= listed, (slug, needed - listed)


def test_notes_code_blocks_are_highlighted(client):
    notes_html = fetch(client, "division")["notes_html"]
    assert '<pre class="hl"><code class="language-python">' in notes_html
    assert '<span class="k">def</span>' in notes_html


def test_unknown_snippet_is_404(client):
    response = client.get("/api/snippets/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "no_such_snippet"


GOOD_TOML = """title = "T"
section = "S"
notes = "N"
[[requests]]
label = "L"
method = "GET"
path = "/"
expect = { status = 200 }
"""


MALFORMED = [  # (directory name, snippet.toml, what the error must say)
    ("01-ok", GOOD_TOML.replace('title = "T"\n', ""), "missing title"),
    ("01-ok", 'colour = "red"\n' + GOOD_TOML, "unknown key colour"),
    ("01-ok", GOOD_TOML + 'colour = "red"\n', "unknown key requests[0].colour"),
    ("01-ok", GOOD_TOML.replace("status = 200", 'status = "200"'), "requests[0].expect.status"),
    ("01-ok", GOOD_TOML.replace('method = "GET"', 'method = "FETCH"'), "requests[0].method"),
    ("01-ok", GOOD_TOML.replace('path = "/"', 'path = "x"'), "requests[0].path"),
    ("01-ok", GOOD_TOML.split("[[requests]]")[0], "has no [[requests]]"),
    ("01-ok", "title = ", "not valid TOML"),
    ("1-bad name", GOOD_TOML, "named NN-slug"),
]


@pytest.mark.parametrize("name, toml, message", MALFORMED, ids=[case[2] for case in MALFORMED])
def test_malformed_snippet_is_refused_by_name(tmp_path, name, toml, message):
    directory = tmp_path / name
    directory.mkdir()
    (directory / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (directory / "snippet.toml").write_text(toml)
    with pytest.raises(SnippetError, match=re.escape(name) + ".*" + re.escape(message)):
        Catalog.load(tmp_path)


def test_snippet_without_app_py_is_refused(tmp_path):
    (tmp_path / "01-empty").mkdir()
    (tmp_path / "01-empty" / "snippet.toml").write_text(GOOD_TOML)
    with pytest.raises(SnippetError, match="01-empty: has no app.py"):
        Catalog.load(tmp_path)
