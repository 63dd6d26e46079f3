"""surveys, their answers, recurring pulses

Revision ID: 0401_sondages
Revises:
Depends on: 0001_runtime
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON on SQLite, JSONB on PostgreSQL (what storage.base.JSONType maps to).
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0401_sondages"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("sondages",)
depends_on: str | Sequence[str] | None = "0001_runtime"


def upgrade() -> None:
    op.create_table(
        "pulse_schedules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("cadence", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_schedules")),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answers", JSON_TYPE, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("max_selections", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=True),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("occurrence", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("voter_key", sa.LargeBinary(), nullable=True),
        sa.Column("results", JSON_TYPE, nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["pulse_schedules.id"],
            name=op.f("fk_surveys_schedule_id_pulse_schedules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("schedule_id", "occurrence", name="uq_surveys_occurrence"),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_surveys_closed_at", ["closed_at"], unique=False)
        batch_op.create_index("ix_surveys_open", ["closed_at", "closes_at"], unique=False)
        batch_op.create_index("ix_surveys_room", ["room_id", "id"], unique=False)
    op.create_table(
        "survey_responses",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=255), nullable=False),
        sa.Column("choices", sa.Integer(), nullable=False),
        sa.Column("spoiled", sa.Boolean(), nullable=False),
        sa.Column("origin_ts", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_responses_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("survey_id", "voter", name=op.f("pk_survey_responses")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_tally", ["survey_id", "choices"], unique=False)
        batch_op.create_index("ix_survey_responses_voter", ["voter"], unique=False)


def downgrade() -> None:
    op.drop_table("survey_responses")
    op.drop_table("surveys")
    op.drop_table("pulse_schedules")
