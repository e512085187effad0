"""Kassenzeichen ranges through the sync engine: a desk fetches its range in a sync round, and its
next one when less than a fifth is left; offline it issues from what it holds, moves on to the next
range it fetched, and refuses in German when everything it holds is used up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from sync.central import store as central_models
from sync.kassenzeichen import RANGE_SIZE, REFILL_SHARE, Kassenzeichen, is_valid
from tests.sync.desks import Desk
from tests.sync.support import CLERK, DESK, OTHER_CLERK, OTHER_DESK
from workstation.errors import CommandRefused
from workstation.kassenzeichen_ranges import issue_kassenzeichen
from workstation.models import KassenzeichenRangeRow

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sync.central.embedded import EmbeddedCentral


@pytest.fixture
def desk(tmp_path: Path, central: EmbeddedCentral) -> Iterator[Desk]:
    made = Desk(tmp_path, central, "ws-a", DESK, CLERK)
    yield made
    made.close()


def held(desk: Desk) -> KassenzeichenRangeRow:
    with desk.store.session() as session:
        row = session.get(KassenzeichenRangeRow, desk.ctx.desk_id)
    assert row is not None
    return row


def reservations(central: EmbeddedCentral) -> int:
    with central.store.read() as session:
        return int(session.scalar(select(func.count()).select_from(central_models.KassenzeichenBlock)) or 0)


def issue(desk: Desk) -> str:
    """As the finish does (`documents.finish_with_documents`), in a local write transaction."""
    with desk.store.write() as session:
        return str(issue_kassenzeichen(session, desk.ctx.desk_id))


def use_up_to(desk: Desk, left: int) -> None:
    """Test setup: mark all but `left` running numbers of the current range as issued."""
    with desk.store.write() as session:
        row = session.get(KassenzeichenRangeRow, desk.ctx.desk_id)
        assert row is not None
        row.last_issued = row.last - left


def test_the_first_sync_round_fetches_the_desks_range_and_later_rounds_ask_nothing(
    desk: Desk, central: EmbeddedCentral
) -> None:
    assert desk.engine.sync_once().online
    row = held(desk)
    assert row.last - row.first + 1 == RANGE_SIZE
    assert row.next_first is None
    assert desk.engine.sync_once().online
    assert reservations(central) == 1  # enough left: no request, no write at the central service
    number = issue(desk)
    assert is_valid(number)
    assert number == str(Kassenzeichen(row.prefix, int(number.split("-")[1])))


def test_the_next_range_is_fetched_once_less_than_a_fifth_is_left(
    desk: Desk, central: EmbeddedCentral
) -> None:
    desk.engine.sync_once()
    first = held(desk)
    use_up_to(desk, int(REFILL_SHARE * RANGE_SIZE))  # exactly a fifth left: not yet
    desk.engine.sync_once()
    assert held(desk).next_first is None
    use_up_to(desk, int(REFILL_SHARE * RANGE_SIZE) - 1)
    desk.engine.sync_once()
    row = held(desk)
    assert (row.prefix, row.first, row.last) == (first.prefix, first.first, first.last)  # still this one
    assert row.next_first is not None
    assert row.next_last is not None
    assert not set(range(row.first, row.last + 1)) & set(range(row.next_first, row.next_last + 1))
    desk.engine.sync_once()
    assert reservations(central) == 2  # the next range in hand: nothing more asked


def test_offline_the_desk_issues_from_its_ranges_and_refuses_in_german_when_all_are_used_up(
    desk: Desk, central: EmbeddedCentral
) -> None:
    desk.engine.sync_once()
    use_up_to(desk, 10)
    desk.engine.sync_once()  # low: the next range is fetched while online
    row = held(desk)
    next_first = row.next_first
    assert next_first is not None
    desk.link.cut()
    issued = [issue(desk) for _ in range(8)]  # the rest of the current range (mod 11 skips some)
    while held(desk).first != next_first:
        issued.append(issue(desk))
    assert len(set(issued)) == len(issued)
    assert all(is_valid(number) for number in issued)
    assert not desk.engine.sync_once().online  # offline: the engine cannot fetch another
    use_up_to(desk, 0)
    with pytest.raises(CommandRefused, match="Kassenzeichen-Bereich dieses Schalters ist aufgebraucht"):
        issue(desk)
    desk.link.restore()
    desk.engine.sync_once()  # back online: none left, a fresh range becomes the current one
    assert is_valid(issue(desk))
    assert reservations(central) == 3


def test_two_desks_syncing_get_disjoint_ranges(tmp_path: Path, central: EmbeddedCentral, desk: Desk) -> None:
    other = Desk(tmp_path, central, "ws-b", OTHER_DESK, OTHER_CLERK)
    try:
        desk.engine.sync_once()
        other.engine.sync_once()
        a, b = held(desk), held(other)
        assert (a.prefix, a.first) != (b.prefix, b.first)
        assert a.prefix != b.prefix or a.last < b.first or b.last < a.first
    finally:
        other.close()
