"""The child's own program: set up the sandbox, then run the visitor's app.py as __main__.

This file runs *inside* the sandbox, before any visitor code, and imports nothing from the host
package: it is its own program, and tells the host what happens as JSON lines on an inherited
pipe (the events fd) in the format protocol.py holds. Tracing (flask_trace.py) uses Flask's
signals and wraps the app's hooks: the visitor's source, their `g` and the bytes of each request
and response are left as they are.
"""
import argparse
import ast
import ctypes
import faulthandler
import functools
import json
import os
import platform
import resource
import shutil
import signal
import socket
import sys
import threading
import traceback
import types

# python -I leaves this script's directory off sys.path; main() hands the slot to the visitor.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol  # noqa: E402 - the modules next to this one
from flask_trace import TRACE, Trace, Tracer  # noqa: E402

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_NO_NEW_PRIVS = 38

RLIMITS = {
    "memory": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "processes": resource.RLIMIT_NPROC,
    "open_files": resource.RLIMIT_NOFILE,
    "file_size": resource.RLIMIT_FSIZE,
    "core": resource.RLIMIT_CORE,
}


class Events:
    """The pipe to the host: one JSON object per line, whole lines only."""

    def __init__(self, fd: int):
        os.set_inheritable(fd, False)  # the visitor's subprocesses don't get it
        self._file = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()

    def emit(self, kind: str, **fields) -> None:
        line = protocol.encode(kind, **fields)
        with self._lock:
            try:
                self._file.write(line)
                self._file.flush()
            except (BrokenPipeError, ValueError):
                pass  # the host is gone; we are about to be killed


class Runner:
    """Runs the visitor's app: serves it on the host's socket, reports what happens."""

    def __init__(self, args: argparse.Namespace):
        self.workdir = os.path.realpath(args.workdir)
        self.socket_fd = args.socket_fd
        self.events = Events(args.events_fd)
        self.serving = False
        self.source = ""  # app.py as it was run

    # -- errors, in the visitor's terms -------------------------------------------------------

    def _visitor_file(self, filename: str | None) -> str | None:
        """`filename` relative to the snippet's root, or None if it is not the visitor's."""
        if not filename:
            return None
        path = os.path.realpath(filename)
        if path.startswith(self.workdir + os.sep):
            return os.path.relpath(path, self.workdir)
        return None

    def describe(self, exc: BaseException) -> dict:
        frames = []
        for frame in traceback.extract_tb(exc.__traceback__):
            name = self._visitor_file(frame.filename)
            if name:
                frames.append(traceback.FrameSummary(name, frame.lineno, frame.name, line=frame.line))
        file = line = None
        if frames:
            file, line = frames[-1].filename, frames[-1].lineno
        # A syntax error (Python's or Jinja's) names its own file and line; they beat the frames.
        where = self._visitor_file(getattr(exc, "filename", None))
        if where and isinstance(getattr(exc, "lineno", None), int):
            file, line = where, exc.lineno
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        if isinstance(exc, SystemExit):
            message = f"the app called sys.exit({exc.code!r}) before it started serving"
        text = "Traceback (most recent call last):\n" if frames else ""
        text += "".join(traceback.format_list(frames))
        text += "".join(traceback.format_exception_only(type(exc), exc))
        if isinstance(exc, SyntaxError) and exc.filename:
            text = text.replace(exc.filename, where or exc.filename)
        return {"type": type(exc).__name__, "message": message, "file": file, "line": line,
                "traceback": text}

    # -- serving -------------------------------------------------------------------------------

    def traced(self, wsgi_app):
        """Wrap the app's WSGI callable to report each request; the bytes are untouched."""
        def app(environ, start_response):
            trace = Trace()
            token = TRACE.set(trace)
            status = []

            def recording_start_response(code, headers, exc_info=None):
                status.append(int(code.split(" ", 1)[0]))
                return start_response(code, headers, exc_info)

            try:
                return wsgi_app(environ, recording_start_response)
            finally:
                TRACE.reset(token)
                self.events.emit(
                    "request", method=environ.get("REQUEST_METHOD"),
                    path=environ.get("PATH_INFO"), query=environ.get("QUERY_STRING", ""),
                    status=status[-1] if status else 500, duration_ms=trace.now(),
                    remote_port=environ.get("REMOTE_PORT"), route=trace.route,
                    trace=trace.as_json())
        return app

    def serve(self, app, ssl_context=None) -> None:
        """Serve `app` on the host's socket until the sandbox is stopped; never returns."""
        if self.serving:
            raise RuntimeError("app.run() was called while the app is already serving")
        self.serving = True
        tracer = Tracer(app, emit=self.events.emit, describe=self.describe,
                        visitor_file=self._visitor_file)
        tracer.install()
        app.wsgi_app = self.traced(app.wsgi_app)
        server = handed_server(app, self.socket_fd, ssl_context)
        faulthandler.cancel_dump_traceback_later()
        self.events.emit("ready", scheme="https" if ssl_context else "http",
                         routes=tracer.routes(), runtime=runtime())
        server.serve_forever()

    def take_over_run(self) -> None:
        """Replace Flask.run: the talk's `app.run(host=..., port=...)` serves on our socket."""
        import flask

        runner = self

        def run(app, host=None, port=None, debug=None, load_dotenv=True, **options):
            if debug is not None:
                app.debug = bool(debug)  # templates reload etc.; the debugger is never started
            runner.warn_of_code_after_run(sys._getframe(1))
            runner.serve(app, options.get("ssl_context"))

        flask.Flask.run = run

    def warn_of_code_after_run(self, caller) -> None:
        """app.run() serves until the sandbox stops, as in the talk: what app.py declares after
        it never runs. A learner who adds a route at the end gets a 404 with no clue why."""
        code = caller.f_code
        if code.co_name != "<module>" or self._visitor_file(code.co_filename) != "app.py":
            return
        # The source as it was run: the app may have deleted its own file since.
        statements = ast.parse(self.source).body
        for i, statement in enumerate(statements):
            if statement.lineno <= caller.f_lineno <= statement.end_lineno and statements[i + 1:]:
                after = statements[i + 1]
                first = min([after.lineno] + [d.lineno for d in getattr(after, "decorator_list", [])])
                last = statements[-1].end_lineno
                print(f"playground: app.run() on line {caller.f_lineno} serves until the app is "
                      f"stopped, so lines {first}-{last} of app.py never run (a route declared "
                      "there is a 404): move them above app.run().", file=sys.stderr, flush=True)
                return

    def find_app(self, namespace: dict):
        """Find the app as `flask run` does when the module never calls app.run()."""
        import flask

        for name in ("app", "application"):
            if isinstance(namespace.get(name), flask.Flask):
                return namespace[name]
        apps = [v for v in namespace.values() if isinstance(v, flask.Flask)]
        if len(apps) == 1:
            return apps[0]
        for name in ("create_app", "make_app"):
            factory = namespace.get(name)
            if callable(factory):
                app = factory()
                if isinstance(app, flask.Flask):
                    return app
        return None

    def run_main(self) -> None:
        path = os.path.join(self.workdir, "app.py")
        with open(path, encoding="utf-8") as f:
            source = self.source = f.read()
        module = types.ModuleType("__main__")
        module.__file__ = path
        module.__builtins__ = __builtins__
        sys.modules["__main__"] = module
        exec(compile(source, path, "exec"), module.__dict__)
        app = self.find_app(module.__dict__)
        if app is None:
            raise NoAppFound("app.py finished without calling app.run() and defines no Flask app "
                             "(looked for `app`, `application` and `create_app()`)")
        self.serve(app)


@functools.cache
def runtime() -> dict:
    """The versions the app runs with, for the page to show (a warm child's zygote asked)."""
    from importlib.metadata import version

    return {"python": platform.python_version(), "flask": version("flask"),
            "werkzeug": version("werkzeug")}


class NoAppFound(Exception):
    pass


def handed_server(app, fd: int, ssl_context):
    """Werkzeug's threaded server on the listener the host passed in (`fd`).

    Before Werkzeug takes `fd`, socketserver makes a socket of the server's `address_family`
    only for Werkzeug to close it again. The sandbox may make Unix sockets alone (seccomp.py):
    until the listener is in place the family reads AF_UNIX, then the listener's own."""
    from werkzeug.serving import ThreadedWSGIServer

    class HandedServer(ThreadedWSGIServer):
        @property
        def address_family(self):
            return self.socket.family if hasattr(self, "socket") else socket.AF_UNIX

        @address_family.setter
        def address_family(self, _guess):
            pass  # Werkzeug's guess from the host name: the listener knows its own

    return HandedServer("127.0.0.1", 0, app, ssl_context=ssl_context, fd=fd)


def confine(args: argparse.Namespace, seccomp: bytes | None = None) -> None:
    """Limits first, then drop root for the sandbox's own uid, with an empty capability
    bounding set; the visitor's code runs after.

    A cold start's bubblewrap has dropped every capability but what this needs, and installed
    the seccomp filter. A warm child (zygote.py) is forked by root in the host's namespaces and
    installs `seccomp` (raw BPF) itself, after no_new_privs, as the last step before the
    visitor's code.
    """
    for name, value in json.loads(args.limits).items():
        # CPU: SIGXCPU at the soft limit tells the host which limit it was; the kernel
        # sends SIGKILL instead when soft and hard are equal.
        hard = value + 1 if name == "cpu" else value
        resource.setrlimit(RLIMITS[name], (value, hard))
    libc = ctypes.CDLL(None, use_errno=True)
    if args.uid is not None and os.geteuid() == 0:
        drop_bounding_set(libc)
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        os.setgroups([])
        os.setresgid(args.uid, args.uid, args.uid)
        os.setresuid(args.uid, args.uid, args.uid)  # clears the capabilities left
    if seccomp is not None:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        load_seccomp(libc, seccomp)
    # Set after the uid change, which clears it: the child never outlives its parent.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def drop_bounding_set(libc: ctypes.CDLL) -> None:
    """No capability can ever be gained again, by this process or anything it runs."""
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"could not drop capability {cap}")


class SockFprog(ctypes.Structure):
    """struct sock_fprog: a BPF program, as prctl(PR_SET_SECCOMP) takes it."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_seccomp(libc: ctypes.CDLL, program: bytes) -> None:
    """Install the filter the host compiled (seccomp.py); BPF instructions are 8 bytes each."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "could not install the seccomp filter")


def prepare_workdir(args: argparse.Namespace) -> None:
    """Copy the snippet into the sandbox's own (size-capped) directory, owned by its uid."""
    if args.copy_from:
        shutil.copytree(args.copy_from, args.workdir, dirs_exist_ok=True)
    if args.uid is not None and os.geteuid() == 0:
        # Bottom-up, the root last: once a directory is the uid's, root (without
        # CAP_DAC_OVERRIDE) can no longer look inside it.
        for root, dirs, files in os.walk(args.workdir, topdown=False):
            for name in dirs + files:
                os.chown(os.path.join(root, name), args.uid, args.uid, follow_symlinks=False)
        os.chmod(args.workdir, 0o700)  # other sandboxes' uids stay out
        os.chown(args.workdir, args.uid, args.uid)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--copy-from")
    parser.add_argument("--socket-fd", type=int, required=True)
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--limits", default="{}")
    return parser.parse_args(argv)


def start(args: argparse.Namespace, seccomp: bytes | None = None) -> None:
    """Set the sandbox up, then run the visitor's app; never returns. The same for a cold start
    (main) and a warm one (zygote.py)."""
    faulthandler.enable()  # a segfault still tells the visitor where it happened
    prepare_workdir(args)
    confine(args, seccomp)
    os.chdir(args.workdir)
    sys.path[0] = args.workdir  # this program's directory gives way to the visitor's own
    sys.argv = ["app.py"]
    runner = Runner(args)
    # The host asks, before it gives up on a start that makes no progress: where is it stuck?
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        runner.take_over_run()
        runner.run_main()
    except BaseException as exc:  # everything, sys.exit included, is reported
        runner.events.emit("failed", error=runner.describe(exc))
        sys.stderr.flush()
    os._exit(1)


def main() -> None:
    start(options())


if __name__ == "__main__":
    main()
