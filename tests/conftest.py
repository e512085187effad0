"""Suite-wide rules: no Hypothesis test depends on wall-clock time, a test that uses a service's
fixture carries that service's marker (see tests/services.py), so `-m "not pcsc ..."` deselects it
even where the test forgot the marker, and no test writes into the keyring or the state directory
of whoever runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from devices.secret_store import KEYRING_FILE_ENV, file_backend
from tests.services import SERVICE_FIXTURES
from workstation import audit_key

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from keyring.backend import KeyringBackend

# Hypothesis times each example (200 ms deadline) and its data generation (the too_slow health check):
# wall-clock checks that fail on a loaded machine. Off for every test, also where @settings forgets it.
# Loaded here, before any test module builds its @settings on top of the default profile.
settings.register_profile("tresen", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tresen")

# The virtual reader is one device for the whole machine: its tests run one at a time, on one worker.
_PCSC_MARKS = (pytest.mark.serial, pytest.mark.xdist_group("pcsc"))


# The sync tests' store and central fixtures, shared with tests/faults.
pytest_plugins = ["tests.sync_fixtures"]


@pytest.fixture(scope="session", autouse=True)
def suite_keyring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyringBackend]:
    """Secrets made on first use (the audit key) go to a keyring file of the test session, never
    into the user's keyring: TRESEN_KEYRING_FILE for this process and the processes tests start, and
    the audit key's backend set outright, so a test that changes the variable cannot divert it."""
    path = tmp_path_factory.mktemp("keyring") / "keyring.cfg"
    backend = file_backend(path)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEYRING_FILE_ENV, str(path))
        audit_key.use_backend(backend)
        try:
            yield backend
        finally:
            audit_key.use_backend(None)


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test, and each process it starts, has its own XDG state directory: the desk-number
    witness lives there (`workstation.number_witness`), and one test's numbers must not move
    another's; so do the store instance ids (`workstation.store_instance`)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


# tryfirst: the markers must be on the items before `-m` deselects and xdist groups them.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture, marker in SERVICE_FIXTURES.items():
            if fixture in fixtures and item.get_closest_marker(marker) is None:
                item.add_marker(marker)
        if item.get_closest_marker("pcsc") is not None:
            if item.get_closest_marker("serial") is None:
                item.add_marker(_PCSC_MARKS[0])
            if not any(mark.args[:1] == ("pcsc",) for mark in item.iter_markers("xdist_group")):
                item.add_marker(_PCSC_MARKS[1])
