"""The one interface both capture sources offer (terminal and TR-03170 cloud)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from devices.captures.model import CaptureBundle


class CaptureSource(Protocol):
    def fetch(self, code: str) -> CaptureBundle:
        """Fetch and verify the capture the code names; raises CaptureError with its reason."""
        ...

    def acknowledge(self, bundle: CaptureBundle, *, delete: bool = True) -> None:
        """Tell the source the bundle arrived. The terminal then deletes its copy (always); the cloud
        deletes only with `delete=True` — the citizen may ask it to keep the photo (TR-03170-1 §2.8.3)."""
        ...
