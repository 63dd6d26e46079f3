"""weak signals, feeds and digests

Revision ID: 0201_signals
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

revision: str = "0201_signals"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("signals",)
depends_on: str | Sequence[str] | None = "0002_search"


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", JSON_TYPE, nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("rooms", JSON_TYPE, nullable=False),
        sa.Column("published_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("week", name=op.f("uq_digests_week")),
    )
    op.create_table(
        "feed_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feed_url", sa.String(length=2000), nullable=False),
        sa.Column("feed_name", sa.String(length=200), nullable=False),
        sa.Column("guid", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("keywords", JSON_TYPE, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_items")),
        sa.UniqueConstraint("guid", name="uq_feed_items_guid"),
    )
    with op.batch_alter_table("feed_items", schema=None) as batch_op:
        batch_op.create_index("ix_feed_items_status", ["status", "id"], unique=False)

    op.create_table(
        "feed_states",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_feed_states")),
    )
    op.create_table(
        "signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("theme", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("url_key", sa.String(length=2000), nullable=True),
        sa.Column("observation", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("nature", sa.String(length=32), nullable=False),
        sa.Column("horizon", sa.String(length=16), nullable=True),
        sa.Column("territory", sa.String(length=100), nullable=True),
        sa.Column("source_kind", sa.String(length=32), nullable=True),
        sa.Column("tags", JSON_TYPE, nullable=False),
        sa.Column("related", JSON_TYPE, nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("status_by", sa.String(length=255), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.String(length=255), nullable=True),
        sa.Column("author_name", sa.String(length=255), nullable=True),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("support_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint("url_key", name=op.f("uq_signals_url_key")),
    )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signals_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_signals_created", ["created_at"], unique=False)
        batch_op.create_index("ix_signals_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "signal_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=True),
        sa.Column("author_name", sa.String(length=255), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_signal_comments_signal_id_signals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_comments")),
    )
    with op.batch_alter_table("signal_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signal_comments_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signal_comments_signal_id"), ["signal_id"], unique=False)

    op.create_table(
        "signal_supports",
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("reaction_event_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_signal_supports_signal_id_signals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("signal_id", "user_id", name=op.f("pk_signal_supports")),
    )
    with op.batch_alter_table("signal_supports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signal_supports_reaction_event_id"), ["reaction_event_id"], unique=False
        )
        batch_op.create_index("ix_signal_supports_user", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signal_supports", schema=None) as batch_op:
        batch_op.drop_index("ix_signal_supports_user")
        batch_op.drop_index(batch_op.f("ix_signal_supports_reaction_event_id"))

    op.drop_table("signal_supports")
    with op.batch_alter_table("signal_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signal_comments_signal_id"))
        batch_op.drop_index(batch_op.f("ix_signal_comments_author_id"))

    op.drop_table("signal_comments")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index("ix_signals_status_created")
        batch_op.drop_index("ix_signals_created")
        batch_op.drop_index(batch_op.f("ix_signals_author_id"))

    op.drop_table("signals")
    op.drop_table("feed_states")
    with op.batch_alter_table("feed_items", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_items_status")

    op.drop_table("feed_items")
    op.drop_table("digests")
