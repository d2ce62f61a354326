"""The page's WebSockets: one guard for all of them.

Each socket holds a host thread for its whole life, so they may hold only a share of the host's
threads (MAX_SOCKETS: the HTTP API always has threads left), only a visitor the host knows (a
signed cookie: a script without one cannot open hundreds), and only MAX_SOCKETS_PER_VISITOR
each. A PlaygroundError in a handler becomes an error frame, then a close with 1008; one that
forbids (403: another site, an unknown visitor, not the presenter) is only the close.

Every socket ends cleanly (end_cleanly): under Werkzeug's server flask-sock (0.7) answers a
socket route with an ordinary HTTP response once the handler returns, and Werkzeug wrote it onto
the connection after the close frame, so Chrome logged "Invalid frame header" for every socket
that ended (flask-sock #20, #77).
"""

import base64
import functools
import hashlib
import json
import socket
import threading
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any

from flask import Blueprint, Response, request
from flask_sock import Sock
from simple_websocket import Server
from werkzeug.http import parse_cookie
from wsproto.frame_protocol import CloseReason

from . import errors, hosts, security, visitors
from .errors import PlaygroundError
from .sandbox.errors import SandboxError
from .sandbox.events import EventLog, Frame
from .services import services

sock = Sock()


Handler = Callable[..., None]  # handler(ws, visitor, **view_args)


def route(rule: str, bp: Blueprint) -> Callable[[Handler], Handler]:
    """`@sock.route(rule)` for a handler `handler(ws, visitor, **view_args)`, guarded."""

    def decorate(handler: Handler) -> Handler:
        @sock.route(rule, bp=bp)
        @functools.wraps(handler)
        def guarded(ws: Server, **view_args: object) -> None:
            wait = CLOSE_REPLY_SECONDS
            try:
                visitor = visitors.known()  # turn_away() refused the others already
                with services().sockets.hold(visitor):
                    handler(ws, visitor, **view_args)
            except (PlaygroundError, SandboxError) as refused:
                error = (
                    errors.from_sandbox(refused) if isinstance(refused, SandboxError) else refused
                )
                if error.status == 403:  # forbidden is only closed, and at once: no thread is
                    wait = 0.0  # held for a script opening hundreds
                else:  # the rest says why first
                    ws.send(errors.frame(error))
                ws.close(reason=CloseReason.POLICY_VIOLATION, message=error.code)
            finally:
                end_cleanly(ws, wait)

        return guarded

    return decorate


CLOSE_REPLY_SECONDS = 1.0  # how long a socket we close waits for the client's close frame


def turn_away() -> Response | None:
    """before_request: a WebSocket from another site or from a visitor the host has not met is
    closed (1008) as it opens, before Flask routes it: no reader thread, no wait for the close
    reply, no cookie made for it, so a script opening hundreds costs the host little."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return None
    try:
        security.check_socket()
        visitors.known()
    except PlaygroundError as error:
        # The connection, as Werkzeug's server and gunicorn's hand it to simple-websocket.
        environ = request.environ
        connection = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
        if connection is None:  # a server that gives none: a plain refusal
            raise
        answer = closing_handshake(request.headers.get("Sec-WebSocket-Key", ""), error.code)
        refuse(connection, answer)
        return Response(status=403)  # written after the close: the server meets a closed pipe
    return None


HANDSHAKE_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, 1.3


def cookieless(headers: Message, settings: Mapping[str, Any]) -> bytes | None:
    """For the server, as soon as a request's head is in (serving.py): a WebSocket without the
    visitor cookie is answered with a close, and nothing else of the host runs for it (a third
    of what the same refusal costs through Flask). Everything else goes on to Flask: a socket
    with a cookie (turn_away checks it), a Host the app does not serve (hosts.py answers 400,
    first) and all of them behind TRUSTED_PROXIES (the forwarded Host decides there)."""
    if headers.get("Upgrade", "").lower() != "websocket" or settings["TRUSTED_PROXIES"]:
        return None
    if not hosts.allowed(headers.get("Host", ""), hosts.entries(settings["ALLOWED_HOSTS"])):
        return None
    if visitors.COOKIE in parse_cookie(headers.get("Cookie", "")):
        return None
    return closing_handshake(headers.get("Sec-WebSocket-Key", ""), "unknown_visitor")


def closing_handshake(key: str, code: str) -> bytes:
    """A socket accepted and closed in one write (RFC 6455): the handshake's answer, then a close
    frame with 1008 and `code`. Written here, not by simple_websocket and wsproto, which cost
    more than the rest of the refusal: this is what a flood of sockets costs the host."""
    digest = hashlib.sha1(key.encode("latin-1", "replace") + HANDSHAKE_GUID).digest()
    reason = CloseReason.POLICY_VIOLATION.to_bytes(2, "big") + code.encode()[:123]
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: "
        + base64.b64encode(digest)
        + b"\r\n\r\n"
        + bytes([0x88, len(reason)])  # FIN + close, unmasked: a server's frame
        + reason
    )


def refuse(connection: socket.socket, answer: bytes) -> None:
    """Write `answer` and shut the connection down (the client may have gone already)."""
    try:
        connection.sendall(answer)
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def end_cleanly(ws: Server, wait: float = CLOSE_REPLY_SECONDS) -> None:
    """Closes the socket (if the client has not) and, once the close handshake is done, shuts the
    connection down: the HTTP answer Werkzeug writes after the handler then meets a closed pipe,
    which it takes for a client gone, and the browser sees the TCP close it waits for."""
    if ws.connected:
        try:
            ws.close()
        except OSError:  # the client went without a close frame
            pass
    if isinstance(ws.thread, threading.Thread):  # its type says only "has start()"
        ws.thread.join(wait)  # the client's close frame ends the reader
    if ws.sock is not None:  # a Server always has one
        try:
            ws.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


KEEPALIVE_SECONDS = 20  # a frame at least this often keeps proxies from timing out
CHECK_SECONDS = 1.0  # how often a quiet socket looks whether its client has gone
KEEPALIVE = json.dumps({"type": "keepalive"})


def follow_log(
    ws: Server,
    log: EventLog,
    seen: int,
    *,
    behind: Callable[[int], list[Frame]],
    wanted: Callable[[], bool] = lambda: True,
    pick: Callable[[list[Frame]], list[Frame]] = lambda frames: frames,
) -> None:
    """Send each frame of `log` after `seen` as it comes (`pick` chooses among several), until
    the client goes or, when nothing happens, the stream is no longer `wanted`. `behind` gives
    what to send instead when the log no longer holds all the frames after the one it gets."""
    quiet = 0.0
    while ws.connected:  # checked each second, so a closed tab frees its thread at once
        frames = log.wait_after(seen, CHECK_SECONDS)
        if frames is None:
            frames = behind(seen)
        if not frames:
            if not wanted():
                return
            quiet += CHECK_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                ws.send(KEEPALIVE)
                quiet = 0.0
            continue
        for frame in pick(frames):
            ws.send(frame.text)
        seen = frames[-1].seq
