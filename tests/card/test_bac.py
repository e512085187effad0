"""BAC: the ICAO 9303-11 Appendix D worked example, and reader against card in-process."""

from __future__ import annotations

import pytest

from devices.card.access import MrzKey
from devices.card.apdu import CommandAPDU, ResponseAPDU, Transmit
from devices.card.bac import BacCard, BacKeys, perform_bac
from devices.card.errors import CardError, CardErrorReason
from tests.card.support import scripted

H = bytes.fromhex
KEY = MrzKey("L898902C", "690806", "940623")  # Appendix D.2
RND_IC = H("4608F91988702212")
RND_IFD = H("781723860C06C226")
K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
K_IC = H("0B4F80323EB3191CB04970CB4052790B")


def recording(card: BacCard, log: list[tuple[bytes, bytes]]) -> Transmit:
    def transmit(command: CommandAPDU) -> ResponseAPDU:
        response = card.handle(command)
        assert response is not None
        log.append((command.to_bytes(), response.to_bytes()))
        return response

    return transmit


def test_bac_keys_of_appendix_d2() -> None:
    keys = BacKeys.from_mrz_key(KEY)
    assert keys.k_enc == H("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert keys.k_mac == H("7962D9ECE03D1ACD4C76089DCE131543")


def test_appendix_d3_mutual_authentication_transcript() -> None:
    card = BacCard(KEY, random_bytes=scripted(RND_IC, K_IC))
    transcript: list[tuple[bytes, bytes]] = []
    sm = perform_bac(recording(card, transcript), KEY, random_bytes=scripted(RND_IFD, K_IFD))
    assert transcript == [
        (H("0084000008"), RND_IC + H("9000")),
        (
            H("0082000028")
            + H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")  # E_IFD
            + H("5F1448EEA8AD90A7")  # M_IFD
            + H("28"),
            H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F")  # E_IC
            + H("2F2D235D074D7449")  # M_IC
            + H("9000"),
        ),
    ]
    assert sm.ssc == H("887022120C06C226")
    # The session keys are those of D.3: the first protected SELECT matches D.4 byte for byte.
    select = sm.wrap(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    assert select.to_bytes() == H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")


def test_loopback_with_random_values_gives_matching_channels() -> None:
    card = BacCard(KEY)
    sm = perform_bac(lambda command: card.handle(command) or ResponseAPDU.status(0x6D00), KEY)
    assert card.session is not None
    assert card.session.ssc == sm.ssc
    plain = CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)
    assert card.session.unwrap_command(sm.wrap(plain)) == plain
    answer = ResponseAPDU(H("60145F01"), 0x90, 0x00)
    assert sm.unwrap(card.session.wrap_response(answer)) == answer


@pytest.mark.parametrize(
    "wrong",
    [MrzKey("L898902D", "690806", "940623"), MrzKey("L898902C", "690807", "940623"),
     MrzKey("L898902C", "690806", "940624")],
)  # fmt: skip
def test_wrong_mrz_is_access_denied(wrong: MrzKey) -> None:
    card = BacCard(KEY)
    with pytest.raises(CardError) as caught:
        perform_bac(lambda command: card.handle(command) or ResponseAPDU.status(0x6D00), wrong)
    assert caught.value.reason is CardErrorReason.ACCESS_DENIED
    assert card.session is None


def test_card_ignores_other_commands_and_needs_a_challenge_first() -> None:
    card = BacCard(KEY)
    assert card.handle(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, H("A0000002471001"))) is None
    assert card.handle(CommandAPDU(0x00, 0x82, 0x00, 0x00, bytes(40), 40)) == ResponseAPDU.status(0x6985)
    card.handle(CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8))
    assert card.handle(CommandAPDU(0x00, 0x82, 0x00, 0x00, bytes(12), 40)) == ResponseAPDU.status(0x6700)


def test_forged_chip_answer_is_refused() -> None:
    """A chip that answers 9000 with garbage must not yield a session."""

    def forging_chip(command: CommandAPDU) -> ResponseAPDU:
        if command.ins == 0x84:
            return ResponseAPDU(RND_IC, 0x90, 0x00)
        return ResponseAPDU(bytes(40), 0x90, 0x00)

    with pytest.raises(CardError) as caught:
        perform_bac(forging_chip, KEY)
    assert caught.value.reason is CardErrorReason.PROTOCOL
