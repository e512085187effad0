"""Where a workstation stands with the central service, read from its local store alone.

For `tresen sync status`: an administrator at a desk whose clerk says "my work did not arrive" sees
the identity, the cursor, what is pending or was rejected and when the central service last
answered — without the app running and without the network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from workstation.models import DeskLease, OperationStatus, OutboxOperation, StoreInstance, SyncState

if TYPE_CHECKING:
    from datetime import datetime

    from workstation.db import LocalStore


@dataclass(frozen=True)
class RejectedOperation:
    seq: int
    kind: str
    created_at: datetime
    reason: str | None  # English, the central service's reason


@dataclass(frozen=True)
class HeldLease:
    ticket_id: str
    desk_id: str
    token: int
    valid_until: datetime  # on this workstation's clock


@dataclass(frozen=True)
class CopiedInstance:
    """What `workstation.store_instance` found when the store was opened as a copy."""

    instance_id: str
    copied_from: str
    copied_at: datetime | None
    retired_workstation_ids: tuple[str, ...]  # the original's identities: this copy syncs as none
    number_mark: str | None  # the letter of this copy's walk-in numbers
    identity_retired: bool  # the identity asked about is one of them: nothing syncs until enrolled


@dataclass(frozen=True)
class SyncOverview:
    workstation_id: str
    office_id: str | None
    cursor: int
    epoch: str | None
    acked_seq: int
    pending: int
    oldest_pending_at: datetime | None
    rejected: tuple[RejectedOperation, ...]
    last_push_at: datetime | None
    last_pull_at: datetime | None
    last_error: str | None
    leases: tuple[HeldLease, ...] = ()
    copy: CopiedInstance | None = None  # the store was found a copy of another instance

    def as_json(self) -> dict[str, Any]:
        """Plain JSON types (times as ISO 8601), for `--json` and for scripts."""
        jsonable: dict[str, Any] = _jsonable(asdict(self))
        return jsonable


def sync_overview(store: LocalStore, workstation_id: str, *, rejected_limit: int = 20) -> SyncOverview:
    """The workstation's sync state; the `rejected_limit` newest rejected operations are listed."""
    with store.session() as session:
        state = session.get(SyncState, workstation_id)
        pending, oldest = session.execute(
            select(func.count(), func.min(OutboxOperation.created_at)).where(
                OutboxOperation.workstation_id == workstation_id,
                OutboxOperation.status == OperationStatus.PENDING,
            )
        ).one()
        rejected_rows = session.scalars(
            select(OutboxOperation)
            .where(
                OutboxOperation.workstation_id == workstation_id,
                OutboxOperation.status == OperationStatus.REJECTED,
            )
            .order_by(OutboxOperation.seq.desc())
            .limit(rejected_limit)
        ).all()
        rejected = tuple(
            RejectedOperation(row.seq, row.kind, row.created_at, row.last_error) for row in rejected_rows
        )
        leases = tuple(
            HeldLease(row.ticket_id, row.desk_id, row.token, row.valid_until)
            for row in session.scalars(select(DeskLease).order_by(DeskLease.desk_id, DeskLease.ticket_id))
        )
        instance = session.scalar(select(StoreInstance))
        copy = (
            CopiedInstance(
                instance.instance_id,
                instance.copied_from,
                instance.copied_at,
                tuple(instance.retired_workstation_ids),
                instance.number_mark,
                workstation_id in instance.retired_workstation_ids,
            )
            if instance is not None and instance.copied_from is not None
            else None
        )
        return SyncOverview(
            workstation_id=workstation_id,
            office_id=state.office_id if state else None,
            cursor=state.cursor if state else 0,
            epoch=state.epoch if state else None,
            acked_seq=state.acked_seq if state else 0,
            pending=int(pending),
            oldest_pending_at=oldest,
            rejected=rejected,
            last_push_at=state.last_push_at if state else None,
            last_pull_at=state.last_pull_at if state else None,
            last_error=state.last_error if state else None,
            leases=leases,
            copy=copy,
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
