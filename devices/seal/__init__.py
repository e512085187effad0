"""The office seal: PAdES certifying signatures with a key on a PKCS#11 token (python-pkcs11 + pyHanko)."""

from devices.seal.errors import SealError, SealFailure

__all__ = ["SealError", "SealFailure"]
