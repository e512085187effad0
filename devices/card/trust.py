"""Trust anchors for passive authentication: country signing CA (CSCA) certificates.

A site loads them from a folder the administrator fills: single certificates (PEM or DER, any of
``.pem .crt .cer .der``) and CSCA master lists (``.ml``, a CMS SignedData around
``CscaMasterList``, as the BSI and the ICAO PKD publish them). Putting a file in that folder is
the administrator's trust decision, so the master list's own signature is not checked here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from asn1crypto import cms, core, pem, x509

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger(__name__)

CSCA_MASTER_LIST_OID = "2.23.136.1.1.2"
CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der"})
MASTER_LIST_SUFFIXES = frozenset({".ml"})

# asn1crypto parses lazily and signals bad input with these.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


class TrustStoreError(ValueError):
    """A trust file cannot be read (for the administrator; not chip data)."""


class CertificateSet(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """ICAO 9303-12 §9: CscaMasterList ::= SEQUENCE { version INTEGER, certList SET OF Certificate }."""

    _fields: ClassVar = [("version", core.Integer), ("cert_list", CertificateSet)]


def _as_certificate(value: object) -> x509.Certificate:
    """An asn1crypto certificate from asn1crypto, `cryptography` or DER bytes."""
    if isinstance(value, x509.Certificate):
        return value
    if isinstance(value, bytes | bytearray):
        return x509.Certificate.load(bytes(value))
    public_bytes = getattr(value, "public_bytes", None)
    if callable(public_bytes):
        from cryptography.hazmat.primitives.serialization import Encoding

        return x509.Certificate.load(public_bytes(Encoding.DER))
    raise TypeError(f"not a certificate: {type(value).__name__}")


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM file (possibly several) or the one certificate of a DER file."""
    try:
        if pem.detect(data):
            return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        certificate = x509.Certificate.load(data, strict=True)
        certificate.native  # parse fully now  # noqa: B018
        return [certificate]
    except _ASN1_ERRORS as error:
        raise TrustStoreError(f"not a certificate ({type(error).__name__})") from error


def load_master_list(data: bytes) -> list[x509.Certificate]:
    """The CSCA certificates of a CMS master list."""
    try:
        content_info = cms.ContentInfo.load(data, strict=True)
        if content_info["content_type"].native != "signed_data":
            raise TrustStoreError("master list is not CMS SignedData")
        encapsulated = content_info["content"]["encap_content_info"]
        if encapsulated["content_type"].dotted != CSCA_MASTER_LIST_OID:
            raise TrustStoreError("CMS content is not a CSCA master list")
        master_list = CscaMasterList.load(bytes(encapsulated["content"].contents), strict=True)
        certificates = list(master_list["cert_list"])
        for certificate in certificates:
            certificate.native  # parse fully now  # noqa: B018
        return certificates
    except _ASN1_ERRORS as error:
        raise TrustStoreError(f"not a master list ({type(error).__name__})") from error


def build_master_list(certificates: Iterable[object]) -> bytes:
    """A CMS SignedData around a CscaMasterList, unsigned (no signer infos); for tests and tools."""
    master_list = CscaMasterList({"version": 0, "cert_list": [_as_certificate(c) for c in certificates]})
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [],
            "encap_content_info": {
                "content_type": CSCA_MASTER_LIST_OID,
                "content": core.ParsableOctetString(master_list.dump()),
            },
            "signer_infos": [],
        }
    )
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return der


@dataclass
class TrustStore:
    """CSCA certificates, looked up by the issuer of a document signer certificate."""

    certificates: list[x509.Certificate] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)  # names of files that were unreadable

    @classmethod
    def from_certificates(cls, certificates: Iterable[object]) -> TrustStore:
        return cls([_as_certificate(certificate) for certificate in certificates])

    @classmethod
    def from_folder(cls, folder: Path | str) -> TrustStore:
        """Every certificate and master list in ``folder`` (not recursive); unreadable files are skipped."""
        root = Path(folder)
        if not root.is_dir():
            raise TrustStoreError(f"trust folder {root} does not exist")
        store = cls()
        for path in sorted(root.iterdir()):
            suffix = path.suffix.lower()
            if not path.is_file() or suffix not in CERTIFICATE_SUFFIXES | MASTER_LIST_SUFFIXES:
                continue
            try:
                data = path.read_bytes()
                found = load_master_list(data) if suffix in MASTER_LIST_SUFFIXES else load_certificates(data)
            except (TrustStoreError, OSError) as error:
                log.warning("trust file %s skipped: %s", path.name, error)
                store.skipped_files.append(path.name)
                continue
            store.add(found)
        log.info("trust store: %d CSCA certificates from %s", len(store.certificates), root)
        return store

    def add(self, certificates: Iterable[x509.Certificate]) -> None:
        known = {certificate.sha256 for certificate in self.certificates}
        for certificate in certificates:
            if certificate.sha256 not in known:
                self.certificates.append(certificate)
                known.add(certificate.sha256)

    def issuers_of(self, certificate: x509.Certificate) -> list[x509.Certificate]:
        """Trusted certificates whose subject is the certificate's issuer and, where both sides say,
        whose subject key identifier is its authority key identifier."""
        authority_key = certificate.authority_key_identifier
        candidates = []
        for anchor in self.certificates:
            if anchor.subject != certificate.issuer:
                continue
            anchor_key = anchor.key_identifier
            if authority_key is not None and anchor_key is not None and authority_key != anchor_key:
                continue
            candidates.append(anchor)
        return candidates

    def __len__(self) -> int:
        return len(self.certificates)
