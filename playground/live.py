"""WebSocket routes: a sandbox's events, live."""

from flask import Blueprint, request
from simple_websocket import Server
from wsproto.frame_protocol import CloseReason

from . import sockets
from .services import services

bp = Blueprint("live", __name__)


@sockets.route("/ws/sandboxes/<sandbox_id>", bp=bp)
def sandbox_events(ws: Server, visitor: str, sandbox_id: str) -> None:
    """The event log from `?after=N` (default: the start), then each new event as it happens."""
    sandboxes = services().sandboxes
    sandbox = sandboxes.get(sandbox_id, visitor)
    seen = request.args.get("after", 0, type=int)
    sockets.follow_log(
        ws,
        sandbox.events,
        seen,
        behind=sandbox.events.after,
        wanted=lambda: sandboxes.holds(sandbox),
    )
    if ws.connected:  # deleted or reaped: its log says no more
        ws.close(reason=CloseReason.NORMAL_CLOSURE, message="the sandbox was stopped")
