"""The counter workflow through the keyboard, against the real Counter and a real local store:
each test asserts what the clerk sees and what the store holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select
from textual.widgets import Select, TextArea

from screens.case import CaseScreen
from screens.counter import CounterScreen
from screens.dialogs import ConfirmDialog, FinishDialog, MessageDialog, TransferDialog
from screens.widgets.current_ticket import CurrentTicketPanel
from screens.widgets.document_checkbox import DocumentCheckbox
from screens.widgets.queue_view import QueueView
from tests.ui.support import Desk, current_screen, filled_store, make_app, settle
from workstation.models import Case, OutboxOperation, Ticket, TicketState

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from screens.app import TresenApp
    from workstation.queries import CurrentTicket

SIZE = (160, 50)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return filled_store(tmp_path / "tresen.sqlite3")


def _ticket(desk: Desk, ticket_id: str) -> Ticket:
    with desk.store.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def _current(app: TresenApp) -> CurrentTicket | None:
    """The ticket the counter's panel shows (what the clerk sees), None when the desk is free."""
    counter_screen = next(screen for screen in app.screen_stack if isinstance(screen, CounterScreen))
    shown: CurrentTicket | None = counter_screen.query_one(CurrentTicketPanel).current
    return shown


def _called(app: TresenApp) -> CurrentTicket:
    """The ticket the panel shows; the test has just called one."""
    current = _current(app)
    assert current is not None, "no ticket on the counter's panel"
    return current


def _queue(app: TresenApp) -> QueueView[Any]:
    return current_screen(app).query_one("#queue", QueueView)


async def _call_and_open_the_case(pilot: Pilot[int], app: TresenApp) -> str:
    """F2 then F5: the next ticket is called and its case opened; returns the ticket's id."""
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    ticket_id = _called(app).ticket_id
    await pilot.press("f5")
    await settle(pilot)
    return ticket_id


async def test_f2_calls_the_next_ticket_and_takes_it_off_the_queue(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = _queue(app)
        waiting_before = queue.row_count
        await pilot.press("f2")
        await settle(pilot)
        current = _current(app)
        assert current is not None
        stored = _ticket(desk, current.ticket_id)
        assert stored.state == TicketState.CALLED
        assert stored.desk_id == desk.ctx.desk_id
        assert stored.called_count == 1
        assert current.ticket_id not in queue.shown_keys
        assert queue.row_count == waiting_before - 1
        with desk.store.session() as session:
            kinds = session.scalars(select(OutboxOperation.kind)).all()
        assert kinds == ["ticket.call"]


async def test_f3_recalls_and_f4_needs_three_calls_and_a_confirmation(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        ticket_id = _called(app).ticket_id

        await pilot.press("f4")  # only one call so far: refused before any question (issue 7 §3)
        await settle(pilot)
        assert isinstance(current_screen(app), MessageDialog)
        assert _ticket(desk, ticket_id).state == TicketState.CALLED
        await pilot.press("escape")

        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert _ticket(desk, ticket_id).called_count == 3
        assert _called(app).called_count == 3

        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(current_screen(app), ConfirmDialog)
        await pilot.press("escape")  # a slip: nothing happens
        await settle(pilot)
        assert _ticket(desk, ticket_id).state == TicketState.CALLED

        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert _ticket(desk, ticket_id).state == TicketState.NO_SHOW
        assert _current(app) is None


async def test_f5_opens_the_case_f6_parks_and_resume_brings_it_back(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        ticket_id = await _call_and_open_the_case(pilot, app)
        assert _ticket(desk, ticket_id).state == TicketState.SERVING
        assert isinstance(current_screen(app), CaseScreen)
        await pilot.press("f6")  # park from the case screen: back to the counter
        await settle(pilot)
        assert _ticket(desk, ticket_id).state == TicketState.PARKED
        assert isinstance(current_screen(app), CounterScreen)
        assert _current(app) is None

        queue = _queue(app)
        assert ticket_id in queue.shown_keys  # parked tickets stay visible to be resumed
        queue.move_cursor(row=queue.get_row_index(ticket_id))
        await pilot.press("f9")
        await settle(pilot)
        assert _ticket(desk, ticket_id).state == TicketState.SERVING
        assert _called(app).ticket_id == ticket_id
        assert ticket_id not in queue.shown_keys


async def test_f7_transfers_and_keeps_the_number(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        old = _called(app)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(current_screen(app), TransferDialog)
        await pilot.click("#confirm")
        await settle(pilot)
        assert _ticket(desk, old.ticket_id).state == TicketState.TRANSFERRED
        with desk.store.session() as session:
            successor = session.scalars(
                select(Ticket).where(Ticket.transferred_from_id == old.ticket_id)
            ).one()
        assert successor.number == old.number
        assert successor.state == TicketState.WAITING
        assert successor.issued_at == _ticket(desk, old.ticket_id).issued_at


async def test_f8_finishes_with_an_outcome_per_service(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        ticket_id = await _call_and_open_the_case(pilot, app)
        app.pop_screen()  # leave the case screen; finishing works from the counter too
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        dialog = current_screen(app)
        assert isinstance(dialog, FinishDialog)
        for outcome in dialog.query(Select):
            if outcome.id and outcome.id.startswith("outcome-"):
                outcome.value = "documents_missing"  # nothing "erledigt": nothing to ask about
        await pilot.click("#confirm")
        await settle(pilot)
        assert _ticket(desk, ticket_id).state == TicketState.FINISHED
        with desk.store.session() as session:
            case = session.scalars(select(Case).where(Case.ticket_id == ticket_id)).one()
            outcomes = [service.outcome for service in case.services]
        assert outcomes[0] == "documents_missing"
        assert case.finished_at is not None
        assert _current(app) is None
        with desk.store.session() as session:
            kinds = session.scalars(select(OutboxOperation.kind).order_by(OutboxOperation.seq)).all()
        assert kinds == ["ticket.call", "ticket.serve", "case.finish"]


async def test_case_screen_checklist_notes_and_finish(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        ticket_id = await _call_and_open_the_case(pilot, app)
        screen = current_screen(app)
        assert isinstance(screen, CaseScreen)
        assert screen.case is not None
        assert screen.case.number == _called(app).number
        shown = app.export_screenshot()
        assert _called(app).number in shown
        assert screen.case.booking_reference is not None, "the seeded ticket has an appointment"
        assert screen.case.booking_reference in shown  # the appointment's data is on screen
        first_document = screen.query(".document").first(DocumentCheckbox)
        first_document.value = True
        await settle(pilot)
        case_id = screen.case_id
        with desk.store.session() as session:
            case = session.get(Case, case_id)
            assert case is not None
            checked = {service.service_id: service.documents_checked for service in case.services}
        assert [str(first_document.label)] in checked.values()

        screen.query_one("#case-notes", TextArea).text = "Meldebescheinigung nachgereicht"
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(current_screen(app), FinishDialog)
        await pilot.press("f8")  # F8 again confirms the outcomes
        await settle(pilot)
        # "erledigt" with documents still unticked: asked once, with what is missing.
        question = current_screen(app)
        assert isinstance(question, ConfirmDialog)
        assert "Unterlagen nicht abgehakt" in str(question.query_one("#question").render())
        assert str(first_document.label) not in str(question.query_one("#question").render())
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(current_screen(app), CounterScreen)
        with desk.store.session() as session:
            case = session.get(Case, case_id)
            assert case is not None
            assert case.notes == "Meldebescheinigung nachgereicht"
            assert {service.outcome for service in case.services} == {"completed"}
        assert _ticket(desk, ticket_id).state == TicketState.FINISHED


async def test_finishing_as_done_with_unticked_documents_asks_once_and_can_go_back(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        ticket_id = await _call_and_open_the_case(pilot, app)
        assert isinstance(current_screen(app), CaseScreen)
        assert current_screen(app).query(".document"), "the seeded services require documents"
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        question = current_screen(app)
        assert isinstance(question, ConfirmDialog)
        assert "Trotzdem als „erledigt“ abschließen?" in str(question.query_one("#question").render())
        await pilot.press("escape")  # back to the outcomes: nothing finished
        await settle(pilot)
        assert isinstance(current_screen(app), FinishDialog)
        assert _ticket(desk, ticket_id).state == TicketState.SERVING
