"""kassenzeichen ranges: the next range reserved by the central service, held beside the current one

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kassenzeichen_ranges") as batch:
        batch.add_column(sa.Column("next_prefix", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("next_first", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_last", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kassenzeichen_ranges") as batch:
        batch.drop_column("next_last")
        batch.drop_column("next_first")
        batch.drop_column("next_prefix")
