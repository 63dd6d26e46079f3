"""the resource library

Revision ID: 0701_ressources
Revises:
Depends on: 0002_search (the shared search index)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON on SQLite, JSONB on PostgreSQL (what storage.base.JSONType maps to).
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0701_ressources"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("ressources",)
depends_on: str | Sequence[str] | None = "0002_search"


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", JSON_TYPE, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.String(length=255), nullable=True),
        sa.Column("author_name", sa.String(length=255), nullable=True),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("featured_week", sa.String(length=10), nullable=True),
        sa.Column("featured_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
        sa.UniqueConstraint("digest_id", name=op.f("uq_resources_digest_id")),
    )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_featured_week"), ["featured_week"], unique=False)
        batch_op.create_index("ix_resources_kind_created", ["kind", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_index("ix_resources_kind_created")
        batch_op.drop_index(batch_op.f("ix_resources_featured_week"))
        batch_op.drop_index(batch_op.f("ix_resources_event_id"))
        batch_op.drop_index(batch_op.f("ix_resources_author_id"))

    op.drop_table("resources")
