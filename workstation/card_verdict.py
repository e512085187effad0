"""The passive-authentication verdict in the clerk's words.

"Echtheit bestätigt", "NICHT geprüft: …" and "Prüfung FEHLGESCHLAGEN: …" are equally loud: a chip
whose data could not be checked must never look like a checked one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from workstation.i18n import _


class VerdictStatus(StrEnum):
    VERIFIED = "VERIFIED"
    NOT_VERIFIED = "NOT_VERIFIED"
    FAILED = "FAILED"


class _Step(Protocol):
    name: str
    ok: bool | None
    detail: str


class _Result(Protocol):
    verdict: Any
    steps: Any


# German labels for the library's step names, matched by keyword (first match wins).
_STEP_LABELS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    # keywords, label, what a failure means
    (("hash", "dg"), "Prüfsummen der Datengruppen", "Daten auf dem Chip wurden verändert"),
    (("message digest", "signed attr"), "Signierte Attribute", "Signaturdaten sind inkonsistent"),
    (("signature", "document signer", "ds "), "Signatur des Dokumentausstellers", "Signatur ist ungültig"),
    (
        ("chain", "csca", "trust"),
        "Zertifikatskette bis zur Länder-CA (CSCA)",
        "kein vertrauenswürdiges Länderzertifikat",
    ),
    (("valid", "date", "expir"), "Gültigkeit der Zertifikate", "Zertifikat ist nicht gültig"),
    (("sod", "security object"), "Sicherheitsobjekt (EF.SOD)", "Sicherheitsobjekt ist unlesbar"),
)


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
    lowered = step_name.lower()
    for keywords, label, failure in _STEP_LABELS:
        if any(keyword in lowered for keyword in keywords):
            return label, failure
    return step_name, f"Schritt „{step_name}“ nicht erfüllt"


def status_of(verdict: Any) -> VerdictStatus:
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
        VerdictStep(_(_label_and_failure(step.name)[0]), step.ok, step.detail) for step in result.steps
    )
    if status is VerdictStatus.VERIFIED:
        return Verdict(status, _("Echtheit bestätigt"), steps)
    first_problem = next((step for step in result.steps if step.ok is not True), None)
    reason = _(_label_and_failure(first_problem.name)[1]) if first_problem else _("Grund unbekannt")
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
