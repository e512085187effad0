"""Signed requests (HTTP Message Signatures, RFC 9421): how a workstation proves who sends a request.

One rule for both sides: the workstation signs with `SignedRequests` (an httpx auth), the central
service checks with `verify_request`. The signature covers the method, path, query, the body (by its
Content-Digest, RFC 9530) and the clerk's session header, with a creation time and a random nonce;
the central service refuses a signature older than `MAX_AGE_SECONDS` and a nonce it has seen.

The private key never needs to be in this process: a `RequestKey` signs the signature base, whether
it holds a key file or asks a PKCS#11 token (`devices.workstation_key`). The algorithm is ECDSA on
P-256 with SHA-256 (`ecdsa-p256-sha256`), which every PKCS#11 token and SoftHSM2 can do.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import httpx
from cryptography.exceptions import InvalidSignature as BadEcdsaSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

SESSION_HEADER = "tresen-clerk-session"  # the logged-in clerk's session (sync.central.auth)
SIGNATURE_LABEL = "tresen"
MAX_AGE_SECONDS = 300
# Office PCs keep time by NTP, but a few minutes off must not lock a desk out of its office.
MAX_CLOCK_SKEW = timedelta(seconds=120)
REQUIRED_COMPONENTS = ("@method", "@path", "@query")
ALGORITHM = algorithms.ECDSA_P256_SHA256


class RequestKey(Protocol):
    """The workstation's private key, wherever it lives."""

    def sign(self, data: bytes) -> bytes:
        """ECDSA P-256 / SHA-256 over `data`, as raw r‖s (64 bytes)."""
        ...

    def public_key_pem(self) -> str: ...


class FileRequestKey:
    """A key held in this process (loaded from the 0600 key file, or made in a test)."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._key = private_key

    @classmethod
    def generate(cls) -> FileRequestKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def sign(self, data: bytes) -> bytes:
        der = self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        return ALGORITHM.signature_from_der(der)

    def public_key_pem(self) -> str:
        return public_pem(self._key.public_key())

    def private_pem(self, passphrase: bytes) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )


def public_pem(key: ec.EllipticCurvePublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(pem: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from PEM; ValueError for anything else."""
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not a P-256 public key")
    return key


def _statement(purpose: str, parts: tuple[str, ...]) -> bytes:
    # The purpose first, so a proof made for one use (a key rotation) proves nothing for another.
    return "\n".join(("tresen", purpose, *parts)).encode()


def statement_proof(key: RequestKey, purpose: str, *parts: str) -> str:
    """`key`'s signature over a statement (`purpose` and `parts`), base64url without padding: what
    a key rotation and a resumed offline login carry besides the request's own signature."""
    return base64.urlsafe_b64encode(key.sign(_statement(purpose, parts))).decode("ascii").rstrip("=")


def verify_statement(public_key_pem: str, proof: str, purpose: str, *parts: str) -> bool:
    """Whether `proof` is the signature of `public_key_pem`'s private key over the statement; False
    too for anything that is not a P-256 key or a 64-byte signature."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        public_key = load_public_key(public_key_pem)
        raw = base64.urlsafe_b64decode(proof + "=" * (-len(proof) % 4))
    except (ValueError, UnsupportedAlgorithm):
        return False
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, _statement(purpose, parts), ec.ECDSA(hashes.SHA256()))
    except BadEcdsaSignature:
        return False
    return True


KEY_ROTATION = "key-rotation"


def key_possession_proof(key: RequestKey, workstation_id: str) -> str:
    """What a key rotation carries besides the new public key: the new key's signature over it, for
    this workstation (as ACME's key change, RFC 8555 7.3.5): only a key that signs gets bound."""
    return statement_proof(key, KEY_ROTATION, workstation_id, key.public_key_pem())


def verify_key_possession(public_key_pem: str, workstation_id: str, proof: str) -> bool:
    return verify_statement(public_key_pem, proof, KEY_ROTATION, workstation_id, public_key_pem)


OFFLINE_LOGIN = "offline-login"


def offline_login_proof(key: RequestKey, workstation_id: str, clerk_id: str, signed_at: int) -> str:
    """What resumes an offline login at the central service: the signature of the key sealed under
    the clerk's PIN (`workstation.offline_login`) over the workstation, the clerk and the time."""
    return statement_proof(key, OFFLINE_LOGIN, workstation_id, clerk_id, str(signed_at))


def verify_offline_login(
    public_key_pem: str, proof: str, workstation_id: str, clerk_id: str, signed_at: int
) -> bool:
    return verify_statement(public_key_pem, proof, OFFLINE_LOGIN, workstation_id, clerk_id, str(signed_at))


@dataclass
class _MessageView:
    """What the signature library reads of a request: method, URL, headers (written when signing)."""

    method: str
    url: str
    headers: httpx.Headers | _ReadOnlyHeaders


class _ReadOnlyHeaders:
    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = [(name.lower(), value) for name, value in pairs]

    def items(self) -> Iterable[tuple[str, str]]:
        return list(self._pairs)

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._pairs])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n == name.lower() for n, _ in self._pairs)

    def __getitem__(self, name: str) -> str:
        values = [value for n, value in self._pairs if n == name.lower()]
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __setitem__(self, name: str, value: str) -> None:
        raise TypeError("read-only")

    def __delitem__(self, name: str) -> None:
        raise TypeError("read-only")


class SignedRequests(httpx.Auth):
    """Signs every request as workstation `key_id`; `session` gives the clerk's session, if any."""

    requires_request_body = True

    def __init__(self, key: RequestKey, key_id: str, session: Callable[[], str | None] | None = None) -> None:
        self.key = key
        self.key_id = key_id
        self.session = session
        self._signer = HTTPMessageSigner(signature_algorithm=ALGORITHM)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sign_request(request, self.key, self.key_id, self.session() if self.session else None, self._signer)
        yield request


def sign_request(
    request: httpx.Request,
    key: RequestKey,
    key_id: str,
    session: str | None = None,
    signer: HTTPMessageSigner | None = None,
) -> None:
    signer = signer or HTTPMessageSigner(signature_algorithm=ALGORITHM)
    covered = list(REQUIRED_COMPONENTS)
    request.headers.pop(SESSION_HEADER, None)
    if session:
        request.headers[SESSION_HEADER] = session
        covered.append(SESSION_HEADER)
    view = _MessageView(request.method, str(request.url), request.headers)
    prepared = signer.prepare(
        view,
        key_id=key_id,
        created=datetime.now(UTC),
        nonce=secrets.token_urlsafe(16),
        label=SIGNATURE_LABEL,
        covered_component_ids=covered,
        body=request.content,
    )
    signer.apply(view, prepared, key.sign(prepared.signature_base))


class SignatureRefused(Exception):
    """The request's signature is missing, malformed, stale, replayed or does not verify."""


@dataclass(frozen=True)
class VerifiedSignature:
    key_id: str
    nonce: str
    created: int
    session: str | None  # the clerk session header, when the signature covers it


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, resolve: Callable[[str], ec.EllipticCurvePublicKey]) -> None:
        self._resolve = resolve

    def resolve_public_key(self, key_id: str) -> ec.EllipticCurvePublicKey:
        return self._resolve(key_id)

    def resolve_private_key(self, key_id: str) -> ec.EllipticCurvePrivateKey:
        raise NotImplementedError("verification only")


def verify_request(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    public_key_of: Callable[[str], ec.EllipticCurvePublicKey],
) -> VerifiedSignature:
    """Check a request's signature; `public_key_of(key_id)` raises KeyError for unknown keys.

    Only what the signature covers is trusted: the method, path, query and body must be covered,
    and a session header that is present but not covered is refused."""
    view = _MessageView(method, url, _ReadOnlyHeaders(headers))
    if "signature-input" not in view.headers or "signature" not in view.headers:
        raise SignatureRefused("no signature")
    verifier = HTTPMessageVerifier(signature_algorithm=ALGORITHM, key_resolver=_OneKey(public_key_of))
    verifier.max_clock_skew = MAX_CLOCK_SKEW
    try:
        results = verifier.verify(view, max_age=timedelta(seconds=MAX_AGE_SECONDS), body=body)
    except KeyError:
        raise SignatureRefused("unknown key id") from None
    except (HTTPMessageSignaturesException, BadEcdsaSignature, ValueError) as error:
        raise SignatureRefused(f"signature does not verify ({type(error).__name__})") from None
    if len(results) != 1:
        raise SignatureRefused("expected exactly one signature")
    result = results[0]
    # Keys are serialized component ids ('"@method"'); parameters (';bs') are not used here.
    covered = {key.split(";")[0].strip('"'): value for key, value in result.covered_components.items()}
    missing = [c for c in (*REQUIRED_COMPONENTS, "content-digest") if c not in covered]
    if missing:
        raise SignatureRefused(f"signature does not cover {', '.join(missing)}")
    session = covered.get(SESSION_HEADER)
    if session is None and SESSION_HEADER in view.headers:
        raise SignatureRefused("session header not covered by the signature")
    nonce = result.parameters.get("nonce")
    created = result.parameters.get("created")
    key_id = result.parameters.get("keyid")
    if not isinstance(nonce, str) or len(nonce) < 16 or not isinstance(created, int):
        raise SignatureRefused("signature lacks a nonce")
    return VerifiedSignature(str(key_id), nonce, created, session if isinstance(session, str) else None)
