"""The snippet catalog: every example of the talk, in order, read from `snippets/`.

Each `snippets/NN-slug/` directory holds the visitor's files exactly as they see them, plus a
`snippet.toml` (title, section, notes, suggested requests) that is not one of those files.
The catalog is read and validated once, at start-up; a malformed snippet stops the host with
an error that names it. `get()` returns the shape documented in docs/api.md.
"""

import copy
import html
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import markdown

from . import highlight
from .files import value_of

SNIPPET_FILE = "snippet.toml"
DIRECTORY_NAME = re.compile(r"^(?P<order>\d{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"}
# Left behind by running a snippet locally; never part of what a visitor sees.
IGNORED = {"__pycache__", ".DS_Store", "instance"}

# What Python-Markdown's fenced_code writes for a fenced block (without codehilite, which
# would call Pygments itself: highlight.py is the only module that does).
FENCED_BLOCK = re.compile(
    r'<pre><code(?: class="language-(?P<language>[^"]+)")?>(?P<code>.*?)</code></pre>', re.S
)


class SnippetError(ValueError):
    """A snippet directory or its snippet.toml is malformed; the message names which."""


def render_notes(text: str) -> str:
    """Notes (Markdown) as HTML, with fenced code blocks highlighted by highlight.py (here, not
    in a text worker: the notes are our own catalog's, read once at start-up)."""
    body = markdown.markdown(text, extensions=["fenced_code", "tables"], output_format="html")

    def highlighted(match: re.Match[str]) -> str:
        language = match["language"] or "text"
        code = highlight.render(html.unescape(match["code"]), language)
        return (
            f'<pre class="{highlight.CSS_CLASS}"><code class="language-{language}">'
            f"{code}</code></pre>"
        )

    return FENCED_BLOCK.sub(highlighted, body)


class Catalog:
    """Every snippet, in the talk's order. Build it with `Catalog.load(root)`."""

    def __init__(self, snippets: list[dict]):
        self._snippets = snippets
        self._by_slug = {snippet["slug"]: snippet for snippet in snippets}

    @classmethod
    def load(cls, root: Path) -> "Catalog":
        root = Path(root)
        snippets = [
            _load_snippet(directory)
            for directory in sorted(root.iterdir())
            if directory.is_dir() and directory.name not in IGNORED
        ]
        seen: dict = {}
        for snippet in snippets:
            for key in ("order", "slug"):
                other = seen.setdefault((key, snippet[key]), snippet["directory"])
                if other != snippet["directory"]:
                    raise SnippetError(
                        f"{root / snippet['directory']}: {key} "
                        f"{snippet[key]!r} is also used by {other}"
                    )
        return cls(snippets)

    def summaries(self) -> list[dict]:
        return [
            {key: snippet[key] for key in ("slug", "title", "section", "order")}
            for snippet in self._snippets
        ]

    def get(self, slug: str) -> dict | None:
        snippet = self._by_slug.get(slug)
        return None if snippet is None else _public(snippet)

    def __iter__(self) -> Iterator[dict]:
        return (_public(snippet) for snippet in self._snippets)

    def __len__(self) -> int:
        return len(self._snippets)


def _public(snippet: dict) -> dict:
    """A snippet as the API gives it: a copy, without where it lives on the host."""
    return copy.deepcopy({key: value for key, value in snippet.items() if key != "directory"})


# -- reading and checking one snippet ----------------------------------------------------------


def _load_snippet(directory: Path) -> dict:
    where = directory / SNIPPET_FILE
    name = DIRECTORY_NAME.match(directory.name)
    if not name:
        raise SnippetError(
            f"{directory}: a snippet directory is named NN-slug "
            "(two digits, then lowercase words joined by dashes)"
        )
    try:
        with open(where, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise SnippetError(f"{where}: missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise SnippetError(f"{where}: not valid TOML: {exc}") from None

    check = _Checker(where)
    check.keys(
        data, "", required={"title", "section", "notes"}, optional={"requests", "expect_error"}
    )
    title = check.text(data, "title")
    section = check.text(data, "section")
    notes = check.text(data, "notes")
    requests = [
        _request(check, item, f"requests[{i}]")
        for i, item in enumerate(check.list_of_tables(data, "requests"))
    ]
    expect_error = None
    if "expect_error" in data:
        table = check.table(data, "expect_error")
        check.keys(table, "expect_error", required={"type"})
        expect_error = {"type": check.text(table, "type", "expect_error")}
    if not requests and expect_error is None:
        check.fail("has no [[requests]]: suggest at least one (or say [expect_error])")

    return {
        "directory": directory.name,
        "slug": name["slug"],
        "title": title,
        "section": section,
        "order": int(name["order"]),
        "notes": notes,
        "notes_html": render_notes(notes),
        "files": _files(directory),
        "requests": requests,
        "expect_error": expect_error,
    }


def _request(check: "_Checker", item: dict, where: str) -> dict:
    check.keys(
        item, where, required={"label", "method", "path", "expect"}, optional={"headers", "body"}
    )
    method = check.text(item, "method", where)
    if method not in METHODS:
        check.fail(f"{where}.method {method!r} is not one of {', '.join(sorted(METHODS))}")
    path = check.text(item, "path", where)
    if not path.startswith("/"):
        check.fail(f"{where}.path must start with '/'")
    headers = check.table(item, "headers", where) if "headers" in item else {}
    for name, value in headers.items():
        if not isinstance(value, str):
            check.fail(f"{where}.headers.{name} must be a string")
    body = check.text(item, "body", where, allow_empty=True) if "body" in item else None

    expect_where = f"{where}.expect"
    expect = check.table(item, "expect", where)
    check.keys(expect, expect_where, required={"status"}, optional={"body_contains"})
    status = expect["status"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        check.fail(f"{expect_where}.status must be an HTTP status code (an integer)")
    expected: dict[str, int | str] = {"status": status}
    if "body_contains" in expect:
        expected["body_contains"] = check.text(expect, "body_contains", expect_where)
    return {
        "label": check.text(item, "label", where),
        "method": method,
        "path": path,
        "headers": dict(headers),
        "body": body,
        "expect": expected,
    }


def _files(directory: Path) -> dict[str, str | dict]:
    """The visitor's files, app.py first, as {relative posix path: text or {"base64"}}."""
    paths = sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and path.name != SNIPPET_FILE
        and not IGNORED.intersection(path.relative_to(directory).parts)
    )
    files = {path.relative_to(directory).as_posix(): value_of(path.read_bytes()) for path in paths}
    if "app.py" not in files:
        raise SnippetError(f"{directory}: has no app.py")
    if not isinstance(files["app.py"], str):
        raise SnippetError(f"{directory / 'app.py'}: is not UTF-8 text")
    return {"app.py": files.pop("app.py"), **files}


class _Checker:
    """Type checks for one snippet.toml, each failure naming the file and the key."""

    def __init__(self, where: Path):
        self.where = where

    def fail(self, message: str) -> NoReturn:
        raise SnippetError(f"{self.where}: {message}")

    def keys(
        self,
        table: dict,
        where: str,
        required: set[str],
        optional: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        prefix = f"{where}." if where else ""
        missing = sorted(required - table.keys())
        if missing:
            self.fail(f"missing {', '.join(prefix + key for key in missing)}")
        unknown = sorted(table.keys() - required - optional)
        if unknown:
            self.fail(f"unknown key {', '.join(prefix + key for key in unknown)}")

    def text(self, table: dict, key: str, where: str = "", allow_empty: bool = False) -> str:
        value = table[key]
        name = f"{where}.{key}" if where else key
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            self.fail(f"{name} must be a {'' if allow_empty else 'non-empty '}string")
        return value

    def table(self, parent: dict, key: str, where: str = "") -> dict:
        value = parent[key]
        if not isinstance(value, dict):
            self.fail(f"{where + '.' if where else ''}{key} must be a table")
        return value

    def list_of_tables(self, parent: dict, key: str) -> list[dict]:
        value = parent.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(f"{key} must be an array of tables ([[{key}]])")
        return value
