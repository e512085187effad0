"""Rotating the workstation's key (`tresen key rotate`): a new key pair where the old one lives (on
the PKCS#11 token, or in a new key file), bound at the central service by a request signed with the
old key that carries the new public key; from the answer on the old key signs nothing, and it is
destroyed here.

The step that can go wrong is the answer: the central service may have bound the new key and the
answer be lost, and then only the new key gets in. So the identity with the new key is written first
(`key-rotation.json`, 0600, beside the identity), and a rotation that finds one resumes it: it asks
the central service signed with the new key (binding the key it has already is a no-op there), and
only when that is refused signs with the old key again. Run it with the desk program closed: a
running program keeps signing with the key it opened.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from devices.workstation_key import (
    TokenRequestKey,
    WorkstationKeyError,
    create_key_file,
    create_token_key,
    delete_key_file,
    delete_token_key,
    stored_token_pin,
)
from sync.client import CentralClient, CentralError
from sync.signatures import SignedRequests, key_possession_proof, verify_key_possession
from sync.transport_security import tls_verification
from workstation.errors import TresenError
from workstation.i18n import _
from workstation.identity import (
    EnrollmentError,
    Identity,
    load_identity,
    open_request_key,
    save_identity,
)

if TYPE_CHECKING:
    from pathlib import Path

    import httpx
    from keyring.backend import KeyringBackend

    from sync.signatures import RequestKey

log = logging.getLogger(__name__)

PENDING_FILE = "key-rotation.json"


class KeyRotationError(TresenError):
    """The rotation did not finish; `user_message` says why in German and what to do."""


@dataclass(frozen=True)
class KeyRotation:
    identity: Identity  # the workstation's identity with the new key
    old_key_destroyed: bool  # False: the old key is refused centrally but is still on disk or token


def rotate_key(
    store_path: Path,
    *,
    backend: KeyringBackend | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 10.0,
) -> KeyRotation:
    """Make a new key, have the central service bind it, keep it as the workstation's key and destroy
    the old one; resumes a rotation whose answer never came."""
    identity = load_identity(store_path)
    if identity is None:
        raise KeyRotationError(
            _("Dieser Arbeitsplatz ist nicht eingerichtet. Bitte zuerst „tresen enroll“ ausführen."),
            "key rotation: not enrolled",
        )
    pending_path = store_path.parent / PENDING_FILE
    rotated = _pending(pending_path, identity)
    new_key = _usable(rotated, backend) if rotated is not None else None
    resumed = new_key is not None
    if new_key is None:
        rotated = _next_key(identity, store_path.parent, backend)
        _save_pending(pending_path, rotated)
        new_key = open_request_key(rotated, backend=backend)
    assert rotated is not None  # set with new_key
    try:
        proof = key_possession_proof(new_key, identity.workstation_id)
        if not verify_key_possession(new_key.public_key_pem(), identity.workstation_id, proof):
            # Checked here first: once bound, nothing else signs for the workstation.
            raise KeyRotationError(
                _("Der Schlüssel des Arbeitsplatzes ist nicht nutzbar. Bitte die IT verständigen."),
                "key rotation: the new key's signatures do not verify",
            )
        if not (resumed and _bound_already(rotated, new_key, proof, transport, timeout)):
            old_key = open_request_key(identity, backend=backend)
            try:
                _bind(identity, old_key, new_key.public_key_pem(), proof, transport, timeout)
            finally:
                _close(old_key)
    finally:
        _close(new_key)
    save_identity(store_path, rotated)
    pending_path.unlink(missing_ok=True)
    log.info("workstation %s: key rotated", identity.workstation_id)
    return KeyRotation(rotated, _destroy(identity, backend))


def _next_key(identity: Identity, folder: Path, backend: KeyringBackend | None) -> Identity:
    """A new key pair where the identity's key lives, under a name of its own (the old key stays
    until the central service has bound the new one)."""
    suffix = secrets.token_hex(4)
    try:
        if identity.token is not None:
            token = replace(identity.token, key_label=_next_label(identity.token.key_label, suffix))
            _close(
                create_token_key(token, stored_token_pin(identity.token, backend=backend), backend=backend)
            )
            return replace(identity, token=token)
        key_file = folder / f"workstation-key-{suffix}.pem"
        create_key_file(key_file, backend=backend)
        return replace(identity, key_file=key_file)
    except WorkstationKeyError as error:
        raise KeyRotationError(
            _("Der Schlüssel konnte nicht erzeugt werden: {reason}").format(reason=error.reason),
            f"key rotation: key generation: {error.reason}",
        ) from None


def _next_label(label: str, suffix: str) -> str:
    """`tresen-workstation` → `tresen-workstation-1a2b3c4d`, and the next rotation replaces the suffix."""
    return f"{re.sub(r'-[0-9a-f]{8}$', '', label)}-{suffix}"


def _pending(path: Path, identity: Identity) -> Identity | None:
    """The identity with the new key of an unfinished rotation, if there is one."""
    try:
        pending = Identity.from_json(json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("key rotation: unreadable %s, starting afresh", path.name)
        path.unlink(missing_ok=True)
        return None
    if pending.workstation_id != identity.workstation_id:
        log.warning("key rotation: %s is for another workstation, starting afresh", path.name)
        path.unlink(missing_ok=True)
        return None
    log.info("key rotation: resuming an unfinished rotation")
    return pending


def _usable(pending: Identity, backend: KeyringBackend | None) -> RequestKey | None:
    """The pending rotation's new key, or None when it cannot be opened: then a fresh key is made (if
    the lost one had been bound, the old key is refused next, and the desk must be enrolled anew)."""
    try:
        return open_request_key(pending, backend=backend)
    except EnrollmentError as error:
        log.warning("key rotation: the pending new key is unusable (%s), starting afresh", error)
        return None


def _save_pending(path: Path, pending: Identity) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(pending.to_json(), out, indent=2)
    path.chmod(0o600)


def _client(
    identity: Identity, key: RequestKey, transport: httpx.BaseTransport | None, timeout: float
) -> CentralClient:
    try:
        return CentralClient(
            identity.central_url,
            timeout=timeout,
            transport=transport,
            auth=SignedRequests(key, identity.workstation_id),
            verify=tls_verification(identity.ca_file),
        )
    except CentralError as error:
        raise KeyRotationError(_(error.user_message), error.log_message) from None


def _bound_already(
    rotated: Identity,
    new_key: RequestKey,
    proof: str,
    transport: httpx.BaseTransport | None,
    timeout: float,
) -> bool:
    """Whether the central service already takes the new key (a rotation whose answer was lost)."""
    with _client(rotated, new_key, transport, timeout) as client:
        try:
            client.rotate_key(new_key.public_key_pem(), proof)
        except CentralError as error:
            if error.status_code == 401:
                return False
            raise _not_bound(error) from None
    return True


def _bind(
    identity: Identity,
    old_key: RequestKey,
    public_key_pem: str,
    proof: str,
    transport: httpx.BaseTransport | None,
    timeout: float,
) -> None:
    with _client(identity, old_key, transport, timeout) as client:
        try:
            client.rotate_key(public_key_pem, proof)
        except CentralError as error:
            if error.status_code == 401:
                raise KeyRotationError(
                    _(
                        "Die Zentrale nimmt den bisherigen Schlüssel dieses Arbeitsplatzes nicht mehr an "
                        "(gesperrt?). Bitte den Arbeitsplatz neu einrichten."
                    ),
                    f"key rotation: {error.log_message}",
                ) from None
            raise _not_bound(error) from None


def _not_bound(error: CentralError) -> KeyRotationError:
    return KeyRotationError(
        _(
            "Der neue Schlüssel ist noch nicht bei der Zentrale hinterlegt: {reason} Er bleibt "
            "vorgemerkt; bitte „tresen key rotate“ später erneut ausführen."
        ).format(reason=_(error.user_message)),
        f"key rotation: {error.log_message}",
    )


def _destroy(identity: Identity, backend: KeyringBackend | None) -> bool:
    """Destroy the rotated-out key; it is refused centrally already, so a failure is only logged."""
    try:
        if identity.token is not None:
            delete_token_key(identity.token, backend=backend)
        elif identity.key_file is not None:
            delete_key_file(identity.key_file, backend=backend)
    except (WorkstationKeyError, OSError) as error:
        log.warning("key rotation: the old key could not be destroyed (%s)", type(error).__name__)
        return False
    return True


def _close(key: RequestKey) -> None:
    if isinstance(key, TokenRequestKey):
        key.close()  # its PKCS#11 session
