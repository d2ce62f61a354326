"""A sandbox's event log: state changes, output lines, requests served, route exceptions.

Kept in memory with a cap, numbered so a WebSocket (or a poller) can ask for what came after
the last event it saw, and waited on with a condition so live listeners wake at once.
"""

import threading
import time
from collections import deque


class EventLog:
    def __init__(self, maxlen: int, max_bytes: int):
        self._events = deque()
        self._maxlen = maxlen
        self._max_bytes = max_bytes
        self._bytes = 0
        self._seq = 0
        self._changed = threading.Condition()

    def append(self, kind: str, size: int = 256, **fields) -> dict:
        """Add an event of about `size` bytes; the oldest go when there are too many or too
        many bytes, so a chatty child costs the host a bounded amount of memory."""
        with self._changed:
            self._seq += 1
            event = {"seq": self._seq, "time": time.time(), "type": kind, **fields}
            self._events.append((event, size))
            self._bytes += size
            while len(self._events) > self._maxlen or self._bytes > self._max_bytes:
                self._bytes -= self._events.popleft()[1]
            self._changed.notify_all()
        return event

    @property
    def last_seq(self) -> int:
        return self._seq

    def after(self, seq: int) -> list:
        with self._changed:
            return self._newer_than(seq)

    def wait_after(self, seq: int, timeout: float) -> list:
        """Events after `seq`, waiting up to `timeout` seconds for the first one."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > seq, timeout)
            return self._newer_than(seq)

    def _newer_than(self, seq: int) -> list:
        """From the newest end: a listener usually wants the last few of thousands."""
        newer = []
        for event, _size in reversed(self._events):
            if event["seq"] <= seq:
                break
            newer.append(event)
        newer.reverse()
        return newer

    def wait_for(self, match, after: int, timeout: float) -> dict | None:
        """The first event after `after` for which `match(event)` is true, or None."""
        deadline = time.monotonic() + timeout
        seen = after
        while True:
            for event in self.after(seen):
                if match(event):
                    return event
                seen = event["seq"]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with self._changed:
                self._changed.wait_for(lambda: self._seq > seen, remaining)
