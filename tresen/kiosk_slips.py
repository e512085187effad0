"""The simulated kiosk's slip printer: each ticket's Wartenummer slip (`forms.ticket_slip`), with the QR
code of its status page, written as a PDF into a folder (`tresen central serve --kiosk … --slips DIR`,
`tresen demo --slips DIR`). Here, in the entry package, because the kiosk (`sync/`) sits below the
forms and may not import them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from sync.central.kiosk import KioskSlip

__all__ = ["SlipFolder", "render_kiosk_slip"]


def render_kiosk_slip(slip: KioskSlip) -> bytes:
    from forms.ticket_slip import TicketSlip, render_ticket_slip  # fpdf only when a slip is printed

    return render_ticket_slip(
        TicketSlip(
            office_name=slip.office_name,
            ticket_number=slip.number,
            services=slip.service_names,
            issued_at=slip.issued_at,
            status_url=slip.status_url,
        )
    )


class SlipFolder:
    """Prints each slip as `wartenummer-<number>-<HHMMSS>.pdf` into `folder` (made when missing);
    returns the file's path. A slip carries no personal data, only the status page's key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, slip: KioskSlip) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        number = re.sub(r"[^A-Za-z0-9-]", "_", slip.number)
        path = self.folder / f"wartenummer-{number}-{slip.issued_at:%H%M%S}.pdf"
        path.write_bytes(render_kiosk_slip(slip))
        return path
