"""The server of `python -m playground`: Werkzeug's threaded server with a bound on threads.

Werkzeug starts a thread for every connection, however many come. Here at most HOST_THREADS
connections are served at once (a WebSocket holds one for its whole life); the next ones wait
in the kernel's listen queue, so a flood slows the host down instead of exhausting it.
"""

import threading

from werkzeug.serving import ThreadedWSGIServer


class BoundedServer(ThreadedWSGIServer):
    def __init__(self, host: str, port: int, app, threads: int):
        super().__init__(host, port, app)
        self._slots = threading.BoundedSemaphore(threads)

    def process_request(self, request, client_address):
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()
