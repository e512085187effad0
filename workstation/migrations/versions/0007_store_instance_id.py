"""store instance: which instance of the store a file is, so a copied file is told apart

Revision ID: store_instance_id
Revises: 0006
Create Date: 2026-12-03 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Named, not numbered: another branch adds a revision after 0006 at the same time.
revision = "store_instance_id"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_instance",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("copied_from", sa.String(length=36), nullable=True),
        sa.Column("copied_at", sa.DateTime(), nullable=True),
        sa.Column("retired_workstation_ids", sa.JSON(), nullable=False),
        sa.Column("number_mark", sa.String(length=2), nullable=True),
        sa.PrimaryKeyConstraint("instance_id"),
    )


def downgrade() -> None:
    op.drop_table("store_instance")
