"""How this workstation fetches captures, known at start-up without loading the capture stack.

`[captures]` of the configuration (and the demo's simulator) decide it; httpx, Pillow and the
cryptography of `devices.captures` are imported only when the clerk first opens "Aufnahme holen".
The cloud's organisation key is a secret: it lives in the keyring (service "tresen-captures", user
"organisation-key"), never in the configuration file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workstation.config import CaptureSettings
from workstation.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

    from devices.captures.trust import TrustAnchor
    from workstation.captures import CaptureDesk
    from workstation.card_reading import SessionSource
    from workstation.commands import DeskContext

log = logging.getLogger(__name__)

ORGANISATION_KEY_SERVICE = "tresen-captures"
ORGANISATION_KEY_USER = "organisation-key"


@dataclass(frozen=True)
class CaptureSetup:
    settings: CaptureSettings = field(default_factory=CaptureSettings)
    hint: Callable[[str], str | None] | None = None  # the demo's code per case
    organisation_key: str | None = None  # the demo's; None: from the keyring

    @property
    def configured(self) -> bool:
        return bool(self.settings.terminal_url or self.settings.cloud_url)

    def for_desk(
        self, store: SessionSource, ctx: DeskContext, *, clock: Callable[[], datetime] | None = None
    ) -> CaptureDesk:
        """The desk's capture service; `CaptureRefused` (German) when a certificate cannot be read."""
        from workstation.captures import CaptureDesk, Sources  # the case's store of captures: on first use

        settings = self.settings
        terminal = cloud = None
        if settings.terminal_url and settings.terminal_certificate:
            from devices.captures.terminal import TerminalSource

            anchor = _anchor(settings.terminal_certificate, _("des Aufnahmegeräts"))
            terminal = TerminalSource(settings.terminal_url, anchor)
        if settings.cloud_url and settings.cloud_certificate:
            from devices.captures.cloud import CloudSource

            organisation_key = self.organisation_key or _organisation_key()
            if organisation_key is not None:
                anchor = _anchor(settings.cloud_certificate, _("des Fotodienstes"))
                cloud = CloudSource({settings.cloud_url: anchor}, organisation_key)
        sources = Sources(terminal, cloud)
        if clock is None:
            return CaptureDesk(store, ctx, sources, export_dir=settings.export_dir, hint=self.hint)
        return CaptureDesk(store, ctx, sources, export_dir=settings.export_dir, hint=self.hint, clock=clock)


def _anchor(path: Path, whose: str) -> TrustAnchor:
    from devices.captures.errors import CaptureError
    from devices.captures.trust import TrustAnchor
    from workstation.captures import CaptureRefused

    try:
        return TrustAnchor.from_pem(path.read_bytes())
    except (OSError, CaptureError, ValueError):
        raise CaptureRefused(
            _("Das Zertifikat {whose} ({path}) ist nicht lesbar. Bitte die IT informieren.").format(
                whose=whose, path=path
            ),
            "capture certificate unreadable",
        ) from None


def _organisation_key() -> str | None:
    import keyring.errors

    from devices.secret_store import default_backend

    try:
        key = default_backend().get_password(ORGANISATION_KEY_SERVICE, ORGANISATION_KEY_USER)
    except keyring.errors.KeyringError:
        key = None
    if key is None:
        log.warning("no organisation key for the photo cloud in the keyring: cloud codes are refused")
    return key
