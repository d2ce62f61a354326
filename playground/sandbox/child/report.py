"""How the child tells the host what happens: events on the pipe (protocol.py), and errors in the
visitor's terms, trimmed to their own files."""

import os
import threading
import traceback

import protocol


class Reporter:
    def __init__(self, workdir: str, events_fd: int):
        self.workdir = os.path.realpath(workdir)
        os.set_inheritable(events_fd, False)  # the visitor's subprocesses don't get it
        self._file = os.fdopen(events_fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()

    def emit(self, kind: str, **fields: object) -> None:
        """One event, as one whole line."""
        line = protocol.encode(kind, **fields)
        with self._lock:
            try:
                self._file.write(line)
                self._file.flush()
            except (BrokenPipeError, ValueError):
                pass  # the host is gone; we are about to be killed

    def visitor_file(self, filename: str | None) -> str | None:
        """`filename` relative to the snippet's root, or None if it is not the visitor's."""
        if not filename:
            return None
        path = os.path.realpath(filename)
        if path.startswith(self.workdir + os.sep):
            return os.path.relpath(path, self.workdir)
        return None

    def describe(self, exc: BaseException) -> dict:
        """An exception as the visitor's error: the frames of their own files, and the file and
        line it points at (`where`, when an exception knows better than its frames)."""
        frames = []
        for frame in traceback.extract_tb(exc.__traceback__):
            name = self.visitor_file(frame.filename)
            if name:
                frames.append(
                    traceback.FrameSummary(name, frame.lineno, frame.name, line=frame.line)
                )
        file = line = None
        if frames:
            file, line = frames[-1].filename, frames[-1].lineno
        # A syntax error (Python's or Jinja's) names its own file and line; they beat the frames.
        where = self.visitor_file(getattr(exc, "filename", None))
        lineno = getattr(exc, "lineno", None)
        if where and isinstance(lineno, int):
            file, line = where, lineno
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        if isinstance(exc, SystemExit):
            message = f"the app called sys.exit({exc.code!r}) before it started serving"
        text = "Traceback (most recent call last):\n" if frames else ""
        text += "".join(traceback.format_list(frames))
        text += "".join(traceback.format_exception_only(type(exc), exc))
        if isinstance(exc, SyntaxError) and exc.filename:
            text = text.replace(exc.filename, where or exc.filename)
        return {
            "type": type(exc).__name__,
            "message": message,
            "file": file,
            "line": line,
            "traceback": text,
        }
