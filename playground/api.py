"""The JSON API: snippets, sandboxes, requests through the proxy, cookies, events (docs/api.md)."""

import posixpath
import re
import time

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from . import cookies, proxy, security, trace, visitors
from .errors import PlaygroundError

bp = Blueprint("api", __name__, url_prefix="/api")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_MAX = 255  # bytes in one file or folder name, the filesystem's own limit
PATH_MAX = 1024  # bytes in a whole path: well within the system's 4096 with our folders added


def manager():
    return current_app.extensions["playground.sandboxes"]


def catalog():
    return current_app.extensions["playground.snippets"]


def room():
    """Presenter mode (presenter.py): told of the presenter's runs and exchanges."""
    return current_app.extensions["playground.room"]


@bp.before_request
def guard():
    if request.method in ("POST", "PUT", "DELETE", "PATCH"):
        if not visitors.same_origin():
            raise PlaygroundError(403, "cross_origin", "calls from another site are refused.")
        if request.content_length and not request.is_json:
            raise PlaygroundError(415, "json_required", "send JSON (Content-Type: application/json).")


@bp.app_errorhandler(PlaygroundError)
def playground_error(error):
    return jsonify(error.to_json()), error.status


@bp.app_errorhandler(HTTPException)
def http_error(error):
    """JSON under /api/ (unknown paths included), Flask's own pages elsewhere."""
    if not request.path.startswith("/api/"):
        return error
    code = error.name.lower().replace(" ", "_")
    return jsonify({"error": {"code": code, "message": error.description}}), error.code


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise PlaygroundError(400, "bad_json", "the request body must be a JSON object.")
    return data


def checked_files(data: dict) -> dict:
    """The snippet's files, refused with a clear message when they cannot be run."""
    files = data.get("files")
    settings = current_app.config
    if not isinstance(files, dict) or not files:
        raise PlaygroundError(400, "bad_files", '"files" must be an object {path: text}.')
    if len(files) > settings["MAX_FILES"]:
        raise PlaygroundError(413, "too_many_files", f"at most {settings['MAX_FILES']} files.")
    total = 0
    for path, text in files.items():
        if not isinstance(path, str) or not isinstance(text, str):
            raise PlaygroundError(400, "bad_files", "every file needs a path and a text.")
        problem = path_problem(path)
        if problem:
            raise PlaygroundError(400, "bad_path", f"{path!r} {problem}.")
        if not is_utf8(text):
            raise PlaygroundError(400, "not_utf8", f"{path} holds text that is not valid UTF-8 "
                                  "(a lone surrogate).")
        size = len(text.encode("utf-8"))
        if size > settings["MAX_FILE_BYTES"]:
            raise PlaygroundError(413, "file_too_large", f"{path} is {size} bytes; the most is "
                                  f"{settings['MAX_FILE_BYTES']}.")
        total += size
    if total > settings["MAX_SNIPPET_BYTES"]:
        raise PlaygroundError(413, "snippet_too_large", f"the files add up to {total} bytes; the "
                              f"most is {settings['MAX_SNIPPET_BYTES']}.")
    clashes = sorted(files.keys() & {folder for path in files for folder in folders_of(path)})
    if clashes:
        raise PlaygroundError(400, "bad_path", f"{clashes[0]!r} is both a file and a folder.")
    if "app.py" not in files:
        raise PlaygroundError(400, "no_app_py", "a snippet needs an app.py: that is what runs.")
    return files


def path_problem(path: str) -> str | None:
    """Why `path` cannot name a file of the snippet, or None when it can."""
    normal = posixpath.normpath(path)
    if (path.startswith("/") or normal.startswith("..") or normal != path or "\\" in path
            or not path.strip() or path == "."):
        return "is not a relative path inside the snippet (no leading /, no ..)"
    if CONTROL.search(path):
        return "holds a control character"
    if not is_utf8(path):
        return "is not valid UTF-8"
    if any(len(part.encode("utf-8")) > NAME_MAX for part in path.split("/")):
        return f"has a name longer than {NAME_MAX} bytes"
    if len(path.encode("utf-8")) > PATH_MAX:
        return f"is longer than {PATH_MAX} bytes"
    return None


def folders_of(path: str) -> list:
    """"a/b/c.py" -> ["a", "a/b"]"""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def is_utf8(text: str) -> bool:
    """False for text holding lone surrogates (JSON's "\\udcff"), which no file can store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- snippets -----------------------------------------------------------------------------------

@bp.get("/snippets")
def list_snippets():
    return {"snippets": catalog().summaries()}


@bp.get("/snippets/<slug>")
def get_snippet(slug):
    snippet = catalog().get(slug)
    if snippet is None:
        raise PlaygroundError(404, "no_such_snippet", f"there is no snippet {slug!r}.")
    return snippet


# -- sandboxes ----------------------------------------------------------------------------------

@bp.post("/sandboxes")
def create_sandbox():
    security.rate_limit("runs", visitors.current())
    files = checked_files(body())
    sandbox = manager().create(visitors.current(), files)
    room().ran(sandbox)
    return trace.explained(sandbox), 201


@bp.get("/sandboxes/<sandbox_id>")
def get_sandbox(sandbox_id):
    return trace.explained(manager().get(sandbox_id, visitors.current()))


@bp.put("/sandboxes/<sandbox_id>")
def rerun_sandbox(sandbox_id):
    security.rate_limit("runs", visitors.current())
    files = checked_files(body())
    sandbox = manager().get(sandbox_id, visitors.current())
    manager().start(sandbox, files)
    room().ran(sandbox)
    return trace.explained(sandbox)


@bp.delete("/sandboxes/<sandbox_id>")
def delete_sandbox(sandbox_id):
    sandbox = manager().get(sandbox_id, visitors.current())
    manager().delete(sandbox_id, visitors.current())
    room().stopped(sandbox)
    return {"id": sandbox_id, "state": "stopped"}


@bp.get("/sandboxes/<sandbox_id>/events")
def sandbox_events(sandbox_id):
    sandbox = manager().get(sandbox_id, visitors.current())
    return {"events": sandbox.events.after(request.args.get("after", 0, type=int))}


# -- requests through the proxy ----------------------------------------------------------------

@bp.post("/sandboxes/<sandbox_id>/requests")
def send_request(sandbox_id):
    security.rate_limit("requests", visitors.current())
    sandbox = manager().get(sandbox_id, visitors.current())
    result = relay(sandbox, body())
    room().exchanged(sandbox, result)
    return result


def relay(sandbox, data: dict) -> dict:
    """Send the request `data` describes to `sandbox` (anything with the proxy's `scheme`,
    `port` and `jar`, and a sandbox's `state` and `events`) and describe the exchange."""
    method, path = data.get("method", "GET"), data.get("path", "/")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise PlaygroundError(400, "bad_headers", '"headers" must be an object {name: value}.')
    headers = list(headers.items())
    text = data.get("body")
    if text is not None and not (isinstance(text, str) and is_utf8(text)):
        raise PlaygroundError(400, "bad_body", '"body" must be a string (valid UTF-8) or null.')
    payload = text.encode("utf-8") if text else None
    if payload and len(payload) > current_app.config["MAX_REQUEST_BODY_BYTES"]:
        raise PlaygroundError(413, "body_too_large", "the request body is larger than "
                              f"{current_app.config['MAX_REQUEST_BODY_BYTES']} bytes.")
    check_size(path, headers)
    proxy.validate(method, path, headers)
    if sandbox.state != "running":
        raise PlaygroundError(409, "not_running", f"the app is not running (it is {sandbox.state}): "
                              "press Run first.")

    redirects = []
    deadline = time.monotonic() + current_app.config["REQUEST_TIMEOUT"]  # for all the hops
    while True:
        after = sandbox.events.last_seq
        result = proxy.exchange(sandbox, method, path, headers, payload,
                                timeout=max(deadline - time.monotonic(), 0.01),
                                max_body=current_app.config["MAX_BODY_BYTES"])
        result["events"] = served_events(sandbox, after, result.pop("local_port"))
        result.update(trace.from_child(result["events"]))
        target = proxy.redirect_target(result, sandbox.port)
        if (not data.get("follow_redirects") or target is None
                or len(redirects) >= proxy.MAX_REDIRECTS or not proxy.TARGET.match(target)
                or time.monotonic() >= deadline):
            break  # not to be followed, not a path we could send, or no time for another hop
        redirects.append({"status": result["status"], "location": target})
        if result["status"] in (301, 302, 303) and method != "HEAD":
            method, payload = "GET", None
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")]
        path = target
    result["redirects"] = redirects
    sandbox.touch()
    return result


def check_size(path, headers: list) -> None:
    """Refuse what the proxy could not send: too many headers, a huge path, non-Latin-1 values."""
    settings = current_app.config
    if len(headers) > settings["MAX_REQUEST_HEADERS"]:
        raise PlaygroundError(400, "too_many_headers", f"at most {settings['MAX_REQUEST_HEADERS']} "
                              "headers in one request.")
    if isinstance(path, str) and len(path) > settings["MAX_TARGET_BYTES"]:
        raise PlaygroundError(414, "path_too_long", f"the path is {len(path)} characters long; the "
                              f"most is {settings['MAX_TARGET_BYTES']}.")
    for name, value in headers:
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise PlaygroundError(400, "bad_header", f"the value of {name!r} has characters HTTP "
                                  "headers cannot carry: percent-encode them.") from None


def served_events(sandbox, after: int, port: int) -> list:
    """The child's own account of this exchange: its request summary and any exception."""
    # The child reports a request as its view returns, a moment before the proxy has read it all.
    sandbox.events.wait_for(lambda e: e["type"] == "request" and e.get("remote_port") == port,
                            after, timeout=0.5)
    return [e for e in sandbox.events.after(after)
            if e["type"] in ("request", "exception") and e.get("remote_port") == port]


@bp.get("/sandboxes/<sandbox_id>/cookies")
def get_cookies(sandbox_id):
    return {"cookies": manager().get(sandbox_id, visitors.current()).jar.list()}


@bp.put("/sandboxes/<sandbox_id>/cookies")
def set_cookie(sandbox_id):
    jar = manager().get(sandbox_id, visitors.current()).jar
    data = body()
    name, value, path = data.get("name"), data.get("value", ""), data.get("path", "/")
    if not all(isinstance(x, str) for x in (name, value, path)) or not proxy.TOKEN.match(name or ""):
        raise PlaygroundError(400, "bad_cookie", "a cookie needs a name (a token) and a text value.")
    if proxy.BAD_VALUE.search(value) or ";" in value:
        raise PlaygroundError(400, "bad_cookie", "a cookie value cannot hold ';' or line breaks.")
    if not (value + path).isascii():
        # It would go out in a Cookie header, which is ASCII: every later request would fail.
        raise PlaygroundError(400, "bad_cookie", "a cookie value is ASCII: percent-encode other "
                              "characters (é is %C3%A9).")
    jar.set(name, value, path)
    return {"cookies": jar.list()}


@bp.post("/sandboxes/<sandbox_id>/cookies/<name>/tamper")
def tamper_session(sandbox_id, name):
    """Put a Flask session with an edited payload and the old signature in the jar."""
    jar = manager().get(sandbox_id, visitors.current()).jar
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
def clear_cookies(sandbox_id):
    jar = manager().get(sandbox_id, visitors.current()).jar
    jar.clear()
    return {"cookies": []}


@bp.delete("/sandboxes/<sandbox_id>/cookies/<name>")
def delete_cookie(sandbox_id, name):
    jar = manager().get(sandbox_id, visitors.current()).jar
    if not jar.delete(name):
        raise PlaygroundError(404, "no_such_cookie", f"there is no cookie {name!r} in the jar.")
    return {"cookies": jar.list()}
