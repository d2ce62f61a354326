"""Warm starts (the zygote, sandbox/zygote.py and child/zygote.py) keep every isolation property
of a cold start, siblings cannot see each other, a child cannot touch the zygote, and a zygote
that dies loses no run. Hostile code runs only once the attack suite's probe has proved the
sandbox isolated (the `attacker` fixture)."""

import json
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from playground import create_app
from playground.sandbox.errors import FilesNotWritten
from playground.sandbox.isolation import PACKAGE_DIR, python_roots
from playground.sandbox.sandbox import Sandbox
from playground.services import services_of
from tests.conftest import Visitor
from tests.servers import wait_until
from tests.test_attacks import HELLO, SERVE, app, attacker, isolated, route  # noqa: F401

PROPERTIES = (
    HELLO
    + """
import os, resource, json
def tty():
    try:
        open("/dev/tty").close()
        return "a controlling terminal"
    except OSError as e:
        return e.errno
@app.route("/properties")
def properties():
    status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
    mounts = [l.split()[4] for l in open("/proc/self/mountinfo")]
    return {
        "uid": os.getresuid(), "gid": os.getresgid(), "groups": os.getgroups(),
        "caps": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
        "no_new_privs": status["NoNewPrivs"].strip(), "seccomp": status["Seccomp"].strip(),
        "namespaces": {n: os.readlink(f"/proc/self/ns/{n}") for n in
                       ("mnt", "net", "pid", "ipc", "uts", "cgroup")},
        "rlimits": {n: resource.getrlimit(getattr(resource, n)) for n in
                    ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_FSIZE",
                     "RLIMIT_CORE")},
        "cgroup": open("/proc/self/cgroup").read().split(),
        "mounts": sorted(mounts),
        "disk": os.statvfs("/sandbox").f_blocks * os.statvfs("/sandbox").f_frsize,
        "writable": [p for p in ("/", "/usr", "/etc", "/opt/snippet", "/sandbox", "/tmp")
                     if os.access(p, os.W_OK)],
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "terminal": tty(),
        "environ": sorted(os.environ),
    }
"""
    + SERVE
)


def properties(visitor: Visitor) -> dict:
    sandbox = visitor.start(PROPERTIES)
    assert sandbox["state"] == "running", sandbox["error"]
    found = json.loads(visitor.exchange(sandbox, "GET", "/properties")["body"])
    visitor.client.delete(f"/api/sandboxes/{sandbox['id']}")
    return found


@pytest.fixture(scope="module")
def cold_app(app):
    """A host with the same settings that never starts warm."""
    cold = create_app({**app.config, "WARM_START": False})
    yield cold
    services_of(cold).sandboxes.shutdown()


def test_a_warm_child_has_every_isolation_property_of_a_cold_one(attacker, app, cold_app):
    assert services_of(app).sandboxes.zygote is not None, "this machine should start warm"
    warm, cold = properties(attacker), properties(Visitor(cold_app.test_client()))
    for caps in (warm["caps"], cold["caps"]):
        assert {k: caps[k] for k in ("CapPrm", "CapEff", "CapBnd", "CapAmb")} == dict.fromkeys(
            ("CapPrm", "CapEff", "CapBnd", "CapAmb"), "0000000000000000"
        )
    for same in (
        "no_new_privs",
        "seccomp",
        "rlimits",
        "mounts",
        "disk",
        "writable",
        "terminal",
        "environ",
        "groups",
    ):
        assert warm[same] == cold[same], same
    assert warm["uid"][0] == warm["uid"][1] == warm["uid"][2] != 0
    assert warm["gid"] == [warm["uid"][0]] * 3
    host = {n: os.readlink(f"/proc/self/ns/{n}") for n in warm["namespaces"]}
    assert all(warm["namespaces"][n] != host[n] for n in host)  # none shared with the host
    assert len(warm["pids"]) <= 4  # the jail's init and shell, the app: nothing else
    assert warm["cgroup"] == cold["cgroup"]  # its own group, seen from its cgroup namespace


SIBLING = (
    HELLO
    + """
import os
@app.route("/look/<other>")
def look(other):
    with open("/sandbox/secret.txt", "w") as f:
        f.write("mine")
    mine = open("/proc/self/mountinfo").read()
    seen = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            seen.append(open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"))
        except OSError:
            pass
    return {"mounts_name_other": other in mine, "processes": seen,
            "files": sorted(os.listdir("/sandbox")) + sorted(os.listdir("/tmp"))}
"""
    + SERVE
)


def test_warm_siblings_see_nothing_of_each_other(attacker, app):
    first, second = attacker.start(SIBLING), attacker.start(SIBLING)
    a = json.loads(attacker.exchange(first, "GET", f"/look/{second['id']}")["body"])
    b = json.loads(attacker.exchange(second, "GET", f"/look/{first['id']}")["body"])
    # /tmp is empty but for a venv that lives there, bound read-only at its own path.
    venvs = {r.relative_to("/tmp").parts[0] for r in python_roots() if Path("/tmp") in r.parents}
    for seen in (a, b):
        assert not seen["mounts_name_other"]
        assert seen["files"] == ["app.py", "secret.txt", *sorted(venvs)]  # its own files
        assert (
            sum("bootstrap" in p or "zygote" in p or "app.py" in p for p in seen["processes"]) <= 1
        )  # itself at most, never the sibling


def test_a_child_cannot_signal_trace_or_write_to_the_zygote(attacker, app):
    zygote = services_of(app).sandboxes.zygote
    before = zygote.pid
    sandbox = attacker.start(
        route(f"""
import ctypes, errno, os, signal, socket
found = {{}}
try:
    os.kill({before}, signal.SIGKILL)
    found["kill"] = "sent"
except OSError as e:
    found["kill"] = e.errno
libc = ctypes.CDLL(None, use_errno=True)
found["ptrace"] = libc.ptrace(16, {before}, 0, 0), ctypes.get_errno()  # PTRACE_ATTACH
found["sockets"] = []
for name in os.listdir("/proc/self/fd"):
    target = os.readlink(f"/proc/self/fd/{{name}}") if name.isdigit() else ""
    if target.startswith("socket:"):
        s = socket.socket(fileno=os.dup(int(name)))
        found["sockets"].append(s.type.name)
found["kill_all"] = "tried"
try:
    os.kill(-1, signal.SIGKILL)  # every process it may signal: its own only
except OSError as e:
    found["kill_all"] = e.errno
return found
""")
    )
    answer = attacker.send(sandbox, "GET", "/attack")
    if answer.status_code == 200:  # kill(-1) may take the app with it before it answers
        found = json.loads(answer.json["body"])
        assert found["kill"] == 3  # ESRCH: not in its pid namespace
        assert found["ptrace"] == [-1, 1]  # EPERM, from seccomp
        assert set(found["sockets"]) <= {"SOCK_STREAM"}  # its listener, no zygote socket
    assert zygote.pid == before and os.path.exists(f"/proc/{before}")
    assert attacker.start(HELLO)["state"] == "running"  # and it still forks children


def test_killing_the_zygote_mid_burst_loses_no_run(attacker, app):
    zygote = services_of(app).sandboxes.zygote
    starts = zygote.starts
    results, gate = [], threading.Barrier(13)

    def run():
        visitor = Visitor(app.test_client())
        gate.wait()
        results.append(visitor.start(HELLO)["state"])

    threads = [threading.Thread(target=run) for _ in range(12)]
    for thread in threads:
        thread.start()
    gate.wait()
    os.kill(zygote.pid, signal.SIGKILL)
    for thread in threads:
        thread.join(60)
    assert results == ["running"] * 12
    assert zygote.starts > starts  # a new one took over


def test_a_warm_childs_traceback_names_no_host_path(attacker, app):
    sandbox = attacker.start(route("raise ValueError('here')"))
    reply = attacker.exchange(sandbox, "GET", "/attack")
    log = attacker.client.get(f"/api/sandboxes/{sandbox['id']}/events").json["events"]
    text = json.dumps(reply) + json.dumps(log)
    assert "Traceback" in text and "/opt/playground/" in text  # as a cold child sees it
    for host_path in (str(PACKAGE_DIR), sys.prefix, sys.base_prefix):
        assert host_path not in text


def test_a_run_takes_a_parked_sandbox_and_the_pool_fills_again(attacker, app):
    manager = services_of(app).sandboxes
    wait_until(lambda: len(manager.pool()) >= app.config["POOL_MIN"], 30, "the pool to fill")
    parked = {s.id for s in manager.pool()}
    sandbox = attacker.start(HELLO)
    assert sandbox["id"] in parked  # it only wrote its files and said go
    assert attacker.exchange(sandbox)["body"] == "hi"
    wait_until(lambda: len(manager.pool()) >= app.config["POOL_MIN"], 30, "the pool to refill")


def test_a_parked_sandbox_that_died_is_never_handed_out(attacker, app):
    manager = services_of(app).sandboxes
    wait_until(lambda: len(manager.pool()) >= app.config["POOL_MIN"], 30, "the pool to fill")
    for parked in manager.pool():
        parked.stop()  # as if its child had died
    sandbox = attacker.start(HELLO)
    assert sandbox["state"] == "running" and attacker.exchange(sandbox)["body"] == "hi"


def test_shutting_down_leaves_no_parked_sandbox_behind():
    app = create_app({"TESTING": True, "POOL_MIN": 3})
    manager = services_of(app).sandboxes
    wait_until(lambda: len(manager.pool()) >= 3, 30, "the pool to fill")
    folder = str(manager.basedir)
    manager.shutdown()

    def jails() -> list:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    if folder.encode() in cmdline.read():
                        found.append(pid)
            except OSError:
                pass
        return found

    wait_until(lambda: not jails(), 10, "the parked jails to be gone")


def test_a_sandbox_the_pool_cannot_park_costs_that_one_not_the_pool(monkeypatch):
    """A parked sandbox whose folder cannot be written (a full disk: here a stand-in, once, as
    filling the host's own disk is no test) is given up; the pool goes on parking others."""
    refused = []
    write = Sandbox._write_files

    def full_disk_once(sandbox: Sandbox, files: dict) -> None:
        if not refused:
            refused.append(sandbox.id)
            raise FilesNotWritten("the playground could not write the snippet's files.")
        write(sandbox, files)

    monkeypatch.setattr(Sandbox, "_write_files", full_disk_once)
    app = create_app({"TESTING": True, "POOL_MIN": 2})
    manager = services_of(app).sandboxes
    try:
        wait_until(lambda: len(manager.pool()) >= 2, 30, "the pool to fill after a failure")
        assert refused and refused[0] not in {s.id for s in manager.pool()}
    finally:
        manager.shutdown()
        services_of(app).text_workers.shutdown()
