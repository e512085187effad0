"""Test documents for the emulator and the tests: a holder, an MRZ, a face, a signed EF.SOD, a PKI.

`make_test_document` personalises a chip the way a German document printer does: EF.COM, DG1,
DG2 (JPEG face, padded to a realistic size) and EF.SOD signed by a document signer (DS) whose
certificate a country signing CA (CSCA) issued. The ``ecdsa-brainpool`` signer writes the EC keys
of both certificates with explicit curve parameters, as German documents do.

Key generation is cached in-process: EC keys for a given seed are derived deterministically;
RSA-2048 keys (slow to generate) exist once per process and seed. Every CSCA is named after its
key, so documents with different keys never share a trust anchor.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Literal, Protocol

from asn1crypto import algos, cms, core, keys, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.card.access import MrzKey
from devices.card.lds import (
    DG1,
    DG2,
    EF_COM,
    EF_SOD,
    LDS_SECURITY_OBJECT_OID,
    FaceImage,
    build_com,
    build_dg1,
    build_dg2,
    build_lds_security_object,
    build_sod,
)
from devices.card.mrz import build_td1, build_td3
from devices.card.trust import TrustStore

DocumentKind = Literal["td1", "td3"]
Signer = Literal["ecdsa-brainpool", "ecdsa-p256", "rsa", "rsa-pss"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# Serial-number letters of German documents (no vowels that could spell words, no O/I).
_DOCUMENT_NUMBER_LETTERS = "CFGHJKLMNPRTVWXYZ"
_DOCUMENT_NUMBER_CHARS = _DOCUMENT_NUMBER_LETTERS + "0123456789"
_FACE_SIZE = (413, 531)  # 35 × 45 mm at 300 dpi, the German passport photo
_JPEG_COMMENT_MAX = 65533


@dataclass(frozen=True)
class TestHolder:
    """The specimen holder of German documents (BSI/Bundesdruckerei "Erika Mustermann")."""

    __test__ = False  # not a pytest test class

    surname: str = "Mustermann"
    given_names: str = "Erika"
    birth_date: date = date(1964, 8, 12)
    sex: str = "F"
    nationality: str = "D"
    issuing_state: str = "D"
    document_number: str | None = None  # None: a random, valid-looking one


@dataclass(frozen=True)
class CertificateValidity:
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class TestDocument:
    __test__ = False  # not a pytest test class

    kind: DocumentKind
    files: dict[int, bytes] = field(repr=False)  # file id → content: EF.COM, DG1, DG2, EF.SOD
    mrz: str = field(repr=False)  # as printed, lines separated by newlines
    mrz_key: MrzKey = field(repr=False)
    can: str = field(repr=False)
    face: FaceImage = field(repr=False)
    csca_certificate: x509.Certificate = field(repr=False)
    ds_certificate: x509.Certificate = field(repr=False)

    @property
    def csca_der(self) -> bytes:
        der: bytes = self.csca_certificate.dump()
        return der

    def trust_store(self) -> TrustStore:
        return TrustStore.from_certificates([self.csca_certificate])


# --- keys ---------------------------------------------------------------------------------------

_CURVES: dict[str, tuple[ec.EllipticCurve, str]] = {
    # our name: (cryptography curve, ecdsa package curve name for the explicit parameters)
    "brainpoolP256r1": (ec.BrainpoolP256R1(), "BRAINPOOLP256r1"),
    "brainpoolP384r1": (ec.BrainpoolP384R1(), "BRAINPOOLP384r1"),
    "P-256": (ec.SECP256R1(), "NIST256p"),
    "P-384": (ec.SECP384R1(), "NIST384p"),
}


@dataclass(frozen=True)
class SignerProfile:
    csca_key: str  # curve name or "rsa"
    ds_key: str
    explicit_parameters: bool
    pss: bool


PROFILES: dict[Signer, SignerProfile] = {
    "ecdsa-brainpool": SignerProfile(
        "brainpoolP384r1", "brainpoolP256r1", explicit_parameters=True, pss=False
    ),
    "ecdsa-p256": SignerProfile("P-256", "P-256", explicit_parameters=False, pss=False),
    "rsa": SignerProfile("rsa", "rsa", explicit_parameters=False, pss=False),
    "rsa-pss": SignerProfile("rsa", "rsa", explicit_parameters=False, pss=True),
}


class _FieldCurve(Protocol):
    def p(self) -> int: ...
    def a(self) -> int: ...
    def b(self) -> int: ...


class _Point(Protocol):
    def x(self) -> int: ...
    def y(self) -> int: ...


class _EcdsaCurve(Protocol):
    """What this module reads of an `ecdsa.curves.Curve` (ecdsa ships no types)."""

    baselen: int
    order: int
    generator: _Point
    curve: _FieldCurve


def _ecdsa_curve(name: str) -> _EcdsaCurve:
    import ecdsa.curves

    curve: _EcdsaCurve = ecdsa.curves.curve_by_name(_CURVES[name][1])
    return curve


def _ec_key(curve_name: str, role: str, seed: int | None) -> ec.EllipticCurvePrivateKey:
    curve = _CURVES[curve_name][0]
    if seed is None:
        return ec.generate_private_key(curve)
    order = _ecdsa_curve(curve_name).order
    digest = hashlib.sha512(f"tresen-test:{curve_name}:{role}:{seed}".encode()).digest()
    return ec.derive_private_key(int.from_bytes(digest, "big") % (order - 1) + 1, curve)


@cache
def _rsa_key(role: str, seed: int | None) -> rsa.RSAPrivateKey:  # noqa: ARG001  (the cache key: one per role and seed)
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_key(key_type: str, role: str, seed: int | None) -> PrivateKey:
    if key_type == "rsa":
        return _rsa_key(role, seed)
    return _ec_key(key_type, role, seed)


def _public_key_info(private_key: PrivateKey, key_type: str, explicit: bool) -> keys.PublicKeyInfo:
    der = private_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    info = keys.PublicKeyInfo.load(der)
    if not explicit:
        return info
    curve = _ecdsa_curve(key_type)
    byte_length = curve.baselen
    generator = curve.generator
    field_curve = curve.curve
    specified = keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": field_curve.p()},
            "curve": {
                "a": field_curve.a().to_bytes(byte_length, "big"),
                "b": field_curve.b().to_bytes(byte_length, "big"),
            },
            "base": b"\x04"
            + generator.x().to_bytes(byte_length, "big")
            + generator.y().to_bytes(byte_length, "big"),
            "order": curve.order,
            "cofactor": 1,
        }
    )
    return keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters(name="specified", value=specified),
            },
            "public_key": info["public_key"],
        }
    )


# --- signatures ---------------------------------------------------------------------------------


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def _signature_algorithm(key: PrivateKey, pss: bool) -> algos.SignedDigestAlgorithm:
    digest = _hash_for(key).name  # "sha256" / "sha384"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_ecdsa"})
    if not pss:
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_rsa"})
    parameters = algos.RSASSAPSSParams(
        {
            "hash_algorithm": {"algorithm": digest},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": digest}},
            "salt_length": _hash_for(key).digest_size,
        }
    )
    return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": parameters})


def _sign(key: PrivateKey, data: bytes, pss: bool) -> bytes:
    digest = _hash_for(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(digest))
    if pss:
        return key.sign(data, padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
    return key.sign(data, padding.PKCS1v15(), digest)


# --- certificates -------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name.build(
        {"country_name": "DE", "organization_name": "Tresen Test", "common_name": common_name}
    )


def _key_id(info: keys.PublicKeyInfo) -> bytes:
    return hashlib.sha1(info["public_key"].contents).digest()


def _certificate(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    subject_key: keys.PublicKeyInfo,
    issuer_key_id: bytes,
    signing_key: PrivateKey,
    validity: CertificateValidity,
    ca: bool,
    pss: bool,
    serial: int,
) -> x509.Certificate:
    extensions = [
        {"extn_id": "key_usage", "critical": True, "extn_value": {"key_cert_sign", "crl_sign"} if ca
         else {"digital_signature"}},
        {"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(subject_key)},
        {"extn_id": "authority_key_identifier", "critical": False,
         "extn_value": {"key_identifier": issuer_key_id}},
    ]  # fmt: skip
    if ca:
        extensions.append(
            {
                "extn_id": "basic_constraints",
                "critical": True,
                "extn_value": {"ca": True, "path_len_constraint": 0},
            }
        )
    algorithm = _signature_algorithm(signing_key, pss)
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": algorithm,
            "issuer": issuer,
            "validity": {
                "not_before": x509.Time(name="utc_time", value=validity.not_before),
                "not_after": x509.Time(name="utc_time", value=validity.not_after),
            },
            "subject": subject,
            "subject_public_key_info": subject_key,
            "extensions": extensions,
        }
    )
    signature = _sign(signing_key, tbs.dump(), pss)
    return x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature}
    )


@dataclass(frozen=True)
class _Pki:
    csca_certificate: x509.Certificate
    ds_certificate: x509.Certificate
    ds_key: PrivateKey


def _default_validity(now: datetime, years: int) -> CertificateValidity:
    start = now.replace(microsecond=0) - timedelta(days=30)
    return CertificateValidity(start, start + timedelta(days=365 * years))


def _make_pki(
    signer: Signer,
    seed: int | None,
    csca_validity: CertificateValidity | None,
    ds_validity: CertificateValidity | None,
) -> _Pki:
    profile = PROFILES[signer]
    now = datetime.now(UTC)
    csca_key = _private_key(profile.csca_key, "csca", seed)
    ds_key = _private_key(profile.ds_key, "ds", seed)
    csca_info = _public_key_info(csca_key, profile.csca_key, profile.explicit_parameters)
    ds_info = _public_key_info(ds_key, profile.ds_key, profile.explicit_parameters)
    csca_name = _name(f"Tresen Test CSCA {_key_id(csca_info)[:4].hex().upper()}")
    csca = _certificate(
        subject=csca_name, issuer=csca_name, subject_key=csca_info, issuer_key_id=_key_id(csca_info),
        signing_key=csca_key, validity=csca_validity or _default_validity(now, 15), ca=True,
        pss=profile.pss, serial=int.from_bytes(_key_id(csca_info)[:8], "big"),
    )  # fmt: skip
    ds = _certificate(
        subject=_name(f"Tresen Test DS {_key_id(ds_info)[:4].hex().upper()}"), issuer=csca_name,
        subject_key=ds_info, issuer_key_id=_key_id(csca_info), signing_key=csca_key,
        validity=ds_validity or _default_validity(now, 11), ca=False, pss=profile.pss,
        serial=int.from_bytes(_key_id(ds_info)[:8], "big"),
    )  # fmt: skip
    return _Pki(csca, ds, ds_key)


# --- EF.SOD -------------------------------------------------------------------------------------


def sign_security_object(
    data_groups: dict[int, bytes],
    ds_certificate: x509.Certificate,
    ds_key: PrivateKey,
    *,
    pss: bool = False,
    hash_algorithm: str = "sha256",
    forge_signature: bool = False,
) -> bytes:
    """EF.SOD over ``data_groups`` (number → file content), signed by the document signer."""
    hashes_by_dg = {n: hashlib.new(hash_algorithm, content).digest() for n, content in data_groups.items()}
    content = build_lds_security_object(hash_algorithm, hashes_by_dg)
    signed_attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [LDS_SECURITY_OBJECT_OID]},
            {"type": "message_digest", "values": [hashlib.new(hash_algorithm, content).digest()]},
        ]
    )
    signature = _sign(ds_key, signed_attributes.dump(), pss)
    if forge_signature:
        signature = signature[:-8] + bytes(b ^ 0x5A for b in signature[-8:])
    tbs = ds_certificate["tbs_certificate"]
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": tbs["issuer"], "serial_number": tbs["serial_number"]},
            ),
            "digest_algorithm": {"algorithm": _hash_for(ds_key).name},
            "signed_attrs": signed_attributes,
            "signature_algorithm": _signature_algorithm(ds_key, pss),
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": _hash_for(ds_key).name}],
            "encap_content_info": {
                "content_type": LDS_SECURITY_OBJECT_OID,
                "content": core.ParsableOctetString(content),
            },
            "certificates": [ds_certificate],
            "signer_infos": [signer_info],
        }
    )
    return build_sod(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}))


# --- face and data groups -----------------------------------------------------------------------


def make_face_jpeg(target_bytes: int, rng: random.Random) -> tuple[bytes, tuple[int, int]]:
    """A drawn head-and-shoulders JPEG of exactly ``target_bytes`` where possible, and its size.

    Large targets pad with comment segments; small ones lower the quality, then the resolution.
    """
    from PIL import Image, ImageDraw

    width, height = _FACE_SIZE
    image = Image.new("RGB", _FACE_SIZE, (226, 230, 235))
    draw = ImageDraw.Draw(image)
    skin = (rng.randint(170, 235), rng.randint(130, 190), rng.randint(100, 160))
    draw.ellipse((width * 0.1, height * 0.75, width * 0.9, height * 1.3), fill=(60, 70, 95))
    draw.ellipse((width * 0.28, height * 0.2, width * 0.72, height * 0.72), fill=skin)
    for eye_x in (0.4, 0.6):
        draw.ellipse(
            (width * eye_x - 9, height * 0.42 - 6, width * eye_x + 9, height * 0.42 + 6), fill=(40, 40, 40)
        )
    draw.arc((width * 0.42, height * 0.55, width * 0.58, height * 0.63), 20, 160, fill=(120, 40, 40), width=3)
    smallest: tuple[bytes, tuple[int, int]] = (b"", _FACE_SIZE)
    for scale in (1, 2, 4, 8):
        scaled = image if scale == 1 else image.resize((width // scale, height // scale))
        for quality in (85, 50, 25):
            buffer = io.BytesIO()
            scaled.save(buffer, "JPEG", quality=quality)
            jpeg = buffer.getvalue()
            if len(jpeg) <= target_bytes:
                return pad_jpeg(jpeg, target_bytes, rng), scaled.size
            smallest = (jpeg, scaled.size)
    return smallest  # the smallest we can draw


def pad_jpeg(jpeg: bytes, target_bytes: int, rng: random.Random) -> bytes:
    """Insert COM segments after SOI until the file is ``target_bytes`` long (if it is shorter)."""
    missing = target_bytes - len(jpeg)
    segments = bytearray()
    while missing > 4:
        payload = min(missing - 4, _JPEG_COMMENT_MAX)
        if 0 < missing - 4 - payload < 4:  # leave room for one more complete segment
            payload -= 4
        segments += b"\xff\xfe" + struct.pack(">H", payload + 2) + rng.randbytes(payload)
        missing -= payload + 4
    return jpeg[:2] + bytes(segments) + jpeg[2:]


def _document_number(rng: random.Random) -> str:
    return rng.choice(_DOCUMENT_NUMBER_LETTERS) + "".join(
        rng.choice(_DOCUMENT_NUMBER_CHARS) for _ in range(8)
    )


def _tampered(number: int, content: bytes) -> bytes:
    """A data group changed after signing but still well formed (the hash check must catch it)."""
    if number == 1:
        # Change one character of the name line (the last bytes of DG1 are the name's fillers).
        return content[:-1] + (b"X" if content[-1:] != b"X" else b"Y")
    # Flip a bit in the middle: for DG2 that lands in the face image, whose header stays intact.
    middle = len(content) // 2
    return content[:middle] + bytes((content[middle] ^ 0x01,)) + content[middle + 1 :]


def make_test_document(
    kind: DocumentKind = "td1",
    *,
    signer: Signer = "ecdsa-brainpool",
    face_bytes: int = 20_000,
    tamper_dg: int | None = None,
    forge_sod_signature: bool = False,
    holder: TestHolder | None = None,
    expiry: date | None = None,
    seed: int | None = None,
    csca_validity: CertificateValidity | None = None,
    ds_validity: CertificateValidity | None = None,
) -> TestDocument:
    """A personalised eMRTD: ID card (``td1``) or passport (``td3``) with a signed EF.SOD."""
    if tamper_dg not in (None, 1, 2):
        raise ValueError("only DG1 and DG2 can be tampered with")
    rng = random.Random(seed)
    holder = holder or TestHolder()
    document_number = holder.document_number or _document_number(rng)
    expiry = expiry or (date.today() + timedelta(days=5 * 365)).replace(day=1)
    build = build_td1 if kind == "td1" else build_td3
    mrz = build(
        document_code="ID" if kind == "td1" else "P",
        issuing_state=holder.issuing_state,
        document_number=document_number,
        surname=holder.surname,
        given_names=holder.given_names,
        nationality=holder.nationality,
        birth_date=holder.birth_date,
        sex=holder.sex,
        expiry_date=expiry,
    )
    jpeg, (width, height) = make_face_jpeg(face_bytes, rng)
    face = FaceImage("image/jpeg", jpeg, width, height)
    data_groups = {1: build_dg1(mrz), 2: build_dg2([face])}
    pki = _make_pki(signer, seed, csca_validity, ds_validity)
    sod = sign_security_object(
        data_groups,
        pki.ds_certificate,
        pki.ds_key,
        pss=PROFILES[signer].pss,
        forge_signature=forge_sod_signature,
    )
    if tamper_dg is not None:
        data_groups[tamper_dg] = _tampered(tamper_dg, data_groups[tamper_dg])
    files = {EF_COM: build_com([1, 2]), DG1: data_groups[1], DG2: data_groups[2], EF_SOD: sod}
    return TestDocument(
        kind=kind,
        files=files,
        mrz=mrz,
        mrz_key=MrzKey(document_number, holder.birth_date.strftime("%y%m%d"), expiry.strftime("%y%m%d")),
        can=f"{rng.randrange(1_000_000):06d}",
        face=face,
        csca_certificate=pki.csca_certificate,
        ds_certificate=pki.ds_certificate,
    )
