"""Take it home: a snippet as a zip that runs on its own with `python app.py` or `flask run`."""

import io
import re
import time
import zipfile

from flask import Blueprint, send_file

from .files import checked
from .errors import PlaygroundError
from .security import body
from .services import services

bp = Blueprint("download", __name__, url_prefix="/api")
REQUIREMENTS = "flask>=3.1\n"
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
flask --app app run --debug     # http://127.0.0.1:5000/
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
    return (app_py.rstrip("\n") + "\n\n\n# Added by the Flask Playground so `python app.py` "
            f"serves the app.\nif __name__ == \"__main__\":\n    {start}\n")


def archive(files: dict, folder: str, title: str) -> io.BytesIO:
    """A zip of one folder holding the files, requirements.txt and a README."""
    extra = {"requirements.txt": REQUIREMENTS}
    if "README.md" not in files:
        extra["README.md"] = README.format(title=title)
    buffer = io.BytesIO()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in sorted({**extra, **files}.items()):
            if path == "app.py":
                text = runnable(text)
            info = zipfile.ZipInfo(f"{folder}/{path}", date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8", "surrogatepass"))
    buffer.seek(0)
    return buffer


def zipped(files: dict, name: str, title: str):
    """The download response: `<name>.zip`, unpacking into a folder `<name>/`."""
    folder = FOLDER.sub("-", name)[:100].strip(".-") or "flask-app"  # zip names are short
    return send_file(archive(files, folder, title), mimetype="application/zip",
                     as_attachment=True, download_name=f"{folder}.zip")


@bp.post("/download")
def download_files():
    data = body()
    wanted = checked(data)
    name = data.get("name")[:200] if isinstance(data.get("name"), str) else "flask-app"
    return zipped(wanted, name, name)


@bp.get("/snippets/<slug>/download")
def download_snippet(slug):
    snippet = services().catalog.get(slug)
    if snippet is None:
        raise PlaygroundError(404, "no_such_snippet", f"there is no snippet {slug!r}.")
    return zipped(snippet["files"], slug, snippet["title"])
