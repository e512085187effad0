"""A pyHanko `Signer` over python-pkcs11 0.10: the token makes the raw signature, pyHanko the CMS.

pyHanko's own PKCS11Signer comes with its `[pkcs11]` extra, which pins python-pkcs11 ~= 0.9.3; the
project uses 0.10 (typed, maintained). Rather than downgrade, this class implements the one method
pyHanko needs from a signer (`async_sign_raw`): CMS structure, signed attributes, PAdES rules and
the PDF work stay pyHanko's.
"""

from __future__ import annotations

import pkcs11
from asn1crypto import algos, x509
from pkcs11 import KeyType, Mechanism
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from devices.seal.errors import SealError, SealFailure

RSA_MECHANISMS = {
    "sha256": Mechanism.SHA256_RSA_PKCS,
    "sha384": Mechanism.SHA384_RSA_PKCS,
    "sha512": Mechanism.SHA512_RSA_PKCS,
}


class Pkcs11SealSigner(Signer):
    def __init__(
        self,
        key: pkcs11.SignMixin,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
        digest: str = "sha256",
    ) -> None:
        if key.key_type != KeyType.RSA:
            raise SealError(SealFailure.NO_KEY, f"unsupported seal key type {key.key_type}")
        self._key = key
        self._signature_bytes = (certificate.public_key.bit_size + 7) // 8
        self._digest = digest
        super().__init__(
            signing_cert=certificate,
            cert_registry=_certificate_store(certificate, *chain),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": f"{digest}_rsa"}),
            embed_roots=True,
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:  # pyHanko sizes the signature placeholder with this
            return bytes(self._signature_bytes)
        mechanism = RSA_MECHANISMS.get(digest_algorithm)
        if mechanism is None:
            raise SealError(SealFailure.TOKEN_ERROR, f"digest {digest_algorithm} not supported")
        try:
            # A PKCS#11 session belongs to one thread at a time: sign here, not in a pool thread.
            return bytes(self._key.sign(data, mechanism=mechanism))
        except pkcs11.PKCS11Error as error:
            raise SealError(SealFailure.TOKEN_ERROR, f"C_Sign: {type(error).__name__}") from None


def _certificate_store(*certificates: x509.Certificate) -> SimpleCertificateStore:
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # pyhanko-certvalidator
    store.register_multiple(certificates)
    return store
