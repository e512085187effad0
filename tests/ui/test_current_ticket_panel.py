"""The current-ticket panel lays its facts out itself: labels in a column, values wrapped beside
them at the panel's width, labels cut first where the panel is narrow, wrapped afresh on resize."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from screens.widgets.current_ticket import FACT_GAP, NARROWEST_VALUE, CurrentTicketPanel, fact_lines
from workstation.queries import AppointmentInfo, CurrentTicket, ServiceRef

SERVICES = "Personalausweis beantragen, Reisepass beantragen, Anmeldung / Ummeldung"
FACTS = [("Dienstleistungen", SERVICES), ("Angekommen", "09:12"), ("Letzter Aufruf", "09:30")]
CALLED = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def plain(width: int) -> list[str]:
    return [line.plain.rstrip() for line in fact_lines(FACTS, width)]


def test_values_wrap_beside_their_labels() -> None:
    lines = plain(48)
    column = len("Dienstleistungen") + FACT_GAP
    assert lines[0].startswith("Dienstleistungen  Personalausweis")
    assert all(len(line) <= 48 for line in lines)
    continued = lines[1 : lines.index("Angekommen        09:12")]
    assert continued  # the services take more than one line
    assert all(line[:column].isspace() and not line[column].isspace() for line in continued)
    assert " ".join(line[column:] for line in lines[: len(continued) + 1]) == SERVICES


def test_in_a_narrow_panel_the_labels_give_way_to_the_values() -> None:
    lines = plain(26)
    assert all(len(line) <= 26 for line in lines)
    lead = 26 - NARROWEST_VALUE  # the cut label and the gap
    assert [line[:lead].strip() for line in lines if not line[:lead].isspace()] == [
        "Dienstlei…",
        "Angekommen",
        "Letzter A…",
    ]
    values = "".join(line[lead:] for line in lines).replace(" ", "")
    assert values == (SERVICES + "09:12" + "09:30").replace(" ", "")  # nothing of a value is lost


def test_before_layout_each_fact_is_one_line() -> None:
    assert plain(0) == [
        f"Dienstleistungen  {SERVICES}",
        "Angekommen        09:12",
        "Letzter Aufruf    09:30",
    ]


def ticket() -> CurrentTicket:
    return CurrentTicket(
        ticket_id="t1",
        number="A101",
        state="called",
        services=tuple(ServiceRef(f"s{n}", name, f"S{n}") for n, name in enumerate(SERVICES.split(", "))),
        issued_at=CALLED,
        waited_minutes=12,
        called_count=1,
        first_called_at=CALLED,
        last_called_at=CALLED,
        appointment=AppointmentInfo("a1", CALLED, "260302-PW338Z", "Sören Kowalski", "checked_in"),
        explanation="Termin 09:30, fällig seit 5 min",
        case_id=None,
        version=1,
    )


class PanelApp(App[None]):
    CSS = "CurrentTicketPanel { border: round red; padding: 0 1; height: auto; }"

    def compose(self) -> ComposeResult:
        yield CurrentTicketPanel()


def shown(panel: CurrentTicketPanel) -> list[str]:
    return [panel.render_line(y).text.rstrip() for y in range(panel.size.height)]


async def test_the_panel_wraps_its_values_afresh_when_it_gets_narrower() -> None:
    app = PanelApp()
    async with app.run_test(size=(60, 30)) as pilot:
        panel = app.query_one(CurrentTicketPanel)
        panel.show(ticket())
        await pilot.pause()
        wide = shown(panel)
        await pilot.resize_terminal(34, 30)
        await pilot.pause()
        narrow = shown(panel)
        assert max(len(line) for line in narrow) <= panel.content_size.width < max(len(line) for line in wide)
        assert len(narrow) > len(wide)
        for lines in (wide, narrow):
            text = " ".join(lines)
            assert "A101" in text
            assert "Kowalski" in text
            assert "Ummeldung" in text
