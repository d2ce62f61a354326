"""Presenter mode's routes: present, follow, and followers' own requests (the room: room.py)."""

import json

from flask import Blueprint, current_app, request
from simple_websocket import Server
from wsproto.frame_protocol import CloseReason

from . import exchange, sockets
from .errors import PlaygroundError, frame
from .ratelimit import EVERYONE
from .room import Room, latest
from .sandbox.events import Frame
from .security import body
from .services import services
from .visitors import current

bp = Blueprint("presenter", __name__)


def room() -> Room:
    return services().room


@bp.get("/api/presenter")
def presenter_status() -> dict:
    return room().status(current())


@bp.post("/api/presenter")
def start_presenting() -> dict:
    # Tries are counted before the token is looked at: per visitor, and for all together
    # (a script guessing it drops its cookie).
    services().limits["presenter_tries"].take(current())
    services().limits["all_presenter_tries"].take(EVERYONE)
    room().claim(current(), body().get("token"))
    running = services().sandboxes.newest_running(current())
    if running is not None:  # presenting again, or from another tab: their app is the one shown
        room().ran(running)
    return room().status(current())


@bp.delete("/api/presenter")
def stop_presenting() -> dict:
    room().release(current())
    return room().status(current())


@bp.post("/api/presenter/requests")
def follower_request() -> dict:
    """A follower's own request to the presenter's app: their jar, their rate limit."""
    wanted, follow = exchange.parse(body(), current_app.config)
    sandbox, jar = room().seat(current())
    return exchange.send_to(sandbox, jar, wanted, follow, current_app.config).to_json()


@sockets.route("/ws/present", bp=bp)
def present(ws: Server, visitor: str) -> None:
    """The presenter's page: each message is what they opened, typed or scrolled to."""
    if not room().is_presenter(visitor):
        raise PlaygroundError(403, "not_presenter", "only the presenter may present")
    while room().is_presenter(visitor):
        message = ws.receive(timeout=sockets.KEEPALIVE_SECONDS)
        if message is None:
            continue
        try:
            data = json.loads(message)
            if not isinstance(data, dict):
                raise ValueError
            room().receive(visitor, data)
        except ValueError:
            ws.send(frame(PlaygroundError(400, "bad_json", "send JSON.")))
        except PlaygroundError as error:
            ws.send(frame(error))
    ws.close(reason=CloseReason.NORMAL_CLOSURE, message="you are no longer the presenter")


@sockets.route("/ws/follow", bp=bp)
def follow(ws: Server, visitor: str) -> None:
    """A snapshot of what the presenter shows, then every change; the snapshot again when the
    follower fell behind. `?presence=1`: only whether a presenter is live."""
    here = room()
    following = not request.args.get("presence")
    picture, log = (here.snapshot, here.hub) if following else (here.liveness, here.presence)
    first = picture()
    ws.send(json.dumps(first))
    counted = 1 if following else 0  # the presenter's follower count leaves badges out
    here.watching(counted)
    try:
        sockets.follow_log(
            ws,
            log,
            first["seq"],
            behind=lambda _seen: [as_frame(picture())],
            pick=latest if following else list,
        )
    finally:
        here.watching(-counted)


@sockets.route("/ws/follow/log", bp=bp)
def follow_app_log(ws: Server, visitor: str) -> None:
    """The presenter's app's live log (output, access lines, tracebacks) as the presenter sees
    it, in the format of /ws/sandboxes/<id>; closed when the presenter's app changes."""
    here, sandboxes = room(), services().sandboxes
    sandbox = here.sandbox
    if sandbox is None:
        raise PlaygroundError(409, "presenter_not_running", "the presenter has no app running.")
    sockets.follow_log(
        ws,
        sandbox.events,
        0,
        behind=sandbox.events.after,
        wanted=lambda: here.sandbox is sandbox and sandboxes.holds(sandbox),
    )
    if ws.connected:
        ws.close(reason=CloseReason.NORMAL_CLOSURE, message="the presenter's app changed")


def as_frame(event: dict) -> Frame:
    return Frame(event["seq"], event["type"], None, json.dumps(event))
