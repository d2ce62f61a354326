"""Flask Playground: run the examples of an introductory Flask talk as live, sandboxed apps."""

import atexit
import sys
from pathlib import Path

from flask import Flask

from . import config, resources


def _inside_python(path: Path) -> bool:
    roots = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    return any(root == path.resolve() or root in path.resolve().parents for root in roots)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=str(resources.path("static")),
                template_folder=str(resources.path("templates")))
    app.config.from_mapping(config.defaults())
    app.config.from_prefixed_env("PLAYGROUND")
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["INSTANCE_PATH"]:
        app.instance_path = app.config["INSTANCE_PATH"]
    elif _inside_python(Path(app.instance_path)):
        # Installed (not editable), Flask would keep our files under sys.prefix, which every
        # sandbox sees read-only: the shares of all visitors must not be among them.
        app.instance_path = str(Path.home() / ".local" / "share" / "flask-playground")

    from . import api, download, live, presenter, security, shares, views, visitors
    from .sandbox.manager import SandboxManager
    from .snippets import Catalog

    security.init_app(app)  # first: it refuses debug mode before any child can start

    app.extensions["playground.snippets"] = Catalog.load(
        Path(app.config["SNIPPETS_DIR"] or resources.path("snippets")))
    sandboxes = SandboxManager(app.config)
    app.extensions["playground.sandboxes"] = sandboxes
    atexit.register(sandboxes.shutdown)
    app.extensions["playground.room"] = presenter.Room(app.config)
    app.extensions["playground.shares"] = shares.ShareStore(
        Path(app.instance_path) / "shares.sqlite3")

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    live.sock.init_app(app)
    app.register_blueprint(live.bp)
    app.register_blueprint(presenter.bp)
    app.register_blueprint(shares.bp)
    app.register_blueprint(download.bp)
    app.after_request(visitors.remember)
    return app
