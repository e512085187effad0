"""The statistics endpoints: the day report, the live office, and every refusal (role, office, date)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from sync.central import store
from sync.central.app import create_app
from sync.central.credentials import TokenKind
from sync.central.statistics_api import (
    MSG_DESK_IDLE,
    MSG_NO_DATA,
    MSG_NOT_SUPERVISOR,
    MSG_SERVICE_OVER_TARGET,
    MSG_UNKNOWN_OFFICE,
    DayReport,
    LiveOffice,
)
from sync.clock import OFFICE_ZONE
from sync.protocol import API_PREFIX
from sync.statistics import day_figures, fold_events
from tests.central.conftest import MovableClock
from tests.central.test_statistics_sql import OFFICE, load_day, seed_office
from tests.credentials import bearer, clerk_auth, signed_client
from tests.sync.statistics_days import DAY, clerk_of
from tests.sync.test_statistics import HAND_BUILT_DAY

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI

BASE = f"{API_PREFIX}/statistics/offices"


@pytest.fixture
def office_clock() -> MovableClock:
    return MovableClock(datetime(2026, 3, 2, 9, 30, tzinfo=OFFICE_ZONE))


@pytest.fixture
def app(db_url: str, office_clock: MovableClock) -> FastAPI:
    app = create_app(db_url, clock=office_clock)
    seed_office(app.state.store)
    load_day(app.state.store, HAND_BUILT_DAY)
    return app


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    """An administrator's view (a short-lived admin token sees every office)."""
    with TestClient(app, headers=bearer(app.state.store, TokenKind.ADMIN)) as client:
        yield client


def test_the_day_report_has_the_pure_figures_and_last_week_beside_them(api: TestClient) -> None:
    answer = api.get(f"{BASE}/{OFFICE}/days/2026-03-02")
    assert answer.status_code == 200
    report = DayReport.model_validate(answer.json())
    assert report.day.figures() == day_figures(fold_events(HAND_BUILT_DAY), DAY, target_minutes=15)
    assert report.day.total.service_level == 0.75  # derived figures are in the JSON too
    assert report.same_weekday_last_week.date.isoformat() == "2026-02-23"
    assert not report.same_weekday_last_week.has_data
    assert report.names["d1"] == "Platz 1"
    assert report.names["s2"] == "Leistung s2"


def test_a_date_without_data_is_refused_clearly(api: TestClient) -> None:
    answer = api.get(f"{BASE}/{OFFICE}/days/2026-03-09")
    assert answer.status_code == 404
    detail = answer.json()["detail"]
    assert detail["message"] == MSG_NO_DATA
    assert detail["params"] == {"date": "09.03.2026"}
    assert detail["reason"] == "no tickets on 2026-03-09"


def test_an_unknown_office_is_refused(api: TestClient) -> None:
    for path in ("days/2026-03-02", "live"):
        answer = api.get(f"{BASE}/nirgendwo/{path}")
        assert answer.status_code == 404
        assert answer.json()["detail"]["message"] == MSG_UNKNOWN_OFFICE


def test_a_clerk_gets_403_and_no_figures(app: FastAPI) -> None:
    clerk = clerk_auth(app.state.store, "ws-stats", OFFICE, clerk_of("d1"))
    with signed_client(app, clerk) as api:
        answers = [api.get(f"{BASE}/{OFFICE}/{path}") for path in ("days/2026-03-02", "live")]
    for answer in answers:
        assert answer.status_code == 403
        assert answer.json() == {
            "detail": {
                "reason": "statistics need a supervisor's login",
                "message": MSG_NOT_SUPERVISOR,
                "params": {},
            }
        }


def test_a_supervisor_sees_the_own_office_and_another_office_looks_unknown(app: FastAPI) -> None:
    central = app.state.store
    with central.write() as session:
        session.add(store.Office(id="other", name="Anderes Amt"))
        session.flush()
        session.add(store.Clerk(id="other-lead", office_id="other", name="Leitung", role="supervisor"))
        session.add(store.Clerk(id="lead", office_id=OFFICE, name="Leitung", role="supervisor"))
    own = clerk_auth(central, "ws-own", OFFICE, "lead")
    foreign = clerk_auth(central, "ws-other", "other", "other-lead")
    with signed_client(app, own) as api:
        assert api.get(f"{BASE}/{OFFICE}/days/2026-03-02").status_code == 200
    with signed_client(app, foreign) as api:
        answer = api.get(f"{BASE}/{OFFICE}/days/2026-03-02")
    assert answer.status_code == 404
    assert answer.json()["detail"]["message"] == MSG_UNKNOWN_OFFICE


def test_the_live_office(api: TestClient) -> None:
    live = LiveOffice.model_validate(api.get(f"{BASE}/{OFFICE}/live").json())
    # W3 (s1) waits since 09:20: 10 min at 09:30 is two thirds of the 15 min target
    assert [(s.service_id, s.waiting, s.longest_wait_seconds, s.level) for s in live.services] == [
        ("s1", 1, 600.0, "warning")
    ]
    assert live.waiting_total == 1
    assert [(d.desk_id, d.activity, d.since) for d in live.desks] == [
        ("d1", "idle", datetime(2026, 3, 2, 9, 1, tzinfo=OFFICE_ZONE)),
        ("d2", "idle", datetime(2026, 3, 2, 9, 14, tzinfo=OFFICE_ZONE)),
        ("d3", "idle", None),
    ]
    # d1 and d2 served today and are idle while W3 waits for s1; d3 has not worked today
    assert [(a.kind, a.subject_id, a.message) for a in live.alerts] == [
        ("desk_idle_while_waiting", "d1", MSG_DESK_IDLE),
        ("desk_idle_while_waiting", "d2", MSG_DESK_IDLE),
    ]
    # 1 waiting × mean served time of today's finished cases (14, 10, 10 min) ÷ 2 desks at work
    assert live.estimated_walk_in_wait_seconds == pytest.approx(1 * (14 + 10 + 10) * 60 / 3 / 2)


def test_the_live_office_alerts_a_service_over_target(api: TestClient, office_clock: MovableClock) -> None:
    office_clock.advance(minutes=10)
    live = LiveOffice.model_validate(api.get(f"{BASE}/{OFFICE}/live").json())
    assert live.services[0].level == "over_target"
    alert = live.alerts[0]
    assert (alert.kind, alert.message, alert.params) == (
        "service_over_target",
        MSG_SERVICE_OVER_TARGET,
        {"service": "Leistung s1", "minutes": "20", "target": "15"},
    )


def test_desks_calling_and_serving_show_what_they_do(app: FastAPI, api: TestClient) -> None:
    from tests.sync.test_statistics import at, call, serve

    load_day(app.state.store, [call("W3", at(9, 25), "d3")])
    live = LiveOffice.model_validate(api.get(f"{BASE}/{OFFICE}/live").json())
    d3 = live.desks[2]
    assert (d3.activity, d3.since, d3.clerk_id) == ("calling", at(9, 25), "c3")
    load_day(app.state.store, [serve("W3", at(9, 27), "d3")])
    live = LiveOffice.model_validate(api.get(f"{BASE}/{OFFICE}/live").json())
    assert (live.desks[2].activity, live.desks[2].since) == ("serving", at(9, 27))
    assert live.services == []


def test_a_ticket_left_waiting_yesterday_is_not_in_todays_queue(app: FastAPI, api: TestClient) -> None:
    from sync.statistics import Event, EventKind
    from tests.sync.test_statistics import at

    load_day(
        app.state.store, [Event(EventKind.ISSUE, "Y1", at(16, 0) - timedelta(days=1), service_ids=("s2",))]
    )
    live = LiveOffice.model_validate(api.get(f"{BASE}/{OFFICE}/live").json())
    assert [s.service_id for s in live.services] == ["s1"]
    assert live.waiting_total == 1


def test_a_ticket_for_two_of_a_desks_services_waits_once_in_the_idle_alert(
    app: FastAPI, api: TestClient
) -> None:
    with app.state.store.write() as session:
        ticket = store.Ticket(
            id="two-services",
            office_id=OFFICE,
            number="W9",
            issued_at=datetime(2026, 3, 2, 9, 25, tzinfo=OFFICE_ZONE),
            priority=0,
            state="waiting",
            origin="kiosk",
            service_ids=["s1", "s2"],  # every desk here offers both
        )
        session.add(ticket)
        session.flush()
        store.stamp(session, OFFICE, [ticket])
    live = LiveOffice.model_validate(api.get(f"{BASE}/{OFFICE}/live").json())
    assert live.waiting_total == 2  # W3 and W9
    idle = [a for a in live.alerts if a.kind == "desk_idle_while_waiting"]
    assert idle
    assert {a.params["waiting"] for a in idle} == {"2"}  # not 3: W9 counts once, not per service
