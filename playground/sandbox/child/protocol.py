"""The contract between a child and its host: JSON lines on the events pipe.

Standard library only: the child imports this file as its sibling module inside the sandbox,
the host as `playground.sandbox.child.protocol`, so the format is written down once.

    {"type": "ready", "scheme", "routes", "runtime"}   serving on the socket the host passed in
    {"type": "failed", "error"}                         the app could not start serving
    {"type": "request", "method", "path", "query", "status", "duration_ms", "remote_port",
     "route", "trace"}                                  one request served
    {"type": "exception", "method", "path", "remote_port", "error"}   a route raised
    {"type": "command", "id", "exit_code", "output", "truncated", "elapsed_ms"}
                                                        a `flask` command the host asked for ran

The host asks on the control pipe (host to child), one line each:

    {"type": "command", "id", "args": [str, ...], "input": str, "timeout": seconds}

An error is {"type", "message", "file", "line", "traceback"}, trimmed to the visitor's own files.
"routes" are the URL rules in the order Werkzeug tries them, "route" which one answered a request
and "trace" what Flask did for it (flask_trace.py); "runtime" the versions the app runs with.

The visitor's code runs in the same process as the child's own, so it can write on the pipe too:
the host reads every line as hostile (`decode`), keeps only the fields named here, and bounds
what a line may cost it.
"""

import json

EVENTS = {
    "ready": ("scheme", "routes", "runtime"),
    "failed": ("error",),
    "request": (
        "method",
        "path",
        "query",
        "status",
        "duration_ms",
        "remote_port",
        "route",
        "trace",
    ),
    "exception": ("method", "path", "remote_port", "error"),
    "command": ("id", "exit_code", "output", "truncated", "elapsed_ms"),
}

# A request's trace is a few KB, the route map of a big app a few hundred; the child clips what
# it sends to fit, so a longer line is the visitor writing on the pipe.
MAX_LINE = 256 * 1024


def encode(kind: str, **fields: object) -> str:
    """One event as the line the child writes (values JSON cannot hold are shown by repr)."""
    return json.dumps({"type": kind, **fields}, default=repr) + "\n"


def go(app: str | None) -> bytes:
    """The host's go to a parked child (one started before its files were written), on the
    control pipe once they are in place, with what the Run says of the app (its --app)."""
    return (json.dumps({"type": "go", "app": app}) + "\n").encode()


def command(id: int, args: list[str], input: str, timeout: float) -> bytes:
    """A request for `flask <args>`, as the host writes it on the control pipe."""
    return (
        json.dumps({"type": "command", "id": id, "args": args, "input": input, "timeout": timeout})
        + "\n"
    ).encode()


def decode_command(line: str) -> dict | None:
    """A command request the child read, or None if it is not one."""
    try:
        asked = json.loads(line)
    except ValueError:
        return None
    if (
        isinstance(asked, dict)
        and asked.get("type") == "command"
        and isinstance(asked.get("args"), list)
        and all(isinstance(a, str) for a in asked["args"])
        and isinstance(asked.get("timeout"), (int, float))
    ):
        return asked
    return None


def decode(line: bytes) -> tuple[str, dict] | None:
    """(kind, fields) of a line the host read, or None for anything that is not an event.

    Bounded: at most MAX_LINE bytes are parsed, JSON nested past Python's stack is refused, and
    only the fields of a known kind are kept.
    """
    if len(line) > MAX_LINE:
        return None
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("type") not in EVENTS:
        return None
    kind = message["type"]
    return kind, {name: message[name] for name in EVENTS[kind] if name in message}
