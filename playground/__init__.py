"""Flask Playground: run the examples of an introductory Flask talk as live, sandboxed apps."""

import atexit
import os
import sys
from pathlib import Path

from flask import Flask

from . import config, resources


def _inside_python(path: Path) -> bool:
    roots = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    return any(root == path.resolve() or root in path.resolve().parents for root in roots)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        static_folder=str(resources.path("static")),
        template_folder=str(resources.path("templates")),
    )
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

    from . import (
        api,
        download,
        errors,
        gateway,
        live,
        presenter,
        ratelimit,
        security,
        services,
        shares,
        sockets,
        views,
        visitors,
        workers,
    )
    from .cookies import Jars
    from .room import Room
    from .sandbox.manager import SandboxManager
    from .share_store import ShareStore
    from .snippets import Catalog
    from .sockets import sock

    security.init_app(app)  # first: it refuses debug mode before any child can start
    errors.init_app(app)
    settings = app.config
    sandboxes = SandboxManager(settings)
    atexit.register(sandboxes.shutdown)
    # Highlighting and formatting visitors' text, each call with a deadline (workers.py).
    text_workers = workers.Pool(
        settings["TEXT_WORKERS"] or os.cpu_count() or 1,
        settings["TEXT_WORKER_QUEUE"],
        settings["TEXT_WORKER_MEMORY_BYTES"],
        settings["TEXT_WORKER_START_TIMEOUT"],
        preload=("playground.highlight", "playground.formatting"),
    )
    atexit.register(text_workers.shutdown)
    slots = visitors.Slots(settings["MAX_SOCKETS"], settings["MAX_SOCKETS_PER_VISITOR"])
    sandboxes.demand = slots.visitors  # a page open may press Run: a sandbox parked for it
    services.init_app(
        app,
        services.Services(
            catalog=Catalog.load(Path(settings["SNIPPETS_DIR"] or resources.path("snippets"))),
            sandboxes=sandboxes,
            jars=Jars(settings["MAX_SANDBOXES_PER_VISITOR"]),
            room=Room(settings),
            shares=ShareStore(
                Path(app.instance_path) / "shares.sqlite3",
                settings["SHARES_MAX_BYTES"],
                settings["SHARE_KEEP_DAYS"] * 24 * 3600,
            ),
            limits=ratelimit.for_app(settings),
            sockets=slots,
            text_workers=text_workers,
        ),
    )

    sock.init_app(app)
    app.before_request(sockets.turn_away)
    for blueprint in (api.bp, views.bp, live.bp, presenter.bp, shares.bp, download.bp, gateway.bp):
        app.register_blueprint(blueprint)
    app.after_request(visitors.remember)
    return app
