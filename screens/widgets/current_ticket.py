"""The panel with the desk's current ticket: number, state, services, appointment, times."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.content import Content

from screens.widgets.format import clock, minutes, services_label, state_label
from screens.widgets.steady import SteadyStatic
from workstation.i18n import _

FACT_GAP = 2  # cells between a fact's label and its value
NARROWEST_VALUE = 14  # cells a value keeps beside its label in a narrow panel


class CurrentTicketPanel(SteadyStatic):
    """Shows `CurrentTicket` (a read model of `workstation.queries`) or an idle hint.

    The facts are lines of `Content` laid out here, labels in a column and values wrapped beside
    them, rather than a Rich table: a table is rendered in full once to measure its height and
    once more to draw it, about 3 ms of every F2 (docs/benchmarks.md, stop 27)."""

    def __init__(self) -> None:
        super().__init__(id="current-ticket")
        self.current: Any = None
        self._wrapped_at = 0  # the content width the shown facts were wrapped at

    def on_mount(self) -> None:
        self.border_title = _("Aktuelle Wartenummer")
        self.show(None)

    def on_resize(self) -> None:
        if self.current is not None and self.content_size.width != self._wrapped_at:
            self.show(self.current)  # the values wrap at the new width (a taller panel needs nothing)

    def show(self, current: Any) -> None:
        self.current = current
        if current is None:
            self.set_class(True, "idle")
            self.update(Content.styled(_("Kein Aufruf – F2 ruft die nächste Wartenummer auf."), "italic"))
            return
        self.set_class(False, "idle")
        head = Content.assemble((current.number, "bold reverse"), "  ", (state_label(current.state), "bold"))
        self._wrapped_at = self.content_size.width
        lines = [head, Content(), *fact_lines(ticket_facts(current), self._wrapped_at)]
        self.update(Content("\n").join(lines))


def ticket_facts(current: Any) -> list[tuple[str, str]]:
    """(label, value) of each fact the panel shows about `current`, in order."""
    facts = [
        (_("Dienstleistungen"), services_label(current.services)),
        (_("Angekommen"), clock(current.issued_at)),
        (_("Gewartet"), minutes(current.waited_minutes)),
        (_("Aufrufe"), str(current.called_count)),
    ]
    if current.last_called_at is not None:
        facts.append((_("Letzter Aufruf"), clock(current.last_called_at)))
    appointment = current.appointment
    if appointment is not None:
        facts.append((_("Termin"), f"{clock(appointment.slot_start)}  {appointment.booking_reference}"))
        facts.append((_("Name"), appointment.citizen_name))
    if current.explanation:
        facts.append((_("Reihenfolge"), current.explanation))
    return facts


def fact_lines(facts: list[tuple[str, str]], width: int) -> list[Content]:
    """The facts as lines at most `width` cells wide: dim labels in a column, each value wrapped
    beside its label. In a narrow panel the labels give way first (cut with "…"), so that a value
    keeps `NARROWEST_VALUE` cells. `width` 0 (not laid out yet): one line per fact."""
    label_width = max(cell_len(label) for label, _value in facts)
    if width:
        label_width = max(1, min(label_width, width - FACT_GAP - NARROWEST_VALUE))
    lead_width = label_width + FACT_GAP
    lines: list[Content] = []
    for label, value in facts:
        lead = Content.styled(label, "dim").truncate(label_width, ellipsis=True, pad=True)
        wrapped = Content(value).wrap(width - lead_width) if width else [Content(value)]
        for index, line in enumerate(wrapped):
            lines.append((lead if index == 0 else Content.blank(label_width)) + " " * FACT_GAP + line)
    return lines
