"""The panel with the desk's current ticket: number, state, services, appointment, times."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from screens.widgets.format import clock, minutes, services_label, state_label
from screens.widgets.steady import SteadyStatic
from workstation.i18n import _


class CurrentTicketPanel(SteadyStatic):
    """Shows `CurrentTicket` (a read model of `workstation.queries`) or an idle hint."""

    def __init__(self) -> None:
        super().__init__(id="current-ticket")
        self.current: Any = None

    def on_mount(self) -> None:
        self.border_title = _("Aktuelle Wartenummer")
        self.show(None)

    def show(self, current: Any) -> None:
        self.current = current
        if current is None:
            self.set_class(True, "idle")
            self.update(Text(_("Kein Aufruf – F2 ruft die nächste Wartenummer auf."), style="italic"))
            return
        self.set_class(False, "idle")
        head = Text.assemble((current.number, "bold reverse"), "  ", (state_label(current.state), "bold"))
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="dim")
        facts.add_column()
        facts.add_row(_("Dienstleistungen"), services_label(current.services))
        facts.add_row(_("Angekommen"), clock(current.issued_at))
        facts.add_row(_("Gewartet"), minutes(current.waited_minutes))
        facts.add_row(_("Aufrufe"), str(current.called_count))
        if current.last_called_at is not None:
            facts.add_row(_("Letzter Aufruf"), clock(current.last_called_at))
        appointment = current.appointment
        if appointment is not None:
            facts.add_row(_("Termin"), f"{clock(appointment.slot_start)}  {appointment.booking_reference}")
            facts.add_row(_("Name"), appointment.citizen_name)
        if current.explanation:
            facts.add_row(_("Reihenfolge"), current.explanation)
        self.update(Group(head, Text(""), facts))
