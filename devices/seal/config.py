"""Which token seals: module, token label, key label, and the CA the seal is validated against."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_path

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
DEFAULT_TOKEN_LABEL = "Tresen Dienstsiegel"
DEFAULT_KEY_LABEL = "dienstsiegel"


def demo_token_dir() -> Path:
    """Where `tresen seal demo-token` keeps its SoftHSM2 token and CA (TRESEN_SEAL_DIR overrides)."""
    explicit = os.environ.get("TRESEN_SEAL_DIR")
    return Path(explicit) if explicit else user_data_path("tresen") / "demo-seal"


@dataclass(frozen=True)
class SealConfig:
    module: Path = Path(SOFTHSM_MODULE)
    token_label: str = DEFAULT_TOKEN_LABEL
    key_label: str = DEFAULT_KEY_LABEL
    trust_roots: tuple[Path, ...] = ()  # PEM or DER CA certificates for validation
    reason: str = "Amtliches Dokument, elektronisch gesiegelt"
    location: str | None = None

    @classmethod
    def from_env(cls) -> SealConfig:
        """TRESEN_SEAL_MODULE / _TOKEN / _KEY / _CA; the demo token's CA when nothing else is set."""
        ca = os.environ.get("TRESEN_SEAL_CA")
        demo_ca = demo_token_dir() / "ca.pem"
        roots = (Path(ca),) if ca else ((demo_ca,) if demo_ca.exists() else ())
        return cls(
            module=Path(os.environ.get("TRESEN_SEAL_MODULE", SOFTHSM_MODULE)),
            token_label=os.environ.get("TRESEN_SEAL_TOKEN", DEFAULT_TOKEN_LABEL),
            key_label=os.environ.get("TRESEN_SEAL_KEY", DEFAULT_KEY_LABEL),
            trust_roots=roots,
        )
