"""`Run`: one run of a sandbox, from spawn to exit: its process, its port, what it reported."""

import os
import subprocess
import threading
from collections import deque

from .cgroups import Group


class Run:
    def __init__(self, port: int):
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        # Held while spawning and while killing: a stop finds no process or a whole one.
        self.lock = threading.Lock()
        self.pid1: int | None = None  # the sandbox's pid 1, whose death takes everything with it
        self.settled = threading.Event()  # ready, failed or exited
        self.stopping = False
        # Parked: started before its files, waiting for the host's go (sandbox.py, the pool).
        self.parked = False
        self.waiting = threading.Event()  # a parked run's child is forked and waiting
        self.timed_out: float | None = None  # the start-up deadline it missed, in seconds
        self.stopped_for: str | None = None  # the limit the host stopped it for
        self.stopped_detail: str | None = None  # what ran into it (a route: "GET /")
        self.exit_status: int | None = None  # a warm child's, as its starter reported it
        self.group: Group | None = None  # its control group, if the machine has them
        self.tail: deque[str] = deque(maxlen=40)  # last lines of output, for a failure message
        self.thread: threading.Thread | None = None
        self.control: int | None = None  # the write end of its control pipe (commands)
        self.commands = 0  # commands asked for, to tell their answers apart

    def close_control(self) -> None:
        with self.lock:
            if self.control is not None:
                os.close(self.control)
                self.control = None
