"""Schemathesis over the central service's own /openapi.json: generated requests, positive and
negative, against the real app on a seeded SQLite database. No server error, no status or answer
the document does not describe. Bounded and derandomized, so a run is repeatable and takes seconds.

Authentication is not yet enforced (issue 8's next step); once it is, this test gets credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from sync.central.app import create_app
from sync.central.seed import generate_day
from tests.sync.support import DAY, central_clock, seeded_central_db

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.schemas import BaseSchema


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> BaseSchema:
    url = seeded_central_db(
        tmp_path_factory.mktemp("schemathesis") / "central.sqlite3", generate_day(DAY, seed=7)
    )
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(url, clock=central_clock))


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex=r"/events$")  # endless streams


@schema.parametrize()
@settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_central_service_answers_as_its_document_says(case: Case[Any]) -> None:
    if case.query and "wait" in case.query:
        case.query["wait"] = 0  # a long poll would hold each example up to 30 s
    # Not checked: the Allow header of a 405. Where two routes share a path (GET and POST
    # /appointments) Starlette's 405 names only the first route's method; noted in docs/architecture.md.
    case.call_and_validate(excluded_checks=[schemathesis.checks.allow_header_conformance])
