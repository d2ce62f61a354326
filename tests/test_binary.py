"""Binary files both ways, in real sandboxes: a file value is text or {"base64"} wherever files
travel (runs, the catalog, shares, downloads, the presenter's room), request bodies may be bytes,
and static files are served byte for byte with the MIME types the host's Python gives them."""

import base64
import hashlib
import io
import json
import mimetypes
import os
import struct
import zipfile

import pytest

from playground import resources
from playground.services import services_of
from playground.snippets import Catalog

# A real 1x1 icon, 70 bytes: NULs and bytes that are not UTF-8, as any .ico has.
FAVICON = (
    struct.pack("<HHH", 0, 1, 1)
    + struct.pack("<BBBBHHII", 1, 1, 0, 0, 1, 32, 48, 22)
    + struct.pack("<IiiHHIIiiII", 40, 1, 2, 1, 32, 0, 8, 0, 0, 0, 0)
    + b"\x10\x80\xff\xff"
    + b"\x00" * 4
)
# The first 15 bytes of a PNG: CR LF, NUL, 0x1a and 0x89 are what text handling mangles.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHD"
assert len(FAVICON) == 70 and len(PNG) == 15


def b64(data: bytes) -> dict:
    return {"base64": base64.b64encode(data).decode("ascii")}


def bytes_of(exchange: dict) -> bytes:
    """The body of an exchange as the app sent it, text or not."""
    if exchange["body_base64"] is not None:
        return base64.b64decode(exchange["body_base64"])
    return exchange["body"].encode("utf-8")


UPLOADS = """import hashlib, os
from flask import Flask, request, send_from_directory

app = Flask(__name__)
os.makedirs("uploads", exist_ok=True)

@app.post("/upload")
def upload():
    picture = request.files["picture"]
    picture.save(os.path.join("uploads", picture.filename))
    saved = open(os.path.join("uploads", picture.filename), "rb").read()
    return {"name": picture.filename, "size": len(saved),
            "sha256": hashlib.sha256(saved).hexdigest(), "caption": request.form["caption"]}

@app.post("/raw")
def raw():
    return {"size": len(request.get_data()), "sha256": hashlib.sha256(request.get_data()).hexdigest()}

@app.get("/uploads/<name>")
def uploaded(name):
    return send_from_directory("uploads", name)
"""


def multipart(boundary: str, fields: dict, files: dict) -> bytes:
    """A multipart/form-data body, as a browser builds one for a form with a file input."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
        + data
        + b"\r\n"
        for name, (filename, kind, data) in files.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


# -- a run's files -------------------------------------------------------------------------------

STATIC = (
    'from flask import Flask\napp = Flask(__name__)\n@app.get("/")\ndef home():\n    return "hi"\n'
)


@pytest.mark.parametrize(
    "name, data",
    [
        ("favicon.ico", FAVICON),
        ("pixel.png", PNG),
        ("all-bytes.bin", bytes(range(256))),
        ("empty.bin", b""),
    ],
)
def test_a_binary_static_file_is_served_byte_for_byte(visitor, name, data):
    sandbox = visitor.start(STATIC, {f"static/{name}": b64(data)})
    assert sandbox["state"] == "running", sandbox["error"]
    exchange = visitor.exchange(sandbox, "GET", f"/static/{name}")
    assert exchange["status"] == 200
    assert exchange["size"] == len(data) and bytes_of(exchange) == data


def test_a_file_picked_from_disk_is_uploaded_byte_for_byte(visitor):
    sandbox = visitor.start(UPLOADS)
    assert sandbox["state"] == "running", sandbox["error"]
    boundary = "----playground-test-boundary"
    form = multipart(boundary, {"caption": "a pixel"}, {"picture": ("pixel.png", "image/png", PNG)})
    exchange = visitor.exchange(
        sandbox,
        "POST",
        "/upload",
        body_base64=base64.b64encode(form).decode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    saved = json.loads(exchange["body"])
    assert saved == {
        "name": "pixel.png",
        "size": 15,
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "caption": "a pixel",
    }
    # The request is echoed as sent: its bytes in body_base64, since they are not text.
    assert base64.b64decode(exchange["request"]["body_base64"]) == form
    assert exchange["trace"]["request"]["files"] == [["picture", "pixel.png"]]
    assert bytes_of(visitor.exchange(sandbox, "GET", "/uploads/pixel.png")) == PNG


@pytest.mark.parametrize(
    "payload, body_base64",
    [
        ({"body_base64": base64.b64encode(FAVICON).decode()}, base64.b64encode(FAVICON).decode()),
        ({"body": "plain text, é"}, None),  # a text body is echoed as text, as before
        ({"body_base64": base64.b64encode("ünïcode".encode()).decode()}, None),
    ],
)
def test_a_raw_body_reaches_the_app_as_sent(visitor, payload, body_base64):
    sandbox = visitor.start(UPLOADS)
    sent = (
        base64.b64decode(payload["body_base64"])
        if "body_base64" in payload
        else payload["body"].encode()
    )
    exchange = visitor.exchange(
        sandbox, "POST", "/raw", **payload, headers={"Content-Type": "application/octet-stream"}
    )
    assert json.loads(exchange["body"]) == {
        "size": len(sent),
        "sha256": hashlib.sha256(sent).hexdigest(),
    }
    assert exchange["request"]["body_base64"] == body_base64
    assert exchange["request"]["body"] == sent.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"body": "x", "body_base64": "eA=="}, 400, "bad_body"),
        ({"body_base64": "not base64!"}, 400, "bad_base64"),
        ({"body_base64": "eA"}, 400, "bad_base64"),  # unpadded
        ({"body_base64": 12}, 400, "bad_body"),
        ({"body_base64": "A" * (4 * 1024 * 1024)}, 413, "body_too_large"),  # refused undecoded
        (
            {"body_base64": base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()},
            413,
            "body_too_large",
        ),
    ],
)
def test_bad_binary_bodies_are_refused_clearly(visitor, payload, status, code):
    sandbox = visitor.start(STATIC)
    response = visitor.send(sandbox, "POST", "/", **payload)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code and response.json["error"]["message"]


MAX_FILE = 256 * 1024  # MAX_FILE_BYTES's default


@pytest.mark.parametrize(
    "value, status, code",
    [
        ({"base64": "////"}, None, None),  # bytes that are not UTF-8: fine as base64
        ({"base64": base64.b64encode(b"x" * MAX_FILE).decode()}, None, None),  # exactly the most
        ({"base64": base64.b64encode(b"x" * (MAX_FILE + 1)).decode()}, 413, "file_too_large"),
        ({"base64": "A" * (2 * MAX_FILE)}, 413, "file_too_large"),  # counted before decoding
        ({"base64": "not base64"}, 400, "bad_base64"),
        ({"base64": "QUJD\nREVG"}, 400, "bad_base64"),  # no line breaks
        ({"base64": 5}, 400, "bad_files"),
        ({"base64": "QQ==", "name": "x"}, 400, "bad_files"),
        ({"text": "hi"}, 400, "bad_files"),
        (["hi"], 400, "bad_files"),
        (None, 400, "bad_files"),
    ],
)
def test_binary_file_values_are_checked(client, value, status, code):
    files = {"app.py": STATIC, "static/file.bin": value}
    response = client.post("/api/download", json={"files": files})  # checked as for a run
    if status is None:
        assert response.status_code == 200, response.json
        return
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert "static/file.bin" in response.json["error"]["message"]


def test_snippet_size_counts_decoded_bytes(app, client):
    """Base64 takes 4 bytes for 3: the limits count what lands on disk, not the JSON."""
    most = app.config["MAX_SNIPPET_BYTES"]
    files = {"app.py": STATIC}
    files |= {f"static/{n}.bin": b64(b"x" * (most // 5)) for n in range(5)}
    assert sum(len(v["base64"]) for k, v in files.items() if k != "app.py") > most
    response = client.post("/api/download", json={"files": files})
    assert response.status_code == 413 and response.json["error"]["code"] == "snippet_too_large"
    del files["static/4.bin"]  # app.py tipped it over
    assert client.post("/api/download", json={"files": files}).status_code == 200


# -- where else files travel ---------------------------------------------------------------------


def test_a_share_keeps_binary_files(client):
    files = {"app.py": STATIC, "static/favicon.ico": b64(FAVICON)}
    key = client.post("/api/shares", json={"files": files}).json["key"]
    assert client.get(f"/api/shares/{key}").json["files"] == files
    # The same bytes give the same link, whichever of base64's spellings sent them ("QR==" and
    # "QQ==" both decode to "A").
    again = client.post("/api/shares", json={"files": {**files, "a.bin": {"base64": "QR=="}}})
    same = client.post("/api/shares", json={"files": {**files, "a.bin": {"base64": "QQ=="}}})
    assert again.json["key"] == same.json["key"] != key
    assert client.get(f"/api/shares/{same.json['key']}").json["files"]["a.bin"] == {
        "base64": "QQ=="
    }


def test_a_download_holds_the_bytes(client):
    files = {"app.py": STATIC, "static/favicon.ico": b64(FAVICON), "notes.txt": "é\n"}
    response = client.post("/api/download", json={"files": files, "name": "icons"})
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        assert zf.read("icons/static/favicon.ico") == FAVICON
        assert zf.read("icons/notes.txt") == "é\n".encode()
        assert zf.read("icons/app.py").decode().startswith(STATIC)


def test_the_catalog_gives_binary_files_as_base64(tmp_path):
    folder = tmp_path / "01-icon"
    (folder / "static").mkdir(parents=True)
    (folder / "app.py").write_text(STATIC)
    (folder / "static/favicon.ico").write_bytes(FAVICON)
    (folder / "static/style.css").write_text("body { color: red }\n")
    (folder / "snippet.toml").write_text(
        'title = "T"\nsection = "S"\nnotes = "N"\n[[requests]]\n'
        'label = "L"\nmethod = "GET"\npath = "/"\n'
        "expect = { status = 200 }\n"
    )
    files = Catalog.load(tmp_path).get("icon")["files"]
    assert files == {
        "app.py": STATIC,
        "static/favicon.ico": b64(FAVICON),
        "static/style.css": "body { color: red }\n",
    }


def test_the_catalogs_binary_file_is_served_as_it_is_on_disk(client, visitor):
    snippet = client.get("/api/snippets/uploads").json
    on_disk = (resources.path("snippets") / "25-uploads/static/favicon.ico").read_bytes()
    assert snippet["files"]["static/favicon.ico"] == b64(on_disk)
    sandbox = client.post("/api/sandboxes", json={"files": snippet["files"]}).json
    assert bytes_of(visitor.exchange(sandbox, "GET", "/favicon.ico")) == on_disk


def test_the_presenters_open_message_carries_binary_files(app):
    room = services_of(app).room
    files = {"app.py": STATIC, "static/favicon.ico": b64(FAVICON)}
    with app.app_context():
        room.claim("presenter", app.config["PRESENTER_TOKEN"])
        try:
            room.receive(
                "presenter", {"type": "open", "slug": None, "files": files, "path": "app.py"}
            )
            assert room.snapshot()["files"] == files
        finally:
            room.release("presenter")


# -- MIME types as outside ----------------------------------------------------------------------

# Python's own table knows neither (before 3.13): the answer comes from /etc/mime.types.
KINDS = ["notes.md", "font.woff2", "page.html", "data.json", "picture.webp"]


def test_static_files_get_the_mime_types_flask_run_gives(visitor):
    expected = {name: mimetypes.guess_type(name)[0] or "application/octet-stream" for name in KINDS}
    # The test means something only when the host's table knows .md and .woff2 (on Debian,
    # the media-types package: .ci/run installs it).
    assert os.path.exists("/etc/mime.types"), "install media-types: /etc/mime.types is missing"
    assert "octet-stream" not in expected["notes.md"] + expected["font.woff2"], expected
    sandbox = visitor.start(STATIC, {f"static/{name}": "x" for name in KINDS})
    for name, kind in expected.items():
        exchange = visitor.exchange(sandbox, "GET", f"/static/{name}")
        assert exchange["content_type"].split(";")[0] == kind, name
