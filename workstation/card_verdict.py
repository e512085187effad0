"""The passive-authentication verdict in the clerk's words.

"Echtheit bestätigt", "NICHT geprüft: …" and "Prüfung FEHLGESCHLAGEN: …" are equally loud: a chip
whose data could not be checked must never look like a checked one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Sequence


class VerdictStatus(StrEnum):
    VERIFIED = "VERIFIED"
    NOT_VERIFIED = "NOT_VERIFIED"
    FAILED = "FAILED"


# Read-only members (properties), so frozen dataclasses such as devices.card's results match.
class _Step(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def ok(self) -> bool | None: ...
    @property
    def detail(self) -> str: ...


class _Result(Protocol):
    @property
    def verdict(self) -> object: ...  # the library's Verdict enum, or its name when stored
    @property
    def steps(self) -> Sequence[_Step]: ...


# German label and what a failure means, per step name of `devices.card.passive_auth` (stable English).
_STEPS_DE: dict[str, tuple[str, str]] = {
    "EF.SOD structure": ("Sicherheitsobjekt (EF.SOD)", "Sicherheitsobjekt ist unlesbar"),
    "DG hashes": ("Prüfsummen der Datengruppen", "Prüfsummenverfahren wird nicht unterstützt"),
    "Document signer signature": (
        "Signatur des Dokumentausstellers",
        "Signatur des Dokumentausstellers ist ungültig",
    ),
    "Signed attributes (message digest)": ("Signierte Attribute", "Signaturdaten sind inkonsistent"),
    "Chain to CSCA": (
        "Zertifikatskette bis zur Länder-CA (CSCA)",
        "kein vertrauenswürdiges Länderzertifikat (CSCA)",
    ),
    "Certificate validity": ("Gültigkeit der Zertifikate", "Zertifikat ist nicht gültig"),
}
_DG_HASH = re.compile(r"DG(\d+) hash")


@dataclass(frozen=True)
class VerdictStep:
    label: str  # German
    ok: bool | None  # None: not checked
    detail: str  # the library's technical detail (English); never personal data


@dataclass(frozen=True)
class Verdict:
    status: VerdictStatus
    headline: str  # German, shown as prominently for every status
    steps: tuple[VerdictStep, ...]

    @property
    def verified(self) -> bool:
        return self.status is VerdictStatus.VERIFIED


def _label_and_failure(step_name: str) -> tuple[str, str]:
    dg_hash = _DG_HASH.fullmatch(step_name)
    if dg_hash:
        number = int(dg_hash.group(1))
        failure = _("Datengruppe {number} wurde verändert oder ist nicht signiert").format(number=number)
        if number == 1:
            return _("Prüfsumme DG1 (Daten)"), failure
        if number == 2:
            return _("Prüfsumme DG2 (Lichtbild)"), failure
        return _("Prüfsumme DG{number}").format(number=number), failure
    label, failure = _STEPS_DE.get(step_name, (step_name, ""))
    return _(label), _(failure) if failure else _("Schritt „{step}“ nicht erfüllt").format(step=step_name)


def status_of(verdict: object) -> VerdictStatus:
    """The library's verdict (an enum or its name) as our status; unknown values count as FAILED."""
    name = str(getattr(verdict, "name", verdict)).upper()
    try:
        return VerdictStatus(name)
    except ValueError:
        return VerdictStatus.FAILED


def describe_verification(result: _Result) -> Verdict:
    """Word the passive-authentication result for the clerk, step by step."""
    status = status_of(result.verdict)
    steps = tuple(
        VerdictStep(_label_and_failure(step.name)[0], step.ok, step.detail) for step in result.steps
    )
    if status is VerdictStatus.VERIFIED:
        return Verdict(status, _("Echtheit bestätigt"), steps)
    first_problem = next((step for step in result.steps if step.ok is not True), None)
    reason = _label_and_failure(first_problem.name)[1] if first_problem else _("Grund unbekannt")
    if status is VerdictStatus.NOT_VERIFIED:
        return Verdict(status, _("NICHT geprüft: {reason}").format(reason=reason), steps)
    return Verdict(status, _("Prüfung FEHLGESCHLAGEN: {reason}").format(reason=reason), steps)


def verdict_from_stored(status: str, steps: list[dict[str, Any]]) -> Verdict:
    """Rebuild the verdict of a stored card read (the CardRead row keeps status and steps)."""

    @dataclass(frozen=True)
    class _Stored:
        name: str
        ok: bool | None
        detail: str

    @dataclass(frozen=True)
    class _StoredResult:
        verdict: str
        steps: list[_Stored]

    stored = [_Stored(step.get("name", ""), step.get("ok"), step.get("detail", "")) for step in steps]
    return describe_verification(_StoredResult(status, stored))
