"""`tresen seal demo-token`: a SoftHSM2 token with a test office seal key, its certificate and CA.

For the demo and the tests only. Everything lives in one directory (default: the user's data
directory, TRESEN_SEAL_DIR overrides): softhsm2.conf, tokens/, ca.pem, seal.pem. SoftHSM2 reads
SOFTHSM2_CONF when the PKCS#11 library initialises, so this module points SOFTHSM2_CONF at the
demo's configuration (`use_demo_softhsm`) and never touches the system token directory.

The seal key is generated on the token (not extractable); the test CA's key exists only while the
certificate is made and is then discarded, so nothing can issue further certificates under it.
The PINs go to the keyring.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass

from devices.seal.config import SealConfig, demo_token_dir
from devices.seal.pin_store import PinStore
from devices.seal.token import find_token
from sync.certificates import self_signed_ca

if TYPE_CHECKING:
    from pathlib import Path

SO_PIN_ACCOUNT_SUFFIX = " (SO)"
SEAL_KEY_BITS = 3072  # BSI TR-02102-1: RSA with at least 3000 bits
KEY_ID = b"\x01"


class DemoTokenError(RuntimeError):
    """The demo token could not be made; `str()` is German."""


@dataclass(frozen=True)
class DemoToken:
    directory: Path
    softhsm_conf: Path
    ca_certificate: Path
    seal_certificate: Path
    config: SealConfig


def softhsm_conf_path(directory: Path) -> Path:
    return directory / "softhsm2.conf"


def use_demo_softhsm(directory: Path | None = None) -> bool:
    """Point SOFTHSM2_CONF at the demo token unless it is set already; True if the demo conf is used."""
    conf = softhsm_conf_path(directory or demo_token_dir())
    if "SOFTHSM2_CONF" in os.environ:
        return os.environ["SOFTHSM2_CONF"] == str(conf)
    if conf.exists():
        os.environ["SOFTHSM2_CONF"] = str(conf)
        return True
    return False


def create_demo_token(
    directory: Path | None = None,
    pins: PinStore | None = None,
    *,
    office: str = "Bürgeramt Mülheim",
    replace: bool = False,
    valid_from: datetime | None = None,
    valid_days: int = 730,
) -> DemoToken:
    directory = directory or demo_token_dir()
    pins = pins or PinStore()
    tokens = directory / "tokens"
    if tokens.exists() and any(tokens.iterdir()):
        if not replace:
            raise DemoTokenError(
                f"Im Ordner {directory} gibt es schon ein Demo-Token (--replace ersetzt es)."
            )
        shutil.rmtree(tokens)
    tokens.mkdir(parents=True, mode=0o700)
    conf = softhsm_conf_path(directory)
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n", encoding="utf-8"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)

    config = SealConfig(trust_roots=(directory / "ca.pem",))
    user_pin, so_pin = _new_pin(), _new_pin()
    _init_token(conf, config.token_label, user_pin, so_pin)
    pins.set_pin(config.token_label, user_pin)
    pins.set_pin(config.token_label + SO_PIN_ACCOUNT_SUFFIX, so_pin)

    start = valid_from or datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_cert = _ca_certificate(ca_key, start, valid_days)
    with find_token(config).open(user_pin=user_pin, rw=True) as session:
        public, _ = session.generate_keypair(
            KeyType.RSA,
            SEAL_KEY_BITS,
            id=KEY_ID,
            label=config.key_label,
            store=True,
            private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
        )
        seal_public = rsa.RSAPublicNumbers(
            int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(public[Attribute.MODULUS], "big"),
        ).public_key()
        seal_cert = _seal_certificate(seal_public, ca_cert, ca_key, office, start, valid_days)
        der = seal_cert.public_bytes(serialization.Encoding.DER)
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: config.key_label,
                Attribute.ID: KEY_ID,
                Attribute.SUBJECT: seal_cert.subject.public_bytes(),
                Attribute.VALUE: der,
            }
        )
    ca_path, seal_path = directory / "ca.pem", directory / "seal.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    seal_path.write_bytes(seal_cert.public_bytes(serialization.Encoding.PEM))
    return DemoToken(directory, conf, ca_path, seal_path, config)


def _new_pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(8))


def _init_token(conf: Path, label: str, user_pin: str, so_pin: str) -> None:
    tool = shutil.which("softhsm2-util")
    if tool is None:
        raise DemoTokenError("softhsm2-util fehlt (Paket softhsm2 installieren).")
    result = subprocess.run(
        [tool, "--init-token", "--free", "--label", label, "--pin", user_pin, "--so-pin", so_pin],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DemoTokenError(f"SoftHSM2-Token konnte nicht angelegt werden: {result.stderr.strip()}")
    pkcs11.lib(str(SealConfig().module)).reinitialize()  # see the new token in this process


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tresen Testdaten – nicht für den Echtbetrieb"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_certificate(key: ec.EllipticCurvePrivateKey, start: datetime, days: int) -> x509.Certificate:
    return self_signed_ca(key, _name("Tresen Test-CA"), start, start + timedelta(days=days + 365))


def _seal_certificate(
    public: rsa.RSAPublicKey,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    office: str,
    start: datetime,
    days: int,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name(f"Dienstsiegel {office} (TEST)"))
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA384())
    )
