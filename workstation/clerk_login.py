"""A clerk's login with id and PIN: checked by the central service when it answers, else against the
verifier cached at this workstation's last online login of that clerk, with the same lockout.

An online login gives a clerk session (`SessionHolder`), which the workstation's signed requests carry
(`sync.signatures.SESSION_HEADER`): the central service then knows the clerk and their role (the
supervisor's figures need it). An offline login has no session at first: it unseals the key kept for
that clerk at the last online login (`workstation.offline_key`), and `resume_session` trades that
key's proof for a session once the central service answers again — the PIN is not kept.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keyring.errors import KeyringError

from sync import pins
from sync.client import CentralError
from sync.clock import utc_now
from sync.signatures import offline_login_proof, public_pem
from workstation.errors import CommandRefused
from workstation.i18n import _
from workstation.models import ClerkVerifier
from workstation.offline_key import new_offline_key, seal, unseal

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from cryptography.hazmat.primitives.asymmetric import ec
    from keyring.backend import KeyringBackend

    from sync.client import CentralClient
    from sync.signatures import FileRequestKey
    from workstation.db import LocalStore

log = logging.getLogger(__name__)


@dataclass
class SessionHolder:
    """The clerk session the signed requests carry (None: no clerk logged in online)."""

    value: str | None = None

    def __call__(self) -> str | None:
        return self.value


@dataclass(frozen=True)
class _OfflineLogin:
    """The clerk logged in against the cached verifier, with the offline key that PIN unsealed."""

    clerk_id: str
    desk_id: str | None
    key: FileRequestKey


class ClerkLogins:
    def __init__(
        self,
        store: LocalStore,
        client: CentralClient,
        holder: SessionHolder,
        *,
        workstation_id: str | None = None,
        secrets: KeyringBackend | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.client = client
        self.holder = holder
        # With the workstation's id, online logins leave a sealed offline key (`resume_session`).
        self.workstation_id = workstation_id
        self._secrets = secrets
        self.clock = clock  # real time: lockouts last real minutes, whatever the office clock says
        self._offline: _OfflineLogin | None = None
        self._lock = threading.Lock()  # the login worker and the supervisor screen's workers

    def log_in(self, clerk_id: str, pin: str, desk_id: str | None = None) -> bool:
        """True when the central service checked the PIN, False when the cached verifier did; a wrong
        PIN or a locked clerk is a German `CommandRefused`. The central service records the login at
        `desk_id` (the desk's idle time in the supervisor's figures)."""
        if not pins.MIN_PIN_LENGTH <= len(pin) <= pins.MAX_PIN_LENGTH:
            raise CommandRefused(
                _("Bitte die PIN eingeben (mindestens {n} Zeichen).").format(n=pins.MIN_PIN_LENGTH)
            )
        with self._lock:
            self.holder.value = None
            self._offline = None
        offline_key = new_offline_key() if self.workstation_id is not None else None
        try:
            answer = self.client.open_session(
                clerk_id,
                pin,
                desk_id,
                offline_key_pem=public_pem(offline_key.public_key()) if offline_key else None,
            )
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
                self._unseal(clerk_id, desk_id, pin)
                return False
            raise CommandRefused(_(error.user_message)) from None
        self.holder.value = answer.session
        self._remember(clerk_id, pin)
        if offline_key is not None:
            self._seal(clerk_id, pin, offline_key)
        return True

    def resume_session(self) -> bool:
        """Make sure the logged-in clerk has a central session: True when there is one (already, or
        now, for a clerk who logged in offline, by the offline key's proof), False when the central
        service does not answer yet or there is nothing to resume (then the clerk has none)."""
        with self._lock:
            if self.holder.value is not None:
                return True
            offline = self._offline
        if offline is None or self.workstation_id is None:
            return False
        signed_at = int(utc_now().timestamp())  # checked against the central service's real clock
        proof = offline_login_proof(offline.key, self.workstation_id, offline.clerk_id, signed_at)
        try:
            answer = self.client.resume_offline_session(offline.clerk_id, signed_at, proof, offline.desk_id)
        except CentralError as error:
            if not error.retryable:
                # Refused (PIN changed, clerk locked, key dropped): no retry; a new login gets one.
                log.info("offline login not resumed centrally (status %s)", error.status_code)
                with self._lock:
                    if self._offline is offline:
                        self._offline = None
            return False
        with self._lock:
            if self._offline is not offline:  # logged out (or in anew) meanwhile: not this clerk's any more
                return self.holder.value is not None
            self.holder.value = answer.session
            self._offline = None  # the unsealed key leaves memory once it has served
        log.info("central session resumed after an offline login")
        return True

    def log_out(self) -> None:
        """End the session at the central service too (best effort: offline it simply expires)."""
        try:
            if self.holder.value is not None:
                self.client.close_session()
        except CentralError:
            log.info("central service not told of the logout; the session expires by itself")
        finally:
            with self._lock:
                self.holder.value = None
                self._offline = None

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

    def _backend(self) -> KeyringBackend:
        if self._secrets is None:
            from devices.secret_store import default_backend

            self._secrets = default_backend()
        return self._secrets

    def _seal(self, clerk_id: str, pin: str, private: ec.EllipticCurvePrivateKey) -> None:
        assert self.workstation_id is not None  # only called with an offline key, made with the id
        try:
            seal(self._backend(), self.workstation_id, clerk_id, pin, private)
        except KeyringError as error:
            # The login stands; only a later offline login here will not get a central session.
            log.warning("offline key not kept: keyring %s", type(error).__name__)

    def _unseal(self, clerk_id: str, desk_id: str | None, pin: str) -> None:
        if self.workstation_id is None:
            return
        try:
            key = unseal(self._backend(), self.workstation_id, clerk_id, pin)
        except KeyringError as error:
            log.warning("offline key not read: keyring %s", type(error).__name__)
            return
        if key is None:
            log.info("no offline key for this clerk here: no central session until an online login")
            return
        with self._lock:
            self._offline = _OfflineLogin(clerk_id, desk_id, key)

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
