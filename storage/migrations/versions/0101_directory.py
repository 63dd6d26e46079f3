"""member directory: profiles, their facets, welcomes

Revision ID: 0101_directory
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

revision: str = "0101_directory"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("directory",)
depends_on: str | Sequence[str] | None = "0002_search"


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("structure", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.Column("territories", JSON_TYPE, nullable=False),
        sa.Column("tags", JSON_TYPE, nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
        sa.UniqueConstraint("user_id", name=op.f("uq_profiles_user_id")),
    )
    op.create_index("ix_profiles_listed", "profiles", ["visible", "pending"])
    op.create_table(
        "profile_facets",
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column(
            "value",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_profile_facets_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("facet", "value", "profile_id", name=op.f("pk_profile_facets")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_profile_facets_profile", "profile_facets", ["profile_id"])
    op.create_table(
        "welcomes",
        sa.Column("group_key", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group_key", "user_id", name=op.f("pk_welcomes")),
    )
    op.create_index("ix_welcomes_waiting", "welcomes", ["posted", "joined_at"])
    op.create_index("ix_welcomes_user", "welcomes", ["user_id"])


def downgrade() -> None:
    op.drop_table("welcomes")
    op.drop_table("profile_facets")
    op.drop_table("profiles")
