"""Serving the visitor's app on the socket the host passed in, and reporting what it does.

`Flask.run` is taken over: the talk's `app.run(host=..., port=...)` serves here, whatever host
and port it names (TLS when it asks for it, Werkzeug's debugger when it asks for debug mode: the
debugger's console runs code in this sandbox, where the visitor's code runs anyway, and its PIN
is off because only the sandbox's owner reaches it). Each request is reported (its trace from
flask_trace.py); so is an exception raised while a streamed response was being sent.
"""

import ast
import functools
import os
import platform
import socket
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, cast

from werkzeug.middleware.proxy_fix import ProxyFix

import commands
import discovery
from flask_trace import TRACE, Trace, Tracer
from report import Reporter

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask
    from werkzeug.serving import ThreadedWSGIServer, _TSSLContextArg


class Runner:
    def __init__(
        self,
        report: Reporter,
        socket_fd: int,
        control_fd: int | None,
        spec: str | None,
        program: str | None,
    ):
        self.report = report
        self.socket_fd = socket_fd
        self.control_fd = control_fd  # the host's commands (commands.py)
        self.spec = spec  # the App field: "flaskr:create_app('dev')", or None to look
        self.program = program  # this child's program, as the sandbox sees it
        self.serving = False
        self.source = ""  # app.py as it was run: the app may delete its own file

    def run(self) -> None:
        """Find the app and serve it; never returns."""
        self.take_over_run()
        self.serve(discovery.load(self.report.workdir, self.spec, self.run_main))

    def run_main(self, path: str) -> types.ModuleType:
        """Run `path` as __main__, as `python app.py` does; its module once it ends."""
        with open(path, encoding="utf-8") as f:
            self.source = f.read()
        module = types.ModuleType("__main__")
        module.__file__ = path
        module.__dict__["__builtins__"] = __builtins__
        sys.modules["__main__"] = module
        exec(compile(self.source, path, "exec"), module.__dict__)
        return module

    # -- serving -------------------------------------------------------------------------------

    def take_over_run(self) -> None:
        """Replace Flask.run: the talk's `app.run(host=..., port=...)` serves on our socket."""
        import flask

        runner = self

        def run(
            app: flask.Flask,
            host: str | None = None,
            port: int | None = None,
            debug: bool | None = None,
            load_dotenv: bool = True,
            **options: object,
        ) -> None:
            if debug is not None:
                app.debug = bool(debug)
            runner.warn_of_code_after_run(sys._getframe(1))
            runner.serve(app, options.get("ssl_context"))

        # Every app's run(), as said above; mypy reads the class attribute's `self` askew.
        flask.Flask.run = run  # type: ignore[method-assign, assignment]

    def serve(self, app: "Flask", ssl_context: object = None) -> None:
        """Serve `app` on the host's socket until the sandbox is stopped; never returns."""
        if self.serving:
            raise RuntimeError("app.run() was called while the app is already serving")
        self.serving = True
        tracer = Tracer(
            app,
            emit=self.report.emit,
            describe=self.report.describe,
            visitor_file=self.report.visitor_file,
        )
        tracer.install()
        if app.debug:
            from werkzeug.debug import DebuggedApplication

            os.environ["WERKZEUG_DEBUG_PIN"] = "off"
            # Middleware, as Werkzeug's run_simple adds it under `flask run --debug`.
            app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)  # type: ignore[method-assign]
        # Through the host's gateway the app lives under /apps/<token>: Werkzeug's own ProxyFix
        # sets SCRIPT_NAME from X-Forwarded-Prefix, so url_for() leads back through it.
        proxied = ProxyFix(
            self.traced(app.wsgi_app), x_for=0, x_proto=0, x_host=0, x_port=0, x_prefix=1
        )
        app.wsgi_app = proxied  # type: ignore[method-assign]  # as Flask's docs add middleware
        server = handed_server(app, self.socket_fd, ssl_context)
        if self.control_fd is not None and self.program:
            commands.listen(self.control_fd, self.report, self.program, self.spec)
        self.report.emit(
            "ready",
            scheme="https" if ssl_context else "http",
            routes=tracer.routes(),
            runtime=runtime(),
        )
        server.serve_forever()

    def traced(self, wsgi_app: "WSGIApplication") -> "WSGIApplication":
        """Wrap the app's WSGI callable to report each request; the bytes are untouched."""

        def app(environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
            trace = Trace()
            token = TRACE.set(trace)
            status: list[int] = []

            def recording_start_response(
                code: str, headers: list[tuple[str, str]], exc_info: "OptExcInfo | None" = None
            ) -> Callable[[bytes], object]:
                status.append(int(code.split(" ", 1)[0]))
                return start_response(code, headers, exc_info)

            try:
                return Streamed(
                    wsgi_app(environ, recording_start_response),
                    lambda exc: self.broken_stream(environ, exc),
                )
            finally:
                TRACE.reset(token)
                self.report.emit(
                    "request",
                    method=environ.get("REQUEST_METHOD"),
                    path=environ.get("PATH_INFO"),
                    query=environ.get("QUERY_STRING", ""),
                    status=status[-1] if status else 500,
                    duration_ms=trace.now(),
                    remote_port=environ.get("REMOTE_PORT"),
                    route=trace.route,
                    trace=trace.as_json(),
                )

        return app

    def broken_stream(self, environ: "WSGIEnvironment", exc: BaseException) -> None:
        """A response failed after its headers went out (a generator without
        stream_with_context, say): Flask's handlers are long done, so say it here."""
        self.report.emit(
            "exception",
            method=environ.get("REQUEST_METHOD"),
            path=environ.get("PATH_INFO"),
            remote_port=environ.get("REMOTE_PORT"),
            error=self.report.describe(exc),
        )

    def warn_of_code_after_run(self, caller: types.FrameType) -> None:
        """app.run() serves until the sandbox stops, as in the talk: what app.py declares after
        it never runs. A learner who adds a route at the end gets a 404 with no clue why."""
        code = caller.f_code
        if code.co_name != "<module>" or self.report.visitor_file(code.co_filename) != "app.py":
            return
        statements = ast.parse(self.source).body
        for i, statement in enumerate(statements):
            if (
                statement.lineno <= caller.f_lineno <= (statement.end_lineno or 0)
                and statements[i + 1 :]
            ):
                after = statements[i + 1]
                first = min(
                    [after.lineno] + [d.lineno for d in getattr(after, "decorator_list", [])]
                )
                last = statements[-1].end_lineno
                print(
                    f"playground: app.run() on line {caller.f_lineno} serves until the app is "
                    f"stopped, so lines {first}-{last} of app.py never run (a route declared "
                    "there is a 404): move them above app.run().",
                    file=sys.stderr,
                    flush=True,
                )
                return


def handed_server(app: "WSGIApplication", fd: int, ssl_context: object) -> "ThreadedWSGIServer":
    """Werkzeug's threaded server on the listener the host passed in (`fd`).

    Before Werkzeug takes `fd`, socketserver makes a socket of the server's `address_family`
    only for Werkzeug to close it again. The sandbox may make Unix sockets alone (seccomp.py):
    until the listener is in place the family reads AF_UNIX, then the listener's own."""
    from werkzeug.serving import ThreadedWSGIServer

    class HandedServer(ThreadedWSGIServer):
        @property
        def address_family(self) -> int:
            return self.socket.family if hasattr(self, "socket") else socket.AF_UNIX

        @address_family.setter
        def address_family(self, _guess: int) -> None:
            pass  # Werkzeug's guess from the host name: the listener knows its own

    # Whatever the app passed to app.run(): Werkzeug checks it as `flask run` would.
    return HandedServer(
        "127.0.0.1", 0, app, ssl_context=cast("_TSSLContextArg", ssl_context), fd=fd
    )


class Streamed:
    """A response body, passed on chunk by chunk; an exception while it is produced is told to
    `broken` before it goes on to the server."""

    def __init__(self, body: Iterable[bytes], broken: Callable[[BaseException], None]):
        self.body = body
        self.broken = broken

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.body
        except Exception as exc:
            self.broken(exc)
            raise

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


@functools.cache
def runtime() -> dict:
    """The versions the app runs with, for the page to show (a warm child's zygote asked)."""
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "flask": version("flask"),
        "werkzeug": version("werkzeug"),
    }
