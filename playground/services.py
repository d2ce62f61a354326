"""The host's shared objects, made once by `create_app` and reached by any view: `services()`.

Flask's extension pattern, typed: one object in `app.extensions`, so a blueprint depends on this
small module instead of on a sibling blueprint that happens to hold the object.
"""

from dataclasses import dataclass

from flask import Flask, current_app

from .cookies import Jars
from .ratelimit import RateLimit
from .room import Room
from .sandbox.manager import SandboxManager
from .share_store import ShareStore
from .snippets import Catalog
from .visitors import Slots
from .workers import Pool

KEY = "playground"


@dataclass
class Services:
    catalog: Catalog
    sandboxes: SandboxManager
    jars: Jars  # each visitor's jar for each of their apps (the presenter's followers: `room`)
    room: Room
    shares: ShareStore
    limits: dict[str, RateLimit]  # per-visitor rate limits, by what they count
    sockets: Slots
    text_workers: Pool  # highlighting (and formatting) of visitors' text, with deadlines


def init_app(app: Flask, services: Services) -> None:
    app.extensions[KEY] = services


def services() -> Services:
    """The services of the app handling this request."""
    return current_app.extensions[KEY]


def services_of(app: Flask) -> Services:
    return app.extensions[KEY]
