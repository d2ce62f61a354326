"""The host's one error type, how every error becomes an answer, and the WebSocket error frame.

A `PlaygroundError` has a status, a short code, a message a visitor understands and any details
the page can act on (`retry_after`, the visitor's `sandboxes`). The sandbox layer raises errors of
its own (sandbox/errors.py); they are given their statuses here. Under /api/ every error is JSON,
Flask's own HTML pages elsewhere.
"""

import json
import math

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from .sandbox import errors as sandbox_errors


class PlaygroundError(Exception):
    def __init__(self, status: int, code: str, message: str, **details: object):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def to_json(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


SANDBOX_STATUS = {
    sandbox_errors.NoSuchSandbox: 404,
    sandbox_errors.TooManySandboxes: 429,
    sandbox_errors.PlaygroundFull: 503,
    sandbox_errors.PlaygroundBusy: 503,
    sandbox_errors.ShuttingDown: 503,
    sandbox_errors.FilesNotWritten: 507,
    sandbox_errors.NotRunning: 409,
    sandbox_errors.CommandTimeout: 504,
    sandbox_errors.CommandsBusy: 429,
}


def from_sandbox(error: sandbox_errors.SandboxError) -> PlaygroundError:
    return PlaygroundError(
        SANDBOX_STATUS.get(type(error), 500), error.code, error.message, **error.details
    )


def answer(error: PlaygroundError) -> Response:
    """The JSON answer, with Retry-After when the error says when to try again."""
    response = jsonify(error.to_json())
    response.status_code = error.status
    retry_after = error.details.get("retry_after")
    if isinstance(retry_after, (int, float)):
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def http_error(error: HTTPException) -> Response | HTTPException:
    """JSON under /api/ (unknown paths included), Flask's own pages elsewhere."""
    if not request.path.startswith("/api/"):
        return error
    code = error.name.lower().replace(" ", "_")
    return answer(PlaygroundError(error.code or 500, code, error.description or error.name))


def frame(error: PlaygroundError) -> str:
    """The error as a WebSocket text frame: {"type": "error", "code", "message", ...}."""
    return json.dumps({"type": "error", **error.to_json()["error"]})


def init_app(app: Flask) -> None:
    app.register_error_handler(PlaygroundError, answer)
    app.register_error_handler(
        sandbox_errors.SandboxError, lambda error: answer(from_sandbox(error))
    )
    app.register_error_handler(HTTPException, http_error)
