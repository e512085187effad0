"""kassenzeichen ranges reserved per desk

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kassenzeichen_ranges",
        sa.Column("desk_id", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("first", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.Column("last_issued", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("desk_id"),
    )


def downgrade() -> None:
    op.drop_table("kassenzeichen_ranges")
