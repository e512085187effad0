"""Passive authentication against generated documents: every signer, every way it can go wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509
from cryptography import x509 as crypto_x509
from cryptography.exceptions import UnsupportedAlgorithm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.card.emulator.personalization import (
    CertificateValidity,
    DocumentKind,
    Signer,
    TestDocument,
    make_test_document,
)
from devices.card.lds import DG1, DG2, EF_SOD
from devices.card.passive_auth import PassiveAuthResult, Verdict, VerificationStep, passive_authentication
from devices.card.trust import TrustStore

NOW = datetime.now(UTC)


def _check(
    document: TestDocument, trust: TrustStore | None, now: datetime | None = None
) -> PassiveAuthResult:
    data_groups = {1: document.files[DG1], 2: document.files[DG2]}
    return passive_authentication(document.files[EF_SOD], data_groups, trust, now)


def _step(result: PassiveAuthResult, name: str) -> VerificationStep:
    return next(step for step in result.steps if step.name == name)


@pytest.fixture(scope="module")
def brainpool_document() -> TestDocument:
    return make_test_document("td1", signer="ecdsa-brainpool", face_bytes=2_000)


@pytest.mark.parametrize("signer", ["ecdsa-brainpool", "ecdsa-p256", "rsa", "rsa-pss"])
@pytest.mark.parametrize("kind", ["td1", "td3"])
def test_genuine_document_is_verified(signer: Signer, kind: DocumentKind) -> None:
    document = make_test_document(kind, signer=signer, face_bytes=2_000)
    result = _check(document, document.trust_store())
    assert result.verdict is Verdict.VERIFIED, result.steps
    assert [step.name for step in result.steps] == [
        "EF.SOD structure",
        "DG1 hash",
        "DG2 hash",
        "Signed attributes (message digest)",
        "Document signer signature",
        "Chain to CSCA",
        "Certificate validity",
    ]
    assert all(step.ok for step in result.steps)
    assert result.reason == ""


def test_brainpool_keys_use_explicit_parameters_that_cryptography_cannot_load(
    brainpool_document: TestDocument,
) -> None:
    # This is the shape of German documents; verification above had to map the parameters itself.
    for certificate in (brainpool_document.ds_certificate, brainpool_document.csca_certificate):
        assert certificate.public_key["algorithm"]["parameters"].name == "specified"
        loaded = crypto_x509.load_der_x509_certificate(certificate.dump())
        with pytest.raises(UnsupportedAlgorithm):
            loaded.public_key()
    assert (
        "sha256_ecdsa"
        in _step(
            _check(brainpool_document, brainpool_document.trust_store()), "Document signer signature"
        ).detail
    )


@pytest.mark.parametrize("tampered", [1, 2])
def test_changed_data_group_fails(tampered: int) -> None:
    document = make_test_document("td1", signer="ecdsa-p256", face_bytes=2_000, tamper_dg=tampered)
    result = _check(document, document.trust_store())
    assert result.verdict is Verdict.FAILED
    assert _step(result, f"DG{tampered} hash").ok is False
    untouched = 3 - tampered
    assert _step(result, f"DG{untouched} hash").ok is True
    assert _step(result, "Document signer signature").ok is True  # the SOD itself is genuine


@pytest.mark.parametrize("signer", ["ecdsa-brainpool", "rsa-pss"])
def test_forged_sod_signature_fails(signer: Signer) -> None:
    document = make_test_document("td3", signer=signer, face_bytes=2_000, forge_sod_signature=True)
    result = _check(document, document.trust_store())
    assert result.verdict is Verdict.FAILED
    assert _step(result, "Document signer signature").ok is False
    assert "does not verify" in result.reason


def test_unknown_csca_is_not_verified_and_says_so(brainpool_document: TestDocument) -> None:
    stranger = make_test_document("td1", signer="ecdsa-brainpool", face_bytes=2_000)
    result = _check(brainpool_document, stranger.trust_store())
    assert result.verdict is Verdict.NOT_VERIFIED
    chain = _step(result, "Chain to CSCA")
    assert chain.ok is False
    assert "not in the trust store" in chain.detail


def test_without_trust_store_not_verified(brainpool_document: TestDocument) -> None:
    result = _check(brainpool_document, None)
    assert result.verdict is Verdict.NOT_VERIFIED
    assert _step(result, "Chain to CSCA").ok is None
    assert _step(result, "Document signer signature").ok is True


def test_impostor_csca_with_the_right_name_fails() -> None:
    genuine = make_test_document("td1", signer="ecdsa-p256", face_bytes=2_000)
    other = make_test_document("td1", signer="ecdsa-p256", face_bytes=2_000)
    tbs = genuine.csca_certificate["tbs_certificate"].copy()
    tbs["subject_public_key_info"] = other.csca_certificate.public_key.copy()
    impostor = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": genuine.csca_certificate["signature_algorithm"],
            "signature_value": genuine.csca_certificate["signature_value"].native,
        }
    )
    result = _check(genuine, TrustStore.from_certificates([impostor]))
    assert result.verdict is Verdict.FAILED
    assert _step(result, "Chain to CSCA").ok is False


def test_expired_document_signer_is_not_verified() -> None:
    csca = CertificateValidity(NOW - timedelta(days=5000), NOW + timedelta(days=500))
    expired = CertificateValidity(NOW - timedelta(days=4000), NOW - timedelta(days=10))
    document = make_test_document(
        "td1", signer="ecdsa-p256", face_bytes=2_000, csca_validity=csca, ds_validity=expired
    )
    result = _check(document, document.trust_store())
    assert result.verdict is Verdict.NOT_VERIFIED
    validity = _step(result, "Certificate validity")
    assert validity.ok is False
    assert validity.detail.startswith("DS certificate expired on")
    assert _step(result, "Chain to CSCA").ok is True


def test_expired_csca_is_not_verified(brainpool_document: TestDocument) -> None:
    result = _check(brainpool_document, brainpool_document.trust_store(), now=NOW + timedelta(days=365 * 16))
    assert result.verdict is Verdict.NOT_VERIFIED
    assert _step(result, "Certificate validity").detail.startswith("CSCA certificate expired on")


def test_not_yet_valid_certificates_are_not_verified(brainpool_document: TestDocument) -> None:
    result = _check(brainpool_document, brainpool_document.trust_store(), now=NOW - timedelta(days=400))
    assert result.verdict is Verdict.NOT_VERIFIED
    assert "not valid before" in _step(result, "Certificate validity").detail


def test_document_signer_issued_outside_csca_validity_fails() -> None:
    csca = CertificateValidity(NOW - timedelta(days=10), NOW + timedelta(days=3000))
    ds = CertificateValidity(NOW - timedelta(days=100), NOW + timedelta(days=2000))
    document = make_test_document(
        "td1", signer="ecdsa-p256", face_bytes=2_000, csca_validity=csca, ds_validity=ds
    )
    result = _check(document, document.trust_store())
    assert result.verdict is Verdict.FAILED
    assert "outside the CSCA's validity" in _step(result, "Certificate validity").detail


def test_data_group_missing_from_sod_fails(brainpool_document: TestDocument) -> None:
    result = passive_authentication(
        brainpool_document.files[EF_SOD], {1: brainpool_document.files[DG1], 3: b"\x63\x00"}, None
    )
    assert result.verdict is Verdict.FAILED
    assert "not covered" in _step(result, "DG3 hash").detail


def test_naive_now_counts_as_utc(brainpool_document: TestDocument) -> None:
    naive = datetime.now(UTC).replace(tzinfo=None)
    assert _check(brainpool_document, brainpool_document.trust_store(), naive).verdict is Verdict.VERIFIED


@pytest.mark.parametrize("sod", [b"", b"\x77\x00", b"\x77\x03\x30\x01\x00", b"\x30\x00", bytes(50)])
def test_unreadable_sod_fails(sod: bytes) -> None:
    result = passive_authentication(sod, {1: b"\x61\x00"}, None)
    assert result.verdict is Verdict.FAILED
    assert result.steps[0].name == "EF.SOD structure"
    assert result.steps[0].ok is False


@given(
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=3)
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_mutated_sod_never_raises(brainpool_document: TestDocument, edits: list[tuple[float, int]]) -> None:
    sod = bytearray(brainpool_document.files[EF_SOD])
    for where, value in edits:
        sod[int(where * len(sod))] = value
    result = passive_authentication(
        bytes(sod), {1: brainpool_document.files[DG1], 2: brainpool_document.files[DG2]},
        brainpool_document.trust_store(),
    )  # fmt: skip
    assert result.verdict in Verdict
    if bytes(sod) != brainpool_document.files[EF_SOD] and result.verdict is Verdict.VERIFIED:
        # Only bytes outside everything signed may change without notice (e.g. the CMS version).
        assert all(step.ok for step in result.steps)


def _with_signature_algorithm(document: TestDocument, algorithm_oid: str, plain_ecdsa: bool) -> bytes:
    """The document's EF.SOD with the (unsigned) signature algorithm field rewritten as other issuers do."""
    from asn1crypto import cms
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from devices.card.tlv import encode_tlv, parse_single

    content_info = cms.ContentInfo.load(parse_single(document.files[EF_SOD], 0x77).value)
    signer_info = content_info["content"]["signer_infos"][0]
    signature = signer_info["signature"].native
    if plain_ecdsa:
        r, s = decode_dss_signature(signature)
        size = (document.ds_certificate.public_key.bit_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    signer_info["signature_algorithm"] = {"algorithm": algorithm_oid}
    signer_info["signature"] = signature
    return encode_tlv(0x77, content_info.dump(force=True))


@pytest.mark.parametrize(
    ("signer", "oid", "plain"),
    [
        ("ecdsa-brainpool", "0.4.0.127.0.7.1.1.4.1.3", True),  # BSI TR-03111 ecdsa-plain-SHA256
        ("ecdsa-p256", "1.2.840.10045.2.1", False),  # bare id-ecPublicKey: hash from the digest algorithm
        ("rsa", "1.2.840.113549.1.1.1", False),  # bare rsaEncryption, as many SODs write it
    ],
)
def test_signature_algorithm_variants_of_real_issuers(signer: Signer, oid: str, plain: bool) -> None:
    document = make_test_document("td1", signer=signer, face_bytes=1_000)
    sod = _with_signature_algorithm(document, oid, plain)
    groups = {1: document.files[DG1], 2: document.files[DG2]}
    result = passive_authentication(sod, groups, document.trust_store())
    assert result.verdict is Verdict.VERIFIED, result.steps
    if plain:  # and the same bytes are refused under the DER-signature OID
        wrong = _with_signature_algorithm(document, "1.2.840.10045.4.3.2", True)
        assert passive_authentication(wrong, groups, document.trust_store()).verdict is Verdict.FAILED


def _with_signer_identifier(document: TestDocument, key_identifier: bytes) -> bytes:
    from asn1crypto import cms

    from devices.card.tlv import encode_tlv, parse_single

    content_info = cms.ContentInfo.load(parse_single(document.files[EF_SOD], 0x77).value)
    signer_info = content_info["content"]["signer_infos"][0]
    signer_info["version"] = "v3"
    signer_info["sid"] = cms.SignerIdentifier(name="subject_key_identifier", value=key_identifier)
    return encode_tlv(0x77, content_info.dump(force=True))


def test_signer_found_by_subject_key_identifier(brainpool_document: TestDocument) -> None:
    groups = {1: brainpool_document.files[DG1], 2: brainpool_document.files[DG2]}
    trust = brainpool_document.trust_store()
    by_key = _with_signer_identifier(brainpool_document, brainpool_document.ds_certificate.key_identifier)
    assert passive_authentication(by_key, groups, trust).verdict is Verdict.VERIFIED
    unknown = passive_authentication(_with_signer_identifier(brainpool_document, b"\x01" * 20), groups, trust)
    assert unknown.verdict is Verdict.NOT_VERIFIED
    assert "not contained" in _step(unknown, "Document signer signature").detail
