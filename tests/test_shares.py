"""Share and take home: short links kept in SQLite (surviving a restart), and zips that run."""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile

import pytest

from playground import create_app
from playground.services import services_of
from tests.servers import start_server, stop_server
from tests.test_live import Api

# Ends without app.run(): the download adds a __main__ block.
HELLO = ('from flask import Flask\napp = Flask(__name__)\n@app.route("/")\ndef home():\n'
         '    return "hi"\n')


@pytest.fixture
def shares_app(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "MAX_SHARE_BYTES": 1000})
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
    key = shares_client.post("/api/shares", json={"files": {"app.py": HELLO},
                                                  "slug": "hello"}).json["key"]
    share = shares_client.get(f"/api/shares/{key}").json
    assert share["files"] == {"app.py": HELLO} and share["slug"] == "hello"
    page = shares_client.get(f"/s/{key}")
    assert page.status_code == 302 and page.headers["Location"] == f"/?share={key}"


@pytest.mark.parametrize("payload, status, code", [
    ({"files": {"app.py": "x" * 1001}}, 413, "share_too_large"),
    ({"files": {"app.py": HELLO, "../up.py": ""}}, 400, "bad_path"),
    ({"files": "app.py"}, 400, "bad_files"),
])
def test_shares_are_checked_and_capped(shares_client, payload, status, code):
    response = shares_client.post("/api/shares", json=payload)
    assert response.status_code == status and response.json["error"]["code"] == code


def test_unknown_shares_and_other_sites(shares_client):
    assert shares_client.get("/api/shares/nosuchkey0").json["error"]["code"] == "no_such_share"
    assert shares_client.get("/s/nosuchkey0").status_code == 404
    response = shares_client.post("/api/shares", json={"files": {"app.py": HELLO}},
                                  headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


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
    assert set(files) == {"sessions/app.py", "sessions/README.md",
                          "sessions/requirements.txt"}
    assert files["sessions/requirements.txt"].lower().startswith("flask")
    readme = files["sessions/README.md"]
    assert "python app.py" in readme and "flask --app app run" in readme
    assert files["sessions/app.py"].count(".run(") == 1  # it runs itself already


def test_edited_files_download_and_run_with_flask_run(shares_client, tmp_path):
    response = shares_client.post("/api/download", json={"files": {"app.py": HELLO,
                                                                   "templates/a.html": "<p>"},
                                                         "name": "my app"})
    files = unzip(response, tmp_path)
    assert files["my-app/templates/a.html"] == "<p>"
    assert 'if __name__ == "__main__":\n    app.run(debug=True)' in files["my-app/app.py"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    flask = [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)]
    assert serves(flask, tmp_path / "my-app", port) == "hi"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs a network namespace of its own (root and unshare)")
def test_the_download_runs_with_python_app_py(shares_client, tmp_path):
    """`python app.py` serves where app.py says (port 5000): in a network namespace of its own,
    so it cannot collide with anything on this machine."""
    unzip(shares_client.post("/api/download", json={"files": {"app.py": HELLO}}), tmp_path)
    fetch = ("import time, urllib.request\nfor _ in range(100):\n    try:\n        print(urllib."
             "request.urlopen('http://127.0.0.1:5000/').read().decode())\n        break\n"
             "    except OSError:\n        time.sleep(0.1)")
    script = f'ip link set lo up; {sys.executable} app.py & {sys.executable} -c "{fetch}"'
    # A pid namespace too: when the shell ends, the app (and its reloader) end with it.
    result = subprocess.run(["unshare", "--net", "--pid", "--fork", "--kill-child", "sh", "-c",
                             script], cwd=tmp_path / "flask-app", capture_output=True, text=True,
                            timeout=30)
    assert result.stdout.splitlines()[-1] == "hi", result.stderr


def serves(command, cwd, port) -> str:
    """Start `command` in `cwd`, return the body of GET / once it answers, then stop it."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    return response.read().decode()
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"{command} never served")
    finally:
        proc.terminate()
        proc.wait(10)
