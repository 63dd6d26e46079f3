"""the bot device's encryption keys

Revision ID: 0301_crypto
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON on SQLite, JSONB on PostgreSQL (what storage.base.JSONType maps to).
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0301_crypto"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("crypto",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crypto_accounts",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("device_id", sa.String(length=255), nullable=False),
        sa.Column("pickle", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "device_id", name=op.f("pk_crypto_accounts")),
    )
    op.create_table(
        "crypto_devices",
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("device_id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("keys", JSON_TYPE, nullable=False),
        sa.Column("trust", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account", "user_id", "device_id", name=op.f("pk_crypto_devices")),
    )
    op.create_table(
        "crypto_group_sessions",
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("sender_key", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("signing_key", sa.String(length=64), nullable=False),
        sa.Column("pickle", sa.Text(), nullable=False),
        sa.Column("forwarding_chain", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "account", "room_id", "sender_key", "session_id", name=op.f("pk_crypto_group_sessions")
        ),
    )
    op.create_table(
        "crypto_key_requests",
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("algorithm", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("account", "request_id", name=op.f("pk_crypto_key_requests")),
    )
    op.create_table(
        "crypto_olm_sessions",
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("sender_key", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("pickle", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", "sender_key", "session_id", name=op.f("pk_crypto_olm_sessions")),
    )
    op.create_table(
        "crypto_rooms",
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("account", "room_id", name=op.f("pk_crypto_rooms")),
    )


def downgrade() -> None:
    op.drop_table("crypto_rooms")
    op.drop_table("crypto_olm_sessions")
    op.drop_table("crypto_key_requests")
    op.drop_table("crypto_group_sessions")
    op.drop_table("crypto_devices")
    op.drop_table("crypto_accounts")
