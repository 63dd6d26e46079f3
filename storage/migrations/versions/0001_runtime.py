"""runtime tables

Revision ID: 0001_runtime
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001_runtime"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("runtime",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_state")),
    )
    op.create_table(
        "conversations",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("form", sa.String(length=100), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("data", JSON_TYPE, nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_conversations")),
    )
    op.create_table(
        "direct_rooms",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_direct_rooms")),
    )
    with op.batch_alter_table("direct_rooms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_direct_rooms_room_id"), ["room_id"], unique=False)

    op.create_table(
        "inbox_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("origin_ts", sa.BigInteger(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_inbox_events_event_id")),
    )
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_events_pending", ["done", "id"], unique=False)

    op.create_table(
        "member_settings",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_member_settings")),
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("txn_id", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=True),
        sa.Column("room_id", sa.String(length=255), nullable=True),
        sa.Column("dm_user", sa.String(length=255), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("content", JSON_TYPE, nullable=False),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("attachment_name", sa.String(length=255), nullable=True),
        sa.Column("attachment_mime", sa.String(length=100), nullable=True),
        sa.Column("tag", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_messages_dedup_key")),
        sa.UniqueConstraint("txn_id", name=op.f("uq_outbox_messages_txn_id")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_messages_pending", ["status", "id"], unique=False)

    op.create_table(
        "sent_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_sent_events")),
    )
    with op.batch_alter_table("sent_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_events_tag"), ["tag"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_events_tag"))

    op.drop_table("sent_events")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_pending")

    op.drop_table("outbox_messages")
    op.drop_table("member_settings")
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_events_pending")

    op.drop_table("inbox_events")
    with op.batch_alter_table("direct_rooms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_direct_rooms_room_id"))

    op.drop_table("direct_rooms")
    op.drop_table("conversations")
    op.drop_table("bot_state")
