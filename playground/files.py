"""A snippet's files as the API takes them, and which app of them to run: checked once, refused
with a message that says why.

Every way files reach the host (a run, a share, a download, the presenter's broadcast) goes
through `checked`, so a name or size that one path refuses no other path lets through.

A file's value is its text (a str), or `{"base64": "..."}` for a file that is not text (an icon,
an image). Sizes count the bytes on disk, so a binary file has the same limits as a text file.
"""

import base64
import binascii
import posixpath
import re

from flask import current_app

from .errors import PlaygroundError

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_MAX = 255  # bytes in one file or folder name, the filesystem's own limit
PATH_MAX = 1024  # bytes in a whole path: well within the system's 4096 with our folders added
# Which app to run, as `flask --app` names it: a module or file, then optionally ":" and a name
# or a call.
APP_SPEC = re.compile(r"^[\w.\-/]{1,200}(:[^\x00-\x1f]{1,200})?$")


def checked(data: dict) -> dict:
    """The snippet's files, refused with a clear message when they cannot be run."""
    files = data.get("files")
    settings = current_app.config
    if not isinstance(files, dict) or not files:
        raise PlaygroundError(
            400, "bad_files", '"files" must be an object {path: text or {"base64": ...}}.'
        )
    if len(files) > settings["MAX_FILES"]:
        raise PlaygroundError(413, "too_many_files", f"at most {settings['MAX_FILES']} files.")
    total = 0
    files = dict(files)
    for path, value in files.items():
        if not isinstance(path, str):
            raise PlaygroundError(400, "bad_files", "every file needs a path and a text.")
        problem = path_problem(path)
        if problem:
            raise PlaygroundError(400, "bad_path", f"{path!r} {problem}.")
        raw = content(path, value, settings["MAX_FILE_BYTES"])
        if len(raw) > settings["MAX_FILE_BYTES"]:
            raise PlaygroundError(
                413,
                "file_too_large",
                f"{path} is {len(raw)} bytes; the most is {settings['MAX_FILE_BYTES']}.",
            )
        if not isinstance(value, str):
            files[path] = {"base64": base64.b64encode(raw).decode("ascii")}  # one spelling
        total += len(raw)
    if total > settings["MAX_SNIPPET_BYTES"]:
        raise PlaygroundError(
            413,
            "snippet_too_large",
            f"the files add up to {total} bytes; the most is {settings['MAX_SNIPPET_BYTES']}.",
        )
    clashes = sorted(files.keys() & {folder for path in files for folder in folders_of(path)})
    if clashes:
        raise PlaygroundError(400, "bad_path", f"{clashes[0]!r} is both a file and a folder.")
    return files


def content(path: str, value: object, limit: int) -> bytes:
    """The bytes of one file's value (text or {"base64"}), refused when it is neither; a base64
    text longer than `limit` bytes could encode is refused before it is decoded."""
    if isinstance(value, str):
        if not is_utf8(value):
            raise PlaygroundError(
                400, "not_utf8", f"{path} holds text that is not valid UTF-8 (a lone surrogate)."
            )
        return value.encode("utf-8")
    if (
        not isinstance(value, dict)
        or value.keys() != {"base64"}
        or not isinstance(value["base64"], str)
    ):
        raise PlaygroundError(
            400,
            "bad_files",
            f'{path}: a file is its text, or {{"base64": "..."}} for a file that is not text.',
        )
    return decoded(value["base64"], limit, f"{path} is", "file_too_large")


def decoded(text: str, limit: int, what: str, too_large: str) -> bytes:
    """Standard base64 (padded, no line breaks) as bytes; 413 `too_large` past `limit` bytes
    without decoding the rest, 400 `bad_base64` for anything that is not base64."""
    if len(text) > 4 * (limit // 3 + 1):
        raise PlaygroundError(413, too_large, f"{what} larger than {limit} bytes.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PlaygroundError(
            400, "bad_base64", f"{what} not valid base64 (standard alphabet, padded with =)."
        ) from None


def value_of(data: bytes) -> str | dict:
    """A file's bytes as the API gives them: its text when it is UTF-8 without NUL bytes, else
    {"base64"} (an image, an icon, a font)."""
    if b"\x00" not in data:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {"base64": base64.b64encode(data).decode("ascii")}


def data_of(value: str | dict) -> bytes:
    """The bytes on disk of a value `checked` let through (which holds no lone surrogate: the
    surrogatepass is for text of our own, such as a download's README titled by the visitor)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return base64.b64decode(value["base64"])


def on_disk(files: dict) -> dict[str, bytes]:
    """Checked files as the bytes the sandbox writes."""
    return {path: data_of(value) for path, value in files.items()}


def path_problem(path: str) -> str | None:
    """Why `path` cannot name a file of the snippet, or None when it can."""
    normal = posixpath.normpath(path)
    if (
        path.startswith("/")
        or normal.startswith("..")
        or normal != path
        or "\\" in path
        or not path.strip()
        or path == "."
    ):
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


def folders_of(path: str) -> list[str]:
    """ "a/b/c.py" -> ["a", "a/b"]"""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def is_utf8(text: str) -> bool:
    """False for text holding lone surrogates (JSON's "\\udcff"), which no file can store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def app_spec(data: dict) -> str | None:
    """Which app to run, as `flask --app` takes it ("flaskr:create_app('dev')"); None: look
    for it as `flask run` does (child/discovery.py)."""
    spec = data.get("app")
    if spec is None or spec == "":
        return None
    if not isinstance(spec, str) or not APP_SPEC.match(spec):
        raise PlaygroundError(
            400,
            "bad_app",
            '"app" names the app as flask --app does: a module '
            "or file, then optionally : and a name or a call, like "
            "hello:app or flaskr:create_app('dev').",
        )
    return spec
