"""Sealing a PDF: a PAdES certifying signature (no later changes allowed) by the office seal key.

Validation goes through pyHanko's validator against the configured trust roots only (no network
fetching): the result says separately whether the bytes are intact, the signature valid and the
certificate chain trusted, and whether the signature covers the whole file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asn1crypto import pem, x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from devices.seal.pin_store import PinStore
from devices.seal.signer import Pkcs11SealSigner
from devices.seal.token import open_seal_token

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from devices.seal.config import SealConfig

SEAL_FIELD = "Dienstsiegel"


def seal_pdf(
    pdf: bytes, config: SealConfig, pins: PinStore | None = None, now: datetime | None = None
) -> bytes:
    """The PDF with a certifying PAdES seal; raises SealError (German message) if it cannot be sealed."""
    with open_seal_token(config, pins or PinStore(), now) as token:
        signer = Pkcs11SealSigner(
            token.key, token.certificate, chain=tuple(load_certificates(config.trust_roots))
        )
        metadata = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD,
            certify=True,
            docmdp_permissions=MDPPerm.NO_CHANGES,
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=config.reason,
            location=config.location,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        _keep_xmp_metadata(writer)
        output = signers.PdfSigner(metadata, signer=signer).sign_pdf(writer)
        return bytes(output.getvalue())


def _keep_xmp_metadata(writer: IncrementalPdfFileWriter) -> None:
    """Let pyHanko update the document's XMP instead of replacing it.

    pyHanko rewrites the XMP packet when it signs; a /Metadata stream it did not parse itself is
    replaced by a fresh packet, which would drop the PDF/A identification (pdfaid). Handing it the
    existing packet as its own MetadataStream makes it add its dates and keep the rest.
    """
    existing = writer.root.get("/Metadata")
    if existing is None or isinstance(existing, MetadataStream):
        return
    stream = MetadataStream(stream_data=existing.get_object().data)
    writer.root["/Metadata"] = writer.add_object(stream)
    writer.update_root()  # type: ignore[no-untyped-call]  # pyHanko leaves it unannotated


@dataclass(frozen=True)
class SealValidation:
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the signature fits the certificate's key
    trusted: bool  # the certificate chains to a configured trust root
    whole_file: bool  # nothing was added after the seal
    certified: bool  # a certifying (DocMDP) signature
    signer: str  # the certificate's subject, for display

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.whole_file and self.certified


def validate_seal(pdf: bytes, trust_roots: tuple[Path, ...]) -> SealValidation | None:
    """The first signature's validation, or None if the PDF carries no signature."""
    reader = PdfFileReader(io.BytesIO(pdf))
    if not reader.embedded_signatures:
        return None
    context = ValidationContext(
        trust_roots=load_certificates(trust_roots), allow_fetching=False, revocation_mode="soft-fail"
    )
    embedded = reader.embedded_signatures[0]
    status = validate_pdf_signature(embedded, context)
    return SealValidation(
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        certified=embedded.docmdp_level is not None and status.docmdp_ok is not False,
        signer=status.signing_cert.subject.human_friendly,
    )


def load_certificates(paths: tuple[Path, ...]) -> list[x509.Certificate]:
    certificates: list[x509.Certificate] = []
    for path in paths:
        data = path.read_bytes()
        if pem.detect(data):
            certificates.extend(x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True))
        else:
            certificates.append(x509.Certificate.load(data))
    return certificates


def certificate_summary(config: SealConfig, pins: PinStore | None = None) -> tuple[str, datetime, datetime]:
    """Subject and validity of the seal certificate on the token, expired or not (`tresen seal status`)."""
    with open_seal_token(config, pins or PinStore(), require_valid=False) as token:
        cert = token.certificate
        return cert.subject.human_friendly, cert.not_valid_before, cert.not_valid_after
