"""Python formatted by ruff's formatter: the pure function the text workers run for /api/format.

ruff's formatter (Black's style) is a single native binary from the `ruff` wheel: it formats
250 KB of Python in about 15 ms where Black takes over a second, so a whole snippet file fits
well inside FORMAT_TIMEOUT. It runs inside a text worker (workers.py), so it inherits the
worker's limits and dies with it, and it reads only the text: no configuration file, no cache,
no environment, the root directory as its working directory.
"""

import re
import subprocess

from ruff import find_ruff_bin

# "error: Failed to parse at 2:12: Expected a parameter or the end of the parameter list"
PARSE_ERROR = re.compile(r"Failed to parse at (?P<line>\d+):\d+: (?P<message>.+)")


#: {"code": formatted} or {"error": message, "line": n | None}
FormatResult = dict[str, str | int | None]


def format_python(code: str) -> FormatResult:
    """{"code": formatted} or, for code ruff cannot read, {"error": message, "line": n|None}."""
    done = subprocess.run(
        [find_ruff_bin(), "format", "--isolated", "--no-cache", "-"],
        input=code.encode("utf-8"),
        capture_output=True,
        cwd="/",
        env={},
    )
    if done.returncode == 0:
        return {"code": done.stdout.decode("utf-8")}
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if found := PARSE_ERROR.search(stderr):
        return {"error": found["message"], "line": int(found["line"])}
    # ruff itself gave up: it aborts with a stack overflow on code nested thousands deep.
    last = stderr.splitlines()[-1] if stderr else f"exit status {done.returncode}"
    return {"error": f"ruff gave up on it ({last})", "line": None}
