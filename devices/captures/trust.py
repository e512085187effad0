"""The key a source's signatures are checked against: its certificate (or bare public key),
configured when the terminal or cloud was enrolled — pinned, not looked up.

ECDSA on P-256 with SHA-256, signature DER-encoded (X9.62), because BSI TR-02102-1 recommends ECDSA
over P-256/brainpool curves and the PKI certificates that terminals and TR-03170 clouds carry are of
that kind; `cryptography` (OpenSSL) does the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from devices.captures.errors import CaptureError, CaptureErrorReason

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

SIGNATURE_ALGORITHM = "ECDSA-P256-SHA256"


@dataclass(frozen=True)
class TrustAnchor:
    public_key: ec.EllipticCurvePublicKey
    subject: str
    not_before: datetime | None = None
    not_after: datetime | None = None

    @classmethod
    def from_pem(cls, pem: bytes) -> TrustAnchor:
        """A certificate or a SubjectPublicKeyInfo in PEM; only P-256 keys are accepted."""
        key: PublicKeyTypes  # a certificate's or a bare key's; narrowed to P-256 below
        try:
            if b"BEGIN CERTIFICATE" in pem:
                cert = x509.load_pem_x509_certificate(pem)
                key = cert.public_key()
                subject = cert.subject.rfc4514_string()
                not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
            else:
                key = serialization.load_pem_public_key(pem)
                subject, not_before, not_after = "", None, None
        except ValueError:
            raise CaptureError(CaptureErrorReason.UNTRUSTED_CERTIFICATE, "unreadable pem") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise CaptureError(CaptureErrorReason.UNSUPPORTED_ALGORITHM, "key is not P-256")
        if not subject:
            der = key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            digest = hashes.Hash(hashes.SHA256())
            digest.update(der)
            subject = "key sha256:" + digest.finalize().hex()[:16]
        return cls(key, subject, not_before, not_after)

    def check_valid(self, now: datetime) -> None:
        if self.not_before is not None and now < self.not_before:
            raise CaptureError(CaptureErrorReason.UNTRUSTED_CERTIFICATE, "not yet valid")
        if self.not_after is not None and now > self.not_after:
            raise CaptureError(CaptureErrorReason.UNTRUSTED_CERTIFICATE, "expired")

    def verify(self, signature: bytes, data: bytes, *, now: datetime | None = None) -> None:
        """Signature over `data` (hashed here with SHA-256)."""
        self.check_valid(now or datetime.now(UTC))
        try:
            self.public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            raise CaptureError(CaptureErrorReason.BAD_SIGNATURE) from None

    def verify_digest(self, signature: bytes, digest: bytes, *, now: datetime | None = None) -> None:
        """Signature over a SHA-256 digest computed by the caller (TR-03170-1 §2.6 signs a hash)."""
        self.check_valid(now or datetime.now(UTC))
        try:
            self.public_key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        except (InvalidSignature, ValueError):
            raise CaptureError(CaptureErrorReason.BAD_SIGNATURE) from None
