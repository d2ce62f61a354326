"""The editor page and what only the page needs (highlighting, its stylesheet, formatting).

Static URLs carry `?_hash=` of the file's content so a browser never runs stale
code; ES modules import each other by plain relative URLs, so the page also gets
an import map that points each module at its hashed URL.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import cast

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from . import highlight, workers
from .errors import PlaygroundError
from .files import is_utf8
from .formatting import FormatResult
from .ratelimit import EVERYONE
from .services import services
from .visitors import current

bp = Blueprint("views", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html")


def _posted_code(rate: str) -> dict:
    """The JSON body of a call holding `"code"`, counted against the visitor's `rate` (the
    Origin is checked for every call by security.guard)."""
    services().limits[rate].take(current())
    large = (request.content_length or 0) - current_app.config["TEXT_FREE_BYTES"]
    if large > 0:
        services().limits["text_bytes"].take(EVERYONE, large)
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        raise PlaygroundError(
            400, "bad_request", 'Send JSON like {"code": "...", "language": "python"}.'
        )
    return data


@bp.post("/api/highlight")
def highlight_code() -> Response:
    data = _posted_code("highlights")
    code = data["code"]
    limit = current_app.config["MAX_BODY_BYTES"]  # a response body is the largest text shown
    if len(code) > limit:
        raise PlaygroundError(
            413, "too_large", f"Only text up to {limit} characters is highlighted."
        )
    result = highlight.highlight_or_plain(
        code,
        str(data.get("language") or "text"),
        services().text_workers,
        current_app.config["HIGHLIGHT_TIMEOUT"],
    )
    return jsonify(html=result.html, fallback=result.fallback)


@bp.post("/api/format")
def format_code() -> Response:
    data = _posted_code("formats")
    code = data["code"]
    if (data.get("language") or "python") != "python":
        raise PlaygroundError(400, "unsupported_language", "Only Python can be formatted.")
    if not is_utf8(code):
        raise PlaygroundError(400, "not_utf8", "The code is not valid UTF-8 (a lone surrogate).")
    limit = current_app.config["MAX_FILE_BYTES"]  # the largest file of a snippet
    if len(code.encode("utf-8")) > limit:
        raise PlaygroundError(
            413, "too_large", f"Only code up to {limit} bytes is formatted (MAX_FILE_BYTES)."
        )
    timeout = current_app.config["FORMAT_TIMEOUT"]
    try:
        result = cast(
            FormatResult,
            services().text_workers.run(
                "playground.formatting:format_python", code, timeout=timeout
            ),
        )
    except workers.Busy:
        raise PlaygroundError(
            503,
            "formatter_busy",
            "The playground is busy formatting and highlighting: try again in a moment.",
            retry_after=1,
        ) from None
    except workers.Timeout:
        raise PlaygroundError(
            504,
            "format_timeout",
            f"Formatting took longer than {timeout:g} s (FORMAT_TIMEOUT) and was stopped.",
        ) from None
    except workers.Failed:
        raise PlaygroundError(
            500, "format_failed", "The formatter failed; the code is unchanged."
        ) from None
    if "error" in result:
        where = f"line {result['line']}: " if result["line"] else ""
        raise PlaygroundError(
            400,
            "cannot_format",
            f"The code cannot be formatted: {where}{result['error']}.",
            line=result["line"],
        )
    return jsonify(code=result["code"], changed=result["code"] != code)


@bp.get("/highlight.css")
def highlight_css() -> Response:
    return Response(_highlight_css(), mimetype="text/css")


@lru_cache(maxsize=1)
def _highlight_css() -> str:
    return highlight.stylesheet()


def _static_folder() -> Path:
    assert current_app.static_folder, "create_app gives the app its static folder"
    return Path(current_app.static_folder)


def _file_hash(path: Path) -> str:
    stat = path.stat()
    return _hash_of(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _hash_of(path: Path, _mtime_ns: int, _size: int) -> str:
    # mtime and size are part of the cache key so an edited file gets a new hash.
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@bp.app_template_global()
def highlight_css_url() -> str:
    """The URL of the Pygments stylesheet, with `?_hash=` of its content."""
    digest = hashlib.sha256(_highlight_css().encode()).hexdigest()[:12]
    return url_for("views.highlight_css", _hash=digest)


@bp.app_template_global()
def static_url(filename: str) -> str:
    """The URL of a static file, with `?_hash=` of its content."""
    path = _static_folder() / filename
    return url_for("static", filename=filename, _hash=_file_hash(path))


@bp.app_template_global()
def module_import_map() -> str:
    """An import map sending every module in static/js to its hashed URL."""
    js = _static_folder() / "js"
    imports = {
        url_for("static", filename=f"js/{p.name}"): static_url(f"js/{p.name}")
        for p in sorted(js.glob("*.js"))
    }
    # `</` cannot appear in JSON we build from file names, but stay safe inside <script>.
    return json.dumps({"imports": imports}, indent=2).replace("</", "<\\/")
