"""A numbered log of JSON events that listeners wait on: a sandbox's state changes, output lines,
requests served and route exceptions; the presenter's broadcast uses it too.

Each event is kept as the JSON text it is sent as, so it is serialised once however many
listeners send it, and what it costs the host is its length: a child's nested JSON is parsed once
as it arrives (child/protocol.py) and dropped, never kept as thousands of Python objects. The log
is capped by count and by bytes; the oldest go first.
"""

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# What a kept frame costs beyond its text: the frame, its int and str objects, the deque slot.
FRAME_OVERHEAD = 200


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    kind: str
    key: object  # what a listener filters on without parsing: a request's port, an edit's file
    text: str  # the event as JSON

    def event(self) -> dict:
        return json.loads(self.text)


class EventLog:
    def __init__(self, maxlen: int, max_bytes: int):
        self._frames: deque[Frame] = deque()
        self._maxlen = maxlen
        self._max_bytes = max_bytes
        self._bytes = 0
        self._seq = 0
        self._changed = threading.Condition()

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def size(self) -> int:
        """Bytes the kept frames cost, as counted against `max_bytes`."""
        return self._bytes

    def append(self, kind: str, key: object = None, **fields: object) -> Frame:
        """Add an event; the oldest go when there are too many, or too many bytes."""
        with self._changed:
            self._seq += 1
            text = json.dumps({"seq": self._seq, "time": time.time(), "type": kind, **fields})
            frame = Frame(self._seq, kind, key, text)
            self._frames.append(frame)
            self._bytes += len(text) + FRAME_OVERHEAD
            while len(self._frames) > self._maxlen or self._bytes > self._max_bytes:
                self._bytes -= len(self._frames.popleft().text) + FRAME_OVERHEAD
            self._changed.notify_all()
        return frame

    def after(self, seq: int) -> list[Frame]:
        """The frames still kept after `seq`."""
        with self._changed:
            return self._newer_than(seq)

    def wait_after(self, seq: int, timeout: float) -> list[Frame] | None:
        """The frames after `seq`, waiting up to `timeout` seconds for the first one; None when
        some of them are no longer kept (the listener fell too far behind)."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > seq, timeout)
            newer = self._newer_than(seq)
            return newer if len(newer) == self._seq - seq else None

    def _newer_than(self, seq: int) -> list[Frame]:
        """From the newest end: a listener usually wants the last few of thousands."""
        newer = []
        for frame in reversed(self._frames):
            if frame.seq <= seq:
                break
            newer.append(frame)
        newer.reverse()
        return newer

    def wait_for(self, match: Callable[[Frame], bool], after: int, timeout: float) -> Frame | None:
        """The first frame after `after` for which `match(frame)` is true, or None."""
        deadline = time.monotonic() + timeout
        seen = after
        while True:
            for frame in self.after(seen):
                if match(frame):
                    return frame
                seen = frame.seq
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with self._changed:
                # Called only within this wait, so `seen` cannot move on under it.
                self._changed.wait_for(lambda: self._seq > seen, remaining)  # noqa: B023
