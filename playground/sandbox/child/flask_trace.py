"""What Flask did for each request, seen from inside the child: part of the child's program.

bootstrap.py imports it from the same directory; like the bootstrap, it imports nothing from the
host package. Tracing uses Flask's signals and wraps the app's hooks: the visitor's source, their
`g` and the bytes of each request and response are left as they are.
"""

import contextvars
import functools
import inspect
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # the child imports Flask only once it runs the app
    from flask import Flask, Request, Response
    from flask.typing import ResponseReturnValue
    from jinja2 import Template
    from werkzeug.routing import Map, Rule
    from werkzeug.routing.matcher import State

R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., object])

MAX_REPR = 300  # characters of one value shown from g, headers, forms
FLASK_CONTEXT = ("g", "request")  # what Flask adds to every template's context
TRACE: contextvars.ContextVar["Trace | None"] = contextvars.ContextVar(
    "playground_trace", default=None
)  # the request being served


def clip(text: str) -> str:
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "…"


def short_repr(value: object) -> str:
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

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: list[dict] = []
        self.route: dict | None = None
        self.request: dict | None = None  # the request as the app saw it
        self.g: dict[str, str] | None = None
        self.session: dict | None = None
        self.mark("received")

    def now(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

    def mark(self, step: str, **detail: object) -> None:
        self.steps.append({"step": step, "at_ms": self.now(), "ms": 0, **detail})

    def begin(self, step: str, **detail: object) -> dict:
        entry = {"step": step, "at_ms": self.now(), "ms": None, **detail}
        self.steps.append(entry)
        return entry

    def end(self, entry: dict) -> None:
        entry["ms"] = round(self.now() - entry["at_ms"], 3)

    def run(self, step: str, call: Callable[[], R], **detail: object) -> R:
        entry = self.begin(step, **detail)
        try:
            return call()
        except BaseException as exc:
            entry["error"] = brief(exc)
            raise
        finally:
            self.end(entry)

    def as_json(self) -> dict:
        return {
            "steps": self.steps,
            "total_ms": self.now(),
            "request": self.request,
            "g": self.g,
            "session": self.session,
        }


def timed(step: str, func: F, **detail: object) -> F:
    """`func` reporting itself as a step of the current request's trace."""
    if inspect.iscoroutinefunction(func):
        # Flask must still see it is async; a sync wrapper would hide that. (The cast: the check
        # narrowed its type to "some coroutine function".)
        return cast(F, func)
    detail.setdefault("name", getattr(func, "__qualname__", short_repr(func)))

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        trace = TRACE.get()
        if trace is None:
            return func(*args, **kwargs)
        return trace.run(step, lambda: func(*args, **kwargs), **detail)

    return cast(F, wrapper)


def guarded(handler: Callable[..., None]) -> Callable[..., None]:
    """A signal handler that never raises: a fault in the trace must not change the answer."""

    @functools.wraps(handler)
    def guard(sender: object, **extra: object) -> None:
        try:
            handler(sender, **extra)
        except Exception as exc:  # noqa: BLE001 - reported in the trace instead
            trace = TRACE.get()
            if trace is not None:
                trace.mark("trace_error", error=brief(exc))

    return guard


def match_order(url_map: "Map") -> list["Rule"]:
    """The rules in the order Werkzeug 3's StateMachineMatcher tries them.

    The matcher walks a tree of path segments depth first: a static segment before variable
    ones, variables by converter weight (int and float, then string, then path; declaration
    order among equals), the rules that end at a segment after everything below it (a path
    that ends there matches nothing below it, except a rule ending in a slash, which wins).
    The first rule in this list that matches a path and its method is the one that answers.
    """
    url_map.update()
    rules: list[Rule] = []

    def walk(state: "State") -> None:
        for child in state.static.values():
            walk(child)
        for _, child in state.dynamic:
            walk(child)
        rules.extend(state.rules)

    walk(url_map._matcher._root)
    return rules


def as_seen(request: "Request") -> dict:
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
        "files": [[k, f.filename] for k, f in request.files.items(multi=True)]
        if form_ready
        else None,
        "json": short_repr(request.get_json(silent=True)) if cached and request.is_json else None,
        "cookies": [[k, clip(v)] for k, v in request.cookies.items(multi=True)],
        "headers": [[k, clip(v)] for k, v in request.headers.items()],
        "body_read": body_read,
    }


class Tracer:
    """Flask's signals and the app's hooks, reporting into the trace of the request served."""

    def __init__(
        self,
        app: "Flask",
        *,
        emit: Callable[..., None],
        describe: Callable[[BaseException], dict],
        visitor_file: Callable[[str], str | None],
    ):
        self.app = app
        self.emit = emit  # protocol event to the host
        self.describe = describe  # an exception as the visitor's error
        self.visitor_file = visitor_file  # a path as the visitor names it, or None
        self.order = match_order(app.url_map)
        self.index = {id(rule): i for i, rule in enumerate(self.order)}  # rules are unhashable

    def routes(self) -> list[dict]:
        kinds = {cls: name for name, cls in self.app.url_map.converters.items()}
        return [
            {
                "rule": rule.rule,
                "endpoint": rule.endpoint,
                "methods": sorted(rule.methods or ()),
                "arguments": sorted(rule.arguments),
                "strict_slashes": rule.strict_slashes,
                "converters": {
                    arg: kinds.get(type(conv), type(conv).__name__)
                    for arg, conv in rule._converters.items()
                },
                "view": self.view_of(rule.endpoint),
            }
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
        file = self.visitor_file(code.co_filename) if code else None
        return {
            "name": getattr(func, "__qualname__", short_repr(func)),
            "file": file,
            "line": code.co_firstlineno if code and file else None,
        }

    def install(self) -> None:
        import flask

        app = self.app
        for attr, step in (
            ("before_request_funcs", "before_request"),
            ("after_request_funcs", "after_request"),
            ("teardown_request_funcs", "teardown_request"),
        ):
            for scope, funcs in getattr(app, attr).items():
                funcs[:] = [timed(step, f, blueprint=scope) for f in funcs]
        app.teardown_appcontext_funcs[:] = [
            timed("teardown_appcontext", f) for f in app.teardown_appcontext_funcs
        ]
        # This app's dispatch_request, timed as the view step.
        app.dispatch_request = self.dispatching(app.dispatch_request)  # type: ignore[method-assign]
        for signal_, handler in (
            (flask.request_started, self.on_started),
            (flask.before_render_template, self.on_render),
            (flask.template_rendered, self.on_rendered),
            (flask.got_request_exception, self.on_exception),
            (flask.request_finished, self.on_finished),
            (flask.appcontext_tearing_down, self.on_teardown),
        ):
            signal_.connect(guarded(handler), app, weak=False)

    def dispatching(
        self, dispatch_request: Callable[[], "ResponseReturnValue"]
    ) -> Callable[[], "ResponseReturnValue"]:
        """The view step; when routing failed, dispatch_request only raises the routing error."""
        import flask

        @functools.wraps(dispatch_request)
        def wrapper() -> "ResponseReturnValue":
            request = flask.request
            trace = TRACE.get()
            if trace is None or request.routing_exception is not None:
                return dispatch_request()
            return trace.run("view", dispatch_request, endpoint=request.endpoint)

        return wrapper

    # -- signals -----------------------------------------------------------------------------

    def on_started(self, sender: "Flask", **extra: object) -> None:
        import flask

        trace = TRACE.get()
        if trace is None:
            return
        # Flask matched the URL as it pushed the request context, just before this signal.
        trace.route = self.resolve(flask.request)
        trace.mark("match", outcome=trace.route["outcome"])
        trace.mark("request_started")
        trace.session = self.session_check(flask.request)

    def on_render(
        self, sender: "Flask", template: "Template", context: dict[str, object], **extra: object
    ) -> None:
        import flask

        trace = TRACE.get()
        if trace is not None:
            # What Flask's default context processor added: the objects behind its proxies.
            injected = [
                n
                for n in FLASK_CONTEXT
                if context.get(n) is getattr(flask, n)._get_current_object()
            ]
            trace.begin(
                "template",
                name=template.name,
                context=[n for n in context if n not in injected],
                injected=injected,
            )

    def on_rendered(
        self, sender: "Flask", template: "Template", context: dict[str, object], **extra: object
    ) -> None:
        trace = TRACE.get()
        if trace is not None:
            entry = next(s for s in reversed(trace.steps) if s["step"] == "template")
            trace.end(entry)

    def on_exception(self, sender: "Flask", exception: BaseException, **extra: object) -> None:
        import flask

        request = flask.request
        error = self.describe(exception)
        self.emit(
            "exception",
            method=request.method,
            path=request.path,
            remote_port=request.environ.get("REMOTE_PORT"),
            error=error,
        )
        trace = TRACE.get()
        if trace is not None:
            trace.mark("exception", error=error)

    def on_finished(self, sender: "Flask", response: "Response", **extra: object) -> None:
        import flask

        trace = TRACE.get()
        if trace is not None:
            trace.mark("response", status=response.status_code, mimetype=response.mimetype)
            trace.request = as_seen(flask.request)

    def on_teardown(self, sender: "Flask", **extra: object) -> None:
        import flask

        trace = TRACE.get()
        if trace is not None:
            trace.mark("teardown")
            trace.g = {name: short_repr(flask.g.get(name)) for name in flask.g}

    # -- what the request met --------------------------------------------------------------------

    def rule_ref(self, rule: "Rule") -> dict:
        return {"index": self.index.get(id(rule)), "rule": rule.rule, "endpoint": rule.endpoint}

    def rule_for(self, request: "Request", path: str, method: str) -> "Rule | None":
        """The rule `path` matches with `method`, or None."""
        from werkzeug.exceptions import HTTPException
        from werkzeug.routing import RoutingException

        try:
            adapter = self.app.create_url_adapter(request)
            if adapter is None:  # only without a request, and there is one
                return None
            rule, _ = adapter.match(path, method, return_rule=True)
        except (HTTPException, RoutingException):
            return None
        return rule

    def resolve(self, request: "Request") -> dict:
        """Which rule answered, with which arguments, or why none did: 308, 405 or 404."""
        from werkzeug.exceptions import MethodNotAllowed
        from werkzeug.routing import RequestRedirect

        error, path, method = request.routing_exception, request.path, request.method
        if error is None:
            rule = request.url_rule
            assert rule is not None, "no routing error: Flask matched a rule"
            return {
                "outcome": "matched",
                "status": None,
                "rule": self.rule_ref(rule),
                "view_args": {
                    k: short_repr(v) if not isinstance(v, (str, int, float)) else v
                    for k, v in (request.view_args or {}).items()
                },
                "reason": f"{rule.rule} matches {path}",
            }
        if isinstance(error, RequestRedirect):
            target = unquote(urlsplit(error.new_url).path)[len(request.script_root) :]
            rule = self.rule_for(request, target, method)
            return {
                "outcome": "redirect",
                "status": error.code,
                "location": error.new_url,
                "rule": rule and self.rule_ref(rule),
                "reason": f"no rule matches {path} itself, but {rule.rule if rule else '?'} "
                f"matches {target}: Werkzeug redirects there",
            }
        if isinstance(error, MethodNotAllowed):
            allowed = sorted(error.valid_methods or ())
            rule = self.rule_for(request, path, allowed[0]) if allowed else None
            return {
                "outcome": "method_not_allowed",
                "status": 405,
                "allowed": allowed,
                "rule": rule and self.rule_ref(rule),
                "reason": f"{rule.rule if rule else 'a rule'} matches {path} but not "
                f"{method}: it allows {', '.join(allowed)}",
            }
        # A rule without the slash exists: strict_slashes makes the slashed path a 404.
        near = self.rule_for(request, path.rstrip("/"), method) if path.endswith("/") else None
        return {
            "outcome": "not_found",
            "status": getattr(error, "code", 404),
            "rule": None,
            "near": near and self.rule_ref(near),
            "reason": f"no rule matches {path}"
            + (
                f" ({near.rule} has no trailing slash, and its slash is not optional)"
                if near
                else ""
            ),
        }

    def session_check(self, request: "Request") -> dict | None:
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
            return {
                "cookie": name,
                "valid": False,
                "reason": "the app has no SECRET_KEY, so it cannot check the signature",
            }
        try:
            serializer.loads(
                value, max_age=int(self.app.permanent_session_lifetime.total_seconds())
            )
        except BadSignature as exc:
            return {
                "cookie": name,
                "valid": False,
                "reason": f"{type(exc).__name__}: "
                f"{clip(str(exc))}; Flask ignores the cookie and starts a new, empty session",
            }
        return {"cookie": name, "valid": True, "reason": "the signature matches the app's key"}
