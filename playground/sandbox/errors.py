"""What the sandbox layer refuses or cannot do, in its own terms: the API maps each to a status.

Every error carries a message a visitor understands, and `details` the page can act on (the
visitor's sandboxes when they have too many, how long to wait before trying again).
"""


class SandboxError(Exception):
    code = "sandbox_error"

    def __init__(self, message: str, **details: object):
        super().__init__(message)
        self.message = message
        self.details = details


class NoSuchSandbox(SandboxError):
    """Unknown, stopped, reaped, or someone else's: all look the same."""

    code = "no_such_sandbox"


class TooManySandboxes(SandboxError):
    """The visitor has MAX_SANDBOXES_PER_VISITOR already; `details["sandboxes"]` lists them."""

    code = "too_many_sandboxes"


class PlaygroundFull(SandboxError):
    code = "playground_full"


class PlaygroundBusy(SandboxError):
    """The queue of runs waiting to start did not move in time."""

    code = "playground_busy"


class ShuttingDown(SandboxError):
    code = "shutting_down"


class FilesNotWritten(SandboxError):
    """The host's disk refused the snippet's files."""

    code = "files_not_written"


class NotRunning(SandboxError):
    """What the app must be running for (a command) found it stopped or failed."""

    code = "not_running"


class CommandTimeout(SandboxError):
    code = "command_timeout"


class CommandsBusy(SandboxError):
    code = "commands_busy"
