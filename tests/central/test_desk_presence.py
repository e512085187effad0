"""The desks' idle time from the logins the central service records: clerks log in and out over the
API (POST /sessions, DELETE /sessions/current) on the office's clock, and the day report's idle time
per desk is worked out by hand here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from sync import pins
from sync.central import credentials
from sync.central.app import create_app
from sync.central.credentials import TokenKind
from sync.central.statistics_api import DayReport
from sync.clock import OFFICE_ZONE
from sync.protocol import API_PREFIX
from tests.central.conftest import MovableClock
from tests.central.test_statistics_sql import OFFICE, load_day, seed_office
from tests.credentials import bearer, signed_client, workstation_auth
from tests.sync.statistics_days import DESKS, clerk_of
from tests.sync.test_statistics import HAND_BUILT_DAY, at

if TYPE_CHECKING:
    from fastapi import FastAPI

PIN = "246810"
DAY_REPORT = f"{API_PREFIX}/statistics/offices/{OFFICE}/days/2026-03-02"


@pytest.fixture
def office_clock() -> MovableClock:
    return MovableClock(datetime(2026, 3, 2, 7, 0, tzinfo=OFFICE_ZONE))


@pytest.fixture
def app(db_url: str, office_clock: MovableClock) -> FastAPI:
    app = create_app(db_url, clock=office_clock)
    central = app.state.store
    seed_office(central)
    load_day(central, HAND_BUILT_DAY)
    with central.write() as session:
        verifier = pins.make_verifier(PIN)
        for desk in DESKS:
            credentials.set_clerk_pin(session, clerk_of(desk), PIN, verifier=verifier)
    return app


@dataclass
class Desk:
    """A workstation's client with the clerk session it holds, as the workstation keeps it."""

    api: TestClient
    session: str | None = None

    def log_in(self, clerk_id: str, desk_id: str | None = None) -> None:
        params = {"desk": desk_id} if desk_id else {}
        answer = self.api.post(
            f"{API_PREFIX}/sessions", json={"clerk_id": clerk_id, "pin": PIN}, params=params
        )
        assert answer.status_code == 201, answer.text
        self.session = answer.json()["session"]

    def log_out(self) -> None:
        assert self.api.delete(f"{API_PREFIX}/sessions/current").status_code == 204
        self.session = None


def workstation(app: FastAPI, workstation_id: str, *, bound_to: str | None = None) -> Desk:
    desk = Desk(TestClient(app))
    desk.api = signed_client(
        app,
        workstation_auth(
            app.state.store, workstation_id, OFFICE, desk_id=bound_to, session=lambda: desk.session
        ),
    )
    return desk


def day_report(app: FastAPI) -> DayReport:
    with TestClient(app, headers=bearer(app.state.store, TokenKind.ADMIN)) as admin:
        answer = admin.get(DAY_REPORT)
    assert answer.status_code == 200, answer.text
    return DayReport.model_validate(answer.json())


def test_idle_time_per_desk_from_logins_logouts_and_an_open_session(
    app: FastAPI, office_clock: MovableClock
) -> None:
    free = workstation(app, "ws-free")  # not enrolled for a desk: names the desk at login
    at_d2 = workstation(app, "ws-d2", bound_to="d2")
    at_d3 = workstation(app, "ws-d3", bound_to="d3")

    office_clock.now = at(8, 0)
    free.log_in("c1", "d1")
    office_clock.now = at(8, 25)
    at_d2.log_in("c2")
    office_clock.now = at(8, 45)
    at_d2.log_out()
    office_clock.now = at(8, 50)
    at_d2.log_in("c2")
    office_clock.now = at(9, 20)
    at_d2.log_out()
    office_clock.now = at(9, 30)
    free.log_out()
    office_clock.now = at(10, 0)
    at_d3.log_in("c3")  # still logged in when the report is asked for
    office_clock.now = at(10, 45)

    desks = day_report(app).day.desks
    # d1: 08:00–09:30 = 90 min logged in; busy 2 min walking (W1, W2b) + 24 min serving (W1 14, W2b 10)
    assert desks["d1"].logged_in_seconds == 90 * 60
    assert desks["d1"].idle_seconds == (90 - 2 - 24) * 60
    # d2: 08:25–08:45 and 08:50–09:20 = 50 min; busy 2 min walking (W2, A1) + 17 serving (W2 7, A1 10)
    assert desks["d2"].idle_seconds == (50 - 2 - 17) * 60
    # d3: served no one, logged in 10:00 until now (10:45)
    assert (desks["d3"].tickets, desks["d3"].idle_seconds) == (0, 45 * 60)


def test_a_login_that_was_never_ended_stops_counting_when_the_desk_is_logged_in_again(
    app: FastAPI, office_clock: MovableClock
) -> None:
    crashed, replacement = workstation(app, "ws-crashed"), workstation(app, "ws-replacement")
    office_clock.now = at(8, 0)
    crashed.log_in("c1", "d1")  # the workstation dies without a logout
    office_clock.now = at(9, 0)
    replacement.log_in("c1", "d1")
    office_clock.now = at(9, 15)
    replacement.log_out()
    office_clock.now = at(10, 0)
    # 08:00–09:00 and 09:15 … not until 10:00 nor for the crashed session's twelve hours
    assert day_report(app).day.desks["d1"].logged_in_seconds == (60 + 15) * 60


def test_a_revoked_workstation_ends_its_login(app: FastAPI, office_clock: MovableClock) -> None:
    at_d3 = workstation(app, "ws-d3", bound_to="d3")
    office_clock.now = at(8, 0)
    at_d3.log_in("c3")
    with app.state.store.write() as session:
        credentials.revoke_workstation(session, "ws-d3", at(8, 40))
    office_clock.now = at(10, 0)
    assert day_report(app).day.desks["d3"].logged_in_seconds == 40 * 60


def test_a_login_for_another_desk_than_the_enrolled_one_or_an_unknown_desk_is_refused(app: FastAPI) -> None:
    bound = workstation(app, "ws-d2", bound_to="d2")
    answer = bound.api.post(
        f"{API_PREFIX}/sessions", json={"clerk_id": "c2", "pin": PIN}, params={"desk": "d1"}
    )
    assert answer.status_code == 403
    free = workstation(app, "ws-free")
    answer = free.api.post(
        f"{API_PREFIX}/sessions", json={"clerk_id": "c2", "pin": PIN}, params={"desk": "d9"}
    )
    assert answer.status_code == 404


def test_a_clerk_logged_in_at_a_desk_still_gets_403_for_the_figures(
    app: FastAPI, office_clock: MovableClock
) -> None:
    at_d1 = workstation(app, "ws-d1", bound_to="d1")
    office_clock.now = at(8, 0)
    at_d1.log_in("c1")  # a clerk's role: the login counts for d1's idle time, the figures stay closed
    answer = at_d1.api.get(DAY_REPORT)
    assert answer.status_code == 403
    assert answer.json()["detail"]["message"] == "Die Statistik ist der Teamleitung vorbehalten."
    assert "desks" not in answer.text


def test_the_live_office_shows_who_is_logged_in_and_an_idle_logged_in_desk(
    app: FastAPI, office_clock: MovableClock
) -> None:
    from sync.central.statistics_api import MSG_DESK_IDLE, LiveOffice

    at_d3 = workstation(app, "ws-d3", bound_to="d3")
    office_clock.now = at(9, 25)
    at_d3.log_in("c3")  # d3 served no one today; W3 (s1, which d3 serves) waits since 09:20
    office_clock.now = at(9, 30)
    with TestClient(app, headers=bearer(app.state.store, TokenKind.ADMIN)) as admin:
        live = LiveOffice.model_validate(admin.get(f"{API_PREFIX}/statistics/offices/{OFFICE}/live").json())
    desks = {d.desk_id: d for d in live.desks}
    assert (desks["d3"].activity, desks["d3"].since, desks["d3"].logged_in_since) == (
        "idle",
        at(9, 25),
        at(9, 25),
    )
    assert desks["d1"].logged_in_since is None  # no login recorded there
    assert ("desk_idle_while_waiting", "d3", MSG_DESK_IDLE) in [
        (a.kind, a.subject_id, a.message) for a in live.alerts
    ]
    at_d3.log_out()
    with TestClient(app, headers=bearer(app.state.store, TokenKind.ADMIN)) as admin:
        live = LiveOffice.model_validate(admin.get(f"{API_PREFIX}/statistics/offices/{OFFICE}/live").json())
    assert live.desks[2].logged_in_since is None
    assert "d3" not in [a.subject_id for a in live.alerts]
