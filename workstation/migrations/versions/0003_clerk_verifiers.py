"""clerk PIN verifiers cached for offline logins

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clerk_verifiers",
        sa.Column("clerk_id", sa.String(length=64), nullable=False),
        sa.Column("verifier", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("clerk_id"),
    )


def downgrade() -> None:
    op.drop_table("clerk_verifiers")
