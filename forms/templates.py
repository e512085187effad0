"""The catalogue of templates: name → data class and renderer, for the CLI and the examples.

Each template's JSON schema is generated from its frozen data class (pydantic's TypeAdapter), and
the same adapter turns a JSON document into that data class, so the field list exists only once:
in the data class.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from forms.appointment_confirmation import AppointmentConfirmation, render_appointment_confirmation
from forms.pickup_slip import PickupSlip, render_pickup_slip
from forms.receipt import Receipt, render_receipt
from forms.registration import (
    RegistrationCertificate,
    RegistrationConfirmation,
    render_registration_certificate,
    render_registration_confirmation,
)
from forms.ticket_slip import TicketSlip, render_ticket_slip

if TYPE_CHECKING:
    from collections.abc import Callable

EXAMPLES_DIR = Path(__file__).parent / "examples"


class TemplateDataError(ValueError):
    """The data for a template does not fit its schema; the message names the fields."""


@dataclass(frozen=True)
class Template:
    name: str
    title: str  # German, as shown to administrators
    data_type: type[Any]
    render_data: Callable[[Any], bytes]
    official: bool  # sealed with the office seal when printed as an official document

    @cached_property
    def _adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(self.data_type)

    def json_schema(self) -> dict[str, Any]:
        schema = self._adapter.json_schema()
        schema["title"] = self.title
        return schema

    def parse(self, document: object) -> Any:
        try:
            return self._adapter.validate_python(document)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in issue['loc']) or '(Wurzel)'}: {issue['msg']}"
                for issue in error.errors(include_url=False, include_input=False)
            )
            raise TemplateDataError(problems) from None

    def render(self, document: object) -> bytes:
        return self.render_data(self.parse(document))

    @property
    def example_path(self) -> Path:
        return EXAMPLES_DIR / f"{self.name}.json"

    def example(self) -> object:
        return json.loads(self.example_path.read_text(encoding="utf-8"))


TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template("quittung", "Quittung", Receipt, render_receipt, official=True),
        Template(
            "meldebescheinigung",
            "Meldebescheinigung",
            RegistrationCertificate,
            render_registration_certificate,
            official=True,
        ),
        Template(
            "meldebestaetigung",
            "Meldebestätigung",
            RegistrationConfirmation,
            render_registration_confirmation,
            official=True,
        ),
        Template("abholschein", "Abholschein", PickupSlip, render_pickup_slip, official=False),
        Template(
            "terminbestaetigung",
            "Terminbestätigung",
            AppointmentConfirmation,
            render_appointment_confirmation,
            official=False,
        ),
        Template("wartenummer", "Wartenummer (80 mm)", TicketSlip, render_ticket_slip, official=False),
    )
}
