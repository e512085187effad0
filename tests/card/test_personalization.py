"""Generated test documents: consistent MRZ, key, files and PKI; deterministic with a seed."""

from __future__ import annotations

import random
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devices.card.access import MrzKey
from devices.card.emulator.personalization import TestHolder, make_test_document, pad_jpeg
from devices.card.lds import DG1, DG2, EF_COM, EF_SOD, parse_com, parse_dg1, parse_dg2, parse_sod


@pytest.mark.parametrize(("kind", "mrz_format", "code"), [("td1", "TD1", "ID"), ("td3", "TD3", "P")])
def test_document_files_are_consistent(kind: str, mrz_format: str, code: str) -> None:
    document = make_test_document(kind, signer="ecdsa-p256", face_bytes=8_000)  # type: ignore[arg-type]
    assert set(document.files) == {EF_COM, DG1, DG2, EF_SOD}
    assert parse_com(document.files[EF_COM]).data_groups == (1, 2)
    mrz = parse_dg1(document.files[DG1])
    assert (mrz.format, mrz.document_code, mrz.surname, mrz.given_names) == (
        mrz_format,
        code,
        "MUSTERMANN",
        "ERIKA",
    )
    assert mrz.check_digits_ok
    assert mrz.expiry_date > date.today()
    # The MRZ key printed for the clerk opens the same chip that DG1 describes.
    assert document.mrz_key == MrzKey.from_mrz(document.mrz)
    assert document.mrz_key.document_number == mrz.document_number
    assert len(document.can) == 6 and document.can.isdigit()
    assert parse_dg2(document.files[DG2]) == [document.face]
    assert set(parse_sod(document.files[EF_SOD]).data_group_hashes) == {1, 2}


def test_custom_holder_and_expiry() -> None:
    holder = TestHolder(surname="Gößmann", given_names="Jürgen", birth_date=date(1990, 2, 28), sex="M",
                        document_number="C01X00T47")  # fmt: skip
    document = make_test_document(
        "td3", signer="ecdsa-p256", face_bytes=1_000, holder=holder, expiry=date(2033, 3, 31)
    )
    mrz = parse_dg1(document.files[DG1])
    assert (mrz.surname, mrz.given_names, mrz.sex) == ("GOESSMANN", "JUERGEN", "M")
    assert (mrz.birth_date, mrz.expiry_date, mrz.document_number) == (
        date(1990, 2, 28),
        date(2033, 3, 31),
        "C01X00T47",
    )


@pytest.mark.parametrize("size", [1_000, 2_000, 20_000, 70_000, 140_003])
def test_face_is_padded_to_the_requested_size(size: int) -> None:
    face = make_test_document("td1", signer="ecdsa-p256", face_bytes=size, seed=1).face
    assert len(face.data) == size


def test_jpeg_padding_never_leaves_a_broken_segment() -> None:
    rng = random.Random(0)
    jpeg = b"\xff\xd8\xff\xd9"
    for target in range(4, 80):
        padded = pad_jpeg(jpeg, target, rng)
        assert padded.startswith(b"\xff\xd8") and padded.endswith(b"\xff\xd9")
        assert target - 4 <= len(padded) <= max(target, 4)


def test_same_seed_same_document_different_seed_other_pki() -> None:
    first = make_test_document("td1", signer="ecdsa-brainpool", face_bytes=3_000, seed=42)
    again = make_test_document("td1", signer="ecdsa-brainpool", face_bytes=3_000, seed=42)
    other = make_test_document("td1", signer="ecdsa-brainpool", face_bytes=3_000, seed=43)
    assert (first.can, first.mrz, first.files[DG1], first.files[DG2]) == (
        again.can, again.mrz, again.files[DG1], again.files[DG2]
    )  # fmt: skip
    assert first.csca_certificate.public_key.dump() == again.csca_certificate.public_key.dump()
    assert first.csca_certificate.subject == again.csca_certificate.subject
    assert other.csca_certificate.subject != first.csca_certificate.subject


def test_unseeded_documents_have_their_own_csca() -> None:
    first, second = (make_test_document("td1", signer="ecdsa-p256", face_bytes=1_000) for _ in range(2))
    assert first.csca_certificate.subject != second.csca_certificate.subject
    assert first.can != second.can or first.mrz != second.mrz


def test_generation_is_fast_after_the_first_rsa_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast because the slow part, RSA-2048 key generation, happens once per process: counted, not timed."""
    make_test_document("td1", signer="rsa", face_bytes=1_000)
    generated: list[int] = []
    real_generate = rsa.generate_private_key

    def counting_generate(public_exponent: int, key_size: int, backend: object = None) -> rsa.RSAPrivateKey:
        generated.append(key_size)
        return real_generate(public_exponent, key_size)

    monkeypatch.setattr(rsa, "generate_private_key", counting_generate)
    for signer in ("ecdsa-brainpool", "ecdsa-p256", "rsa", "rsa-pss"):
        make_test_document("td1", signer=signer, face_bytes=20_000)  # type: ignore[arg-type]
    assert generated == []


def test_only_dg1_and_dg2_can_be_tampered() -> None:
    with pytest.raises(ValueError):
        make_test_document("td1", tamper_dg=3)
