"""Test and benchmark helpers: a local store filled with a generated day.

The day comes from the central service's generator (`sync.central.seed.generate_day`) and enters the
local store the way real data does — as one changes page applied by the replica — so a filled store
looks exactly like one after a first pull.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sync.protocol import ChangesPage
from workstation import replica

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sync.central.seed import SeedDay

TEST_WORKSTATION_ID = "ws-test"


def seed_local_store(
    session: Session,
    day: SeedDay,
    office_id: str | None = None,
    *,
    workstation_id: str = TEST_WORKSTATION_ID,
    now: datetime | None = None,
) -> None:
    """Copy the generated day (one office, or all of them) into the local models; the caller commits."""
    offices = [office for office in day.offices if office_id is None or office.id == office_id]
    wanted = {office.id for office in offices}
    page = ChangesPage(
        epoch="test",
        cursor=0,
        has_more=False,
        acked_seq=0,
        offices=offices,
        services=[s for s in day.services if s.office_id in wanted],
        desks=[d for d in day.desks if d.office_id in wanted],
        clerks=[c for c in day.clerks if c.office_id in wanted],
        appointments=[a for a in day.appointments if a.office_id in wanted],
        tickets=[t for t in day.tickets if t.office_id in wanted],
    )
    replica.apply_changes(
        session,
        page,
        workstation_id=workstation_id,
        office_id=office_id or offices[0].id,
        now=now or datetime.now(UTC),
    )
