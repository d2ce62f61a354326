"""The flask command, run for the host inside the app's own sandbox.

While the app serves, a thread reads the host's requests on the control pipe (protocol.py) and
runs each as `flask <args>` in a process of its own, started from the app's: the same files,
instance folder, uid, limits and seccomp filter. Its output goes to the live log and back to the
host in a `command` event. That process is this program with `--command`: Flask's own command
group (`flask --help`, `routes`, the app's click commands), the app found as the server found it
(discovery.py), `app.run()` a no-op as under `flask run`, and a `shell` that takes `-c CODE`.
"""

import json
import os
import shlex
import subprocess
import sys
import threading
import time
import types

import discovery
import protocol
from report import Reporter

OUTPUT_BYTES = 64 * 1024  # of a command's output sent back; the live log has it all
MAX_TIMEOUT = 300.0


def listen(control_fd: int, report: Reporter, program: str, spec: str | None) -> None:
    """Run each command the host sends, one at a time, in a daemon thread."""
    os.set_inheritable(control_fd, False)
    threading.Thread(
        target=_serve,
        args=(control_fd, report, program, spec),
        name="playground-commands",
        daemon=True,
    ).start()


def _serve(control_fd: int, report: Reporter, program: str, spec: str | None) -> None:
    with os.fdopen(control_fd, encoding="utf-8") as control:
        for line in control:
            asked = protocol.decode_command(line)
            if asked is not None:
                report.emit("command", **run(asked, report.workdir, program, spec))


def run(asked: dict, workdir: str, program: str, spec: str | None) -> dict:
    """`flask <args>` in a process of its own; what the host answers with."""
    args, timeout = asked["args"], min(float(asked["timeout"]), MAX_TIMEOUT)
    argv = [
        sys.executable,
        "-I",
        "-B",
        program,
        "--command",
        json.dumps(args),
        "--workdir",
        workdir,
    ] + (["--app", spec] if spec else [])
    print(f"$ flask {shlex.join(args)}", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=workdir,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(asked.get("input", "").encode(), timeout=timeout)
        note = ""
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        output, _ = proc.communicate()
        note = f"\nplayground: the command did not end within {timeout:g} s and was stopped."
    text = output.decode("utf-8", "replace") + note
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    sys.stdout.flush()
    return {
        "id": asked["id"],
        "exit_code": proc.returncode,
        "output": text[:OUTPUT_BYTES],
        "truncated": len(text) > OUTPUT_BYTES,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }


def main(args: list[str], workdir: str, spec: str | None) -> int:
    """The command process: `flask <args>` for the app in `workdir`."""
    import click
    import flask
    from flask.cli import FlaskGroup, routes_command, with_appcontext

    def skip_run(app: flask.Flask, *args: object, **kwargs: object) -> None:
        """As under `flask run`: the command must not start a server."""

    def run_main(path: str) -> types.ModuleType:
        import runpy

        module = types.ModuleType("__main__")
        module.__dict__.update(runpy.run_path(path, run_name="__main__"))
        return module

    @click.command("shell", short_help="Run Python in the app's context.")
    @click.option(
        "-c",
        "code",
        help="Python to run (as `python -c`), instead of reading it from the command's input.",
    )
    @with_appcontext
    def shell(code: str | None) -> None:
        """Run Python with the app's shell context (`app`, `g` and the app's own names)."""
        import code as interactive

        names = flask.current_app.make_shell_context()
        if code is not None:
            exec(compile(code, "<shell -c>", "exec"), names)
        else:
            interactive.interact(
                banner=f"App: {flask.current_app.import_name}", local=names, exitmsg=""
            )

    os.chdir(workdir)
    sys.path[0] = workdir  # this program's directory gives way to the visitor's own
    # As under `flask run`; mypy reads the class attribute's `self` askew.
    flask.Flask.run = skip_run  # type: ignore[method-assign, assignment]
    group = FlaskGroup(
        name="flask",
        add_default_commands=False,
        load_dotenv=False,
        create_app=lambda: discovery.load(workdir, spec, run_main),
    )
    group.add_command(routes_command)
    group.add_command(shell)
    try:
        group.main(args=args, prog_name="flask", standalone_mode=True)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0
