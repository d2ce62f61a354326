"""Starting, failing and stopping children: errors that teach, isolation, nothing left behind."""

import errno
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from playground.config import SETTINGS
from playground.sandbox.hostblock import UID_BLOCKS, UIDS_PER_HOST
from playground.services import services_of
from tests.servers import sandbox_processes, start_server, stop_server, wait_until

SERVE = '\napp.run(host="0.0.0.0", port=5000)\n'
HELLO = 'from flask import Flask\napp = Flask(__name__)\n@app.route("/")\ndef home():\n    return "hi"\n'


def test_syntax_error_names_the_line(visitor):
    sandbox = visitor.start(
        "from flask import Flask\napp = Flask(__name__)\n\ndef broken(:\n    pass\n"
    )
    assert sandbox["state"] == "failed"
    error = sandbox["error"]
    assert (error["type"], error["file"], error["line"]) == ("SyntaxError", "app.py", 4)
    assert "def broken(:" in error["traceback"] and "/sandbox" not in error["traceback"]


def test_exception_at_import_is_trimmed_to_the_visitors_frames(visitor):
    sandbox = visitor.start(
        "import json\n\ndef load():\n    return json.loads('{oops')\n\nload()\n"
    )
    error = sandbox["error"]
    assert error["type"] == "JSONDecodeError" and (error["file"], error["line"]) == ("app.py", 4)
    assert error["traceback"].count('File "') == 2  # <module> and load(), nothing of json's


def test_exception_in_an_imported_module_of_the_snippet(visitor):
    sandbox = visitor.start(
        "import helpers\n", files={"helpers.py": "x = 1\nraise ValueError('no')\n"}
    )
    error = sandbox["error"]
    assert (error["type"], error["file"], error["line"]) == ("ValueError", "helpers.py", 2)


def test_the_hosts_python_install_is_shown_as_python(visitor, client):
    """An ImportError names the module's file, and Flask logs a route's traceback with its own
    frames: both show `<python>/lib/...`, not where the host keeps its virtualenv."""
    roots = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)}
    error = visitor.start("from flask import Flask, no_such_name\n")["error"]
    assert error["type"] == "ImportError"
    assert "(<python>/lib/python" in error["message"] and "<python>" in error["traceback"]
    sandbox = visitor.start(
        HELLO + '@app.route("/oops")\ndef oops():\n    import flask.nope\n' + SERVE
    )
    reply = visitor.exchange(sandbox, "GET", "/oops")
    [exception] = [e for e in reply["events"] if e["type"] == "exception"]
    time.sleep(0.2)  # Flask's log of it arrives on stderr, beside the events
    log = [
        e["line"]
        for e in client.get(f"/api/sandboxes/{sandbox['id']}/events").json["events"]
        if e["type"] == "log"
    ]
    assert any('File "<python>/lib/python' in line for line in log), log
    shown = json.dumps([error, exception, log])
    assert not [root for root in roots if root in shown], shown


def test_sys_exit_before_serving(visitor):
    sandbox = visitor.start("import sys\nsys.exit(3)\n")
    assert sandbox["error"]["type"] == "SystemExit"
    assert "sys.exit(3)" in sandbox["error"]["message"]


def test_hang_at_import_fails_at_the_deadline_and_shows_where(visitor):
    sandbox = visitor.start("import time\n\nwhile True:\n    time.sleep(0.1)\n")
    error = sandbox["error"]
    assert sandbox["state"] == "failed" and error["type"] == "TimeoutError"
    assert (error["file"], error["line"]) == ("app.py", 4)


def test_crash_at_import(visitor):
    sandbox = visitor.start("import os\nprint('about to go', flush=True)\nos._exit(7)\n")
    assert sandbox["state"] == "failed" and sandbox["exit_status"] == 7
    assert sandbox["error"]["type"] == "ChildExited"
    assert "about to go" in sandbox["error"]["traceback"]


def test_segfault_at_import_reports_the_signal(visitor):
    sandbox = visitor.start("import ctypes\nctypes.string_at(0)\n")
    assert sandbox["state"] == "failed"
    assert "SIGSEGV" in sandbox["error"]["message"]
    assert (
        'File "/sandbox/app.py", line 2' in sandbox["error"]["traceback"]
        or 'app.py", line 2' in sandbox["error"]["traceback"]
    )


def test_crash_mid_request_is_a_502_and_flips_to_failed(visitor):
    sandbox = visitor.start(
        HELLO + '@app.route("/die")\ndef die():\n    import os\n    os._exit(9)\n' + SERVE
    )
    response = visitor.send(sandbox, "GET", "/die")
    assert response.status_code == 502
    assert response.json["error"]["code"] == "child_no_response"
    # The child's exit reaches the host some milliseconds after the 502.
    assert visitor.wait_for_state(sandbox, "failed", timeout=5)["exit_status"] == 9


def test_without_app_run_the_app_is_found_like_flask_run(visitor):
    assert visitor.exchange(visitor.start(HELLO))["body"] == "hi"
    factory = (
        "from flask import Flask\ndef create_app():\n    app = Flask(__name__)\n"
        "    app.add_url_rule('/', 'home', lambda: 'made')\n    return app\n"
    )
    assert visitor.exchange(visitor.start(factory))["body"] == "made"
    nothing = visitor.start("x = 1\n")
    assert nothing["error"]["type"] == "NoAppFound"


def log_lines(visitor, sandbox) -> list:
    events = visitor.client.get(f"/api/sandboxes/{sandbox['id']}/events").json["events"]
    return [e["line"] for e in events if e["type"] == "log"]


def test_code_after_app_run_is_pointed_out_as_never_running(visitor):
    """As in the talk, app.run() serves for ever: a route added below it is a 404, and the log
    says why."""
    about = '@app.route("/about")\ndef about():\n    return "about"\n'
    sandbox = visitor.start(HELLO + SERVE + about)
    assert visitor.exchange(sandbox, "GET", "/about")["status"] == 404
    [hint] = [line for line in log_lines(visitor, sandbox) if line.startswith("playground:")]
    assert "app.run() on line 7" in hint and "lines 8-10 of app.py never run" in hint

    guarded = HELLO + 'if __name__ == "__main__":\n    app.run()\n'
    sandbox = visitor.start(guarded)
    assert visitor.exchange(sandbox)["body"] == "hi"
    assert not [line for line in log_lines(visitor, sandbox) if line.startswith("playground:")]


def test_put_reruns_with_new_files_and_keeps_the_id(visitor, client):
    sandbox = visitor.start(HELLO)
    rerun = client.put(
        f"/api/sandboxes/{sandbox['id']}",
        json={"files": {"app.py": HELLO.replace('"hi"', '"changed"')}},
    ).json
    assert rerun["id"] == sandbox["id"] and rerun["state"] == "running"
    assert visitor.exchange(rerun)["body"] == "changed"


def test_stop_leaves_no_process_and_no_directory(visitor, client, app):
    sandbox = visitor.start(
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        time.sleep(600)\n    os._exit(0)\n" + HELLO + SERVE
    )
    assert sandbox["state"] == "running", sandbox["error"]
    hostdir = services_of(app).sandboxes.basedir / sandbox["id"]
    assert hostdir.exists()
    assert client.delete(f"/api/sandboxes/{sandbox['id']}").json["state"] == "stopped"
    assert not hostdir.exists()
    if os.geteuid() == 0:
        assert sandbox_processes(services_of(app).sandboxes.uids) == []
    assert client.get(f"/api/sandboxes/{sandbox['id']}").status_code == 404


def host_uids(pid: int) -> range:
    """The uid block a host with this pid gives its sandboxes."""
    first = SETTINGS["SANDBOX_UID_BASE"][0] + (pid % UID_BLOCKS) * UIDS_PER_HOST
    return range(first, first + UIDS_PER_HOST)


def test_no_child_survives_the_host():
    proc, url = start_server()
    request = urllib.request.Request(
        f"{url}/api/sandboxes",
        method="POST",
        data=json.dumps({"files": {"app.py": HELLO}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        assert json.load(response)["state"] == "running"
    uids = host_uids(proc.pid)
    assert sandbox_processes(uids) or os.geteuid() != 0
    proc.kill()  # not even a chance to clean up: the children must die with it
    proc.wait()
    wait_until(
        lambda: not sandbox_processes(uids),
        5,
        lambda: f"the killed host's children to die: {sandbox_processes(uids)} live on",
    )
    stop_server(proc)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate today's OpenSSL accepts, and the talk's 1024-bit one."""
    made = {}
    for bits in (2048, 1024):
        folder = tmp_path_factory.mktemp(f"rsa{bits}")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                f"rsa:{bits}",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-keyout",
                folder / "ssl.key",
                "-out",
                folder / "ssl.cert",
            ],
            check=True,
            capture_output=True,
        )
        made[bits] = {name: (folder / name).read_text() for name in ("ssl.cert", "ssl.key")}
    return made


@pytest.fixture
def ssl_app(client):
    """The talk's SSL example, from the catalog."""
    return client.get("/api/snippets/ssl").json["files"]["app.py"]


def test_ssl_child_is_spoken_to_over_tls(visitor, certificate, ssl_app):
    sandbox = visitor.start(ssl_app, files=certificate[2048])
    assert sandbox["state"] == "running", sandbox["error"]
    assert sandbox["scheme"] == "https"
    assert visitor.exchange(sandbox)["body"] == "I'm a home page"


def test_the_talks_1024_bit_key_is_refused_with_an_ssl_error(visitor, certificate, ssl_app):
    sandbox = visitor.start(ssl_app, files=certificate[1024])
    error = sandbox["error"]
    assert error["type"] == "SSLError" and error["file"] == "app.py"
    assert "load_cert_chain" in error["traceback"]
    assert "too small" in error["message"]


def test_ssl_context_as_a_tuple_of_paths(visitor, certificate, ssl_app):
    code = ssl_app.replace("ssl_context=ctx", "ssl_context=('ssl.cert', 'ssl.key')")
    sandbox = visitor.start(code, files=certificate[2048])
    assert sandbox["scheme"] == "https" and visitor.exchange(sandbox)["status"] == 200


# Inside a probe route: does connect() fail (seccomp), and is the only interface a loopback
# (a network namespace of its own)? Shared with test_attacks.py's isolation check.
# How the visitor's code can find the host's events pipe: the only FIFO past stderr.
EVENTS_FD = """
def events_fd():
    import os, stat
    for name in os.listdir("/proc/self/fd"):
        try:
            if int(name) > 2 and stat.S_ISFIFO(os.fstat(int(name)).st_mode):
                return int(name)
        except OSError:
            pass
"""

NETWORK_PROBE = """    try:
        socket.create_connection(("192.0.2.1", 80), timeout=2)
        found["net"] = "reached"
    except OSError as e:
        found["net"] = e.errno
    found["interfaces"] = [line.split(":")[0].strip() for line in open("/proc/net/dev")][2:]
"""

PROBE = (
    HELLO
    + """
import os, socket
@app.route("/probe")
def probe():
    found = {}
    for name in ("/etc/shadow", "/proc/1/environ", "/root", os.path.expanduser("~host")):
        try:
            found[name] = bool(open(name).read(1)) if os.path.isfile(name) else os.listdir(name)
        except OSError as e:
            found[name] = type(e).__name__
"""
    + NETWORK_PROBE
    + """
    try:
        open("/usr/evil", "w")
        found["write"] = "wrote"
    except OSError as e:
        found["write"] = type(e).__name__
    found["env"] = sorted(os.environ)
    found["uid"] = os.getuid()
    found["cwd"] = os.getcwd()
    return found
"""
    + SERVE
)


def test_bubblewrap_isolation(visitor, app):
    if services_of(app).sandboxes.isolation.name != "bubblewrap":
        pytest.fail("bubblewrap does not work on this machine: install the bubblewrap package")
    found = visitor.exchange(visitor.start(PROBE), "GET", "/probe")
    found = json.loads(found["body"])
    assert found["/etc/shadow"] == "FileNotFoundError"
    assert found["/root"] == "FileNotFoundError" or ".pyenv" in str(found["/root"])
    assert found["/proc/1/environ"] in ("PermissionError", "FileNotFoundError")
    assert found["net"] == errno.EPERM  # seccomp: no connect() at all (see test_attacks.py)
    assert found["interfaces"] == ["lo"]  # and a network namespace of its own behind it
    assert found["write"] in ("PermissionError", "OSError")
    assert "PLAYGROUND_SECRET_KEY" not in found["env"] and "PATH" in found["env"]
    assert found["cwd"] == "/sandbox"
    if os.geteuid() == 0:
        assert found["uid"] >= 200000


def test_the_host_source_is_not_visible_in_the_sandbox(visitor):
    code = (
        HELLO + '@app.route("/look")\ndef look():\n    import os\n'
        f"    return str(os.path.exists({os.path.abspath('playground')!r}))\n" + SERVE
    )
    assert visitor.exchange(visitor.start(code), "GET", "/look")["body"] == "False"


def test_rlimits_apply(visitor):
    code = (
        HELLO + '@app.route("/limits")\ndef limits():\n    import resource\n'
        "    return str([resource.getrlimit(r)[1] for r in (resource.RLIMIT_NPROC, "
        "resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE)])\n" + SERVE
    )
    assert visitor.exchange(visitor.start(code), "GET", "/limits")["body"] == str(
        [64, 256, 16 * 1024 * 1024]
    )


EVERYDAY = (
    HELLO
    + """
import asyncio, json, multiprocessing, socket, sqlite3
@app.route("/everyday")
def everyday():
    found = {"hostname": socket.gethostname(), "fqdn": socket.getfqdn()}
    found["asyncio"] = asyncio.run(asyncio.sleep(0, "its self-pipe is a socketpair"))
    found["localhost"] = sorted({a[4][0] for a in socket.getaddrinfo("localhost", 80)})
    try:
        socket.getaddrinfo("example.com", 80)
    except socket.gaierror as e:
        found["example.com"] = e.errno
    db = sqlite3.connect("data.db")
    db.execute("CREATE TABLE IF NOT EXISTS t (x)")
    found["sqlite"] = db.execute("SELECT count(*) FROM t").fetchone()[0]
    mine, theirs = multiprocessing.Pipe()
    theirs.send("over a Unix socket pair")
    found["pipe"] = mine.recv()
    shared = multiprocessing.Value("i", 7)  # in /dev/shm, as Werkzeug's debugger's is
    with multiprocessing.Lock():
        found["shared"] = shared.value
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError as e:
        found["udp"] = e.errno
    return json.dumps(found)
"""
    + SERVE
)


def test_a_flask_app_keeps_what_it_needs_of_sockets_and_names(visitor, app):
    """The sandbox may make Unix sockets only (seccomp.py): asyncio, sqlite3 and
    multiprocessing (its pipes, and its shared memory in /dev/shm) still work, and names resolve
    from its own /etc/hosts without DNS."""
    sandbox = visitor.start(EVERYDAY)
    assert sandbox["state"] == "running", sandbox["error"]
    reply = visitor.exchange(sandbox, "GET", "/everyday")
    assert reply["status"] == 200, [e.get("error") for e in reply["events"]]
    found = json.loads(reply["body"])
    assert found["sqlite"] == 0 and found["pipe"] == "over a Unix socket pair"
    assert found["shared"] == 7
    assert found["asyncio"] == "its self-pipe is a socketpair"
    if services_of(app).sandboxes.isolation.name == "bubblewrap":
        assert (found["hostname"], found["fqdn"]) == ("sandbox", "sandbox")
        assert found["localhost"] == ["127.0.0.1"]
        # Not found, at once: the jail's nsswitch.conf says files only, and a warm child that
        # read the host's before its jail tries DNS, whose socket() seccomp refuses.
        assert found["example.com"] in (socket.EAI_NONAME, socket.EAI_AGAIN)
        assert found["udp"] == errno.EPERM
