"""A simulated ticket kiosk: walk-ins take numbers and citizens with appointments check in, over HTTP,
at random intervals, exactly as a real kiosk would talk to the central service (for `tresen demo`)."""

from __future__ import annotations

import logging
import random
import threading
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
        return ticket

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

    def _walk_in_services(self) -> list[str]:
        if not self._service_ids:
            office: dict[str, Any] = self._http.get(f"/offices/{self.office_id}").raise_for_status().json()
            self._service_ids = [service["id"] for service in office["services"]]
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
