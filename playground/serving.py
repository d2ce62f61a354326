"""The server of `python -m playground`: Werkzeug's threaded server with a bound on threads, and a
deadline on each request's head.

Werkzeug starts a thread for every connection, however many come. Here at most HOST_THREADS
connections are served at once (a WebSocket holds one for its whole life: sockets.py lets them
take only a share); the next ones wait in the kernel's listen queue, so a flood slows the host
down instead of exhausting it. A client must send a request's head within `header_timeout`
(idle keep-alive connections included), so slow clients cannot hold the threads either; the
body's deadline is the guard's (security.py). A request the server may answer by its head alone
(`turn_away`: python -m playground closes a WebSocket without the visitor cookie, see
sockets.cookieless) is answered before any WSGI work: a flood of them is the cheapest thing a
script can send.
"""

import socket
import threading
from collections.abc import Callable
from email.message import Message
from typing import TYPE_CHECKING

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .watchdog import WATCHDOG

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

Request = socket.socket | tuple[bytes, socket.socket]  # socketserver's: a stream, or a datagram


class Handler(WSGIRequestHandler):
    server: "BoundedServer"

    def handle_one_request(self) -> None:
        self._cutoff = WATCHDOG.after(self.server.header_timeout, self._cut)
        try:
            super().handle_one_request()
        finally:
            WATCHDOG.cancel(self._cutoff)

    def parse_request(self) -> bool:
        """Read the rest of the head; once it is in, the deadline is met, and a request the
        server may answer by its head alone (`turn_away`) is answered so."""
        parsed = super().parse_request()
        WATCHDOG.cancel(self._cutoff)
        if not parsed or not self.path.startswith("/"):  # an absolute URL names its own host
            return parsed
        try:
            answer = self.server.turn_away(self.headers)
        except Exception:  # a shortcut only: what it cannot judge goes on to the app
            answer = None
        if answer:
            self.close_connection = True
            try:
                self.connection.sendall(answer)
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:  # the client has gone already
                pass
            return False
        return parsed

    def _cut(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class BoundedServer(ThreadedWSGIServer):
    def __init__(
        self,
        host: str,
        port: int,
        app: "WSGIApplication",
        threads: int,
        header_timeout: float = 10.0,
        turn_away: Callable[[Message], bytes | None] = lambda headers: None,
    ):
        super().__init__(host, port, app, handler=Handler)
        self.header_timeout = header_timeout
        self.turn_away = turn_away
        self._slots = threading.BoundedSemaphore(threads)

    def process_request(self, request: Request, client_address: tuple[str, int]) -> None:
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Request, client_address: tuple[str, int]) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()
