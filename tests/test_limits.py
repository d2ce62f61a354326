"""sandbox/limits.py: which limit a child hit, told in the visitor's terms."""

import errno
import os
import signal

import pytest

from playground.config import SETTINGS, defaults
from playground.sandbox import limits

DEFAULTS = defaults()


def oserror(number: int) -> dict:
    """An OSError as the child reports it, with the text Python gives that errno."""
    return {"type": "OSError", "message": f"[Errno {number}] {os.strerror(number)}"}


@pytest.mark.parametrize(
    "error, limit",
    [
        ({"type": "MemoryError", "message": ""}, "LIMIT_MEMORY_BYTES"),
        ({"type": "RuntimeError", "message": "can't start new thread"}, "LIMIT_PROCESSES"),
        (oserror(errno.EAGAIN), "LIMIT_PROCESSES"),  # fork()
        (oserror(errno.EMFILE), "LIMIT_OPEN_FILES"),
        (oserror(errno.EFBIG), "LIMIT_FILE_BYTES"),
        (oserror(errno.ENOSPC), "LIMIT_DISK_BYTES"),
        (oserror(errno.EDQUOT), "LIMIT_DISK_BYTES"),
        (oserror(errno.ENOMEM), "LIMIT_MEMORY_BYTES"),
        # Not a limit: the visitor's own mistakes.
        (oserror(errno.ENOENT), None),
        ({"type": "RuntimeError", "message": "dictionary changed size during iteration"}, None),
        ({"type": "ValueError", "message": "Errno 24 in a message of its own"}, None),
        ({"type": "KeyError", "message": None}, None),
        ({}, None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_limit_behind_an_error_the_child_reported(error, limit):
    assert limits.for_error(error) == limit


@pytest.mark.parametrize(
    "signum, oom_killed, limit",
    [
        (signal.SIGKILL, True, "LIMIT_MEMORY_BYTES"),  # the OOM killer's SIGKILL
        (None, True, "LIMIT_MEMORY_BYTES"),
        (signal.SIGXCPU, False, "LIMIT_CPU_SECONDS"),
        (signal.SIGXFSZ, False, "LIMIT_FILE_BYTES"),
        (signal.SIGSYS, False, "SECCOMP"),
        (signal.SIGKILL, False, None),  # the host's own stop, or the visitor's os.kill
        (signal.SIGSEGV, False, None),
        (None, False, None),  # an exit, not a signal
    ],
)
def test_the_limit_behind_a_childs_death(signum, oom_killed, limit):
    assert limits.for_exit(signum, oom_killed) == limit


@pytest.mark.parametrize("limit", sorted(limits.MESSAGES))
def test_every_limit_is_told_with_its_value_and_named(limit):
    message = limits.message(limit, DEFAULTS)
    assert message.endswith(f" ({limit}).")
    if limit != "SECCOMP":  # the filter: not a setting
        assert limit in SETTINGS
        value = DEFAULTS[limit]
        shown = {
            "LIMIT_MEMORY_BYTES": f"{value / 1024 / 1024:g} MB",
            "LIMIT_FILE_BYTES": f"{value / 1024 / 1024:g} MB",
            "LIMIT_DISK_BYTES": f"{value / 1024 / 1024:g} MB",
            "LIMIT_OUTPUT_BYTES": f"{value / 1024 / 1024:g} MB",
            "LIMIT_EVENT_BYTES_PER_SECOND": f"{value // 1024} KB",
            "START_TIMEOUT": f"{value:g} s",
        }.get(limit, str(value))
        assert shown in message, (shown, message)


def test_every_limit_found_has_a_message():
    found = set(limits.BY_ERRNO.values()) | set(limits.BY_SIGNAL.values())
    assert found | {"LIMIT_CPU_SECONDS", "LIMIT_PROCESSES", "LIMIT_MEMORY_BYTES"} <= set(
        limits.MESSAGES
    )


@pytest.mark.parametrize(
    "detail, start",
    [
        ("GET /slow", "GET /slow spun the CPU for 10 s without answering"),
        (None, "a route spun the CPU for 10 s without answering"),
    ],
)
def test_a_route_past_the_request_timeout_is_named(detail, start):
    message = limits.message("REQUEST_TIMEOUT", DEFAULTS, detail)
    assert message == f"{start}: stopped (REQUEST_TIMEOUT)."


def test_explain_tells_the_limit_first_then_what_python_said():
    error = {"type": "OSError", "message": "[Errno 24] Too many open files: 'x'", "line": 3}
    explained = limits.explain(error, DEFAULTS)
    assert explained == {
        **error,
        "limit": "LIMIT_OPEN_FILES",
        "message": limits.message("LIMIT_OPEN_FILES", DEFAULTS)
        + " [Errno 24] Too many open files: 'x'",
    }
    assert error["message"] == "[Errno 24] Too many open files: 'x'"  # a copy: nothing changed
    bare = limits.explain({"type": "MemoryError", "message": ""}, DEFAULTS)
    assert bare["message"] == limits.message("LIMIT_MEMORY_BYTES", DEFAULTS) + " MemoryError"


@pytest.mark.parametrize(
    "error, explained",
    [
        (None, None),
        ({}, {}),
        (
            {"type": "ValueError", "message": "no"},
            {"type": "ValueError", "message": "no", "limit": None},
        ),
    ],
    ids=["none", "empty", "not-a-limit"],
)
def test_explain_leaves_what_is_no_limit_as_it_was(error, explained):
    assert limits.explain(error, DEFAULTS) == explained


@pytest.mark.parametrize(
    "tail, traceback",
    [
        (["first", "last"], "Last output of the app:\nfirst\nlast"),
        ([], ""),
    ],
)
def test_an_error_the_host_noticed_carries_the_last_output(tail, traceback):
    error = limits.host_error("TimeoutError", "did not start", iter(tail), "START_TIMEOUT")
    assert error == {
        "type": "TimeoutError",
        "message": "did not start",
        "file": None,
        "line": None,
        "limit": "START_TIMEOUT",
        "traceback": traceback,
    }
