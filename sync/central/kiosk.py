"""A simulated ticket kiosk: walk-ins take numbers and citizens with appointments check in, over HTTP,
at random intervals, exactly as a real kiosk would talk to the central service (for `tresen demo`).

Each ticket can be printed: `print_slip` gets a `KioskSlip` (what the Wartenummer slip shows, with the
status page's address for its QR code). The slip's template lives in `forms/`, above this layer, so
the entry point hands the printer in (`tresen.kiosk_slips.SlipFolder` writes PDFs to a folder)."""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from sync.clock import OFFICE_ZONE
from sync.protocol import API_PREFIX, STATUS_PAGE_PATH, IssuedTicket

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable

    from sync.central.store import CentralStore

log = logging.getLogger(__name__)

_CHECK_IN_WINDOW = timedelta(minutes=20)  # citizens arrive up to this early for their slot


@dataclass(frozen=True)
class KioskSlip:
    """What the kiosk prints for one ticket: no personal data, the QR code's address included."""

    office_name: str
    number: str
    service_names: tuple[str, ...]
    issued_at: datetime
    status_url: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


class KioskSimulator:
    """Issues a ticket about every `mean_interval_seconds` (exponentially distributed).

    `clock` decides which appointments are due for check-in; give it the central service's clock
    (the demo's `demo_clock`) so both agree on the time of day."""

    def __init__(
        self,
        base_url: str,
        office_id: str,
        token: str,
        *,
        citizens_token: str | None = None,
        mean_interval_seconds: float = 45.0,
        seed: int = 0,
        timeout: float = 5.0,
        clock: Callable[[], datetime] = _utc_now,
        verify: ssl.SSLContext | bool = True,
        print_slip: Callable[[KioskSlip], object] | None = None,
    ) -> None:
        self.office_id = office_id
        self._clock = clock
        self.mean_interval_seconds = mean_interval_seconds
        self._rng = random.Random(seed)

        def client(bearer: str) -> httpx.Client:
            headers = {"Authorization": f"Bearer {bearer}"}
            return httpx.Client(
                base_url=base_url + API_PREFIX, timeout=timeout, headers=headers, verify=verify
            )

        self._http = client(token)
        # The citizens' booking confirmations, simulated: a booking system's token lists who is due.
        # A real kiosk never reads appointments; without this token the simulator issues walk-ins only.
        self._citizens = client(citizens_token) if citizens_token else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._service_ids: list[str] = []
        self.base_url = base_url
        self.issued: list[IssuedTicket] = []
        self._print_slip = print_slip
        self._office: dict[str, Any] | None = None

    def issue_once(self, now: datetime | None = None) -> IssuedTicket:
        """One arrival: a due appointment checks in if there is one, else a walk-in takes a number."""
        now = now or self._clock()
        reference = self._due_booking_reference(now)
        if reference is not None and self._rng.random() < 0.6:
            response = self._http.post(
                "/check-ins", json={"office_id": self.office_id, "booking_reference": reference}
            )
        else:
            response = self._http.post(
                "/tickets",
                json={
                    "office_id": self.office_id,
                    "service_ids": self._walk_in_services(),
                    "priority": 1 if self._rng.random() < 0.03 else 0,
                },
            )
        response.raise_for_status()
        ticket = IssuedTicket.model_validate(response.json())
        self.issued.append(ticket)
        if self._print_slip is not None:
            slip = self.slip(ticket)
            if slip is not None:
                self._print_slip(slip)
        return ticket

    def slip(self, ticket: IssuedTicket) -> KioskSlip | None:
        """The slip for a ticket this kiosk issued (None without a status token: nothing to scan)."""
        url = self.status_url(ticket)
        if url is None:
            return None
        office = self._office_detail()
        names = {service["id"]: service["name"] for service in office["services"]}
        return KioskSlip(
            office_name=office["office"]["name"],
            number=ticket.number,
            service_names=tuple(names.get(s, s) for s in ticket.service_ids),
            issued_at=ticket.issued_at,
            status_url=url,
        )

    def status_url(self, ticket: IssuedTicket) -> str | None:
        """The address the slip's QR code carries: the ticket's public status page."""
        if ticket.status_token is None:
            return None
        return self.base_url + STATUS_PAGE_PATH.format(token=ticket.status_token)

    def start(self) -> KioskSimulator:
        self._thread = threading.Thread(target=self._run, name=f"kiosk-{self.office_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._http.close()
        if self._citizens is not None:
            self._citizens.close()

    def _run(self) -> None:
        while not self._stop.wait(self._rng.expovariate(1.0 / self.mean_interval_seconds)):
            try:
                self.issue_once()
            except httpx.HTTPError as error:  # the central service may be down: a kiosk keeps trying
                log.warning("kiosk %s could not issue a ticket: %s", self.office_id, type(error).__name__)
            except OSError as error:  # the slip printer (a full disk): the next ticket tries again
                log.warning("kiosk %s could not print a slip: %s", self.office_id, type(error).__name__)

    def _office_detail(self) -> dict[str, Any]:
        if self._office is None:
            self._office = self._http.get(f"/offices/{self.office_id}").raise_for_status().json()
        return self._office

    def _walk_in_services(self) -> list[str]:
        if not self._service_ids:
            self._service_ids = [service["id"] for service in self._office_detail()["services"]]
        return [self._rng.choice(self._service_ids)]

    def _due_booking_reference(self, now: datetime) -> str | None:
        if self._citizens is None:
            return None
        day = now.astimezone(OFFICE_ZONE).date()
        response = self._citizens.get(
            "/appointments", params={"office_id": self.office_id, "date": day.isoformat()}
        )
        response.raise_for_status()
        due = [
            appointment["booking_reference"]
            for appointment in response.json()
            if appointment["status"] == "booked"
            and now - _CHECK_IN_WINDOW
            <= datetime.fromisoformat(appointment["slot_start"])
            <= now + _CHECK_IN_WINDOW
        ]
        return self._rng.choice(due) if due else None


def kiosk_for(central: CentralStore, base_url: str, office_id: str, **options: Any) -> KioskSimulator:
    """A simulator with credentials of its own, made in the central database: a kiosk token, and a
    booking token that stands for the citizens' booking confirmations (`citizens_token`)."""
    from sync.central import credentials
    from sync.central.credentials import TokenKind
    from sync.clock import utc_now

    with central.write() as session:
        kiosk = credentials.create_token(
            session, TokenKind.KIOSK, office_id, utc_now(), label="kiosk simulator"
        )
        citizens = credentials.create_token(
            session, TokenKind.BOOKING, office_id, utc_now(), label="kiosk simulator's citizens"
        )
    return KioskSimulator(base_url, office_id, kiosk, citizens_token=citizens, **options)


def longest_waiting_slip(central: CentralStore, base_url: str, office_id: str) -> KioskSlip | None:
    """The slip of the office's longest-waiting ticket, as the kiosk printed it (for `tresen demo`,
    which keeps one beside the status page's address it prints); None when nobody waits."""
    from sqlalchemy import select

    from sync.central import store, waiting_room

    with central.read() as session:
        token = waiting_room.first_waiting_token(session, office_id)
        ticket = (
            session.scalar(select(store.Ticket).where(store.Ticket.status_token == token)) if token else None
        )
        office = session.get(store.Office, office_id)
        if ticket is None or office is None or token is None:
            return None
        names = {
            s.id: s.name
            for s in session.scalars(select(store.Service).where(store.Service.office_id == office_id))
        }
        return KioskSlip(
            office_name=office.name,
            number=ticket.number,
            service_names=tuple(names.get(s, s) for s in ticket.service_ids),
            issued_at=ticket.issued_at,
            status_url=base_url.rstrip("/") + STATUS_PAGE_PATH.format(token=token),
        )
