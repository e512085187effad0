"""How the engine reads a duplicate push answer: the server's `original_status` decides; without it
(older servers) the shape of the stored result does."""

from __future__ import annotations

from sync.protocol import OperationResult
from workstation.sync_engine import _duplicate_was_rejected


def _duplicate(**fields: object) -> OperationResult:
    return OperationResult.model_validate(
        {"op_id": "0190f0aa-0000-7000-8000-000000000001", "seq": 3, "status": "duplicate", **fields}
    )


def test_original_status_decides_even_when_a_reason_is_present() -> None:
    assert not _duplicate_was_rejected(_duplicate(original_status="applied", reason="angewendet mit Hinweis"))
    assert _duplicate_was_rejected(_duplicate(original_status="rejected", reason="schon aufgerufen"))


def test_without_original_status_an_unflagged_reason_means_rejected() -> None:
    assert _duplicate_was_rejected(_duplicate(reason="schon aufgerufen"))
    assert not _duplicate_was_rejected(_duplicate(reason="zur Prüfung markiert", flagged=True))
    assert not _duplicate_was_rejected(_duplicate())
