"""PACE: the ICAO 9303-11 Appendix G.1 worked example step by step and as an APDU transcript,
EF.CardAccess parsing, loopback on every supported curve, wrong passwords and hostile chips."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.card.access import AccessKey, CanKey, MrzKey
from devices.card.apdu import CommandAPDU, ResponseAPDU, Transmit
from devices.card.errors import CardError, CardErrorReason
from devices.card.pace import (
    PaceCard,
    PaceInfo,
    Suite,
    authentication_token,
    build_card_access,
    decode_oid,
    decrypt_nonce,
    encode_oid,
    map_generator,
    parse_card_access,
    perform_pace,
    session_keys,
    shared_secret,
)
from devices.card.secure_messaging import SmCipher
from tests.card.support import scripted

H = bytes.fromhex

# --- ICAO 9303-11 Appendix G.1: ECDH generic mapping, brainpoolP256r1, AES-128, MRZ password ------
G1_CARD_ACCESS = H("3114 3012 060A04007F00070202040202 020102 02010D")
G1_KEY = MrzKey("T22000129", "640812", "101031")
G1_K_PI = H("89DED1B26624EC1E634C1989302849DD")
G1_ENCRYPTED_NONCE = H("95A3A016522EE98D01E76CB6B98B42C3")
G1_NONCE = H("3F00C4D39D153F2B2A214A078D899B22")
G1_MAP_SK_IFD = H("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
G1_MAP_PK_IFD = H(
    "04 7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
    "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
)
G1_MAP_SK_IC = H("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560")
G1_MAP_PK_IC = H(
    "04 824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
    "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
)
G1_H = H(
    "04 60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
    "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181"
)
G1_MAPPED_G = H(
    "04 8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
    "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
)
G1_EPH_SK_IFD = H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
G1_EPH_PK_IFD = H(
    "04 2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
    "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
)
G1_EPH_SK_IC = H("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")
G1_EPH_PK_IC = H(
    "04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
)
G1_K = H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
G1_KS_ENC = H("F5F0E35C0D7161EE6724EE513A0D9A7F")
G1_KS_MAC = H("FE251C7858B356B24514B3BD5F4297D1")
G1_TOKEN_IFD = H("C2B0BD78D94BA866")
G1_TOKEN_IC = H("3ABB9674BCE93C08")


def g1_suite() -> Suite:
    (info,) = parse_card_access(G1_CARD_ACCESS)
    return Suite.for_info(info)


def scalar(data: bytes) -> int:
    return int.from_bytes(data, "big")


def test_g1_card_access_names_ecdh_gm_aes128_on_brainpool256() -> None:
    assert parse_card_access(G1_CARD_ACCESS) == [PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)]
    assert build_card_access(parse_card_access(G1_CARD_ACCESS)) == G1_CARD_ACCESS
    suite = g1_suite()
    assert (suite.cipher, suite.key_bits, suite.curve.name) == (SmCipher.AES, 128, "BRAINPOOLP256r1")


def test_g1_nonce_decryption_with_the_mrz_derived_key() -> None:
    suite = g1_suite()
    assert G1_KEY.pace_password() == hashlib.sha1(b"T22000129364081251010318").digest()
    assert suite.password_key(G1_KEY) == G1_K_PI
    assert decrypt_nonce(suite, G1_K_PI, G1_ENCRYPTED_NONCE) == G1_NONCE


def test_g1_mapping_keys_shared_point_and_mapped_generator() -> None:
    suite = g1_suite()
    generator = suite.curve.generator
    assert suite.encode_point(generator * scalar(G1_MAP_SK_IFD)) == G1_MAP_PK_IFD
    assert suite.encode_point(generator * scalar(G1_MAP_SK_IC)) == G1_MAP_PK_IC
    chip_public = suite.decode_point(G1_MAP_PK_IC)
    assert suite.encode_point(chip_public * scalar(G1_MAP_SK_IFD)) == G1_H
    mapped = map_generator(suite, G1_NONCE, scalar(G1_MAP_SK_IFD), chip_public)
    assert suite.encode_point(mapped) == G1_MAPPED_G
    # The chip maps to the same generator from its side.
    chip_mapped = map_generator(suite, G1_NONCE, scalar(G1_MAP_SK_IC), suite.decode_point(G1_MAP_PK_IFD))
    assert suite.encode_point(chip_mapped) == G1_MAPPED_G


def test_g1_key_agreement_session_keys_and_tokens() -> None:
    suite = g1_suite()
    mapped = suite.decode_point(G1_MAPPED_G)
    assert suite.encode_point(mapped * scalar(G1_EPH_SK_IFD)) == G1_EPH_PK_IFD
    assert suite.encode_point(mapped * scalar(G1_EPH_SK_IC)) == G1_EPH_PK_IC
    secret = shared_secret(suite, scalar(G1_EPH_SK_IFD), suite.decode_point(G1_EPH_PK_IC))
    assert secret == G1_K
    assert secret == shared_secret(suite, scalar(G1_EPH_SK_IC), suite.decode_point(G1_EPH_PK_IFD))
    assert session_keys(suite, secret) == (G1_KS_ENC, G1_KS_MAC)
    assert authentication_token(suite, G1_KS_MAC, G1_EPH_PK_IC) == G1_TOKEN_IFD
    assert authentication_token(suite, G1_KS_MAC, G1_EPH_PK_IFD) == G1_TOKEN_IC


def test_g1_full_apdu_transcript_between_reader_and_emulated_chip() -> None:
    suite = g1_suite()
    card = PaceCard(G1_KEY, suite.info, random_bytes=scripted(G1_NONCE, G1_MAP_SK_IC, G1_EPH_SK_IC))
    transcript: list[tuple[bytes, bytes]] = []

    def transmit(command: CommandAPDU) -> ResponseAPDU:
        response = card.handle(command)
        assert response is not None
        transcript.append((command.to_bytes(), response.to_bytes()))
        return response

    sm = perform_pace(transmit, G1_KEY, suite.info, random_bytes=scripted(G1_MAP_SK_IFD, G1_EPH_SK_IFD))
    assert transcript == [
        # Appendix G.1 sends no 84 in MSE:Set AT; we name the standardized parameter id 13 too.
        (H("0022C1A412 800A04007F00070202040202 830101 84010D"), H("9000")),
        (H("10860000027C0000"), H("7C12 8010") + G1_ENCRYPTED_NONCE + H("9000")),
        (H("1086000045 7C43 8141") + G1_MAP_PK_IFD + H("00"), H("7C43 8241") + G1_MAP_PK_IC + H("9000")),
        (H("1086000045 7C43 8341") + G1_EPH_PK_IFD + H("00"), H("7C43 8441") + G1_EPH_PK_IC + H("9000")),
        (H("008600000C 7C0A 8508") + G1_TOKEN_IFD + H("00"), H("7C0A 8608") + G1_TOKEN_IC + H("9000")),
    ]
    assert (sm.cipher, sm.ssc) == (SmCipher.AES, bytes(16))
    assert card.session is not None
    assert card.session.ssc == bytes(16)


# --- loopback on each supported curve --------------------------------------------------------------

SUPPORTED = [
    PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 12),  # P-256, AES-128
    PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13),  # brainpoolP256r1, AES-128
    PaceInfo("0.4.0.127.0.7.2.2.4.2.4", 2, 15),  # P-384, AES-256
    PaceInfo("0.4.0.127.0.7.2.2.4.2.4", 2, 16),  # brainpoolP384r1, AES-256
    PaceInfo("0.4.0.127.0.7.2.2.4.2.3", 2, 17),  # brainpoolP512r1, AES-192
    PaceInfo("0.4.0.127.0.7.2.2.4.2.1", 2, 13),  # brainpoolP256r1, 3DES
]
CAN = CanKey("123456")
MRZ = MrzKey("T22000129", "640812", "101031")


def loopback(card: PaceCard) -> Transmit:
    return lambda command: card.handle(command) or ResponseAPDU.status(0x6D00)


@pytest.mark.parametrize("info", SUPPORTED, ids=lambda info: f"{info.parameter_id}-{info.protocol[-1]}")
@pytest.mark.parametrize("key", [CAN, MRZ], ids=["CAN", "MRZ"])
def test_loopback_establishes_matching_secure_messaging(info: PaceInfo, key: AccessKey) -> None:
    card = PaceCard(key, info)
    sm = perform_pace(loopback(card), key, info)
    assert card.session is not None
    assert sm.cipher is info.cipher
    plain = CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)
    assert card.session.unwrap_command(sm.wrap(plain)) == plain
    answer = ResponseAPDU(H("60145F01"), 0x90, 0x00)
    assert sm.unwrap(card.session.wrap_response(answer)) == answer


@pytest.mark.parametrize("info", SUPPORTED[:4], ids=lambda info: str(info.parameter_id))
def test_wrong_can_is_access_denied_and_leaves_no_session(info: PaceInfo) -> None:
    card = PaceCard(CAN, info)
    with pytest.raises(CardError) as caught:
        perform_pace(loopback(card), CanKey("654321"), info)
    assert caught.value.reason is CardErrorReason.ACCESS_DENIED
    assert card.session is None
    assert card.failed_attempts == 1
    # The right CAN still works afterwards.
    perform_pace(loopback(card), CAN, info)
    assert card.session is not None


def test_wrong_mrz_is_access_denied() -> None:
    card = PaceCard(MRZ, SUPPORTED[1])
    with pytest.raises(CardError) as caught:
        perform_pace(loopback(card), MrzKey("T22000129", "640812", "101030"), SUPPORTED[1])
    assert caught.value.reason is CardErrorReason.ACCESS_DENIED


def test_can_on_a_chip_expecting_mrz_is_refused_at_mse() -> None:
    card = PaceCard(MRZ, SUPPORTED[1])
    answer = card.handle(CommandAPDU(0x00, 0x22, 0xC1, 0xA4, H("800A04007F00070202040202 830102")))
    assert answer is not None
    assert answer.sw == 0x6A88
    with pytest.raises(CardError):
        perform_pace(loopback(card), CAN, SUPPORTED[1])


def test_general_authenticate_out_of_order_is_refused() -> None:
    card = PaceCard(CAN, SUPPORTED[1])
    answer = card.handle(CommandAPDU(0x10, 0x86, 0x00, 0x00, H("7C00"), 256))
    assert answer is not None
    assert answer.sw == 0x6985
    assert card.handle(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)) is None


# --- hostile chips ------------------------------------------------------------------------------


def hostile_chip(step: int, answer: bytes) -> Transmit:
    """An honest chip that replaces its answer to GENERAL AUTHENTICATE number ``step``."""
    card = PaceCard(CAN, SUPPORTED[1])
    count = 0

    def transmit(command: CommandAPDU) -> ResponseAPDU:
        nonlocal count
        response = card.handle(command) or ResponseAPDU.status(0x6D00)
        if command.ins == 0x86:
            count += 1
            if count == step:
                return ResponseAPDU.from_bytes(answer)
        return response

    return transmit


@pytest.mark.parametrize(
    ("step", "answer"),
    [
        (1, H("7C03800101 9000")),  # nonce of the wrong length
        (1, H("7C00 9000")),  # nonce missing
        (2, H("7C43 8241") + G1_MAP_PK_IC[:-1] + H("00 9000")),  # point not on the curve
        (2, H("7C03 820100 9000")),  # point at infinity encoding
        (3, H("7C43 8441") + G1_EPH_PK_IC + H("9000")),  # valid point, but from another run
        (4, H("7C0A 8608") + bytes(8) + H("9000")),  # forged chip token
        (4, H("7C0A 8608") + bytes(8)[:4] + H("9000")),  # malformed template
    ],
)
def test_hostile_chip_answers_end_in_card_error(step: int, answer: bytes) -> None:
    with pytest.raises(CardError) as caught:
        perform_pace(hostile_chip(step, answer), CAN, SUPPORTED[1])
    assert caught.value.reason in (CardErrorReason.PROTOCOL, CardErrorReason.ACCESS_DENIED)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), st.binary(max_size=90), st.sampled_from([0x9000, 0x6300, 0x6A80]))
def test_fuzzed_chip_answers_never_escape_as_other_exceptions(step: int, data: bytes, sw: int) -> None:
    answer = data + sw.to_bytes(2, "big")
    with pytest.raises(CardError):
        perform_pace(hostile_chip(step, answer), CAN, SUPPORTED[1])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=80))
def test_fuzzed_reader_commands_never_crash_the_chip(data: bytes) -> None:
    card = PaceCard(CAN, SUPPORTED[1])
    card.handle(CommandAPDU(0x00, 0x22, 0xC1, 0xA4, H("800A04007F00070202040202 830102")))
    for cla in (0x10, 0x10, 0x10, 0x00):
        response = card.handle(CommandAPDU(cla, 0x86, 0x00, 0x00, data, 256))
        assert response is not None
        assert response.sw in (0x9000, 0x6A80, 0x6985, 0x6300)
    assert card.session is None


# --- EF.CardAccess ---------------------------------------------------------------------------------

# A German ID card test sample as published with OpenPACE (bindings/ruby/example.rb): TA, CA, PACE,
# CA domain parameters and a CardInfoLocator, followed by bytes beyond the SET.
OPENPACE_CARD_ACCESS = H(
    "318182300D060804007F00070202020201023012060A04007F000702020302020201020201413012060A04007F00070202"
    "04020202010202010D301C060904007F000702020302300C060704007F0007010202010D020141302B060804007F000702"
    "0206161F655041202D2042447220476D6248202D20546573746B617274652076322E3004491715411928800A01B421FA07"
    "000000000000000000000000000000000000201010291010"
)


def test_german_sample_card_access_yields_its_one_pace_info() -> None:
    assert parse_card_access(OPENPACE_CARD_ACCESS) == [PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)]


def test_card_access_with_several_security_infos_keeps_pace_only() -> None:
    data = build_card_access([PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)])
    other = H("300D060804007F0007020202020102")  # TerminalAuthenticationInfo
    domain = H("3012060904007F000702020402 3005 020100 0500")  # PACEDomainParameterInfo (10 arcs)
    inner = other + domain + data[2:]
    mixed = bytes((0x31, len(inner))) + inner
    assert parse_card_access(mixed) == [PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)]


def test_unsupported_infos_sort_last_and_cannot_be_performed() -> None:
    infos = [
        PaceInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 13),  # integrated mapping
        PaceInfo("0.4.0.127.0.7.2.2.4.1.2", 2, 2),  # DH generic mapping
        PaceInfo("0.4.0.127.0.7.2.2.4.2.4", 2, 16),
    ]
    parsed = parse_card_access(build_card_access(infos))
    assert parsed[0] == infos[2]
    assert set(parsed) == set(infos)
    with pytest.raises(CardError) as caught:
        perform_pace(loopback(PaceCard(CAN, infos[2])), CAN, infos[0])
    assert caught.value.reason is CardErrorReason.UNSUPPORTED_DOCUMENT


@pytest.mark.parametrize("oid", ["0.4.0.127.0.7.2.2.4.2.2", "1.2.840.10045.2.1", "2.999.16384"])
def test_oid_round_trip(oid: str) -> None:
    assert decode_oid(encode_oid(oid)) == oid


def test_oid_known_encoding() -> None:
    assert encode_oid("0.4.0.127.0.7.2.2.4.2.2") == H("04007F00070202040202")
    assert encode_oid("1.2.840.10045.2.1") == H("2A8648CE3D0201")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=80))
def test_fuzzed_card_access_parses_or_raises_card_error(data: bytes) -> None:
    try:
        infos = parse_card_access(data)
    except CardError:
        return
    assert all(isinstance(info, PaceInfo) for info in infos)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 80), st.integers(0, 7))
def test_truncated_or_bit_flipped_card_access_never_escapes(position: int, bit: int) -> None:
    valid = build_card_access(SUPPORTED[:3])
    position %= len(valid)
    with pytest.raises(CardError):
        parse_card_access(valid[:position])  # the SET's own length is never met
    flipped = valid[:position] + bytes((valid[position] ^ (1 << bit),)) + valid[position + 1 :]
    try:
        infos = parse_card_access(flipped)
    except CardError:
        return
    assert all(isinstance(info, PaceInfo) for info in infos)


def test_random_source_is_os_urandom_by_default() -> None:
    # Two runs give different sessions: the scalars really are random.
    first_card, second_card = PaceCard(CAN, SUPPORTED[0]), PaceCard(CAN, SUPPORTED[0])
    first = perform_pace(loopback(first_card), CAN, SUPPORTED[0])
    second = perform_pace(loopback(second_card), CAN, SUPPORTED[0])
    command = CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)
    assert first.wrap(command) != second.wrap(command)
