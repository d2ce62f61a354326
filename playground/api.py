"""The JSON API: snippets, sandboxes, requests through the proxy, the flask command, cookies,
events (docs/api.md)."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, current_app, request, url_for

from . import cookies, exchange, files, proxy, trace
from .cookies import Jar
from .errors import PlaygroundError
from .sandbox.errors import PlaygroundBusy, PlaygroundFull, TooManySandboxes
from .sandbox.sandbox import Sandbox
from .security import body
from .services import services
from .visitors import current

bp = Blueprint("api", __name__, url_prefix="/api")
LABEL_MAX = 200  # characters of a sandbox's label
MAX_COMMAND_ARGS = 32
MAX_COMMAND_ARG = 1024  # characters of one argument


def shown(sandbox: Sandbox) -> dict:
    """The sandbox as the API shows it: its state (explained) and its address through the
    host, which reaches it from any machine that reaches the host (gateway.py)."""
    return {
        **trace.explained(sandbox),
        "url": url_for("gateway.forward", token=sandbox.token, _external=True),
    }


def mine(sandbox_id: str) -> Sandbox:
    """The visitor's own sandbox (anyone else's is a 404)."""
    return services().sandboxes.get(sandbox_id, current())


def jar_of(sandbox: Sandbox) -> Jar:
    """The visitor's cookie jar for their own app."""
    return services().jars.of(sandbox, current())


# -- snippets -----------------------------------------------------------------------------------


@bp.get("/snippets")
def list_snippets() -> dict:
    return {"snippets": services().catalog.summaries()}


@bp.get("/snippets/<slug>")
def get_snippet(slug: str) -> dict:
    snippet = services().catalog.get(slug)
    if snippet is None:
        raise PlaygroundError(404, "no_such_snippet", f"there is no snippet {slug!r}.")
    return snippet


# -- sandboxes ----------------------------------------------------------------------------------


@bp.post("/sandboxes")
def create_sandbox() -> tuple[dict, int]:
    with counted_run():
        data = body()
        written = files.on_disk(files.checked(data))
        sandbox = services().sandboxes.create(current(), written, label(data), files.app_spec(data))
    services().room.ran(sandbox)
    return shown(sandbox), 201


@bp.get("/sandboxes/<sandbox_id>")
def get_sandbox(sandbox_id: str) -> dict:
    return shown(mine(sandbox_id))


@bp.put("/sandboxes/<sandbox_id>")
def rerun_sandbox(sandbox_id: str) -> dict:
    with counted_run():
        return rerun(sandbox_id, body())


def rerun(sandbox_id: str, data: dict) -> dict:
    checked = files.checked(data)
    sandbox = mine(sandbox_id)
    sandbox.label = label(data) or sandbox.label
    if "app" in data:
        sandbox.app_spec = files.app_spec(data)
    services().sandboxes.start(
        sandbox, files.on_disk(checked), reset_data=data.get("reset_data") is True
    )
    services().room.ran(sandbox)
    return shown(sandbox)


@contextmanager
def counted_run() -> Iterator[None]:
    """A run spends one of the visitor's runs a minute, unless it is refused for a cap (it
    never ran); the presenter's runs are not counted (watch mode re-runs at every pause in
    typing, in front of the room)."""
    counted = not services().room.is_presenter(current())
    if counted:
        services().limits["runs"].take(current())
    try:
        yield
    except (TooManySandboxes, PlaygroundFull, PlaygroundBusy):
        if counted:
            services().limits["runs"].give_back(current())
        raise


def label(data: dict) -> str | None:
    """What the visitor calls the app (the snippet's title), named back to them in refusals."""
    text = data.get("label")
    return text[:LABEL_MAX] if isinstance(text, str) and text.strip() else None


@bp.delete("/sandboxes/<sandbox_id>")
def delete_sandbox(sandbox_id: str) -> dict:
    sandbox = mine(sandbox_id)
    services().sandboxes.remove(sandbox)
    services().room.stopped(sandbox)
    return {"id": sandbox_id, "state": "stopped"}


@bp.get("/sandboxes/<sandbox_id>/events")
def sandbox_events(sandbox_id: str) -> Response:
    frames = mine(sandbox_id).events.after(request.args.get("after", 0, type=int))
    # Kept as JSON text: joined, not parsed and serialised again.
    return Response(
        '{"events": [' + ",".join(f.text for f in frames) + "]}", mimetype="application/json"
    )


# -- requests through the proxy ----------------------------------------------------------------


@bp.post("/sandboxes/<sandbox_id>/requests")
def send_request(sandbox_id: str) -> dict:
    services().limits["requests"].take(current())
    sandbox = mine(sandbox_id)
    data = body()
    wanted, follow = exchange.parse(data, current_app.config)
    result = exchange.send_to(
        sandbox, jar_of(sandbox), wanted, follow, current_app.config
    ).to_json()
    if data.get("preview") is not True:  # the preview's own assets are not the presenter's show
        services().room.exchanged(sandbox, result)
    return result


# -- the flask command ---------------------------------------------------------------------------


@bp.post("/sandboxes/<sandbox_id>/commands")
def run_command(sandbox_id: str) -> dict:
    """`flask <args>` for the app, inside its sandbox (child/commands.py)."""
    services().limits["commands"].take(current())
    data = body()
    args, text = data.get("args"), data.get("input", "")
    if (
        not isinstance(args, list)
        or len(args) > MAX_COMMAND_ARGS
        or not all(
            isinstance(a, str) and len(a) <= MAX_COMMAND_ARG and "\x00" not in a for a in args
        )
    ):
        raise PlaygroundError(
            400,
            "bad_args",
            f'"args" is a list of at most {MAX_COMMAND_ARGS} '
            f"strings (of {MAX_COMMAND_ARG} characters at most), like "
            '["init-db"] or ["routes"].',
        )
    if not isinstance(text, str) or len(text) > current_app.config["MAX_REQUEST_BODY_BYTES"]:
        raise PlaygroundError(400, "bad_input", '"input" is the text the command reads.')
    done = mine(sandbox_id).command(args, text, current_app.config["COMMAND_TIMEOUT"])
    return {
        "exit_code": done["exit_code"],
        "output": done["output"],
        "truncated": done.get("truncated", False),
        "elapsed_ms": done["elapsed_ms"],
    }


@bp.get("/sandboxes/<sandbox_id>/cookies")
def get_cookies(sandbox_id: str) -> dict:
    return {"cookies": jar_of(mine(sandbox_id)).list()}


@bp.put("/sandboxes/<sandbox_id>/cookies")
def set_cookie(sandbox_id: str) -> dict:
    jar = jar_of(mine(sandbox_id))
    data = body()
    name, value, path = data.get("name"), data.get("value", ""), data.get("path", "/")
    if not (
        isinstance(name, str) and isinstance(value, str) and isinstance(path, str)
    ) or not proxy.TOKEN.match(name):
        raise PlaygroundError(
            400, "bad_cookie", "a cookie needs a name (a token) and a text value."
        )
    if proxy.BAD_VALUE.search(value) or ";" in value:
        raise PlaygroundError(400, "bad_cookie", "a cookie value cannot hold ';' or line breaks.")
    if not (value + path).isascii():
        # It would go out in a Cookie header, which is ASCII: every later request would fail.
        raise PlaygroundError(
            400,
            "bad_cookie",
            "a cookie value is ASCII: percent-encode other characters (é is %C3%A9).",
        )
    jar.set(name, value, path)
    return {"cookies": jar.list()}


@bp.post("/sandboxes/<sandbox_id>/cookies/<name>/tamper")
def tamper_session(sandbox_id: str, name: str) -> dict:
    """Put a Flask session with an edited payload and the old signature in the jar."""
    jar = jar_of(mine(sandbox_id))
    payload = body().get("payload")
    cookie = next((c for c in jar.list() if c["name"] == name), None)
    if cookie is None:
        raise PlaygroundError(404, "no_such_cookie", f"there is no cookie {name!r} in the jar.")
    if not isinstance(payload, dict):
        raise PlaygroundError(400, "bad_payload", '"payload" must be a JSON object.')
    try:
        value = cookies.tamper_flask_session(cookie["value"] or "", payload)
    except RecursionError:
        raise PlaygroundError(400, "bad_payload", '"payload" is nested too deeply.') from None
    if value is None:
        raise PlaygroundError(400, "not_a_session", f"{name} is not a Flask session cookie.")
    jar.set(name, value, cookie["path"])
    return {"cookies": jar.list()}


@bp.delete("/sandboxes/<sandbox_id>/cookies")
def clear_cookies(sandbox_id: str) -> dict:
    jar = jar_of(mine(sandbox_id))
    jar.clear()
    return {"cookies": []}


@bp.delete("/sandboxes/<sandbox_id>/cookies/<name>")
def delete_cookie(sandbox_id: str, name: str) -> dict:
    jar = jar_of(mine(sandbox_id))
    if not jar.delete(name):
        raise PlaygroundError(404, "no_such_cookie", f"there is no cookie {name!r} in the jar.")
    return {"cookies": jar.list()}
