"""Traps a busy clerk could fall into (issue 7 §3), tried through the keyboard on the real app."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Static

from screens.app import TresenApp
from screens.command_queue import CommandQueue
from screens.counter import CounterScreen
from screens.dialogs import ConfirmDialog, MessageDialog
from screens.login import LoginScreen
from tests.ui.support import Desk, filled_store, make_app, settle
from tests.ui.test_login import desk_login
from workstation.models import Ticket, TicketState

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

SIZE = (160, 50)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return filled_store(tmp_path / "tresen.sqlite3")


def question_of(app: TresenApp) -> str:
    dialog = app.screen
    assert isinstance(dialog, ConfirmDialog)
    return str(dialog.query_one("#question", Static).render())


def called_tickets(desk: Desk) -> list[Ticket]:
    with desk.store.session() as session:
        return list(session.query(Ticket).filter(Ticket.state == TicketState.CALLED))


def test_the_command_queue_keeps_submission_order_while_a_job_runs() -> None:
    commands = CommandQueue()
    ran: list[int] = []
    first_running = threading.Event()
    release = threading.Event()

    def first() -> None:
        first_running.set()
        release.wait(30)
        ran.append(1)

    worker = threading.Thread(target=commands.drain)
    worker.start()
    commands.submit(first)
    assert first_running.wait(30)

    def record(number: int) -> Callable[[], None]:
        return lambda: ran.append(number)

    for number in range(2, 7):  # queued while the first one still runs
        commands.submit(record(number))
    assert not commands.idle
    release.set()
    commands.stop()
    worker.join(30)
    assert ran == [1, 2, 3, 4, 5, 6]
    assert commands.idle


async def test_keys_pressed_in_a_burst_act_in_their_order(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2", "f3", "f3")  # call, then recall twice, before any has finished
        await settle(pilot)
        assert not isinstance(app.screen, MessageDialog)
        [called] = called_tickets(desk)
        assert called.called_count == 3


async def test_enter_on_a_queue_row_asks_before_calling_out_of_order(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # the second waiting ticket, not the next in order
        await settle(pilot)
        assert "außer der Reihe aufrufen" in question_of(app)
        await pilot.press("escape")
        await settle(pilot)
        assert called_tickets(desk) == []
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # Enter confirms (the button shows it)
        await settle(pilot)
        assert len(called_tickets(desk)) == 1


async def test_the_enter_that_closes_a_dialog_does_not_act_on_the_queue(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")  # nothing called: refused with a message
        await settle(pilot)
        assert isinstance(app.screen, MessageDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CounterScreen)  # no question to call the highlighted row
        assert called_tickets(desk) == []


async def test_no_show_is_refused_before_asking_until_the_maximum_of_calls(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)  # refused at once: no yes/no that then fails
        assert "erst nach 3 Aufrufen möglich" in str(dialog.query_one("#message", Static).render())
        await pilot.press("escape", "f3", "f3")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert "nicht erschienen" in question_of(app)
        confirm = str(app.screen.query_one("#confirm").render())
        assert "Enter/J" in confirm  # the keys stand on the button
        await pilot.press("j")
        await settle(pilot)
        assert called_tickets(desk) == []


async def test_quitting_with_a_called_ticket_asks_first(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        number = called_tickets(desk)[0].number
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert number in question_of(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.return_code is None  # still working
        assert isinstance(app.screen, CounterScreen)
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("j")
        await pilot.pause()
        assert app.return_code == 0  # the app is ending


async def test_quitting_with_nothing_open_does_not_ask(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert app.return_code == 0


async def test_logout_returns_to_the_login_without_quitting(desk: Desk) -> None:
    app = TresenApp(login=desk_login(desk))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        login = app.screen
        assert isinstance(login, LoginScreen)
        login.dismiss((desk.ctx.clerk_id, desk.ctx.desk_id, ""))
        await settle(pilot)
        assert isinstance(app.screen, CounterScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.return_code is None
        assert app.place_label == ""


async def test_help_and_palette_show_the_keys_actually_bound(desk: Desk) -> None:
    from textual.widgets import DataTable

    from screens.help import HelpScreen

    app = make_app(desk)
    app._keymap_overrides = {"call-next": "f12"}  # as `[ui] keymap` would set it
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = {command.title: command.help for command in app.get_system_commands(app.screen)}
        assert commands["Aufrufen"] == "Taste F12"
        await pilot.press("f1")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        table = help_screen.query_one("#help-keys", DataTable)
        rows = [tuple(str(cell) for cell in table.get_row_at(index)) for index in range(table.row_count)]
        assert ("F12", "Aufrufen") in rows
        assert ("F2", "Aufrufen") not in rows
        assert any(key == "Enter" and "Warteschlange" in action for key, action in rows)
        await pilot.press("escape")
        await pilot.press("f12")
        await settle(pilot)
        assert len(called_tickets(desk)) == 1


async def test_a_document_checkbox_reads_without_colour() -> None:
    from textual.app import App, ComposeResult

    from screens.widgets.document_checkbox import DocumentCheckbox

    class Boxes(App[None]):
        def compose(self) -> ComposeResult:
            yield DocumentCheckbox("Meldebescheinigung", id="unticked")
            yield DocumentCheckbox("Reisepass", value=True, id="ticked")

    app = Boxes()
    async with app.run_test() as pilot:
        unticked = app.query_one("#unticked", DocumentCheckbox)
        assert "✓" not in str(unticked.render())
        assert "✓" in str(app.query_one("#ticked", DocumentCheckbox).render())
        unticked.value = True
        await pilot.pause()
        assert "✓" in str(unticked.render())


async def test_every_action_says_in_one_line_what_it_did(desk: Desk) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        number = called_tickets(desk)[0].number
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("f6")  # park needs a served case: refused, nothing confirmed
        await settle(pilot)
        if isinstance(app.screen, MessageDialog):
            await pilot.press("escape")
        messages = [notification.message for notification in app._notifications]
        assert f"{number} aufgerufen." in messages
        assert f"{number} erneut aufgerufen (2. Aufruf)." in messages
        assert not any("geparkt" in message for message in messages)


async def test_enter_on_an_appointment_checks_the_citizen_in_here_and_opens_the_case(desk: Desk) -> None:
    from screens.case import CaseScreen
    from workstation.models import Appointment, AppointmentStatus

    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        counter = app.screen
        assert isinstance(counter, CounterScreen)
        booked = [row for row in counter._appointments.values() if row.status == AppointmentStatus.BOOKED]
        assert booked, "the seeded day has appointments not yet checked in"
        chosen = booked[0]
        table = counter.appointment_table
        table.focus()
        table.move_cursor(row=table.get_row_index(chosen.appointment_id))
        await pilot.press("enter")
        await settle(pilot)
        assert chosen.citizen_name in question_of(app)
        await pilot.press("enter")
        await settle(pilot)
        case_screen = app.screen
        if isinstance(case_screen, MessageDialog):
            raise AssertionError(str(case_screen.query_one("#message", Static).render()))
        assert isinstance(case_screen, CaseScreen)
        assert case_screen.case is not None
        assert case_screen.case.booking_reference == chosen.booking_reference
        with desk.store.session() as session:
            appointment = session.get(Appointment, chosen.appointment_id)
            assert appointment is not None
            assert appointment.status == AppointmentStatus.CHECKED_IN
