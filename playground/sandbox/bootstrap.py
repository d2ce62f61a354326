"""The child's own program: set up the sandbox, then run the visitor's app.py as __main__.

This file runs *inside* the sandbox, before any visitor code, and imports nothing from the host
package: it is its own program with a tiny contract. It talks to the host by writing JSON lines on
an inherited pipe (the events fd):

    {"type": "ready", "scheme", "routes"}        serving on the socket the host passed in
    {"type": "failed", "error"}                  the app could not start serving
    {"type": "request", "method", "path", "query", "status", "duration_ms", "remote_port",
     "route", "trace"}
    {"type": "exception", "method", "path", "remote_port", "error"}

An error is {"type", "message", "file", "line", "traceback"}, trimmed to the visitor's own files.
"routes" are the URL rules in the order Werkzeug tries them; "route" says which one answered a
request (or why none did) and "trace" what Flask did for it, step by step (see Trace). Tracing
uses Flask's signals and wraps the app's hooks: the visitor's source, their `g` and the bytes of
each request and response are left as they are.
"""

import argparse
import contextvars
import ctypes
import faulthandler
import functools
import inspect
import json
import os
import resource
import shutil
import signal
import sys
import threading
import time
import traceback
import types
from urllib.parse import unquote, urlsplit

PR_SET_PDEATHSIG = 1
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
        line = json.dumps({"type": kind, **fields}, default=repr) + "\n"
        with self._lock:
            try:
                self._file.write(line)
                self._file.flush()
            except (BrokenPipeError, ValueError):
                pass  # the host is gone; we are about to be killed


MAX_REPR = 300  # characters of one value shown from g, headers, forms
FLASK_CONTEXT = ("g", "request")  # what Flask adds to every template's context
TRACE = contextvars.ContextVar("playground_trace", default=None)  # the request being served


def clip(text: str) -> str:
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "…"


def short_repr(value) -> str:
    try:
        return clip(repr(value))
    except Exception as exc:  # noqa: BLE001 - a visitor's __repr__ may raise anything
        return f"<repr() raised {type(exc).__name__}>"


def brief(exc: BaseException) -> dict:
    return {"type": type(exc).__name__, "message": clip(str(exc))}


class Trace:
    """What Flask did for one request, each step timed from when the server handed it over.

    A step is {"step", "at_ms", "ms", ...details}: "ms" is 0 for an instant (a signal) and None
    for a step that never ended (a template whose rendering raised); "error" when it raised.
    """

    def __init__(self):
        self.started = time.perf_counter()
        self.steps = []
        self.route = None
        self.request = None  # the request as the app saw it
        self.g = None
        self.session = None
        self.mark("received")

    def now(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

    def mark(self, step: str, **detail) -> None:
        self.steps.append({"step": step, "at_ms": self.now(), "ms": 0, **detail})

    def begin(self, step: str, **detail) -> dict:
        entry = {"step": step, "at_ms": self.now(), "ms": None, **detail}
        self.steps.append(entry)
        return entry

    def end(self, entry: dict) -> None:
        entry["ms"] = round(self.now() - entry["at_ms"], 3)

    def run(self, step: str, call, **detail):
        entry = self.begin(step, **detail)
        try:
            return call()
        except BaseException as exc:
            entry["error"] = brief(exc)
            raise
        finally:
            self.end(entry)

    def as_json(self) -> dict:
        return {"steps": self.steps, "total_ms": self.now(), "request": self.request,
                "g": self.g, "session": self.session}


def timed(step: str, func, **detail):
    """`func` reporting itself as a step of the current request's trace."""
    if inspect.iscoroutinefunction(func):
        return func  # Flask must still see it is async; a sync wrapper would hide that
    detail.setdefault("name", getattr(func, "__qualname__", short_repr(func)))

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        trace = TRACE.get()
        if trace is None:
            return func(*args, **kwargs)
        return trace.run(step, lambda: func(*args, **kwargs), **detail)
    return wrapper


def guarded(handler):
    """A signal handler that never raises: a fault in the trace must not change the answer."""
    @functools.wraps(handler)
    def guard(sender, **extra):
        try:
            handler(sender, **extra)
        except Exception as exc:  # noqa: BLE001 - reported in the trace instead
            trace = TRACE.get()
            if trace is not None:
                trace.mark("trace_error", error=brief(exc))
    return guard


def match_order(url_map) -> list:
    """The rules in the order Werkzeug 3's StateMachineMatcher tries them.

    The matcher walks a tree of path segments depth first: a static segment before variable
    ones, variables by converter weight (int and float, then string, then path; declaration
    order among equals), the rules that end at a segment after everything below it (a path
    that ends there matches nothing below it, except a rule ending in a slash, which wins).
    The first rule in this list that matches a path and its method is the one that answers.
    """
    url_map.update()
    rules = []

    def walk(state):
        for child in state.static.values():
            walk(child)
        for _, child in state.dynamic:
            walk(child)
        rules.extend(state.rules)

    walk(url_map._matcher._root)
    return rules


def as_seen(request) -> dict:
    """request.args, form, json, cookies and headers, reading nothing the app did not read.

    A body the app never read stays unread (None here): reading it now could wait on a client
    whose Content-Length promised more than it sent.
    """
    cached = getattr(request, "_cached_data", None) is not None
    body_read = cached or "form" in request.__dict__
    form_ready = body_read or not request.want_form_data_parsed
    return {
        "args": [[k, clip(v)] for k, v in request.args.items(multi=True)],
        "form": [[k, clip(v)] for k, v in request.form.items(multi=True)] if form_ready else None,
        "files": [[k, f.filename] for k, f in request.files.items(multi=True)] if form_ready
        else None,
        "json": short_repr(request.get_json(silent=True)) if cached and request.is_json else None,
        "cookies": [[k, clip(v)] for k, v in request.cookies.items(multi=True)],
        "headers": [[k, clip(v)] for k, v in request.headers.items()],
        "body_read": body_read,
    }


class Tracer:
    """Flask's signals and the app's hooks, reporting into the trace of the request served."""

    def __init__(self, child, app):
        self.child = child
        self.app = app
        self.order = match_order(app.url_map)
        self.index = {id(rule): i for i, rule in enumerate(self.order)}  # rules are unhashable

    def routes(self) -> list:
        kinds = {cls: name for name, cls in self.app.url_map.converters.items()}
        return [
            {"rule": rule.rule, "endpoint": rule.endpoint, "methods": sorted(rule.methods or ()),
             "arguments": sorted(rule.arguments), "strict_slashes": rule.strict_slashes,
             "converters": {arg: kinds.get(type(conv), type(conv).__name__)
                            for arg, conv in rule._converters.items()},
             "view": self.view_of(rule.endpoint)}
            for rule in self.order
        ]

    def view_of(self, endpoint: str) -> dict | None:
        """The view function's name, and where it is when it is in the visitor's files."""
        func = self.app.view_functions.get(endpoint)
        if func is None:
            return None
        try:
            func = inspect.unwrap(func)
        except ValueError:  # a cycle of __wrapped__
            pass
        code = getattr(func, "__code__", None)
        file = self.child._visitor_file(code.co_filename) if code else None
        return {"name": getattr(func, "__qualname__", short_repr(func)), "file": file,
                "line": code.co_firstlineno if file else None}

    def install(self) -> None:
        import flask

        app = self.app
        for attr, step in (("before_request_funcs", "before_request"),
                           ("after_request_funcs", "after_request"),
                           ("teardown_request_funcs", "teardown_request")):
            for scope, funcs in getattr(app, attr).items():
                funcs[:] = [timed(step, f, blueprint=scope) for f in funcs]
        app.teardown_appcontext_funcs[:] = [timed("teardown_appcontext", f)
                                            for f in app.teardown_appcontext_funcs]
        app.dispatch_request = self.dispatching(app.dispatch_request)
        for signal_, handler in (
                (flask.request_started, self.on_started),
                (flask.before_render_template, self.on_render),
                (flask.template_rendered, self.on_rendered),
                (flask.got_request_exception, self.on_exception),
                (flask.request_finished, self.on_finished),
                (flask.appcontext_tearing_down, self.on_teardown)):
            signal_.connect(guarded(handler), app, weak=False)

    def dispatching(self, dispatch_request):
        """The view step; when routing failed, dispatch_request only raises the routing error."""
        import flask

        @functools.wraps(dispatch_request)
        def wrapper():
            request = flask.request
            trace = TRACE.get()
            if trace is None or request.routing_exception is not None:
                return dispatch_request()
            return trace.run("view", dispatch_request, endpoint=request.url_rule.endpoint)
        return wrapper

    # -- signals -----------------------------------------------------------------------------

    def on_started(self, sender, **extra):
        import flask

        trace = TRACE.get()
        if trace is None:
            return
        # Flask matched the URL as it pushed the request context, just before this signal.
        trace.route = self.resolve(flask.request)
        trace.mark("match", outcome=trace.route["outcome"])
        trace.mark("request_started")
        trace.session = self.session_check(flask.request)

    def on_render(self, sender, template, context, **extra):
        import flask

        trace = TRACE.get()
        if trace is not None:
            # What Flask's default context processor added: the objects behind its proxies.
            injected = [n for n in FLASK_CONTEXT
                        if context.get(n) is getattr(flask, n)._get_current_object()]
            trace.begin("template", name=template.name,
                        context=[n for n in context if n not in injected], injected=injected)

    def on_rendered(self, sender, template, context, **extra):
        trace = TRACE.get()
        if trace is not None:
            entry = next(s for s in reversed(trace.steps) if s["step"] == "template")
            trace.end(entry)

    def on_exception(self, sender, exception, **extra):
        import flask

        request = flask.request
        error = self.child.describe(exception)
        self.child.events.emit("exception", method=request.method, path=request.path,
                               remote_port=request.environ.get("REMOTE_PORT"), error=error)
        trace = TRACE.get()
        if trace is not None:
            trace.mark("exception", error=error)

    def on_finished(self, sender, response, **extra):
        import flask

        trace = TRACE.get()
        if trace is not None:
            trace.mark("response", status=response.status_code, mimetype=response.mimetype)
            trace.request = as_seen(flask.request)

    def on_teardown(self, sender, **extra):
        import flask

        trace = TRACE.get()
        if trace is not None:
            trace.mark("teardown")
            trace.g = {name: short_repr(flask.g.get(name)) for name in flask.g}

    # -- what the request met --------------------------------------------------------------------

    def rule_ref(self, rule) -> dict:
        return {"index": self.index.get(id(rule)), "rule": rule.rule, "endpoint": rule.endpoint}

    def rule_for(self, request, path: str, method: str):
        """The rule `path` matches with `method`, or None."""
        from werkzeug.exceptions import HTTPException
        from werkzeug.routing import RoutingException

        try:
            rule, _ = self.app.create_url_adapter(request).match(path, method, return_rule=True)
        except (HTTPException, RoutingException):
            return None
        return rule

    def resolve(self, request) -> dict:
        """Which rule answered, with which arguments, or why none did: 308, 405 or 404."""
        from werkzeug.exceptions import MethodNotAllowed
        from werkzeug.routing import RequestRedirect

        error, path, method = request.routing_exception, request.path, request.method
        if error is None:
            rule = request.url_rule
            return {"outcome": "matched", "status": None, "rule": self.rule_ref(rule),
                    "view_args": {k: short_repr(v) if not isinstance(v, (str, int, float))
                                  else v for k, v in (request.view_args or {}).items()},
                    "reason": f"{rule.rule} matches {path}"}
        if isinstance(error, RequestRedirect):
            target = unquote(urlsplit(error.new_url).path)[len(request.script_root):]
            rule = self.rule_for(request, target, method)
            return {"outcome": "redirect", "status": error.code, "location": error.new_url,
                    "rule": rule and self.rule_ref(rule),
                    "reason": f"no rule matches {path} itself, but {rule.rule if rule else '?'} "
                              f"matches {target}: Werkzeug redirects there"}
        if isinstance(error, MethodNotAllowed):
            allowed = sorted(error.valid_methods or ())
            rule = self.rule_for(request, path, allowed[0]) if allowed else None
            return {"outcome": "method_not_allowed", "status": 405, "allowed": allowed,
                    "rule": rule and self.rule_ref(rule),
                    "reason": f"{rule.rule if rule else 'a rule'} matches {path} but not "
                              f"{method}: it allows {', '.join(allowed)}"}
        # A rule without the slash exists: strict_slashes makes the slashed path a 404.
        near = self.rule_for(request, path.rstrip("/"), method) if path.endswith("/") else None
        return {"outcome": "not_found", "status": getattr(error, "code", 404), "rule": None,
                "near": near and self.rule_ref(near),
                "reason": f"no rule matches {path}" + (
                    f" ({near.rule} has no trailing slash, and its slash is not optional)"
                    if near else "")}

    def session_check(self, request) -> dict | None:
        """Whether the session cookie the request carried passed Flask's signature check.

        The same check Flask's session interface makes, on our own copy of the cookie: touching
        `session` itself would mark it accessed and add `Vary: Cookie` to the response.
        """
        from flask.sessions import SecureCookieSessionInterface
        from itsdangerous import BadSignature

        interface = self.app.session_interface
        name = self.app.config["SESSION_COOKIE_NAME"]
        value = request.cookies.get(name)
        if value is None or not isinstance(interface, SecureCookieSessionInterface):
            return None
        serializer = interface.get_signing_serializer(self.app)
        if serializer is None:
            return {"cookie": name, "valid": False,
                    "reason": "the app has no SECRET_KEY, so it cannot check the signature"}
        try:
            serializer.loads(value, max_age=int(self.app.permanent_session_lifetime
                                                .total_seconds()))
        except BadSignature as exc:
            return {"cookie": name, "valid": False, "reason": f"{type(exc).__name__}: "
                    f"{clip(str(exc))}; Flask ignores the cookie and starts a new, empty session"}
        return {"cookie": name, "valid": True, "reason": "the signature matches the app's key"}


class Child:
    def __init__(self, args: argparse.Namespace):
        self.workdir = os.path.realpath(args.workdir)
        self.socket_fd = args.socket_fd
        self.events = Events(args.events_fd)
        self.serving = False

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
        from werkzeug.serving import make_server

        if self.serving:
            raise RuntimeError("app.run() was called while the app is already serving")
        self.serving = True
        tracer = Tracer(self, app)
        tracer.install()
        app.wsgi_app = self.traced(app.wsgi_app)
        server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context,
                             fd=self.socket_fd)
        faulthandler.cancel_dump_traceback_later()
        self.events.emit("ready", scheme="https" if ssl_context else "http",
                         routes=tracer.routes())
        server.serve_forever()

    def take_over_run(self) -> None:
        """Replace Flask.run: the talk's `app.run(host=..., port=...)` serves on our socket."""
        import flask

        child = self

        def run(app, host=None, port=None, debug=None, load_dotenv=True, **options):
            if debug is not None:
                app.debug = bool(debug)  # templates reload etc.; the debugger is never started
            child.serve(app, options.get("ssl_context"))

        flask.Flask.run = run

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
            source = f.read()
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


class NoAppFound(Exception):
    pass


def confine(args: argparse.Namespace) -> None:
    """Limits first, then drop root for the sandbox's own uid; the visitor's code runs after."""
    for name, value in json.loads(args.limits).items():
        # CPU: SIGXCPU at the soft limit tells the host which limit it was; the kernel
        # sends SIGKILL instead when soft and hard are equal.
        hard = value + 1 if name == "cpu" else value
        resource.setrlimit(RLIMITS[name], (value, hard))
    libc = ctypes.CDLL(None, use_errno=True)
    if args.uid is not None and os.geteuid() == 0:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        os.setgroups([])
        os.setresgid(args.uid, args.uid, args.uid)
        os.setresuid(args.uid, args.uid, args.uid)
    # Set after the uid change, which clears it: the child never outlives the host.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--copy-from")
    parser.add_argument("--socket-fd", type=int, required=True)
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--start-timeout", type=float, default=0)
    args = parser.parse_args()

    faulthandler.enable()  # a segfault still tells the visitor where it happened
    prepare_workdir(args)
    confine(args)
    os.chdir(args.workdir)
    sys.path.insert(0, args.workdir)
    sys.argv = ["app.py"]
    child = Child(args)
    if args.start_timeout > 0.5:
        # Shortly before the host gives up, show where the code is stuck.
        faulthandler.dump_traceback_later(args.start_timeout - 0.5)
    try:
        child.take_over_run()
        child.run_main()
    except BaseException as exc:  # noqa: B036 - everything, sys.exit included, is reported
        child.events.emit("failed", error=child.describe(exc))
        sys.stderr.flush()
        os._exit(1)


if __name__ == "__main__":
    main()
