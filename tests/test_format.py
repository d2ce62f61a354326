"""POST /api/format: the editor's Python formatted by ruff in a text worker, within a budget."""

import pytest

from playground import create_app
from playground.services import services_of

MESSY = "import os\ndef home( name = 'x' ):\n  return {'a':1,\n 'b':[1,2]}\n"
FORMATTED = 'import os\n\n\ndef home(name="x"):\n    return {"a": 1, "b": [1, 2]}\n'


def test_format_round_trips(client):
    response = client.post("/api/format", json={"code": MESSY, "language": "python"})
    assert response.status_code == 200
    assert response.json == {"code": FORMATTED, "changed": True}
    again = client.post("/api/format", json={"code": FORMATTED})  # python is the default
    assert again.json == {"code": FORMATTED, "changed": False}


def test_code_that_does_not_parse_is_refused_with_its_line(client):
    response = client.post(
        "/api/format", json={"code": "x = 1\ndef broken(:\n    pass\n", "language": "python"}
    )
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "cannot_format" and error["line"] == 2
    assert "line 2" in error["message"]


def test_code_the_formatter_gives_up_on_is_refused_without_a_line(client):
    response = client.post("/api/format", json={"code": "x = " + "[" * 100_000 + "\n"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "cannot_format"
    assert response.json["error"]["line"] is None


def test_a_huge_input_is_refused(app, client):
    code = "x = 1\n" * (app.config["MAX_FILE_BYTES"] // 6 + 1)
    response = client.post("/api/format", json={"code": code})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"code": "x = 1\n", "language": "javascript"}, 400, "unsupported_language"),
        ({"code": "x = '\udcff'\n"}, 400, "not_utf8"),
        ({"text": "x = 1\n"}, 400, "bad_request"),
    ],
)
def test_bad_requests_get_a_clear_error(client, payload, status, code):
    response = client.post("/api/format", json=payload)
    assert response.status_code == status
    assert response.json["error"]["code"] == code


def test_calls_from_another_site_are_refused(client):
    response = client.post(
        "/api/format", json={"code": MESSY}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


def test_formatting_is_rate_limited_per_visitor(make_client, app):
    visitor = make_client()
    answers = [
        visitor.post("/api/format", json={"code": "x = 1\n"}).status_code
        for _ in range(app.config["RATE_FORMAT_BURST"] + 1)
    ]
    assert answers[:-1] == [200] * app.config["RATE_FORMAT_BURST"]
    assert answers[-1] == 429
    assert make_client().post("/api/format", json={"code": "x = 1\n"}).status_code == 200


def test_formatting_past_its_deadline_is_a_504_and_the_next_works():
    app = create_app({"TESTING": True, "FORMAT_TIMEOUT": 0.001, "TEXT_WORKERS": 1})
    try:
        services_of(app).text_workers.run("os:getpid", timeout=30)  # started
        client = app.test_client()
        response = client.post("/api/format", json={"code": MESSY})
        assert response.status_code == 504
        assert response.json["error"]["code"] == "format_timeout"
        app.config["FORMAT_TIMEOUT"] = 10.0
        assert client.post("/api/format", json={"code": MESSY}).json["code"] == FORMATTED
    finally:
        services_of(app).text_workers.shutdown()
