"""Secure messaging: ICAO 9303-11 Appendix D.4 (3DES) byte for byte, AES round trips, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.card.apdu import CommandAPDU, ResponseAPDU
from devices.card.errors import CardError, CardErrorReason
from devices.card.secure_messaging import (
    CardSecureMessaging,
    SecureMessaging,
    SmCipher,
    aes_cmac,
    derive_key,
    pad,
    unpad,
)

H = bytes.fromhex
# 9303-11 Appendix D.3: session keys and SSC after the worked BAC example.
KS_ENC = H("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = H("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = H("887022120C06C226")


def appendix_d_channel() -> SecureMessaging:
    return SecureMessaging(SmCipher.TDES, KS_ENC, KS_MAC, SSC)


def test_kdf_of_appendix_d() -> None:
    # D.2 (from K_seed) and D.3 (from K_seed = K.IFD xor K.IC).
    seed = H("239AB9CB282DAF66231DC5A4DF6BFBAE")
    assert derive_key(seed, 1, SmCipher.TDES) == H("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert derive_key(seed, 2, SmCipher.TDES) == H("7962D9ECE03D1ACD4C76089DCE131543")
    session_seed = H("0036D272F5C350ACAC50C3F572D23600")
    assert derive_key(session_seed, 1, "3DES") == KS_ENC
    assert derive_key(session_seed, 2, "3DES") == KS_MAC


def test_kdf_sizes_for_aes() -> None:
    secret = b"\x42" * 32
    assert len(derive_key(secret, 1, SmCipher.AES, 128)) == 16
    assert len(derive_key(secret, 1, SmCipher.AES, 192)) == 24
    assert len(derive_key(secret, 1, SmCipher.AES, 256)) == 32
    assert derive_key(secret, 1, SmCipher.AES, 128) != derive_key(secret, 2, SmCipher.AES, 128)


def test_appendix_d4_select_read_binary_exchange() -> None:
    sm = appendix_d_channel()
    select = sm.wrap(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    assert select.to_bytes() == H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
    answer = sm.unwrap(ResponseAPDU.from_bytes(H("990290008E08FA855A5D4C50A8ED9000")))
    assert answer == ResponseAPDU(b"", 0x90, 0x00)

    first = sm.wrap(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4))
    assert first.to_bytes() == H("0CB000000D9701048E08ED6705417E96BA5500")
    head = sm.unwrap(ResponseAPDU.from_bytes(H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000")))
    assert head.data == H("60145F01")
    assert head.ok

    rest = sm.wrap(CommandAPDU(0x00, 0xB0, 0x00, 0x04, ne=0x12))
    assert rest.to_bytes() == H("0CB000040D9701128E082EA28A70F3C7B53500")
    body = sm.unwrap(
        ResponseAPDU.from_bytes(
            H("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000")
        )
    )
    assert body.data == H("04303130365F36063034303030305C026175")
    assert sm.ssc == H("887022120C06C22C")


def test_card_side_reproduces_the_appendix_d4_responses() -> None:
    card = CardSecureMessaging(SmCipher.TDES, KS_ENC, KS_MAC, SSC)
    select = card.unwrap_command(
        CommandAPDU.from_bytes(H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"))
    )
    assert select == CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E"))
    assert card.wrap_response(ResponseAPDU.status(0x9000)).to_bytes() == H("990290008E08FA855A5D4C50A8ED9000")
    read = card.unwrap_command(CommandAPDU.from_bytes(H("0CB000000D9701048E08ED6705417E96BA5500")))
    assert read == CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)
    assert card.wrap_response(ResponseAPDU(H("60145F01"), 0x90, 0x00)).to_bytes() == H(
        "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"
    )


def test_aes_secure_messaging_matches_a_published_eid_exchange() -> None:
    """AES-128 after PACE: an MSE:Set DST exchange published with the animamea eID test suite
    (T. Senger); checks the AES IV = E(KS_Enc, SSC) and the CMAC input independently of our loopback."""
    sm = SecureMessaging(
        SmCipher.AES, H("68406b4162100563d9c901a6154d2901"), H("73ff268784f72af833fdc9464049afc9"), 4
    )
    wrapped = sm.wrap(CommandAPDU.from_bytes(H("002281b60f830d44455445535444564445303139")))
    assert wrapped.to_bytes() == H("0c2281b61d871101a7bb8f230fff9221162ad673b9f319a88e08d8713e9b7a600b4900")
    assert sm.unwrap(ResponseAPDU.from_bytes(H("990290008e08c8488f79fef386c79000"))) == ResponseAPDU(
        b"", 0x90, 0
    )
    assert sm.ssc == (6).to_bytes(16, "big")


def test_flipped_mac_byte_breaks_the_channel() -> None:
    sm = appendix_d_channel()
    sm.wrap(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    with pytest.raises(CardError) as caught:
        sm.unwrap(ResponseAPDU.from_bytes(H("990290008E08FA855A5D4C50A8EE9000")))
    assert caught.value.reason is CardErrorReason.SECURE_MESSAGING
    with pytest.raises(CardError):
        sm.wrap(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4))


def test_plain_success_after_protected_command_is_refused_but_plain_error_passes() -> None:
    sm = appendix_d_channel()
    sm.wrap(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    with pytest.raises(CardError):
        sm.unwrap(ResponseAPDU.status(0x9000))
    assert sm.broken
    dropped = appendix_d_channel()
    dropped.wrap(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    assert dropped.unwrap(ResponseAPDU.status(0x6988)).sw == 0x6988
    assert dropped.broken


def test_plain_file_not_found_keeps_the_channel_in_step() -> None:
    reader, card = pair(SmCipher.AES, 16)
    card.unwrap_command(reader.wrap(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("0107"))))
    card.wrap_response(ResponseAPDU.status(0x6A82))  # the chip counts, but answers in the clear
    assert reader.unwrap(ResponseAPDU.status(0x6A82)).sw == 0x6A82
    assert not reader.broken
    read = CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)
    assert card.unwrap_command(reader.wrap(read)) == read


def pair(cipher: SmCipher, key_bytes: int) -> tuple[SecureMessaging, CardSecureMessaging]:
    k_enc, k_mac = bytes(range(key_bytes)), bytes(range(100, 100 + key_bytes))
    return SecureMessaging(cipher, k_enc, k_mac), CardSecureMessaging(cipher, k_enc, k_mac)


@pytest.mark.parametrize(
    ("cipher", "key_bytes"), [(SmCipher.AES, 16), (SmCipher.AES, 32), (SmCipher.TDES, 16)]
)
@pytest.mark.parametrize(
    "command",
    [
        CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E")),
        CommandAPDU(0x00, 0xB0, 0x81, 0x00, ne=256),
        CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=65536),
        CommandAPDU(0x00, 0xB1, 0x00, 0x00, H("54020100"), ne=1000),
        CommandAPDU(0x00, 0xD6, 0x00, 0x00, bytes(300)),
        CommandAPDU(0x10, 0x86, 0x00, 0x00, H("7C00"), ne=256),
    ],
)
def test_reader_and_card_sides_agree(cipher: SmCipher, key_bytes: int, command: CommandAPDU) -> None:
    reader, card = pair(cipher, key_bytes)
    for _ in range(3):  # SSC moves in step on both sides
        wrapped = reader.wrap(command)
        assert wrapped.cla & 0x0C == 0x0C
        assert CommandAPDU.from_bytes(wrapped.to_bytes()) == wrapped
        assert card.unwrap_command(CommandAPDU.from_bytes(wrapped.to_bytes())) == command
        plain = ResponseAPDU(bytes(range(7)) * 40 if command.ne else b"", 0x90, 0x00)
        assert reader.unwrap(ResponseAPDU.from_bytes(card.wrap_response(plain).to_bytes())) == plain
    assert reader.ssc == card.ssc


@pytest.mark.parametrize(("cipher", "largest_short"), [(SmCipher.TDES, 231), (SmCipher.AES, 223)])
def test_extended_length_only_when_the_response_cannot_fit_short(
    cipher: SmCipher, largest_short: int
) -> None:
    reader, _ = pair(cipher, 16)
    assert reader.wrap(CommandAPDU(0x00, 0xB0, 0, 0, ne=largest_short)).ne == 256
    assert reader.wrap(CommandAPDU(0x00, 0xB0, 0, 0, ne=largest_short + 1)).ne == 65536
    assert (
        reader.wrapped_response_size(largest_short) <= 256 < reader.wrapped_response_size(largest_short + 1)
    )


def test_card_side_rejects_tampered_and_unprotected_commands() -> None:
    reader, card = pair(SmCipher.AES, 16)
    wrapped = reader.wrap(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E"))).to_bytes()
    tampered = bytearray(wrapped)
    tampered[8] ^= 1
    with pytest.raises(CardError):
        card.unwrap_command(CommandAPDU.from_bytes(bytes(tampered)))
    _, fresh = pair(SmCipher.AES, 16)
    with pytest.raises(CardError):
        fresh.unwrap_command(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E")))


def test_padding_method_2() -> None:
    assert pad(b"", 8) == H("8000000000000000")
    assert pad(H("011E"), 8) == H("011E800000000000")
    assert len(pad(bytes(16), 16)) == 32
    assert unpad(H("011E800000000000")) == H("011E")
    for bad in (bytes(8), H("011E000000000000"), b""):
        with pytest.raises(CardError):
            unpad(bad)


def test_aes_cmac_matches_nist_sp800_38b_example() -> None:
    # SP 800-38B D.1, AES-128, Example 2 (16-byte message), truncated to 8 bytes.
    key = H("2b7e151628aed2a6abf7158809cf4f3c")
    assert aes_cmac(key, H("6bc1bee22e409f96e93d7e117393172a")) == H("070a16b46b4d4144")


responses = st.one_of(
    st.binary(max_size=80),
    st.lists(
        st.tuples(st.sampled_from([0x85, 0x87, 0x8E, 0x97, 0x99, 0x53]), st.binary(max_size=40)), max_size=5
    ).map(lambda items: b"".join(bytes((tag, len(value))) + value for tag, value in items)),
)


@settings(max_examples=300, deadline=None)
@given(responses, st.sampled_from([0x9000, 0x6282, 0x6A82, 0x6988]), st.sampled_from(list(SmCipher)))
def test_hostile_responses_raise_card_error_or_pass_plain_errors(
    data: bytes, sw: int, cipher: SmCipher
) -> None:
    reader, _ = pair(cipher, 16)
    reader.wrap(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=16))
    try:
        result = reader.unwrap(ResponseAPDU(data, sw >> 8, sw & 0xFF))
    except CardError as error:
        assert error.reason is CardErrorReason.SECURE_MESSAGING  # noqa: PT017  (fuzz: success is allowed too)
        return
    # Only a plain error status without data may come through unverified.
    assert not data
    assert result.sw == sw
    assert sw not in (0x9000, 0x6282)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(0, 7), st.data())
def test_any_corruption_of_a_valid_response_is_detected(cut: int, bit: int, data: st.DataObject) -> None:
    reader, card = pair(SmCipher.AES, 16)
    card.unwrap_command(reader.wrap(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=20)))
    valid = card.wrap_response(ResponseAPDU(bytes(range(20)), 0x90, 0x00)).data
    if data.draw(st.booleans()):
        hostile = valid[: min(cut, len(valid) - 1)]
    else:
        position = data.draw(st.integers(0, len(valid) - 1))
        hostile = valid[:position] + bytes((valid[position] ^ (1 << bit),)) + valid[position + 1 :]
    with pytest.raises(CardError):
        reader.unwrap(ResponseAPDU(hostile, 0x90, 0x00))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([0x0C, 0x1C, 0x00]), st.integers(0, 255), responses, st.sampled_from(list(SmCipher)))
def test_hostile_commands_to_the_card_side_raise_card_error(
    cla: int, ins: int, data: bytes, cipher: SmCipher
) -> None:
    _, card = pair(cipher, 16)
    with pytest.raises(CardError) as caught:
        card.unwrap_command(CommandAPDU(cla, ins, 0x00, 0x00, data))
    assert caught.value.reason is CardErrorReason.SECURE_MESSAGING
    assert card.broken
