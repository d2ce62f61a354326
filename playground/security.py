"""The host's own web defences: security headers on every response, the per-visitor rate limits,
no debug mode, and (behind TRUSTED_PROXIES reverse proxies) the public scheme and host name.

The Content-Security-Policy keeps host pages to the host's own scripts, styles and connections,
and lets no other site frame them. One concession: a child's HTML is previewed in an
`<iframe sandbox srcdoc>`, and such a frame inherits this policy, so inline scripts (the
snippet's own, and the preview's link handler) must be allowed. The frame has no
`allow-same-origin`, so those scripts run in an opaque origin that cannot reach the host's page,
cookies or API; the page itself builds its DOM from text, never from visitors' HTML.
"""

from flask import Flask, abort, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from . import ratelimit
from .errors import PlaygroundError

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self' blob: data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def secure_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def rate_limit(what: str, visitor: str) -> None:
    """Count one of `what` ("runs", "requests") for `visitor`; a 429 when they go too fast."""
    current_app.extensions["playground.ratelimits"][what].take(visitor)


def too_large(_error):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    error = PlaygroundError(413, "request_too_large", f"the request is larger than {limit} bytes, "
                            "the most the playground reads (MAX_CONTENT_LENGTH).")
    return jsonify(error.to_json()), 413


def refuse_the_debugger():
    """`flask run --debugger` wraps the app in Werkzeug's debugger even with debug off: it
    would run any Python a visitor types, on the host. Refuse to serve under it."""
    if "werkzeug.debug.preserve_context" in request.environ:
        abort(500, "the playground refuses to run under Werkzeug's debugger")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with JSON nested deeper than Python's stack refused as bad JSON: the
    `get_json(silent=True)` callers expect a ValueError, not a RecursionError (a 500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None


def init_app(app: Flask) -> None:
    if app.debug:
        # Werkzeug's debugger runs any Python a visitor types, on the host.
        raise RuntimeError("the playground must never run in debug mode (FLASK_DEBUG, --debug)")
    app.json = JSONProvider(app)
    app.extensions["playground.ratelimits"] = ratelimit.for_app(app.config)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.before_request(refuse_the_debugger)
    app.after_request(secure_headers)
    app.register_error_handler(RequestEntityTooLarge, too_large)
