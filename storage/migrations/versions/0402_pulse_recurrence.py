"""recurring pulses keep the rule read from their cadence; answers found by time (the
evaluation's active people)

Revision ID: 0402_pulse_recurrence
Revises: 0401_sondages
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0402_pulse_recurrence"
down_revision: str | None = "0401_sondages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pulse_schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recurrence", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_time", ["origin_ts", "voter", "choices"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_time")
    with op.batch_alter_table("pulse_schedules", schema=None) as batch_op:
        batch_op.drop_column("recurrence")
