"""The host's side of the fork server (child/zygote.py): start it, keep it alive, ask it for
warm children.

The zygote is started by a keeper thread that lives as long as the host: its parent-death signal
follows that thread, and the keeper starts a new zygote whenever one dies, however it died. A
request sent to a zygote that dies before it answers raises `ZygoteLost`; the caller throws that
attempt's jail away (nothing half-started survives it: see child/zygote.py) and tries again.
"""

import json
import logging
import socket
import subprocess
import sys
import threading

from .isolation import CHILD_DIR, CHILD_ENV, PYTHON_FLAGS

log = logging.getLogger(__name__)

PROGRAM = CHILD_DIR / "zygote.py"
START_SECONDS = 30.0  # importing Flask on a busy machine


class ZygoteLost(Exception):
    """The zygote died (or would not start) before it answered."""


class Zygote:
    def __init__(self, seccomp: bytes):
        self.seccomp = seccomp
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = threading.Condition()
        self._asking = threading.Lock()  # one request at a time on the socket
        self._closed = False
        self.starts = 0  # zygotes started, for tests and the log
        threading.Thread(target=self._keep, name="zygote-keeper", daemon=True).start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _keep(self) -> None:
        """Start a zygote, wait for it to die, start the next one, until the host closes."""
        while not self._closed:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                proc = subprocess.Popen(
                    [sys.executable, *PYTHON_FLAGS, str(PROGRAM), str(theirs.fileno())],
                    pass_fds=(theirs.fileno(),),
                    env=CHILD_ENV,
                    stdin=subprocess.DEVNULL,
                    cwd="/",
                    start_new_session=True,
                )
            finally:
                theirs.close()
            try:
                ours.settimeout(START_SECONDS)
                ours.send(json.dumps({"seccomp": self.seccomp.hex()}).encode())
                if not json.loads(ours.recv(1024) or b"{}").get("ready"):
                    raise OSError("it did not say it was ready")
                ours.settimeout(None)
            except (OSError, ValueError) as exc:
                log.warning("the zygote did not start (%s): runs start cold meanwhile", exc)
                proc.kill()
            else:
                with self._ready:
                    self._sock, self._proc = ours, proc
                    self.starts += 1
                    self._ready.notify_all()
            proc.wait()
            with self._ready:
                if self._sock is ours:
                    self._sock = None
            ours.close()
            if not self._closed:
                log.warning("the zygote exited (%s); starting another", proc.returncode)

    def spawn(self, request: dict, fds: list[int], timeout: float) -> int:
        """Fork a starter for `request` with `fds`; its pid. ZygoteLost if no zygote answers."""
        with self._ready:
            if not self._ready.wait_for(lambda: self._sock is not None or self._closed, timeout):
                raise ZygoteLost("no zygote started in time")
            sock = self._sock
        if sock is None:
            raise ZygoteLost("the host is closing")
        with self._asking:
            try:
                socket.send_fds(sock, [json.dumps(request).encode()], fds)
                answer = json.loads(sock.recv(1024) or b"{}")
            except (OSError, ValueError) as exc:
                raise ZygoteLost(str(exc)) from None
        if "pid" not in answer:
            raise ZygoteLost(answer.get("error") or "the zygote closed its socket")
        return int(answer["pid"])

    def close(self) -> None:
        self._closed = True
        with self._ready:
            proc = self._proc
            self._ready.notify_all()
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
