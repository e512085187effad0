"""How a failed clerk action or load becomes a German dialog: one mapping, chosen by exception type."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from workstation.errors import CommandRefused, TresenError
from workstation.i18n import _

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailureText:
    title: str
    message: str


def describe_failure(error: BaseException, what: str) -> FailureText:
    """The dialog for `error`; `what` names the action for the log (never personal data)."""
    if isinstance(error, CommandRefused):
        # The state does not allow it, nothing was changed: the clerk reads why.
        return FailureText(_("Nicht möglich"), _(error.user_message))
    if isinstance(error, TresenError):
        log.warning("%s failed: %s", what, error)
        return FailureText(_("Fehler"), _(error.user_message))
    # Not a situation the clerk can act on: the details go to the log, not on the screen.
    log.error("unexpected failure in %s", what, exc_info=error)
    return FailureText(
        _("Fehler"),
        _(
            "Ein unerwarteter Fehler ist aufgetreten. Die Aktion wurde nicht ausgeführt; "
            "bitte erneut versuchen oder die IT informieren."
        ),
    )
