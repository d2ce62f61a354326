"""Take it home: a snippet as a zip that runs on its own with `python app.py` or `flask run`.

A snippet's own requirements.txt is kept, with Flask added when it does not name it. The README
says to `pip install -r` it, and a shared snippet is anyone's: a line that would make pip fetch
from somewhere else than PyPI (an option such as --index-url, -i, --extra-index-url, -f,
--trusted-host, -r, -c or -e, a URL, a path) is turned into a comment, nothing lost.
"""

import io
import re
import shlex
import time
import zipfile

from flask import Blueprint, Response, send_file

from .errors import PlaygroundError
from .files import app_spec, checked, data_of
from .security import body
from .services import services

bp = Blueprint("download", __name__, url_prefix="/api")
FLASK = "flask>=3.1"
# A project on the index: a name, extras, versions and an environment marker, nothing else.
# Every optional space comes before a token that is not one, so a failing match backtracks
# linearly, however long the line.
VERSION = r"[<>=!~]=?\s*[A-Za-z0-9.*+!_-]+"
PLAIN_REQUIREMENT = re.compile(
    rf"""(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)
    (\s*\[[A-Za-z0-9._,\s-]*\])?
    (\s*{VERSION}(\s*,\s*{VERSION})*)?
    (\s*;[A-Za-z0-9_.<>=!~'"\s()-]*)?""",
    re.X,
)
# pip's `(^|\s+)#.*$` (pip/_internal/req/req_file.py), the same once stripped, without its
# quadratic backtracking over a long run of spaces.
COMMENT = re.compile(r"(^|\s)#.*")
LEFT_OUT = "# left out: "
LEFT_OUT_NOTE = (
    "# The Flask Playground turned the lines marked 'left out' into comments: they "
    "would make pip\n# install from somewhere else than PyPI, and a shared snippet "
    "may point them anywhere.\n# Put back only what you trust.\n"
)
FOLDER = re.compile(r"[^A-Za-z0-9._-]+")
APP_OBJECT = re.compile(r"^(\w+)\s*=\s*Flask\(", re.M)
FACTORY = re.compile(r"^def (create_app|make_app)\(", re.M)

README = """# {title}

Taken home from the Flask Playground. You need Python 3.11 or later.

```sh
python -m venv .venv
. .venv/bin/activate            # on Windows: .venv\\Scripts\\activate
pip install -r requirements.txt
python app.py                   # serves on the host and port app.py asks for
```

Or let Flask's own command line run it, with the reloader and debugger while you edit:

```sh
flask --app {app} run --debug{pad}# http://127.0.0.1:5000/
```

Under `flask run` a call to `app.run()` in the file is skipped: the command serves the app itself.
"""


def runnable(app_py: str) -> str:
    """app.py, with a `__main__` block added when nothing in it starts a server."""
    if re.search(r"\.run\(", app_py):
        return app_py
    found = APP_OBJECT.search(app_py)
    factory = FACTORY.search(app_py)
    if found:
        start = f"{found.group(1)}.run(debug=True)"
    elif factory:
        start = f"{factory.group(1)}().run(debug=True)"
    else:
        return app_py  # no app we can name: `flask run` finds it, as the README says
    return (
        app_py.rstrip("\n") + "\n\n\n# Added by the Flask Playground so `python app.py` "
        f'serves the app.\nif __name__ == "__main__":\n    {start}\n'
    )


def requirements(theirs: str | None) -> str:
    """requirements.txt: Flask, and the snippet's own requirements with every line that is not a
    plain project on PyPI turned into a comment."""
    if theirs is None:
        return FLASK + "\n"
    kept, named, left_out = [], set(), False
    for lines, text in logical_lines(theirs):
        plain = PLAIN_REQUIREMENT.fullmatch(text)
        if plain:
            named.add(re.sub(r"[-_.]+", "-", plain["name"]).lower())
        if text and not plain:
            kept += [LEFT_OUT + line for line in lines]
            left_out = True
        else:
            kept += lines
    head = "" if "flask" in named else f"{FLASK}  # added by the Flask Playground\n"
    return head + (LEFT_OUT_NOTE if left_out else "") + "\n".join(kept) + "\n"


def logical_lines(text: str) -> list[tuple[list[str], str]]:
    """The lines of a requirements file as pip reads them, each as (its lines as written, the
    text pip parses): a line ending in a backslash goes on in the next, unless it is a comment,
    and comments are dropped. A port of pip's join_lines and ignore_comments."""
    grouped, written, joined = [], [], ""
    for line in text.splitlines():
        written.append(line)
        comment = line.lstrip().startswith("#")
        if line.endswith("\\") and not comment:
            joined += line.strip("\\")
            continue
        joined += " " + line if comment else line
        grouped.append((written, COMMENT.sub("", joined).strip()))
        written, joined = [], ""
    if written:  # the last line ends in a backslash
        grouped.append((written, COMMENT.sub("", joined).strip()))
    return grouped


def readme(title: str, app: str | None) -> str:
    """How to run it at home; `app` as the visitor named it in the App field."""
    named = shlex.quote(app or "app")
    command = f"flask --app {named} run --debug"
    return README.format(title=title, app=named, pad=" " * max(1, 32 - len(command)))


def archive(files: dict, folder: str, title: str, app: str | None = None) -> io.BytesIO:
    """A zip of one folder holding the files (binary ones as their bytes), requirements.txt and
    a README."""
    theirs = files.get("requirements.txt")
    if isinstance(theirs, dict):  # not text: what is not a plain requirement is left out
        theirs = data_of(theirs).decode("utf-8", "replace")
    extra = {"requirements.txt": requirements(theirs)}
    if "README.md" not in files:
        extra["README.md"] = readme(title, app)
    buffer = io.BytesIO()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, value in sorted({**files, **extra}.items()):
            if path == "app.py" and isinstance(value, str):
                value = runnable(value)
            info = zipfile.ZipInfo(f"{folder}/{path}", date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data_of(value))
    buffer.seek(0)
    return buffer


def zipped(files: dict, name: str, title: str, app: str | None = None) -> Response:
    """The download response: `<name>.zip`, unpacking into a folder `<name>/`."""
    folder = FOLDER.sub("-", name)[:100].strip(".-") or "flask-app"  # zip names are short
    return send_file(
        archive(files, folder, title, app),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{folder}.zip",
    )


@bp.post("/download")
def download_files() -> Response:
    data = body()
    wanted, app = checked(data), app_spec(data)
    given = data.get("name")
    name = given[:200] if isinstance(given, str) else "flask-app"
    return zipped(wanted, name, name, app)


@bp.get("/snippets/<slug>/download")
def download_snippet(slug: str) -> Response:
    snippet = services().catalog.get(slug)
    if snippet is None:
        raise PlaygroundError(404, "no_such_snippet", f"there is no snippet {slug!r}.")
    return zipped(snippet["files"], slug, snippet["title"])
