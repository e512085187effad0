"""outbox without lease_token: the operation-level token predated leases and was never set (a call's
fencing token travels in its arguments)

Revision ID: 0008
Revises: store_instance_id
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "store_instance_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_token")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_token", sa.String(length=64), nullable=True))
