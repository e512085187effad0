"""Issue 8: TLS for the central service, verified by every client against the CA it was given; plain
HTTP only on loopback, and the service refuses to listen elsewhere without TLS."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from cryptography import x509

from sync.central.app import create_app
from sync.central.tls import TlsFiles, make_tls_files, server_hosts
from sync.client import MSG_INSECURE, CentralClient, CentralError
from sync.serving import bind_loopback, serve_in_thread
from sync.transport_security import InsecureAddress, require_secure_url, tls_verification
from tresen.cli import main as tresen

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@contextmanager
def served_with(files: TlsFiles, central_url: str) -> Iterator[str]:
    """The central service over TLS with `files`' certificate; yields its https address."""
    sock = bind_loopback("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server, thread = serve_in_thread(
        create_app(central_url),
        sock,
        name="tls-central",
        ssl_certfile=str(files.certificate),
        ssl_keyfile=str(files.key),
    )
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def tls_central(tmp_path: Path, central_url: str) -> Iterator[tuple[str, TlsFiles]]:
    files = make_tls_files(tmp_path / "tls", ["127.0.0.1", "localhost"])
    with served_with(files, central_url) as url:
        yield url, files


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


def _certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_ca_key_is_kept_private_and_a_second_ca_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tls"
    assert tresen(["central", "tls", "--out", str(out), "--host", "zentrale.example"]) == 0
    files = TlsFiles.in_dir(out)
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    assert oct(files.ca_key.stat().st_mode & 0o777) == "0o600"
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    ca = files.ca.read_bytes()
    capsys.readouterr()
    # Making a CA again in its folder would leave every enrolled desk with a CA file that no longer fits.
    assert tresen(["central", "tls", "--out", str(out), "--host", "zentrale.example"]) == 2
    assert "In " + str(out) + " liegt schon eine CA" in capsys.readouterr().err
    assert files.ca.read_bytes() == ca


def test_a_renewed_certificate_is_trusted_by_a_client_that_has_the_ca_file(
    tmp_path: Path, central_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = make_tls_files(tmp_path / "tls", ["127.0.0.1", "localhost"])
    desk_ca = tmp_path / "desk-ca.pem"  # what a workstation got at enrollment
    desk_ca.write_bytes(files.ca.read_bytes())
    before = _certificate(files.certificate)
    old_key = files.key.read_bytes()

    assert tresen(["central", "tls", "--out", str(files.ca.parent), "--renew"]) == 0
    assert "Serverzertifikat erneuert" in capsys.readouterr().out

    renewed = _certificate(files.certificate)
    assert files.ca.read_bytes() == desk_ca.read_bytes()
    assert renewed.serial_number != before.serial_number
    assert files.key.read_bytes() != old_key
    assert server_hosts(renewed) == ["127.0.0.1", "localhost"]  # the names of the one it replaces
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    with (
        served_with(files, central_url) as url,
        CentralClient(url, timeout=5.0, verify=tls_verification(desk_ca)) as trusted,
    ):
        assert trusted.health().status == "ok"


def test_renewing_without_the_ca_key_fails_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = make_tls_files(tmp_path / "tls", ["127.0.0.1"])
    files.ca_key.unlink()
    certificate = files.certificate.read_bytes()
    assert tresen(["central", "tls", "--out", str(files.ca.parent), "--renew"]) == 2
    err = capsys.readouterr().err
    assert "Erneuern nicht möglich" in err
    assert "ihr Schlüssel (ca-key.pem" in err
    assert files.certificate.read_bytes() == certificate


def test_renewing_with_another_cas_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = make_tls_files(tmp_path / "tls", ["127.0.0.1"])
    other = make_tls_files(tmp_path / "other", ["127.0.0.1"])
    files.ca_key.write_bytes(other.ca_key.read_bytes())
    certificate = files.certificate.read_bytes()
    assert tresen(["central", "tls", "--out", str(files.ca.parent), "--renew"]) == 2
    assert "ca-key.pem in " in capsys.readouterr().err
    assert files.certificate.read_bytes() == certificate


def test_the_ca_key_may_be_kept_away_from_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = make_tls_files(tmp_path / "tls", ["zentrale.example"])
    away = tmp_path / "usb" / "ca-key.pem"
    away.parent.mkdir()
    files.ca_key.rename(away)
    before = _certificate(files.certificate).serial_number
    assert tresen(["central", "tls", "--out", str(files.ca.parent), "--renew"]) == 2
    assert "Erneuern nicht möglich" in capsys.readouterr().err
    assert tresen(["central", "tls", "--out", str(files.ca.parent), "--renew", "--ca-key", str(away)]) == 0
    renewed = _certificate(files.certificate)
    assert renewed.serial_number != before
    assert renewed.issuer == _certificate(files.ca).subject
    assert not files.ca_key.exists()  # the key stays where it was kept
