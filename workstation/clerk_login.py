"""A clerk's login with id and PIN: checked by the central service when it answers, else against the
verifier cached at this workstation's last online login of that clerk, with the same lockout.

An online login gives a clerk session (`SessionHolder`), which the workstation's signed requests carry
(`sync.signatures.SESSION_HEADER`): the central service then knows the clerk and their role (the
supervisor's figures need it). An offline login has no session until the next online one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync import pins
from sync.client import CentralError
from sync.clock import utc_now
from workstation.errors import CommandRefused
from workstation.i18n import _
from workstation.models import ClerkVerifier

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sync.client import CentralClient
    from workstation.db import LocalStore

log = logging.getLogger(__name__)


@dataclass
class SessionHolder:
    """The clerk session the signed requests carry (None: no clerk logged in online)."""

    value: str | None = None

    def __call__(self) -> str | None:
        return self.value


class ClerkLogins:
    def __init__(
        self,
        store: LocalStore,
        client: CentralClient,
        holder: SessionHolder,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.client = client
        self.holder = holder
        self.clock = clock  # real time: lockouts last real minutes, whatever the office clock says

    def log_in(self, clerk_id: str, pin: str, desk_id: str | None = None) -> bool:
        """True when the central service checked the PIN, False when the cached verifier did; a wrong
        PIN or a locked clerk is a German `CommandRefused`. The central service records the login at
        `desk_id` (the desk's idle time in the supervisor's figures)."""
        if not pins.MIN_PIN_LENGTH <= len(pin) <= pins.MAX_PIN_LENGTH:
            raise CommandRefused(
                _("Bitte die PIN eingeben (mindestens {n} Zeichen).").format(n=pins.MIN_PIN_LENGTH)
            )
        self.holder.value = None
        try:
            answer = self.client.open_session(clerk_id, pin, desk_id)
        except CentralError as error:
            if error.status_code == 401:
                raise CommandRefused(_("Anmeldung fehlgeschlagen: Kennung oder PIN falsch.")) from None
            if error.status_code == 423:
                raise CommandRefused(
                    _("Nach zu vielen Fehlversuchen ist die Anmeldung für einige Minuten gesperrt.")
                ) from None
            if error.retryable:
                log.info("central service unreachable at login; checking the cached verifier")
                self._check_offline(clerk_id, pin)
                return False
            raise CommandRefused(_(error.user_message)) from None
        self.holder.value = answer.session
        self._remember(clerk_id, pin)
        return True

    def log_out(self) -> None:
        """End the session at the central service too (best effort: offline it simply expires)."""
        try:
            if self.holder.value is not None:
                self.client.close_session()
        except CentralError:
            log.info("central service not told of the logout; the session expires by itself")
        finally:
            self.holder.value = None

    def _remember(self, clerk_id: str, pin: str) -> None:
        verifier = pins.make_verifier(pin)
        with self.store.write() as session:
            entry = session.get(ClerkVerifier, clerk_id)
            if entry is None:
                session.add(
                    ClerkVerifier(clerk_id=clerk_id, verifier=verifier, failures=0, locked_until=None)
                )
            else:
                entry.verifier, entry.failures, entry.locked_until = verifier, 0, None

    def _check_offline(self, clerk_id: str, pin: str) -> None:
        now = self.clock()
        with self.store.write() as session:
            entry = session.get(ClerkVerifier, clerk_id)
            if entry is None:
                pins.verify(pins.dummy_verifier(), pin)
                refusal = _(
                    "Die Zentrale ist nicht erreichbar, und an diesem Arbeitsplatz gab es noch keine "
                    "Anmeldung dieser Person. Bitte an einem anderen Arbeitsplatz anmelden oder warten."
                )
            elif entry.locked_until is not None and entry.locked_until > now:
                refusal = _("Nach zu vielen Fehlversuchen ist die Anmeldung für einige Minuten gesperrt.")
            elif pins.verify(entry.verifier, pin):
                entry.failures, entry.locked_until = 0, None
                return
            else:
                entry.failures += 1
                if entry.failures >= pins.MAX_PIN_FAILURES:
                    entry.failures, entry.locked_until = 0, now + pins.LOCKOUT
                refusal = _("Anmeldung fehlgeschlagen: Kennung oder PIN falsch.")
        raise CommandRefused(refusal)  # after the commit: the failure counts
