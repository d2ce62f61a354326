"""WebSocket routes: a sandbox's events, live."""

import json

from flask import Blueprint, current_app, request
from flask_sock import Sock

from . import visitors
from .errors import PlaygroundError

sock = Sock()
bp = Blueprint("live", __name__)
KEEPALIVE_SECONDS = 20
CHECK_SECONDS = 1.0  # how often a quiet socket looks whether its client has gone


@sock.route("/ws/sandboxes/<sandbox_id>", bp=bp)
def sandbox_events(ws, sandbox_id):
    """The event log from `?after=N` (default: the start), then each new event as it happens."""
    if not visitors.same_origin():
        ws.close(reason=1008, message="calls from another site are refused")
        return
    sandboxes = current_app.extensions["playground.sandboxes"]
    try:
        sandbox = sandboxes.get(sandbox_id, visitors.current())
        with visitors.socket_slot():
            stream(ws, sandboxes, sandbox, request.args.get("after", 0, type=int))
    except PlaygroundError as error:
        ws.send(json.dumps({"type": "error", **error.to_json()["error"]}))
        ws.close(reason=1008, message=error.code)


def stream(ws, sandboxes, sandbox, seen: int) -> None:
    quiet = 0.0
    while ws.connected:  # checked each second, so a closed tab frees its thread at once
        events = sandbox.events.wait_after(seen, CHECK_SECONDS)
        if not events:
            if not sandboxes.holds(sandbox):  # deleted or reaped: its log says no more
                ws.close(reason=1000, message="the sandbox was stopped")
                return
            quiet += CHECK_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                ws.send(json.dumps({"type": "keepalive"}))  # keeps proxies from timing out
                quiet = 0.0
        for event in events:
            ws.send(json.dumps(event))
            seen = event["seq"]
