"""Issue 8: TLS for the central service, verified by every client against the CA it was given; plain
HTTP only on loopback, and the service refuses to listen elsewhere without TLS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sync.central.app import create_app
from sync.central.tls import make_tls_files
from sync.client import MSG_INSECURE, CentralClient, CentralError
from sync.serving import bind_loopback, serve_in_thread
from sync.transport_security import InsecureAddress, require_secure_url, tls_verification
from tresen.cli import main as tresen

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sync.central.tls import TlsFiles


@pytest.fixture
def tls_central(tmp_path: Path, central_url: str) -> Iterator[tuple[str, TlsFiles]]:
    files = make_tls_files(tmp_path / "tls", ["127.0.0.1", "localhost"])
    sock = bind_loopback("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server, thread = serve_in_thread(
        create_app(central_url),
        sock,
        name="tls-central",
        ssl_certfile=str(files.certificate),
        ssl_keyfile=str(files.key),
    )
    yield f"https://127.0.0.1:{port}", files
    server.should_exit = True
    thread.join(timeout=10)


def test_a_client_with_the_ca_gets_through_and_one_without_it_does_not(
    tls_central: tuple[str, TlsFiles], tmp_path: Path
) -> None:
    url, files = tls_central
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    with CentralClient(url, timeout=5.0, verify=tls_verification(files.ca)) as trusted:
        assert trusted.health().status == "ok"
    with CentralClient(url, timeout=5.0) as system_cas, pytest.raises(CentralError) as refused:
        system_cas.health()  # the office's own CA is not among the system's
    assert "ConnectError" in refused.value.log_message
    other = make_tls_files(tmp_path / "other", ["127.0.0.1"])
    with (
        CentralClient(url, timeout=5.0, verify=tls_verification(other.ca)) as foreign,
        pytest.raises(CentralError),
    ):
        foreign.health()


def test_plain_http_is_only_for_this_machine() -> None:
    assert require_secure_url("http://127.0.0.1:8470") == "http://127.0.0.1:8470"
    assert require_secure_url("http://localhost:8470")
    assert require_secure_url("http://[::1]:8470")
    assert require_secure_url("https://zentrale.example:8470")
    for address in ("http://zentrale.example:8470", "http://10.1.2.3:8470", "ftp://127.0.0.1"):
        with pytest.raises(InsecureAddress):
            require_secure_url(address)
    with pytest.raises(CentralError) as refused:
        CentralClient("http://zentrale.example:8470")
    assert refused.value.user_message == MSG_INSECURE
    assert not refused.value.retryable


def test_the_service_will_not_listen_on_the_lan_without_tls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    assert tresen(["central", "serve", "--db", db, "--host", "0.0.0.0"]) == 2
    assert "--tls-cert" in capsys.readouterr().err
    assert tresen(["central", "serve", "--db", db, "--tls-cert", str(tmp_path / "x.pem")]) == 2
    assert "--tls-key" in capsys.readouterr().err
