"""Fixtures: the host app, its test client, a real server on a free port, and leak checks.

Every sandbox here is real: a child process, in bubblewrap where it works.
"""

import json
import os

import pytest

from playground import create_app
from playground.services import services_of
from tests.servers import sandbox_processes, start_server, stop_server, wait_until, worker_processes


@pytest.fixture(scope="session")
def app():
    app = create_app(
        {
            "TESTING": True,
            "START_TIMEOUT": 8.0,
            "REQUEST_TIMEOUT": 3.0,
            "MAX_SANDBOXES_PER_VISITOR": 5,
        }
    )
    yield app
    services_of(app).sandboxes.shutdown()
    workers = services_of(app).text_workers
    pids = workers.pids()
    workers.shutdown()
    assert not set(pids) & set(worker_processes(os.getpid())), "a text worker outlived its app"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_client(app):
    """Another visitor: each call gives a client with its own cookies."""
    return app.test_client


@pytest.fixture(autouse=True)
def no_leaked_children(request):
    """Stop what a test left running, then fail it if any of its processes survived."""
    yield
    if "app" not in request.fixturenames:
        return
    manager = services_of(request.getfixturevalue("app")).sandboxes
    for sandbox in manager.all():
        manager.remove(sandbox)
    if os.geteuid() == 0:
        assert sandbox_processes(manager.uids) == [], "a sandbox's processes outlived it"


@pytest.fixture(scope="session")
def live_server():
    """The base URL ("http://127.0.0.1:PORT") of a real playground process."""
    proc, url = start_server()
    try:
        yield url
    finally:
        stop_server(proc)


class Visitor:
    """A visitor of the API through the test client: start apps, send them requests."""

    def __init__(self, client):
        self.client = client

    def start(self, code: str | None, files: dict | None = None) -> dict:
        """Run `code` as app.py (None: no app.py) with `files` beside it."""
        files = {**({"app.py": code} if code is not None else {}), **(files or {})}
        response = self.client.post("/api/sandboxes", json={"files": files})
        assert response.status_code == 201, response.json
        return response.json

    def send(self, sandbox: dict, method="GET", path="/", headers=None, body=None, **extra):
        # Serialised here, not by the client: Flask's JSON would sort the headers by name.
        payload = json.dumps(
            {"method": method, "path": path, "headers": headers or {}, "body": body, **extra}
        )
        return self.client.post(
            f"/api/sandboxes/{sandbox['id']}/requests",
            data=payload,
            content_type="application/json",
        )

    def exchange(self, sandbox: dict, method="GET", path="/", **kwargs) -> dict:
        response = self.send(sandbox, method, path, **kwargs)
        assert response.status_code == 200, response.json
        return response.json

    def wait_for_state(self, sandbox: dict, state: str, timeout: float = 15) -> dict:
        """The sandbox as the API shows it once it is in `state` (a child's exit, say, reaches
        the host a moment after the answer that saw it die)."""
        shown = {}

        def arrived() -> bool:
            shown.update(self.client.get(f"/api/sandboxes/{sandbox['id']}").json)
            return shown["state"] == state

        wait_until(arrived, timeout, lambda: f"{state}, still {shown['state']}: {shown}", 0.1)
        return shown


@pytest.fixture
def visitor(client):
    return Visitor(client)
