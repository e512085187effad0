"""Clerk PINs and passwords: one argon2id rule for the central service and the workstation's
offline cache, so a verifier made on one side checks on the other.

The parameters are OWASP's minimum for argon2id (19 MiB, 2 passes): a login costs some 30 ms, and a
stolen verifier of a six-digit PIN still costs an attacker hours per clerk rather than seconds.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 128
# The lockout, the same online (central) and offline (the workstation's cached verifier).
MAX_PIN_FAILURES = 5
LOCKOUT = timedelta(minutes=15)

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def make_verifier(pin: str) -> str:
    return _HASHER.hash(pin)


def verify(verifier: str, pin: str) -> bool:
    try:
        return _HASHER.verify(verifier, pin)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def dummy_verifier() -> str:
    """Checked against when the clerk is unknown: an unknown clerk costs the time of a wrong PIN."""
    return make_verifier("not the PIN of anyone")


def derive_key(pin: str, salt: bytes) -> bytes:
    """32 bytes argon2id derives from `pin` with the verifiers' parameters: what seals the workstation's
    offline-login key (`workstation.offline_key`), as costly to guess as the cached verifier."""
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        pin.encode("utf-8"),
        salt,
        time_cost=_HASHER.time_cost,
        memory_cost=_HASHER.memory_cost,
        parallelism=_HASHER.parallelism,
        hash_len=32,
        type=Type.ID,
    )
