"""Finding the visitor's app as `flask --app` does, with flask.cli's own functions.

With a spec ("flaskr:create_app('dev')", "hello.py", "wsgi:application"), exactly what
`flask --app SPEC` loads. Without one: app.py, run as __main__ as the talk runs it (its
`app.run()` is the playground's, runner.py); then wsgi.py; then the one top-level module or
package that holds an `app` or `application`, or a `create_app` or `make_app` factory. What
Flask says when it finds nothing (or a factory it cannot call) is kept, with the file and line it
is about and the one line that fixes it.
"""

import ast
import os
import re
import sys
import types
from collections.abc import Callable

from flask import Flask
from flask.cli import NoAppException, find_app_by_string, find_best_app, prepare_import

SPEC = re.compile(r":(?![\\/])")  # module:name, but not a Windows drive's colon
NAMES = {"app", "application"}
FACTORIES = {"create_app", "make_app"}
SKIPPED = {"setup.py", "conftest.py"}


class NoAppFound(NoAppException):
    """Nothing to serve; `filename` and `lineno` say where, when one place is to blame. (A
    NoAppException, so the flask command shows it as Flask would.)"""

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None):
        super().__init__(message)
        self.filename, self.lineno = filename, lineno


def load(workdir: str, spec: str | None, run_main: Callable[[str], types.ModuleType]) -> Flask:
    """The app; `run_main(path)` runs a file as __main__ and gives its module (it may never
    return: the talk's app.run() serves)."""
    if spec:
        path, name = (SPEC.split(spec, maxsplit=1) + [None])[:2]
        return located(workdir, path, name)
    if os.path.exists(os.path.join(workdir, "app.py")):
        module = run_main(os.path.join(workdir, "app.py"))
        return found(module, None, os.path.join(workdir, "app.py"))
    if os.path.exists(os.path.join(workdir, "wsgi.py")):
        return located(workdir, "wsgi.py", None)
    candidates = holding_an_app(workdir)
    if len(candidates) == 1:
        return located(workdir, candidates[0], None)
    looked = (
        "looked for app.py, then wsgi.py, then one top-level module or package with an "
        "`app`, `application`, `create_app()` or `make_app()`"
    )
    if not candidates:
        raise NoAppFound(
            f"No Flask app found: {looked}, and found none. Create the app in "
            "app.py (app = Flask(__name__)), or name it in the App field, like "
            "`hello:app` or `flaskr:create_app()`."
        )
    raise NoAppFound(
        f"More than one module could be the app ({', '.join(candidates)}): {looked}. "
        f"Name the one to run in the App field, like `{module_name(candidates[0])}`."
    )


def located(workdir: str, path: str, name: str | None) -> Flask:
    """`flask --app path:name`: import the module (errors come with their own traceback),
    then Flask's own rules."""
    import_name = prepare_import(os.path.join(workdir, path))
    __import__(import_name)
    module = sys.modules[import_name]
    return found(module, name, getattr(module, "__file__", None))


def found(module: types.ModuleType, name: str | None, filename: str | None) -> Flask:
    """Flask's choice of app in `module`; its complaint, with the fix and where, if none."""
    try:
        return find_best_app(module) if name is None else find_app_by_string(module, name)
    except NoAppException as exc:
        message = exc.format_message()
        factory = next(
            (
                getattr(module, f)
                for f in FACTORIES
                if f in message and callable(getattr(module, f, None))
            ),
            None,
        )
        code = getattr(factory, "__code__", None)
        if code is not None:  # a factory Flask cannot call without arguments: point at it
            raise NoAppFound(
                message.replace("'__main__", "'app"), code.co_filename, code.co_firstlineno
            ) from None
        if module.__name__ == "__main__" and message.startswith("Failed to find"):
            message = (  # Flask's words would tell the visitor to use '__main__:name'
                "app.py ran to its end without calling app.run(), and holds no Flask app (looked "
                "for `app`, `application`, a single Flask object, `create_app()` and "
                "`make_app()`). Create one there (app = Flask(__name__)), or name it in the App "
                "field, like `hello:app`."
            )
        raise NoAppFound(message.replace("'__main__", "'app"), filename) from None


def holding_an_app(workdir: str) -> list[str]:
    """Top-level modules and packages whose source names an app or a factory at its top level
    (or cannot be read, so that importing it shows why)."""
    found_in = []
    for entry in sorted(os.scandir(workdir), key=lambda e: e.name):
        if (
            entry.is_file()
            and entry.name.endswith(".py")
            and entry.name not in SKIPPED
            and not entry.name.startswith(("_", "test_"))
        ):
            source = entry.path
        elif entry.is_dir() and os.path.exists(os.path.join(entry.path, "__init__.py")):
            source = os.path.join(entry.path, "__init__.py")
        else:
            continue
        if names_an_app(source):
            found_in.append(entry.name)
    return found_in


def names_an_app(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return True
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in FACTORIES:
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in NAMES for t in node.targets
        ):
            return True
    return False


def module_name(entry: str) -> str:
    return entry.removesuffix(".py")
