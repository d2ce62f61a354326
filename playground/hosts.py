"""The names the playground answers to (ALLOWED_HOSTS): a defence against DNS rebinding.

A page on attacker.example whose name is made to resolve to 127.0.0.1 reaches a playground on
this machine from the visitor's browser as a page of its own origin: its calls carry an Origin
equal to their Host, so the Origin checks pass. Its Host is attacker.example, though, and that is
refused here, on every request and WebSocket, before anything else runs.

An entry is `name` (any port) or `name:port`, IPv6 addresses in brackets. The wildcard addresses
(`0.0.0.0:port`, `[::]:port`) allow any IP address at that port: a browser sends an address as
Host only when its address bar holds that address, which no rebinding can arrange. A Host without
a port is matched by its name alone: browsers always send a port that is not the scheme's
default, some other clients never do (simple-websocket), and the name is what rebinding forges.
"""

import ipaddress
from collections.abc import Iterable

from flask import current_app, request

from .errors import PlaygroundError

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
WILDCARDS = ("0.0.0.0", "[::]")  # in an entry: any IP address


def served(host: str, port: int) -> list[str]:
    """The default for a server on `host`:`port` (`python -m playground --host --port`): that,
    and the loopback names at that port; any IP address there when it listens on all of them."""
    name = "[::]" if host in ("", "::") else f"[{host}]" if ":" in host else host
    return list(dict.fromkeys(f"{n}:{port}" for n in (name, *LOOPBACK)))


def split(host: str) -> tuple[str, str]:
    """("name", "port") of a Host header or an entry; the port is "" when it has none."""
    host = host.strip().lower()
    name, colon, port = host.rpartition(":")
    if not colon or name.startswith("[") != name.endswith("]") or "]" in port:
        name, port = host, ""  # no port: `name`, `[::1]`
    return name.rstrip("."), port


def is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def allowed(host: str, entries: Iterable[str]) -> bool:
    """Does the Host header `host` name one of `entries`?"""
    name, port = split(host)
    # A port is at most 5 ASCII digits ("²" is a digit to str.isdigit, and int() of thousands
    # of digits raises).
    if not name or not (port == "" or (port.isascii() and port.isdigit() and len(port) <= 5)):
        return False
    for entry in entries:
        allowed_name, allowed_port = split(entry)
        if port and allowed_port and int(port) != int(allowed_port):
            continue
        if allowed_name == name or (allowed_name in WILDCARDS and is_address(name)):
            return True
    return False


def entries(setting: str | Iterable[str] | None) -> list[str]:
    """ALLOWED_HOSTS as a list: unset means the loopback names at any port; a string may list
    several, separated by commas (as the environment gives it)."""
    if setting is None:
        return list(LOOPBACK)
    if isinstance(setting, str):
        return [entry for entry in setting.split(",") if entry.strip()]
    return list(setting)


def check() -> None:
    """before_request: refuse a Host (behind TRUSTED_PROXIES, the forwarded one) not allowed."""
    if not allowed(request.host, entries(current_app.config["ALLOWED_HOSTS"])):
        raise PlaygroundError(
            400,
            "unknown_host",
            f"this playground does not answer to the "
            f"name {request.host[:100]!r}: open it at the address it serves "
            "(ALLOWED_HOSTS).",
        )
