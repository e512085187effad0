"""The workstation's enrolled identity: which central service, which office (and desk), and where the
key that signs its requests lives.

`enroll` makes the key (on the PKCS#11 token when one is configured, else in a key file), presents
the administrator's one-time code and the public key to the central service, and writes
`identity.json` beside the local store (0600 in a 0700 directory). The identity belongs to the store
it sits beside: another store is another workstation.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devices.workstation_key import (
    TokenKeyConfig,
    WorkstationKeyError,
    create_key_file,
    create_token_key,
    open_key_file,
    open_token_key,
)
from sync.client import CentralClient, CentralError
from sync.protocol import EnrollmentRequest
from sync.transport_security import tls_verification
from workstation.errors import TresenError
from workstation.i18n import _
from workstation.identity_file import identity_path

if TYPE_CHECKING:
    import httpx
    from keyring.backend import KeyringBackend

    from sync.signatures import RequestKey

log = logging.getLogger(__name__)

KEY_FILE = "workstation-key.pem"


class EnrollmentError(TresenError):
    """Enrolling failed; `user_message` says why in German."""


@dataclass(frozen=True)
class Identity:
    workstation_id: str
    office_id: str
    desk_id: str | None
    central_url: str
    key_file: Path | None = None  # the key lives in this file ...
    token: TokenKeyConfig | None = None  # ... or on this PKCS#11 token
    ca_file: Path | None = None  # the CA the central service's TLS certificate is checked against

    def to_json(self) -> dict[str, Any]:
        token = self.token
        return {
            "workstation_id": self.workstation_id,
            "office_id": self.office_id,
            "desk_id": self.desk_id,
            "central_url": self.central_url,
            "key_file": str(self.key_file) if self.key_file else None,
            "ca_file": str(self.ca_file) if self.ca_file else None,
            "token": {
                "module": str(token.module),
                "token_label": token.token_label,
                "key_label": token.key_label,
            }
            if token
            else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Identity:
        token = data.get("token")
        return cls(
            workstation_id=str(data["workstation_id"]),
            office_id=str(data["office_id"]),
            desk_id=data.get("desk_id"),
            central_url=str(data["central_url"]),
            key_file=Path(data["key_file"]) if data.get("key_file") else None,
            ca_file=Path(data["ca_file"]) if data.get("ca_file") else None,
            token=TokenKeyConfig(Path(token["module"]), token["token_label"], token["key_label"])
            if token
            else None,
        )


def load_identity(store_path: Path) -> Identity | None:
    """The identity beside this store; None when the workstation is not enrolled."""
    path = identity_path(store_path)
    try:
        return Identity.from_json(json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        raise EnrollmentError(
            _("Die Einrichtungsdatei {path} ist beschädigt. Bitte den Arbeitsplatz neu einrichten.").format(
                path=path
            ),
            "identity file unreadable",
        ) from None


def save_identity(store_path: Path, identity: Identity) -> Path:
    path = identity_path(store_path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(identity.to_json(), out, indent=2)
    path.chmod(0o600)
    return path


def open_request_key(identity: Identity, *, backend: KeyringBackend | None = None) -> RequestKey:
    try:
        if identity.token is not None:
            return open_token_key(identity.token, backend=backend)
        if identity.key_file is not None:
            return open_key_file(identity.key_file, backend=backend)
    except WorkstationKeyError as error:
        raise EnrollmentError(
            _("Der Schlüssel des Arbeitsplatzes ist nicht nutzbar. Bitte die IT verständigen."),
            f"workstation key: {error.reason}",
        ) from None
    raise EnrollmentError(_("Die Einrichtungsdatei nennt keinen Schlüssel."), "identity without key")


def enroll(
    central_url: str,
    code: str,
    store_path: Path,
    *,
    token: TokenKeyConfig | None = None,
    token_pin: str | None = None,
    backend: KeyringBackend | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 10.0,
    ca_file: Path | None = None,
) -> Identity:
    """Make the key, present it with `code`, and keep the identity beside the store."""
    try:
        if token is not None:
            if not token_pin:
                raise EnrollmentError(_("Für das Token wird die PIN gebraucht."), "no token PIN")
            key: RequestKey = create_token_key(token, token_pin, backend=backend)
            key_file = None
        else:
            key_file = store_path.parent / KEY_FILE
            key = create_key_file(key_file, backend=backend)
    except WorkstationKeyError as error:
        raise EnrollmentError(
            _("Der Schlüssel konnte nicht erzeugt werden: {reason}").format(reason=error.reason),
            f"key generation: {error.reason}",
        ) from None
    request = EnrollmentRequest(
        code=code, public_key_pem=key.public_key_pem(), label=socket.gethostname()[:200]
    )
    try:
        client = CentralClient(
            central_url, timeout=timeout, transport=transport, verify=tls_verification(ca_file)
        )
    except CentralError as error:
        raise EnrollmentError(_(error.user_message), error.log_message) from None
    with client:
        try:
            enrollment = client.enroll(request)
        except CentralError as error:
            if error.status_code == 401:
                raise EnrollmentError(
                    _("Der Einrichtungscode ist unbekannt, schon benutzt oder abgelaufen."), error.log_message
                ) from None
            raise EnrollmentError(_(error.user_message), error.log_message) from None
    identity = Identity(
        workstation_id=enrollment.workstation_id,
        office_id=enrollment.office_id,
        desk_id=enrollment.desk_id,
        central_url=central_url.rstrip("/"),
        key_file=key_file,
        token=token,
        ca_file=ca_file.resolve() if ca_file else None,
    )
    save_identity(store_path, identity)
    log.info("enrolled as %s for office %s", identity.workstation_id, identity.office_id)
    return identity
