"""The desk's Kassenzeichen ranges in the local store: issue from them, offline too, and take the
next range the central service reserved (`sync.central.cash_ranges`) before this one runs out.

A desk holds its current range and, once that runs low (`KassenzeichenRange.runs_low`), the next
one; issuing moves on to the next when the current is used up. Without either the finish is
refused in German (the receipt needs a number no other desk issues).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sync.kassenzeichen import Kassenzeichen, KassenzeichenError, KassenzeichenRange
from workstation.errors import CommandRefused
from workstation.i18n import _
from workstation.models import KassenzeichenRangeRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sync.protocol import KassenzeichenRangeGrant


@dataclass(frozen=True)
class RangeWanted:
    """The desk should ask for a range; it names the newest one it holds (None: it holds none)."""

    newest_prefix: str | None
    newest_first: int | None


def reserve_range(session: Session, desk_id: str, prefix: str, first: int, last: int) -> None:
    """Seed the desk's range (tests, an administrator without a central service)."""
    KassenzeichenRange(prefix, first, last)  # validates
    session.merge(
        KassenzeichenRangeRow(
            desk_id=desk_id,
            prefix=prefix,
            first=first,
            last=last,
            last_issued=None,
            next_prefix=None,
            next_first=None,
            next_last=None,
        )
    )


class KassenzeichenFloor(Protocol):
    def highest_kassenzeichen(self, prefix: str) -> int | None: ...


def issue_kassenzeichen(
    session: Session, desk_id: str, issued_elsewhere: KassenzeichenFloor | None = None
) -> Kassenzeichen:
    """The next Kassenzeichen of the desk's own ranges, within the caller's write transaction; after
    the highest `issued_elsewhere` knows of in the current range (a store restored from a backup
    has lost the ones issued after it: `workstation.number_witness`)."""
    row = session.get(KassenzeichenRangeRow, desk_id)
    if row is None:
        raise CommandRefused(
            _(
                "Für diesen Schalter ist noch kein Kassenzeichen-Bereich vorhanden. Er wird beim "
                "nächsten Abgleich mit der Zentrale geholt; bleibt die Zentrale unerreichbar, bitte "
                "die IT verständigen."
            )
        )
    last_issued = row.last_issued
    witnessed = issued_elsewhere.highest_kassenzeichen(row.prefix) if issued_elsewhere else None
    if witnessed is not None and row.first <= witnessed <= row.last:
        last_issued = witnessed if last_issued is None else max(last_issued, witnessed)
    try:
        issued = KassenzeichenRange(row.prefix, row.first, row.last).issue_next(last_issued)
    except KassenzeichenError:
        if row.next_prefix is None or row.next_first is None or row.next_last is None:
            raise CommandRefused(
                _(
                    "Der Kassenzeichen-Bereich dieses Schalters ist aufgebraucht und noch kein neuer von "
                    "der Zentrale geholt. Bitte die Verbindung zur Zentrale prüfen oder die IT verständigen."
                )
            ) from None
        row.prefix, row.first, row.last = row.next_prefix, row.next_first, row.next_last
        row.next_prefix = row.next_first = row.next_last = None
        row.last_issued = None
        issued = KassenzeichenRange(row.prefix, row.first, row.last).issue_next(None)
    row.last_issued = issued.running_number
    return issued


def range_wanted(session: Session, desk_id: str) -> RangeWanted | None:
    """Whether the desk should ask the central service for a range now (None: it has enough)."""
    row = session.get(KassenzeichenRangeRow, desk_id)
    if row is None:
        return RangeWanted(None, None)
    if row.next_prefix is not None:
        return None  # the next range is already in hand
    if not KassenzeichenRange(row.prefix, row.first, row.last).runs_low(row.last_issued):
        return None
    return RangeWanted(row.prefix, row.first)


def take_range(session: Session, desk_id: str, grant: KassenzeichenRangeGrant) -> None:
    """Keep a range the central service reserved for this desk: as its range when it holds none,
    else as the next one (issuing moves on to it once the current is used up). A grant the desk
    already holds changes nothing."""
    KassenzeichenRange(grant.prefix, grant.first, grant.last)  # validates
    row = session.get(KassenzeichenRangeRow, desk_id)
    if row is None:
        reserve_range(session, desk_id, grant.prefix, grant.first, grant.last)
        return
    if (grant.prefix, grant.first) in {(row.prefix, row.first), (row.next_prefix, row.next_first)}:
        return
    row.next_prefix, row.next_first, row.next_last = grant.prefix, grant.first, grant.last
