"""The event pump: every line a child writes, on stdout, stderr, its events pipe or bubblewrap's
info pipe, read as it comes and turned into events of the sandbox's log.

Whatever a child writes may be hostile: a line without end is cut, output beyond
LIMIT_OUTPUT_BYTES or events faster than LIMIT_EVENT_BYTES_PER_SECOND stop it with the limit
named, and nothing it writes can stop the pump (its exit would go unnoticed).
"""

import json
import logging
import os
import re
import selectors
import time
from typing import TYPE_CHECKING

from .child import protocol
from .isolation import hide_python
from .limits import host_error
from .run import Run

if TYPE_CHECKING:
    from .sandbox import Sandbox

log = logging.getLogger(__name__)

MAX_OUTPUT_LINE = 1024 * 1024  # a line of output without an end is cut here
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class ByteRate:
    """A token bucket of bytes: `rate` a second, up to `burst` saved."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def spend(self, size: int) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= size
        return self.tokens >= 0


class Pump:
    def __init__(self, sandbox: "Sandbox", run: Run):
        self.sandbox = sandbox
        self.run = run
        settings = sandbox.settings
        self.output_bytes = 0
        self.event_rate = ByteRate(
            settings["LIMIT_EVENT_BYTES_PER_SECOND"], settings["LIMIT_EVENT_BURST_BYTES"]
        )
        self.info = b""  # bubblewrap's --info-fd JSON, which spans several lines

    def until_closed(self, streams: dict[int, str]) -> None:
        """Read every stream line by line until all of them are closed."""
        selector = selectors.DefaultSelector()
        pending = {}
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
            pending[fd] = b""
        while pending:
            for key, _ in selector.select():
                fd, stream = key.fd, streams[key.fd]
                data = os.read(fd, 65536)
                if not data:
                    if pending[fd]:
                        self.take(stream, pending[fd])
                    selector.unregister(fd)
                    del pending[fd]
                    continue
                if stream == "events" and not self.event_rate.spend(len(data)):
                    self.stop_for("LIMIT_EVENT_BYTES_PER_SECOND")
                *lines, pending[fd] = (pending[fd] + data).split(b"\n")
                for line in lines:
                    self.take(stream, line)
                limit = protocol.MAX_LINE if stream == "events" else MAX_OUTPUT_LINE
                if len(pending[fd]) > limit:  # a line without end: take it as it is
                    self.take(stream, pending[fd])
                    pending[fd] = b""
        selector.close()

    def take(self, stream: str, raw: bytes) -> None:
        """One line from the child, which may be anything at all."""
        try:
            self._line(stream, raw)
        except Exception:  # logged, and the pump goes on
            log.exception("sandbox %s: could not take a line from %s", self.sandbox.id, stream)

    def stop_for(self, limit: str) -> None:
        """Reading, splitting and logging cost the host CPU for every line: stop the child."""
        if not self.run.stopped_for:
            self.run.stopped_for = limit
            self.sandbox.kill(self.run)

    def _line(self, stream: str, raw: bytes) -> None:
        if stream == "info":  # bubblewrap's {"child-pid": N}, written before any visitor code runs
            self._bubblewrap_info(raw)
        elif stream == "status":  # a warm child's starter (child/zygote.py), never the visitor
            self._starter(json.loads(raw))
        elif stream == "ready" or self.run.stopped_for:
            return
        elif stream == "events":
            event = protocol.decode(hide_python(raw))
            if event is not None:
                self.sandbox.child_said(self.run, *event)
        else:
            self.output_bytes += len(raw) + 1
            if self.output_bytes > self.sandbox.settings["LIMIT_OUTPUT_BYTES"]:
                self.stop_for("LIMIT_OUTPUT_BYTES")
                return
            # Terminal colours (Werkzeug 3.1.9 colours its access log) mean nothing in a page.
            line = ANSI_ESCAPE.sub("", hide_python(raw).decode("utf-8", "replace"))
            line = line[: self.sandbox.settings["LOG_LINE_BYTES"]]
            self.run.tail.append(line)
            self.sandbox.events.append("log", stream=stream, line=line)

    def _starter(self, said: dict) -> None:
        """How a warm child ended (or why it never began): its jail has no more use."""
        if "exit" in said:
            self.run.exit_status = int(said["exit"])
            if not self.run.stopping:  # it ended by itself: its jail still holds its data
                self.sandbox.save_data(self.run)
        elif "error" in said:
            self.sandbox.error = host_error("SandboxError", str(said["error"]))
        else:
            return
        self.sandbox.kill(self.run)

    def _bubblewrap_info(self, raw: bytes) -> None:
        if self.run.pid1 is not None or len(self.info) > 4096:
            return
        self.info += raw + b"\n"
        try:
            pid = json.loads(self.info).get("child-pid")
        except ValueError:
            return  # not all of it yet
        if isinstance(pid, int):
            self.run.pid1 = pid
