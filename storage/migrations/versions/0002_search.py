"""Shared inverted index for accent- and typo-tolerant search.

Revision ID: 0002_search
Revises: 0001_runtime
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Byte-ordered on PostgreSQL so prefix ranges work under any locale.
TERM = sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql")

revision: str = "0002_search"
down_revision: str | None = "0001_runtime"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_terms",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("term", TERM, nullable=False),
        sa.Column("doc_id", sa.BigInteger(), nullable=False),
        sa.Column("weight", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "term", "doc_id", name=op.f("pk_search_terms")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_search_terms_ranked", "search_terms", ["kind", "term", "weight", "doc_id"])
    op.create_index("ix_search_terms_doc", "search_terms", ["kind", "doc_id"])
    op.create_table(
        "search_variants",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("variant", TERM, nullable=False),
        sa.Column("term", TERM, nullable=False),
        sa.PrimaryKeyConstraint("kind", "variant", "term", name=op.f("pk_search_variants")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_vocab",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("term", TERM, nullable=False),
        sa.Column("doc_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "term", name=op.f("pk_search_vocab")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("search_vocab")
    op.drop_table("search_variants")
    op.drop_index("ix_search_terms_doc", table_name="search_terms")
    op.drop_index("ix_search_terms_ranked", table_name="search_terms")
    op.drop_table("search_terms")
