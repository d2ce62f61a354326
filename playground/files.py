"""A snippet's files as the API takes them: checked once, refused with a message that says why.

Every way files reach the host (a run, a share, a download, the presenter's broadcast) goes
through `checked`, so a name or size that one path refuses no other path lets through.
"""

import posixpath
import re

from flask import current_app

from .errors import PlaygroundError

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_MAX = 255  # bytes in one file or folder name, the filesystem's own limit
PATH_MAX = 1024  # bytes in a whole path: well within the system's 4096 with our folders added


def checked(data: dict) -> dict:
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
