"""What an exchange shows beyond status and body: the heads on the wire, TLS, Flask's own trace.

The child reports which rule answered and what Flask did (its `request` event carries "route" and
"trace"); this module adds what only the host can see: the request head exactly as the proxy sent
it, the response head exactly as it came back, "copy as curl", and the TLS session and
certificate of an https child, or why OpenSSL refused the certificate when the app started.
"""

import datetime
import http.client
import io
import shlex
import socket
import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, SupportsRead

    from .sandbox.sandbox import Sandbox

MAX_CERTIFICATE_FILE = 64 * 1024  # PEM files larger than this are not certificates worth showing

# OpenSSL's reasons for refusing a certificate or key as the app loads it, in a visitor's words.
TLS_REFUSALS = {
    "EE_KEY_TOO_SMALL": (
        "OpenSSL refused the certificate's key as too small. Python 3.10 and later run OpenSSL "
        "at security level 2, which wants RSA keys of at least 2048 bits; a 1024-bit key, like "
        "the talk's, was accepted when the talk was given and is refused today. Make a new pair: "
        "openssl req -x509 -newkey rsa:2048 -sha256 -days 365 -nodes -keyout ssl.key "
        "-out ssl.cert -subj /CN=localhost"
    ),
    "CA_MD_TOO_WEAK": (
        "OpenSSL refused the certificate's signature: it uses a digest (MD5 or SHA-1) that "
        "security level 2 no longer trusts. Sign it with SHA-256 (openssl req ... -sha256)."
    ),
    "KEY_VALUES_MISMATCH": (
        "The private key does not belong to the certificate: load the key that was made with it."
    ),
    "NO_START_LINE": (
        "OpenSSL found no PEM block in the file: a certificate starts with "
        "-----BEGIN CERTIFICATE----- and a key with -----BEGIN PRIVATE KEY-----."
    ),
}


# -- the wire -----------------------------------------------------------------------------------


class Wiretap:
    """Records the bytes an http.client connection sends, and the response head it reads.

    Attached before the request is sent; the bytes themselves pass through untouched.
    """

    def __init__(self, conn: http.client.HTTPConnection):
        self.sent = bytearray()
        send = conn.send

        def recording_send(
            data: "ReadableBuffer | SupportsRead[bytes] | Iterable[ReadableBuffer] | str",
        ) -> None:
            if isinstance(data, (bytes, bytearray, memoryview)):
                self.sent += data
            send(data)

        # This one connection's send: what it sends is recorded, then sent unchanged.
        conn.send = recording_send  # type: ignore[method-assign]
        conn.response_class = RecordingResponse

    def raw(self, response: http.client.HTTPResponse) -> dict:
        """The two heads as text (latin-1: byte for byte). The page highlights them when it
        shows them: an exchange does only the work its answer needs."""
        assert isinstance(response, RecordingResponse), "the connection makes only these"
        head = bytes(self.sent).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        return {"request": head.decode("latin-1"), "response": response.raw_head.decode("latin-1")}


class RecordingResponse(http.client.HTTPResponse):
    """A response that keeps the bytes of its head (status line and headers) as it read them."""

    raw_head = b""

    def begin(self) -> None:
        recorder = _LineRecorder(self.fp)
        # http.client reads the head through the file's readline(), all the recorder has.
        self.fp = recorder  # type: ignore[assignment]
        try:
            super().begin()
        finally:
            self.raw_head = bytes(recorder.lines)
            self.fp = recorder.fp


class _LineRecorder:
    """A response's file, keeping a copy of each line read (http.client reads heads by line)."""

    def __init__(self, fp: io.BufferedReader):
        self.fp = fp
        self.lines = bytearray()

    def readline(self, limit: int = -1) -> bytes:
        line = self.fp.readline(limit)
        self.lines += line
        return line


def curl(url: str, method: str, headers: list[tuple[str, str]], body: bytes | None) -> str:
    """A curl command that sends the same request: the same headers and none of curl's own."""
    args = ["curl", "-i", "--path-as-is", "--globoff"]
    if url.startswith("https:"):
        args.append("-k")  # the child's certificate is self-signed
    if method == "HEAD":
        args.append("--head")
    elif method != ("POST" if body else "GET"):
        args += ["-X", method]
    given = {name.lower() for name, _ in headers}
    for name, value in headers:
        args += ["-H", f"{name}: {value}"]
    for name in ("User-Agent", "Accept"):  # "Name:" with no value stops curl sending its own
        if name.lower() not in given:
            args += ["-H", f"{name}:"]
    if body:
        args += ["--data-binary", body.decode("utf-8", "replace")]
    args.append(url)
    return " ".join(shlex.quote(arg) for arg in args)


# -- TLS ------------------------------------------------------------------------------------------


def session(sock: socket.socket) -> dict | None:
    """The TLS session of a connected socket, None for plain HTTP."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cipher = sock.cipher()
    assert cipher is not None, "None only before the handshake, which connecting did"
    name, protocol, bits = cipher
    der = sock.getpeercert(binary_form=True)
    return {
        "protocol": sock.version(),
        "cipher": {"name": name, "protocol": protocol, "bits": bits},
        "certificate": certificate(x509.load_der_x509_certificate(der)) if der else None,
    }


def certificate(cert: x509.Certificate) -> dict:
    """What the TLS panel shows. A visitor's file may use algorithms cryptography does not
    know: those fields are None rather than an error."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        key = None
    try:
        digest = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        digest = None
    now = datetime.datetime.now(datetime.UTC)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "self_signed": cert.subject == cert.issuer,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "valid_now": cert.not_valid_before_utc <= now <= cert.not_valid_after_utc,
        "key_type": _key_type(key),
        "key_size": getattr(key, "key_size", None),
        "signature_hash": digest.name if digest else None,
        "serial": format(cert.serial_number, "x"),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(":"),
    }


def _key_type(key: PublicKeyTypes | None) -> str | None:
    if key is None:
        return None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC ({key.curve.name})"
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return type(key).__name__.removesuffix("PublicKey")
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA"
    return type(key).__name__


def explained(sandbox: "Sandbox") -> dict:
    """The sandbox as the API shows it: when OpenSSL refused its TLS setup as it started, the
    error says why in plain words ("explanation") and describes its "certificates"."""
    snapshot = sandbox.snapshot()
    error = snapshot["error"]
    if error and error.get("type") == "SSLError":
        message = error.get("message") or ""
        explanation = next(
            (text for reason, text in TLS_REFUSALS.items() if reason in message),
            f"OpenSSL refused the TLS setup: {message}",
        )
        snapshot["error"] = {
            **error,
            "explanation": explanation,
            "certificates": certificates_in(sandbox.hostdir),
        }
    return snapshot


def certificates_in(folder: Path) -> list[dict]:
    """Every PEM certificate among the snippet's files, described."""
    found = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
        if not path.is_file() or path.stat().st_size > MAX_CERTIFICATE_FILE:
            continue
        data = path.read_bytes()
        if b"-----BEGIN CERTIFICATE-----" not in data:
            continue
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError:
            continue
        found.append({"file": path.relative_to(folder).as_posix(), **certificate(cert)})
    return found
