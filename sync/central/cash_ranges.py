"""Kassenzeichen ranges per desk (docs/architecture.md, "Dokumente am Tresen"): the central service
reserves running numbers for each desk's workstation, which issues receipts' Kassenzeichen from them
offline too (`sync.kassenzeichen`), so no two receipts share one.

- A reservation locks the prefix's counter row (`SELECT … FOR UPDATE`; on SQLite the one writer), takes
  the next `RANGE_SIZE` running numbers and moves the counter on: two central processes on one
  PostgreSQL never hand out one range twice, and the primary key (prefix, first) is the backstop.
- Ranges belong to a workstation, not just a desk id: two workstations configured for one desk get
  different ranges.
- Idempotent for a lost answer: the request names the newest range the workstation holds; when its
  newest reservation is a later one, that is given again instead of a fresh range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from sync.central import store
from sync.central.auth import WORKSTATION, Caller
from sync.central.errors import CentralRefusal
from sync.kassenzeichen import RANGE_SIZE, RUNNING_NUMBER_DIGITS, KassenzeichenRange
from sync.protocol import KassenzeichenRangeGrant, KassenzeichenRangeRequest

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from sync.clock import Clock

IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class RangesExhausted(CentralRefusal):
    """Every running number of the prefix is reserved: the cash office needs a new prefix."""


def reserve(
    session: Session,
    prefix: str,
    desk: store.Desk,
    request: KassenzeichenRangeRequest,
    now: datetime,
) -> store.KassenzeichenBlock:
    """The workstation's next range (see the module's docstring), within the caller's transaction."""
    newest = session.scalars(
        select(store.KassenzeichenBlock)
        .where(
            store.KassenzeichenBlock.prefix == prefix,
            store.KassenzeichenBlock.desk_id == desk.id,
            store.KassenzeichenBlock.workstation_id == request.workstation_id,
        )
        .order_by(store.KassenzeichenBlock.first.desc())
        .limit(1)
    ).first()
    if newest is not None and not _holds(request, newest):
        return newest  # reserved earlier, the answer never arrived
    # Insert-if-missing first, so two processes reserving the first range cannot both create it.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    counters = store.KassenzeichenCounter
    session.execute(insert(counters).values(prefix=prefix, next_first=0).on_conflict_do_nothing())
    counter = session.scalars(select(counters).where(counters.prefix == prefix).with_for_update()).one()
    first = counter.next_first
    last = first + RANGE_SIZE - 1
    if last >= 10**RUNNING_NUMBER_DIGITS:
        raise RangesExhausted(f"every Kassenzeichen range of prefix {prefix} is reserved")
    KassenzeichenRange(prefix, first, last)  # validates
    counter.next_first = last + 1
    block = store.KassenzeichenBlock(
        prefix=prefix,
        first=first,
        last=last,
        office_id=desk.office_id,
        desk_id=desk.id,
        workstation_id=request.workstation_id,
        reserved_at=now,
    )
    session.add(block)
    session.flush()
    return block


def _holds(request: KassenzeichenRangeRequest, block: store.KassenzeichenBlock) -> bool:
    """The workstation already holds `block` or a later range (it names its newest one)."""
    return (
        request.newest_prefix == block.prefix
        and request.newest_first is not None
        and request.newest_first >= block.first
    )


def cash_ranges_router(central: store.CentralStore, clock: Clock, prefix: str) -> APIRouter:
    router = APIRouter(tags=["documents"])

    @router.post("/desks/{desk_id}/kassenzeichen-ranges", response_model=KassenzeichenRangeGrant)
    def desk_kassenzeichen_range(
        desk_id: IdPath, request: KassenzeichenRangeRequest, caller: Caller
    ) -> KassenzeichenRangeGrant:
        """A range of running numbers for this desk's workstation, never reserved for anyone else."""
        caller.allow(WORKSTATION).workstation(request.workstation_id).desk(desk_id)

        def reserve_for_desk(session: Session) -> KassenzeichenRangeGrant:
            desk = caller.own_desk(session, desk_id)
            return KassenzeichenRangeGrant.model_validate(reserve(session, prefix, desk, request, clock()))

        return central.run_write(reserve_for_desk)

    return router
