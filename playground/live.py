"""WebSocket routes: a sandbox's events, live."""

import json

from flask import Blueprint, current_app, request
from flask_sock import Sock

from . import visitors
from .errors import PlaygroundError

sock = Sock()
bp = Blueprint("live", __name__)
KEEPALIVE_SECONDS = 20


@sock.route("/ws/sandboxes/<sandbox_id>", bp=bp)
def sandbox_events(ws, sandbox_id):
    """The event log from `?after=N` (default: the start), then each new event as it happens."""
    if not visitors.same_origin():
        ws.close(reason=1008, message="calls from another site are refused")
        return
    sandboxes = current_app.extensions["playground.sandboxes"]
    try:
        sandbox = sandboxes.get(sandbox_id, visitors.current())
    except PlaygroundError as error:
        ws.send(json.dumps({"type": "error", **error.to_json()["error"]}))
        ws.close(reason=1008, message=error.code)
        return
    seen = request.args.get("after", 0, type=int)
    while True:
        events = sandbox.events.wait_after(seen, KEEPALIVE_SECONDS)
        if not events:
            if not sandboxes.holds(sandbox):  # deleted or reaped: its log says no more
                ws.close(reason=1000, message="the sandbox was stopped")
                return
            ws.send(json.dumps({"type": "keepalive"}))  # also notices a closed socket
        for event in events:
            ws.send(json.dumps(event))
            seen = event["seq"]
