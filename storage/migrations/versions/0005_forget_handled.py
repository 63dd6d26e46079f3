"""forget what handled events, spent messages and emptied words still held

Handled events keep only their id, sent or failed messages neither their text nor whom
they were for, and the search vocabulary only the words some document holds (with
their variants): what the code now does as it goes, applied to what was kept before.

Revision ID: 0005_forget_handled
Revises: 0004_member_reminders
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_forget_handled"
down_revision: str | None = "0004_member_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE inbox_events SET sender = '', payload = '{}' WHERE done")
    op.execute(
        "UPDATE outbox_messages SET content = '{}', attachment = NULL, dm_user = NULL"
        " WHERE status IN ('sent', 'failed')"
    )
    op.execute("DELETE FROM search_vocab WHERE doc_count <= 0")
    op.execute(
        "DELETE FROM search_variants WHERE NOT EXISTS (SELECT 1 FROM search_vocab v"
        " WHERE v.kind = search_variants.kind AND v.term = search_variants.term)"
    )


def downgrade() -> None:
    pass  # what was forgotten stays forgotten
