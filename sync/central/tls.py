"""The central service's own certificate authority: a CA and a server certificate for TLS, made with
`cryptography`, for offices without an operator's certificate (`tresen central tls`).

Workstations trust the CA file they are given at enrollment (`tresen enroll --ca-file`), not the
system's CAs alone, so a certificate from any public CA for the same name does not pass for the
office's central service. The CA's key is kept (`ca-key.pem`) so that the server certificate can be
renewed from the same CA (`tresen central tls --renew`) and every enrolled workstation goes on
trusting the service; the CA itself lasts ten years. Keys are written 0600 in a 0700 directory.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sync.certificates import self_signed_ca

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

CA_DAYS = 3650
SERVER_DAYS = 397  # what browsers accept for a server certificate


class TlsRefusal(Exception):
    """The files cannot be made or renewed as asked; the message is English (the CLI says it in German)."""


class CaExists(TlsRefusal):
    """A CA is in the directory already: a new one would make every enrolled workstation untrust it."""


class CaMissing(TlsRefusal):
    """Renewing needs the CA's certificate and key, and one of them is missing or unreadable."""


class CaKeyMismatch(TlsRefusal):
    """The kept key is not the key of the CA certificate beside it."""


class CaExpired(TlsRefusal):
    """The CA itself has run out: only a new CA (and a new CA file for every desk) helps."""


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    certificate: Path
    key: Path
    ca_key: Path  # only `tresen central tls --renew` reads it; the service never needs it

    @classmethod
    def in_dir(cls, out_dir: Path) -> TlsFiles:
        return cls(
            out_dir / "ca.pem", out_dir / "server.pem", out_dir / "server-key.pem", out_dir / "ca-key.pem"
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tresen"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _subject_alternative_names(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)  # an existing directory too: it holds the CA's key


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write to a temporary file created with `mode` and rename it over `path`: a reader (a restarting
    service) sees the old file or the new one, never half of it, and a key is never readable by others."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _server_certificate(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, hosts: Sequence[str], now: datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    server_key = ec.generate_private_key(ec.SECP256R1())
    # Never past the CA: a client would refuse the chain from the CA's last day on anyway.
    not_after = min(now + timedelta(days=SERVER_DAYS), ca.not_valid_after_utc)
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(_subject_alternative_names(hosts), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA384())
    )
    return server, server_key


def _write_server(files: TlsFiles, server: x509.Certificate, server_key: ec.EllipticCurvePrivateKey) -> None:
    _write(files.key, _key_pem(server_key), 0o600)
    _write(files.certificate, server.public_bytes(serialization.Encoding.PEM), 0o644)


def make_tls_files(out_dir: Path, hosts: Sequence[str], *, now: datetime | None = None) -> TlsFiles:
    """A new CA (its key kept beside it) and a server certificate for `hosts` (names or IP addresses),
    in `out_dir`. Refuses a directory that holds a CA already (`CaExists`): renew instead."""
    if not hosts:
        raise ValueError("at least one host name")
    now = now or datetime.now(UTC)
    files = TlsFiles.in_dir(out_dir)
    if files.ca.exists() or files.ca_key.exists():
        raise CaExists(f"{out_dir} holds a CA already")
    _private_dir(out_dir)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca = self_signed_ca(
        ca_key, _name("Tresen Zentrale CA"), now - timedelta(minutes=5), now + timedelta(days=CA_DAYS)
    )
    _write(files.ca_key, _key_pem(ca_key), 0o600)
    _write(files.ca, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    _write_server(files, *_server_certificate(ca, ca_key, hosts, now))
    return files


def server_hosts(certificate: x509.Certificate) -> list[str]:
    """The names and addresses a server certificate is for, in its order."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in names if isinstance(name, x509.DNSName | x509.IPAddress)]


def _load_ca(files: TlsFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    except (OSError, ValueError) as error:
        raise CaMissing(f"CA certificate {files.ca} unreadable: {type(error).__name__}") from None
    try:
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise CaMissing(f"CA key {files.ca_key} unreadable: {type(error).__name__}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != ca.public_key():
        raise CaKeyMismatch(f"{files.ca_key} is not the key of {files.ca}")
    return ca, key


def renew_server_certificate(
    out_dir: Path,
    hosts: Sequence[str] = (),
    *,
    ca_key: Path | None = None,
    now: datetime | None = None,
) -> tuple[TlsFiles, x509.Certificate]:
    """A new server key and certificate from the CA kept in `out_dir` (`ca.pem` stays as it is), for
    `hosts` or, without, the names of the certificate it replaces; `ca_key`: the CA's key where the
    operator keeps it away from the service (else `out_dir/ca-key.pem`). The service reads its
    certificate at start: restart it afterwards."""
    now = now or datetime.now(UTC)
    files = TlsFiles.in_dir(out_dir)
    ca, key_of_ca = _load_ca(replace(files, ca_key=ca_key) if ca_key is not None else files)
    if ca.not_valid_after_utc <= now + timedelta(days=1):
        raise CaExpired(f"the CA expires {ca.not_valid_after_utc:%Y-%m-%d}")
    if not hosts:
        try:
            hosts = server_hosts(x509.load_pem_x509_certificate(files.certificate.read_bytes()))
        except (OSError, ValueError):
            hosts = []
        if not hosts:
            raise ValueError("no host names: name them (the old certificate is missing or has none)")
    _private_dir(out_dir)
    server, server_key = _server_certificate(ca, key_of_ca, hosts, now)
    _write_server(files, server, server_key)
    return files, server
