"""Schemathesis over the central service's own /openapi.json: generated requests, positive and
negative, against the real app on a seeded SQLite database, sent with credentials: signed by an
enrolled workstation of the seeded office with its supervisor logged in (so the statistics answer
too). No server error, no status or answer the document does not describe. Bounded and
derandomized, so a run is repeatable and takes seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from sync.central.app import create_app
from sync.central.seed import BUERGERAMT_ID, generate_day
from tests.credentials import clerk_auth, signed_client
from tests.sync.support import DAY, central_clock, seeded_central_db

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from schemathesis import Case
    from schemathesis.schemas import BaseSchema


@pytest.fixture(scope="module")
def central_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    url = seeded_central_db(
        tmp_path_factory.mktemp("schemathesis") / "central.sqlite3", generate_day(DAY, seed=7)
    )
    return create_app(url, clock=central_clock)


@pytest.fixture(scope="module")
def api_schema(central_app: FastAPI) -> BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", central_app)


def supervisor_login(central_app: FastAPI) -> httpx.Auth:
    return clerk_auth(central_app.state.store, "ws-schemathesis", BUERGERAMT_ID, f"{BUERGERAMT_ID}-c1")


@pytest.fixture(scope="module")
def supervisor(central_app: FastAPI) -> Iterator[TestClient]:
    with signed_client(central_app, supervisor_login(central_app)) as client:
        yield client


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex=r"/events$")  # endless streams


@schema.parametrize()
@settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_central_service_answers_as_its_document_says(
    case: Case[Any], supervisor: TestClient, central_app: FastAPI
) -> None:
    if case.query and "wait" in case.query:
        case.query["wait"] = 0  # a long poll would hold each example up to 30 s
    request = case.as_transport_kwargs(base_url="http://testserver")
    body = request.pop("data", None)
    if body is not None:
        request["content"] = body
    request.pop("cookies", None)
    # A fresh login per example (DELETE /sessions/current, generated too, ends the session), and
    # sent by the signed client, so every request carries a signature of exactly what is sent.
    supervisor.auth = supervisor_login(central_app)
    response = supervisor.request(**request)
    # Not checked: the Allow header of a 405. Where two routes share a path (GET and POST
    # /appointments) Starlette's 405 names only the first route's method; noted in docs/architecture.md.
    case.validate_response(response, excluded_checks=[schemathesis.checks.allow_header_conformance])
