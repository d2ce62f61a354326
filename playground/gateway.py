"""An app's address through the host: `/apps/<token>/...` forwards any request to the sandbox.

The children listen on the server's loopback, which an attendee's laptop cannot reach; this
address can, so "copy as curl" works from anywhere the host does. The token (in the sandbox's
`url`) is the only key: anyone holding it may send the app requests, as the visitor could.

What comes back is the child's, so it must not act as the host: every answer carries a
`sandbox` Content-Security-Policy (a page of the child's runs in an opaque origin even when
opened in a tab of its own), only known response headers pass (no Clear-Site-Data,
Strict-Transport-Security or Service-Worker-Allowed for the host's name), cookies are kept to
the app's own path, and the host's visitor cookie never reaches the child. The app is told its
prefix (X-Forwarded-Prefix), so the addresses Flask makes (url_for) lead back through here.

A page the preview frames live (Werkzeug's debugger, Flask-DebugToolbar) runs in that opaque
origin, where reading `document.cookie` throws and stops scripts such as the toolbar's; an HTML
answer to a frame's navigation gets a small script first that gives the document a cookie jar
of its own, in memory (`COOKIE_SHIM`).
"""

import re
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, current_app, request

from . import proxy
from .cookies import Jar
from .errors import PlaygroundError
from .services import services
from .visitors import COOKIE

bp = Blueprint("gateway", __name__)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
PREFIX = "/apps/{token}"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "host",
    "content-length",
}
# Response headers a child may set through the gateway (and any X-...): what an app needs, and
# nothing a browser applies to the host's whole name.
PASSED = {
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
    "etag",
    "last-modified",
    "vary",
    "location",
    "set-cookie",
    "www-authenticate",
    "allow",
    "retry-after",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
}
POLICY = "sandbox allow-scripts allow-forms allow-popups allow-modals; frame-ancestors 'self'"
# document.cookie as a jar of this page's own: what a script sets it reads back, until the page
# goes (an expiry in the past, or Max-Age 0, deletes). Nothing reaches the browser's real jar.
COOKIE_SHIM = (
    b"<script>(()=>{const jar=new Map();Object.defineProperty(document,'cookie',"
    b"{configurable:true,get:()=>[...jar].map(([k,v])=>k+'='+v).join('; '),"
    b"set:(text)=>{const[pair,...attributes]=String(text).split(';');"
    b"const at=pair.indexOf('=');const name=(at<0?'':pair.slice(0,at)).trim();"
    b"const gone=attributes.some((a)=>{const[k,v='']=a.split('=');const key=k.trim()"
    b".toLowerCase();return key==='max-age'?Number(v)<=0:key==='expires'&&"
    b"Date.parse(v)<Date.now();});if(gone)jar.delete(name);"
    b"else jar.set(name,pair.slice(at+1).trim());}});})();</script>"
)
# Where the shim goes: after <head>, else after the doctype, else first. `[^<>]*` keeps the
# search linear in the body: a "<head " that never closes stops at the next tag.
HEAD = re.compile(rb"<head(?:\s[^<>]*)?>", re.IGNORECASE)
DOCTYPE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<!doctype[^<>]*>", re.IGNORECASE)


@bp.route("/apps/<token>/", defaults={"rest": ""}, methods=METHODS)
@bp.route("/apps/<token>/<path:rest>", methods=METHODS)
def forward(token: str, rest: str) -> Response:
    sandbox = services().sandboxes.by_token(token)
    if sandbox is None or sandbox.state != "running" or sandbox.port is None:
        raise PlaygroundError(
            404,
            "no_such_app",
            "no app runs at this address (it may have been stopped): press Run in the playground.",
        )
    services().limits["requests"].take(f"gateway:{token}")
    prefix = PREFIX.format(token=token)
    settings = current_app.config
    body = request.get_data()
    if len(body) > settings["MAX_REQUEST_BODY_BYTES"]:
        raise PlaygroundError(
            413,
            "body_too_large",
            f"the request body is larger than {settings['MAX_REQUEST_BODY_BYTES']} bytes.",
        )
    # The app learns where it is mounted (runner.py), so url_for() makes addresses that work here.
    headers = [*forwarded_headers(), ("X-Forwarded-Prefix", prefix)]
    wanted = proxy.Request(request.method, target(prefix), headers, body or None)
    hop = proxy.send(
        sandbox.scheme or "http",
        sandbox.port,
        Jar(),
        wanted,
        timeout=settings["REQUEST_TIMEOUT"],
        max_body=settings["MAX_BODY_BYTES"],
    )
    sandbox.touch()
    framed = request.headers.get("Sec-Fetch-Dest") == "iframe" and is_plain_html(hop.headers)
    page = with_cookie_shim(hop.body) if framed else hop.body
    response = Response(page, status=f"{hop.status} {hop.reason}")
    del response.headers["Content-Type"]  # the app's own, if it sent one, below
    for name, value in hop.headers:
        lower = name.lower()
        if lower == "set-cookie":
            response.headers.add(name, own_path(value, prefix))
        elif lower == "location":
            response.headers.add(name, relocated(value, prefix, sandbox.port))
        elif lower in PASSED or lower.startswith("x-"):
            response.headers.add(name, value)
    response.headers["Content-Security-Policy"] = POLICY
    # Pages of the app run in an opaque origin: its own scripts' fetches (Werkzeug's debugger
    # console, say) are cross-origin to the host. They carry no credentials of the host's.
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"  # the preview may frame it
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
    if hop.truncated:
        response.headers["X-Playground-Truncated"] = f"cut at {settings['MAX_BODY_BYTES']} bytes"
    return response


def is_plain_html(headers: list[tuple[str, str]]) -> bool:
    """An HTML answer the shim can go into: not compressed, in an encoding ASCII is part of."""
    named = {name.lower(): value.lower() for name, value in headers}
    kind = named.get("content-type", "")
    return (
        kind.startswith("text/html")
        and "content-encoding" not in named
        and "utf-16" not in kind
        and "utf-32" not in kind
    )


def with_cookie_shim(page: bytes) -> bytes:
    """The page with COOKIE_SHIM before its own first script."""
    place = HEAD.search(page) or DOCTYPE.match(page)
    at = place.end() if place else 0
    return page[:at] + COOKIE_SHIM + page[at:]


def target(prefix: str) -> str:
    """The path and query after the prefix, percent-encoded exactly as the client sent them."""
    raw = request.environ.get("RAW_URI") or quote(request.path) + (
        "?" + request.query_string.decode("latin-1") if request.query_string else ""
    )
    rest = raw[len(prefix) :] if raw.startswith(prefix) else "/"
    return rest if rest.startswith("/") else "/" + rest


def forwarded_headers() -> list[tuple[str, str]]:
    """The client's headers, but those of the hop to the host and the host's own cookie."""
    headers = []
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in HOP_BY_HOP or lower == "x-forwarded-prefix":
            continue
        if lower == "cookie":
            value = "; ".join(c for c in value.split("; ") if not c.startswith(COOKIE + "="))
            if not value:
                continue
        headers.append((name, value))
    return headers


def own_path(cookie: str, prefix: str) -> str:
    """A Set-Cookie kept to the app's own addresses: its Path under the prefix, no Domain."""
    parts = [p.strip() for p in cookie.split(";")]
    attributes = [
        p for p in parts[1:] if p.split("=", 1)[0].strip().lower() not in ("path", "domain")
    ]
    path = next(
        (p.split("=", 1)[1].strip() for p in parts[1:] if p.lower().startswith("path=")), "/"
    )
    if not path.startswith("/"):
        path = "/"
    if not (path + "/").startswith(prefix + "/"):  # the app may know its prefix already
        path = prefix + path
    return "; ".join([parts[0], f"Path={path}", *attributes])


def relocated(location: str, prefix: str, port: int) -> str:
    """A redirect within the app, kept within the gateway; anywhere else, as it is."""
    parts = urlsplit(location)
    if parts.netloc and parts.netloc not in (f"127.0.0.1:{port}", f"localhost:{port}"):
        return location
    if not parts.path.startswith("/"):
        return location  # relative: the browser resolves it under the prefix already
    path = parts.path if (parts.path + "/").startswith(prefix + "/") else prefix + parts.path
    return path + (f"?{parts.query}" if parts.query else "")
