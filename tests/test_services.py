"""The rule for tests that need a real service: fail under CI, skip with the reason outside it, and
a service fixture marks its tests so a lane without services can deselect them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services import SERVICE_FIXTURES, SERVICE_MARKERS, require_service, running_under_ci


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", " true "])
def test_ci_is_recognised(value: str) -> None:
    assert running_under_ci({"CI": value})


@pytest.mark.parametrize("environ", [{}, {"CI": ""}, {"CI": "false"}, {"CI": "0"}, {"OTHER": "true"}])
def test_not_ci(environ: dict[str, str]) -> None:
    assert not running_under_ci(environ)


def test_a_running_service_passes_in_and_out_of_ci() -> None:
    require_service(None, "pcscd", environ={"CI": "true"})
    require_service(None, "pcscd", environ={})


def test_a_missing_service_fails_under_ci_with_name_and_reason() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"pcscd is required under CI .*: no reader"):
        require_service("no reader", "pcscd", environ={"CI": "true"})


def test_a_missing_service_skips_with_name_and_reason_outside_ci() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"pcscd unavailable: no reader"):
        require_service("no reader", "pcscd", environ={"CI": "false"})


def test_every_service_fixture_names_a_declared_service_marker(pytestconfig: pytest.Config) -> None:
    declared = {line.split(":")[0].strip() for line in pytestconfig.getini("markers")}
    assert set(SERVICE_FIXTURES.values()) <= set(SERVICE_MARKERS) <= declared


# What a suite sees: a service fixture that cannot start, the suite's marker hook, and a test that
# uses the fixture without carrying the marker itself.
SUITE_CONFTEST = """
from pathlib import Path

import pytest
from tests.conftest import pytest_collection_modifyitems  # the suite's hook, as in tests/
from tests.services import require_service

@pytest.fixture
def pcsc_stack():
    require_service("pcscd is not installed", "pcscd")

@pytest.fixture
def postgres_server():
    require_service(None, "PostgreSQL")
"""
SUITE_TESTS = """
def test_reads_a_card(pcsc_stack):
    pass

def test_queries(postgres_server):
    pass

def test_pure():
    pass
"""
# The inner runs share this process: plugins with process-wide state (the snapshot plugin's temp dir)
# stay out of them.
INNER = ("-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:textual-snapshot", "--strict-markers")
DECLARED = "".join(f"    {name}: x\n" for name in ("serial", *SERVICE_MARKERS))
INI = f"[pytest]\nasyncio_default_fixture_loop_scope = function\nmarkers =\n{DECLARED}"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(SUITE_CONFTEST)
    pytester.makepyfile(test_suite=SUITE_TESTS)
    pytester.makeini(INI)
    return pytester


def test_under_ci_the_missing_service_fails_the_run(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest(*INNER)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*pcscd is required under CI but cannot run: pcscd is not installed*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_outside_ci_the_missing_service_skips_with_its_reason(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest(*INNER, "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*pcscd unavailable: pcscd is not installed*"])


def test_the_fixture_marks_its_tests_so_a_lane_can_deselect_them(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    without_services = " and ".join(f"not {marker}" for marker in SERVICE_MARKERS)
    result = suite.runpytest(*INNER, "-m", without_services)
    result.assert_outcomes(passed=1, deselected=2)


def test_the_quick_lane_deselects_every_service_marker() -> None:
    script = (Path(__file__).parents[1] / "installer" / "test.sh").read_text()
    (line,) = [line for line in script.splitlines() if line.startswith("SERVICE_MARKERS=")]
    assert line.split("=", 1)[1].strip('"').split() == list(SERVICE_MARKERS)
