"""One rule for every client of the central service: TLS, verified; plain HTTP only on loopback.

`require_secure_url` refuses `http://` to anything but this machine (development and the embedded
demo service), and `tls_verification` trusts the CA file a workstation was enrolled with.
"""

from __future__ import annotations

import ipaddress
import ssl
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pathlib import Path

LOOPBACK_NAMES = frozenset({"localhost"})


class InsecureAddress(ValueError):
    """A central service address that would send credentials and personal data in the clear."""


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and parts.hostname is not None and is_loopback(parts.hostname):
        return url
    raise InsecureAddress(f"{parts.scheme or '?'}://{parts.hostname or '?'}: only https, or http on loopback")


def tls_verification(ca_file: Path | None) -> ssl.SSLContext | bool:
    """The CA file's context, or True (the system's CAs) when none is configured."""
    if ca_file is None:
        return True
    return ssl.create_default_context(cafile=str(ca_file))
