"""Walk-in ticket at the desk (Ctrl+N): services and urgency chosen, the number issued from the
desk's own range, shown in the dialog, stored with its outbox operation and put in the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from textual.widgets import Checkbox, SelectionList, Static

from screens.counter import CounterScreen
from screens.walk_in import WalkInScreen
from screens.widgets.queue_view import QueueView
from tests.ui.support import Desk, current_screen, filled_store, make_app, settle
from workstation.models import OutboxOperation, Ticket, TicketState

if TYPE_CHECKING:
    from pathlib import Path

SIZE = (160, 50)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return filled_store(tmp_path / "tresen.sqlite3")


async def test_ctrl_n_issues_an_urgent_walk_in_number_and_queues_it(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, WalkInScreen)
        services = dialog.query_one("#walk-in-services", SelectionList)
        office_services = [s for s in desk.day.services if s.office_id == desk.ctx.office_id]
        assert services.option_count == len(office_services)
        await pilot.press("space")  # the list has the focus: tick the highlighted service
        await pilot.click("#walk-in-urgent")
        assert dialog.query_one("#walk-in-urgent", Checkbox).value
        chosen = list(services.selected)
        assert len(chosen) == 1
        await pilot.press("ctrl+n")
        await settle(pilot)

        issued = dialog.issued
        assert issued is not None
        assert issued.priority == 1
        assert list(issued.service_ids) == chosen
        assert str(dialog.query_one("#walk-in-issued", Static).render()) == (
            f"Wartenummer {issued.number} ausgegeben."
        )
        with desk.store.session() as session:
            ticket = session.get(Ticket, issued.ticket_id)
            assert ticket is not None
            assert ticket.state == TicketState.WAITING
            assert ticket.priority == 1
            assert ticket.number == issued.number
            kinds = session.scalars(select(OutboxOperation.kind)).all()
        assert kinds == ["ticket.issue"]

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(current_screen(app), CounterScreen)
        assert issued.ticket_id in current_screen(app).query_one("#queue", QueueView).shown_keys


async def test_no_number_without_a_service(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, WalkInScreen)
        assert dialog.issued is None
        assert dialog.query_one("#walk-in-issued").has_class("hidden")
        await pilot.press("escape")
        await settle(pilot)
    with desk.store.session() as session:
        assert session.scalars(select(OutboxOperation)).all() == []
