"""CSCA trust store: folders of PEM/DER certificates and CMS master lists."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from asn1crypto import pem
from cryptography import x509 as crypto_x509

from devices.card.emulator.personalization import TestDocument, make_test_document
from devices.card.lds import DG1, DG2, EF_SOD
from devices.card.passive_auth import Verdict, passive_authentication
from devices.card.trust import TrustStore, TrustStoreError, build_master_list, load_master_list

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def documents() -> list[TestDocument]:
    return [
        make_test_document("td1", signer=signer, face_bytes=1_000)
        for signer in ("ecdsa-brainpool", "ecdsa-p256")
    ]


def _verdict(document: TestDocument, trust: TrustStore) -> Verdict:
    groups = {1: document.files[DG1], 2: document.files[DG2]}
    return passive_authentication(document.files[EF_SOD], groups, trust).verdict


def test_folder_with_pem_der_master_list_and_junk(tmp_path: Path, documents: list[TestDocument]) -> None:
    brainpool, p256 = documents
    extra = make_test_document("td3", signer="ecdsa-p256", face_bytes=1_000)
    (tmp_path / "de-csca.pem").write_bytes(pem.armor("CERTIFICATE", brainpool.csca_der))
    (tmp_path / "other.DER").write_bytes(p256.csca_der)
    (tmp_path / "icao.ml").write_bytes(
        build_master_list([extra.csca_certificate, brainpool.csca_certificate])
    )
    (tmp_path / "broken.cer").write_bytes(b"not a certificate")
    (tmp_path / "readme.txt").write_text("ignored")
    store = TrustStore.from_folder(tmp_path)
    assert len(store) == 3  # the brainpool CSCA appears twice but is kept once
    assert store.skipped_files == ["broken.cer"]
    for document in (brainpool, p256, extra):
        assert _verdict(document, store) is Verdict.VERIFIED


def test_pem_file_with_several_certificates(tmp_path: Path, documents: list[TestDocument]) -> None:
    bundle = b"".join(pem.armor("CERTIFICATE", document.csca_der) for document in documents)
    (tmp_path / "bundle.pem").write_bytes(bundle)
    assert len(TrustStore.from_folder(tmp_path)) == 2


def test_master_list_round_trip(documents: list[TestDocument]) -> None:
    certificates = load_master_list(build_master_list([document.csca_certificate for document in documents]))
    assert sorted(c.sha256 for c in certificates) == sorted(d.csca_certificate.sha256 for d in documents)


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01\x00", bytes(40)])
def test_unreadable_master_list_is_reported(data: bytes) -> None:
    with pytest.raises(TrustStoreError):
        load_master_list(data)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError):
        TrustStore.from_folder(tmp_path / "absent")


def test_from_certificates_accepts_der_and_cryptography_objects(documents: list[TestDocument]) -> None:
    brainpool, p256 = documents
    store = TrustStore.from_certificates(
        [brainpool.csca_der, crypto_x509.load_der_x509_certificate(p256.csca_der)]
    )
    assert _verdict(brainpool, store) is Verdict.VERIFIED
    assert _verdict(p256, store) is Verdict.VERIFIED


def test_issuer_lookup_uses_name_and_key_identifier(documents: list[TestDocument]) -> None:
    brainpool, p256 = documents
    store = TrustStore.from_certificates([brainpool.csca_certificate, p256.csca_certificate])
    assert store.issuers_of(brainpool.ds_certificate) == [brainpool.csca_certificate]
    assert store.issuers_of(p256.ds_certificate) == [p256.csca_certificate]
    assert TrustStore().issuers_of(p256.ds_certificate) == []
