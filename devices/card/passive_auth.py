"""Passive authentication (ICAO 9303-11 §5.1): are the data groups the ones the issuer signed?

Steps, each reported: EF.SOD structure, the hash of every data group read, the signed attributes'
message digest, the document signer (DS) signature, the DS certificate's chain to a trusted CSCA,
and the certificates' validity dates.

Verdict policy:
- FAILED when anything shows the data or a signature is not genuine: a hash mismatch, a bad
  signature, an unreadable EF.SOD, a DS certificate that a trusted CSCA's key did not sign, or a DS
  certificate issued outside its CSCA's validity (chain model).
- NOT_VERIFIED when nothing is wrong but authenticity cannot be confirmed: no trust store, no
  trusted CSCA for the issuer, no DS certificate in EF.SOD, or certificates expired (or not yet
  valid) today — an expired document's signature may be genuine, but we do not confirm it.
- VERIFIED only when every step passed.

`cryptography` cannot load EC keys written with explicit curve parameters (German documents do
this); such keys are matched to their named curve by comparing the parameters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import ObjectIdentifier

from devices.card.errors import CardError
from devices.card.lds import LDS_SECURITY_OBJECT_OID, SecurityObject, parse_sod

if TYPE_CHECKING:
    from asn1crypto import algos, cms, keys, x509

    from devices.card.trust import TrustStore

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

# asn1crypto parses lazily and reports bad input with these.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# BSI TR-03111 ecdsa-plain-signatures: r || s instead of a DER sequence.
_ECDSA_PLAIN: dict[str, str] = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
_ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"


class Verdict(StrEnum):
    VERIFIED = "VERIFIED"
    NOT_VERIFIED = "NOT_VERIFIED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class VerificationStep:
    name: str  # English, stable: "DG2 hash", "Document signer signature", …
    ok: bool | None  # None: could not be checked
    detail: str  # English, technical; never personal data


@dataclass(frozen=True)
class PassiveAuthResult:
    verdict: Verdict
    steps: list[VerificationStep] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """The detail of the first step that did not pass ("" when verified)."""
        return next((step.detail for step in self.steps if step.ok is not True), "")


class _Outcome:
    """Collects steps; FAILED beats NOT_VERIFIED beats VERIFIED."""

    def __init__(self) -> None:
        self.steps: list[VerificationStep] = []
        self.failed = False
        self.unconfirmed = False

    def passed(self, name: str, detail: str) -> None:
        self.steps.append(VerificationStep(name, True, detail))

    def failed_step(self, name: str, detail: str) -> None:
        self.steps.append(VerificationStep(name, False, detail))
        self.failed = True

    def unconfirmed_step(self, name: str, detail: str, ok: bool | None = None) -> None:
        self.steps.append(VerificationStep(name, ok, detail))
        self.unconfirmed = True

    def result(self) -> PassiveAuthResult:
        if self.failed:
            verdict = Verdict.FAILED
        elif self.unconfirmed:
            verdict = Verdict.NOT_VERIFIED
        else:
            verdict = Verdict.VERIFIED
        return PassiveAuthResult(verdict, self.steps)


def passive_authentication(
    sod: bytes, data_groups: dict[int, bytes], trust: TrustStore | None, now: datetime | None = None
) -> PassiveAuthResult:
    """Check ``data_groups`` (number → file content as read) against EF.SOD and ``trust``."""
    outcome = _Outcome()
    try:
        security_object = parse_sod(sod)
    except CardError as error:
        outcome.failed_step("EF.SOD structure", f"EF.SOD unreadable: {error.detail}")
        return outcome.result()
    outcome.passed("EF.SOD structure", f"LDS security object, {security_object.hash_algorithm}")
    _check_hashes(security_object, data_groups, outcome)
    try:
        _check_signature_and_chain(security_object, trust, _aware(now), outcome)
    except _ASN1_ERRORS as error:  # a hostile SOD that parsed but holds nonsense deeper down
        outcome.failed_step("EF.SOD structure", f"EF.SOD content invalid ({type(error).__name__})")
    return outcome.result()


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _check_hashes(security_object: SecurityObject, data_groups: dict[int, bytes], outcome: _Outcome) -> None:
    algorithm = security_object.hash_algorithm
    if algorithm not in _HASHES:
        outcome.failed_step("DG hashes", f"unsupported hash algorithm {algorithm}")
        return
    for number, content in sorted(data_groups.items()):
        name = f"DG{number} hash"
        expected = security_object.data_group_hashes.get(number)
        if expected is None:
            outcome.failed_step(name, f"DG{number} is not covered by EF.SOD")
        elif hashlib.new(algorithm, content).digest() == expected:
            outcome.passed(name, f"{algorithm} matches")
        else:
            outcome.failed_step(name, f"{algorithm} differs: DG{number} was changed")


def _check_signature_and_chain(
    security_object: SecurityObject, trust: TrustStore | None, now: datetime, outcome: _Outcome
) -> None:
    signer_info = security_object.signer_info
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    if not _check_signed_attributes(security_object, signer_info, digest_name, outcome):
        return
    ds_certificate = _document_signer_certificate(security_object, signer_info)
    if ds_certificate is None:
        outcome.unconfirmed_step("Document signer signature", "DS certificate not contained in EF.SOD")
        return
    signed_bytes = _signed_attributes_bytes(signer_info)
    try:
        _verify(
            _public_key(ds_certificate.public_key),
            signer_info["signature"].native,
            signed_bytes,
            signer_info["signature_algorithm"],
            digest_name,
        )
    except _SignatureProblem as problem:
        outcome.failed_step("Document signer signature", f"EF.SOD signature invalid: {problem}")
        return
    outcome.passed(
        "Document signer signature", f"{_algorithm_label(signer_info['signature_algorithm'])} valid"
    )
    csca = _check_chain(ds_certificate, trust, outcome)
    _check_validity(ds_certificate, csca, now, outcome)


def _check_signed_attributes(
    security_object: SecurityObject, signer_info: cms.SignerInfo, digest_name: str, outcome: _Outcome
) -> bool:
    name = "Signed attributes (message digest)"
    attributes = signer_info["signed_attrs"]
    if attributes.native is None:
        outcome.failed_step(name, "EF.SOD signer has no signed attributes")
        return False
    values: dict[str, list[object]] = {}
    for attribute in attributes:
        values.setdefault(attribute["type"].native, []).extend(attribute["values"].native)
    content_types, digests = values.get("content_type", []), values.get("message_digest", [])
    if content_types != [LDS_SECURITY_OBJECT_OID]:
        outcome.failed_step(name, "content-type attribute is not the LDS security object")
        return False
    if digest_name not in _HASHES:
        outcome.failed_step(name, f"unsupported digest algorithm {digest_name}")
        return False
    if digests != [hashlib.new(digest_name, security_object.encapsulated_content).digest()]:
        outcome.failed_step(name, "message digest does not match the LDS security object")
        return False
    outcome.passed(name, f"{digest_name} message digest matches")
    return True


def _signed_attributes_bytes(signer_info: cms.SignerInfo) -> bytes:
    """The signed attributes as signed: DER with the universal SET tag instead of [0] (RFC 5652 §5.4)."""
    encoded: bytes = signer_info["signed_attrs"].dump()
    return b"\x31" + encoded[1:]


def _document_signer_certificate(
    security_object: SecurityObject, signer_info: cms.SignerInfo
) -> x509.Certificate | None:
    sid = signer_info["sid"]
    for choice in security_object.certificates:
        if choice.name != "certificate":
            continue
        certificate: x509.Certificate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                certificate.issuer == wanted["issuer"]
                and certificate.serial_number == wanted["serial_number"].native
            ):
                return certificate
        elif certificate.key_identifier == sid.chosen.native:
            return certificate
    return None


def _check_chain(
    ds_certificate: x509.Certificate, trust: TrustStore | None, outcome: _Outcome
) -> x509.Certificate | None:
    name = "Chain to CSCA"
    issuer = ds_certificate.issuer.human_friendly
    if trust is None:
        outcome.unconfirmed_step(name, "no trust store configured: CSCA not checked")
        return None
    candidates = trust.issuers_of(ds_certificate)
    if not candidates:
        outcome.unconfirmed_step(name, f"issuing CSCA is not in the trust store ({issuer})", ok=False)
        return None
    tbs = ds_certificate["tbs_certificate"].dump()
    problems = []
    for csca in candidates:
        try:
            _verify(
                _public_key(csca.public_key),
                ds_certificate["signature_value"].native,
                tbs,
                ds_certificate["signature_algorithm"],
                None,
            )
        except _SignatureProblem as problem:
            problems.append(str(problem))
            continue
        outcome.passed(name, f"DS certificate signed by trusted CSCA ({issuer})")
        return csca
    outcome.failed_step(name, f"DS certificate not signed by the trusted CSCA ({issuer}): {problems[0]}")
    return None


def _check_validity(
    ds_certificate: x509.Certificate, csca: x509.Certificate | None, now: datetime, outcome: _Outcome
) -> None:
    name = "Certificate validity"
    ds_from, ds_until = _validity(ds_certificate)
    if csca is not None:
        csca_from, csca_until = _validity(csca)
        if not csca_from <= ds_from <= csca_until:
            outcome.failed_step(name, "DS certificate was issued outside the CSCA's validity")
            return
        if not csca_from <= now <= csca_until:
            outcome.unconfirmed_step(
                name, f"CSCA certificate {_period(csca_from, csca_until, now)}", ok=False
            )
            return
    if not ds_from <= now <= ds_until:
        outcome.unconfirmed_step(name, f"DS certificate {_period(ds_from, ds_until, now)}", ok=False)
        return
    checked = "DS and CSCA certificates" if csca is not None else "DS certificate"
    outcome.passed(name, f"{checked} valid today")


def _validity(certificate: x509.Certificate) -> tuple[datetime, datetime]:
    validity = certificate["tbs_certificate"]["validity"]
    return validity["not_before"].native, validity["not_after"].native


def _period(start: datetime, end: datetime, now: datetime) -> str:
    if now < start:
        return f"not valid before {start:%Y-%m-%d}"
    return f"expired on {end:%Y-%m-%d}"


# --- keys and signatures ------------------------------------------------------------------------


class _SignatureProblem(Exception):
    """A signature that does not verify, or that cannot be checked with the key given."""


def _public_key(info: keys.PublicKeyInfo) -> PublicKey:
    algorithm = info["algorithm"]["algorithm"].native
    try:
        if algorithm in ("rsa", "rsassa_pss"):
            parsed = info["public_key"].parsed
            return rsa.RSAPublicNumbers(
                parsed["public_exponent"].native, parsed["modulus"].native
            ).public_key()
        if algorithm == "ec":
            curve = _curve(info["algorithm"]["parameters"])
            return ec.EllipticCurvePublicKey.from_encoded_point(curve, bytes(info["public_key"].native))
    except (*_ASN1_ERRORS, UnsupportedAlgorithm, LookupError) as error:
        raise _SignatureProblem(f"public key unusable ({type(error).__name__})") from error
    raise _SignatureProblem(f"unsupported key algorithm {algorithm}")


def _curve(parameters: keys.ECDomainParameters) -> ec.EllipticCurve:
    if parameters.name == "named":
        return ec.get_curve_for_oid(ObjectIdentifier(parameters.chosen.dotted))()
    if parameters.name == "specified":
        return _named_curve_for(parameters.chosen)
    raise _SignatureProblem("implicitly-CA EC parameters are not supported")


def _named_curve_for(domain: keys.SpecifiedECDomain) -> ec.EllipticCurve:
    """The named curve whose prime, coefficients, base point and order the explicit parameters give."""
    import ecdsa.curves

    if domain["field_id"]["field_type"].native != "prime_field":
        raise _SignatureProblem("EC parameters over a binary field are not supported")
    prime = domain["field_id"]["parameters"].native
    a = int.from_bytes(domain["curve"]["a"].native, "big")
    b = int.from_bytes(domain["curve"]["b"].native, "big")
    order = domain["order"].native
    base = bytes(domain["base"].native)
    for candidate in ecdsa.curves.curves:
        if not hasattr(candidate.curve, "a") or candidate.curve.p() != prime or candidate.order != order:
            continue
        if candidate.curve.a() % prime != a % prime or candidate.curve.b() % prime != b % prime:
            continue
        if not _same_point(base, candidate.generator.x(), candidate.generator.y(), candidate.baselen):
            continue
        try:
            return ec.get_curve_for_oid(ObjectIdentifier(".".join(map(str, candidate.oid))))()
        except LookupError:
            break
    raise _SignatureProblem("explicit EC parameters match no supported named curve")


def _same_point(encoded: bytes, x: int, y: int, length: int) -> bool:
    if encoded[:1] == b"\x04" and len(encoded) == 1 + 2 * length:
        return encoded[1:] == x.to_bytes(length, "big") + y.to_bytes(length, "big")
    if encoded[:1] in (b"\x02", b"\x03") and len(encoded) == 1 + length:
        return encoded[1:] == x.to_bytes(length, "big") and encoded[0] & 1 == y & 1
    return False


def _algorithm_label(algorithm: algos.SignedDigestAlgorithm) -> str:
    dotted = algorithm["algorithm"].dotted
    return (
        algorithm["algorithm"].native if dotted not in _ECDSA_PLAIN else f"ecdsa-plain-{_ECDSA_PLAIN[dotted]}"
    )


def _verify(
    key: PublicKey, signature: bytes, data: bytes, algorithm: algos.SignedDigestAlgorithm, digest: str | None
) -> None:
    """Raise `_SignatureProblem` unless ``signature`` over ``data`` verifies under ``algorithm``.

    ``digest`` is the CMS digest algorithm, used when the signature algorithm names none (plain
    ``ecdsa`` / ``rsaEncryption`` OIDs, which real SODs use).
    """
    dotted = algorithm["algorithm"].dotted
    try:
        if dotted in _ECDSA_PLAIN:
            signature = _plain_to_der(signature)
            digest_name = _ECDSA_PLAIN[dotted]
            kind = "ecdsa"
        else:
            kind = _signature_kind(algorithm)
            digest_name = _hash_name(algorithm, digest)
        hash_algorithm = _HASHES[digest_name]()
        if kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_algorithm))
        elif kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        elif kind == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, _pss_padding(algorithm["parameters"]), hash_algorithm)
        else:
            raise _SignatureProblem(f"{kind} signature does not fit a {type(key).__name__}")
    except InvalidSignature as error:
        raise _SignatureProblem("signature does not verify") from error
    except (*_ASN1_ERRORS, UnsupportedAlgorithm) as error:
        raise _SignatureProblem(f"signature cannot be checked ({type(error).__name__})") from error


def _signature_kind(algorithm: algos.SignedDigestAlgorithm) -> str:
    # Some issuers put the bare key OID id-ecPublicKey where the signature algorithm belongs.
    if algorithm["algorithm"].dotted == _ID_EC_PUBLIC_KEY:
        return "ecdsa"
    kind: str = algorithm.signature_algo
    return kind


def _hash_name(algorithm: algos.SignedDigestAlgorithm, digest: str | None) -> str:
    try:
        name: str = algorithm.hash_algo
    except ValueError:
        if digest is None:
            raise
        name = digest
    if name not in _HASHES:
        raise _SignatureProblem(f"unsupported hash {name}")
    return name


def _pss_padding(parameters: algos.RSASSAPSSParams) -> padding.PSS:
    mask = parameters["mask_gen_algorithm"]
    if mask["algorithm"].native != "mgf1":
        raise _SignatureProblem("RSA-PSS mask generation other than MGF1")
    mgf_hash = mask["parameters"]["algorithm"].native
    if mgf_hash not in _HASHES:
        raise _SignatureProblem(f"unsupported MGF1 hash {mgf_hash}")
    return padding.PSS(padding.MGF1(_HASHES[mgf_hash]()), parameters["salt_length"].native)


def _plain_to_der(signature: bytes) -> bytes:
    if not signature or len(signature) % 2:
        raise _SignatureProblem("plain ECDSA signature has odd length")
    half = len(signature) // 2
    return encode_dss_signature(
        int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    )
