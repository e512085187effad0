"""How this workstation reaches the central service: its enrolled identity, the key that signs its
requests, and the logged-in clerk's session those requests carry. The composition root builds one
and hands its pieces to the sync engines, the clerk login and the supervisor's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sync.signatures import SignedRequests
from sync.transport_security import tls_verification
from workstation.clerk_login import ClerkLogins, SessionHolder
from workstation.identity import Identity, load_identity, open_request_key

if TYPE_CHECKING:
    import ssl
    from pathlib import Path

    import httpx
    from keyring.backend import KeyringBackend

    from sync.client import CentralClient
    from workstation.db import LocalStore


@dataclass
class CentralAccess:
    identity: Identity
    auth: SignedRequests
    session: SessionHolder = field(default_factory=SessionHolder)
    # Where the key and the clerks' sealed offline keys live (None: the OS keyring); the demo's own file.
    secrets: KeyringBackend | None = None

    def client(self, timeout: float, transport: httpx.BaseTransport | None = None) -> CentralClient:
        from sync.client import CentralClient

        return CentralClient(
            self.identity.central_url,
            timeout=timeout,
            transport=transport,
            auth=self.auth,
            verify=self.verify,
        )

    @property
    def verify(self) -> ssl.SSLContext | bool:
        return tls_verification(self.identity.ca_file)

    def logins(
        self, store: LocalStore, timeout: float, transport: httpx.BaseTransport | None = None
    ) -> ClerkLogins:
        return ClerkLogins(
            store,
            self.client(timeout, transport),
            self.session,
            workstation_id=self.identity.workstation_id,
            secrets=self.secrets,
        )


def central_access(
    store_path: Path, *, central_url: str | None = None, backend: KeyringBackend | None = None
) -> CentralAccess | None:
    """The access of the workstation enrolled beside `store_path`; None when it is not enrolled.
    `central_url` overrides the enrolled address (the same service, reached another way)."""
    identity = load_identity(store_path)
    if identity is None:
        return None
    if central_url:
        from dataclasses import replace

        identity = replace(identity, central_url=central_url.rstrip("/"))
    holder = SessionHolder()
    auth = SignedRequests(open_request_key(identity, backend=backend), identity.workstation_id, holder)
    return CentralAccess(identity, auth, holder, backend)
