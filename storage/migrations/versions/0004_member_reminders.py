"""member setting: reminders the bot sends on its own (`!rappels non`)

Revision ID: 0004_member_reminders
Revises: 0003_search_covering_key
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_member_reminders"
down_revision: str | None = "0003_search_covering_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminders", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("member_settings", schema=None) as batch_op:
        batch_op.drop_column("reminders")
