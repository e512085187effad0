"""the desk's leases on waiting tickets (F2 calls from them without the network)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_leases",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("desk_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_desk_leases_desk_id", "desk_leases", ["desk_id"])


def downgrade() -> None:
    op.drop_index("ix_desk_leases_desk_id", "desk_leases")
    op.drop_table("desk_leases")
