"""What the demo's seeded morning looked like at the desks: the cases of its finished tickets and the
desks' logins, so the supervisor's day figures have service, walk and idle times (`tresen demo`).

The seed (`sync.central.seed`) writes the tickets as the central service keeps them (calls, final
state) but no case and no login. Here each finished ticket gets the case a desk would have reported:
the citizen shows up a minute after the last call and is served for the service's duration, ended
before that desk's next call and before now; each desk that called someone is logged in from ten
minutes before its first call, by the clerk of its last call, a session still open (12 h). Only the
demo calls this: the tests' seeded days stay as they are.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING

from sync.central import presence, store

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from sync.central.seed import SeedDay

__all__ = ["seed_demo_history"]

WALK = timedelta(minutes=1)
LOGGED_IN_BEFORE = timedelta(minutes=10)
SESSION = timedelta(hours=12)


def seed_demo_history(session: Session, day: SeedDay, now: datetime) -> int:
    """Cases for the day's finished tickets and a login per desk at work; returns the cases written."""
    minutes = {s.id: s.duration_minutes for s in day.services}
    called = sorted(
        (t for t in day.tickets if t.last_called_at is not None and t.desk_id is not None),
        key=lambda t: t.last_called_at or now,
    )
    calls_at: dict[str, list[datetime]] = defaultdict(list)
    for ticket in called:
        assert ticket.desk_id is not None
        assert ticket.last_called_at is not None
        calls_at[ticket.desk_id].append(ticket.last_called_at)
    written = 0
    for ticket in called:
        if ticket.state != "finished" or ticket.clerk_id is None:
            continue
        assert ticket.desk_id is not None
        assert ticket.last_called_at is not None
        opened = ticket.last_called_at + WALK
        later = [at for at in calls_at[ticket.desk_id] if at > ticket.last_called_at]
        duration = timedelta(minutes=max((minutes.get(s, 10) for s in ticket.service_ids), default=10))
        finished = min(opened + duration, (later[0] if later else now) - timedelta(seconds=30), now)
        if finished <= opened:
            continue
        session.add(
            store.Case(
                id=f"case-{ticket.id}",
                office_id=ticket.office_id,
                ticket_id=ticket.id,
                desk_id=ticket.desk_id,
                clerk_id=ticket.clerk_id,
                opened_at=opened,
                serving_since=None,
                served_seconds=(finished - opened).total_seconds(),
                finished_at=finished,
                service_ids=list(ticket.service_ids),
            )
        )
        written += 1
    offices = {desk.id: desk.office_id for desk in day.desks}
    for desk_id, times in calls_at.items():
        last = next(t for t in reversed(called) if t.desk_id == desk_id)
        if last.clerk_id is None:
            continue
        started = times[0] - LOGGED_IN_BEFORE
        presence.start_presence(
            session,
            session_digest=f"demo-{desk_id}",
            office_id=offices[desk_id],
            desk_id=desk_id,
            clerk_id=last.clerk_id,
            workstation_id=f"demo-{desk_id}",
            now=started,
            expires_at=started + SESSION,
        )
    return written
