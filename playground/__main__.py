"""`python -m playground` (or `flask-playground`): serve the playground."""

import argparse
import logging
import signal
import sys

from . import create_app, hosts, sockets
from .services import services_of
from .serving import BoundedServer


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flask-playground", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=5000, help="port (0 picks a free one)")
    parser.add_argument(
        "--sandbox",
        choices=("auto", "bubblewrap", "process"),
        help="how to isolate snippets (auto: bubblewrap where it works); "
        "PLAYGROUND_SANDBOX_MODE when not given, else auto",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request the host answers (off: a room makes thousands)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not args.access_log:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = create_app({"SANDBOX_MODE": args.sandbox} if args.sandbox else None)
    server = BoundedServer(
        args.host,
        args.port,
        app,
        app.config["HOST_THREADS"],
        app.config["HEADER_TIMEOUT"],
        turn_away=lambda headers: sockets.cookieless(headers, app.config),
    )
    if app.config["ALLOWED_HOSTS"] is None:  # now that the port is known (--port 0 picks one)
        app.config["ALLOWED_HOSTS"] = hosts.served(args.host, server.port)
    sandboxes = services_of(app).sandboxes

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(
        f"Flask Playground running on http://{args.host}:{server.port}/ "
        f"(isolation: {sandboxes.isolation.name})",
        flush=True,
    )
    print(f"Presenter token: {app.config['PRESENTER_TOKEN']}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sandboxes.shutdown()
    sys.exit(0)


if __name__ == "__main__":
    main()
