"""One thread that acts at deadlines: the proxy's cut-off for exchanges that run too long, and
the server's for clients too slow to send a request.

A socket timeout bounds each read, not a whole exchange, so a child trickling a byte at a time
would hold a host thread for ever; at the exchange's deadline its connection is shut. A
`threading.Timer` per exchange did that too, but started and ended a thread per request: a
tenth of the proxy's whole overhead.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(self) -> None:
        self._due: list[list] = []  # a heap of [deadline, n, action]; None once cancelled
        self._order = itertools.count()  # ties on the deadline never compare actions
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def after(self, seconds: float, action: Callable[[], object]) -> list:
        """Call `action()` in `seconds`, unless `cancel` comes first; returns what to cancel."""
        entry = [time.monotonic() + seconds, next(self._order), action]
        with self._changed:
            heapq.heappush(self._due, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
                self._thread.start()
            if self._due[0] is entry:  # sooner than what the thread is waiting for
                self._changed.notify()
        return entry

    @staticmethod
    def cancel(entry: list) -> None:
        entry[2] = None  # left in the heap until its time: cheaper than removing it

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                action = heapq.heappop(self._due)[2]
            if action is not None:
                try:
                    action()
                except Exception:  # one failed action must not stop every later deadline
                    log.exception("a watchdog action failed")


WATCHDOG = Watchdog()  # the host's one: the proxy's exchanges, slow clients' heads and bodies
