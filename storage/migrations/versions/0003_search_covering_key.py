"""search: the postings' primary key carries the weight on PostgreSQL

Revision ID: 0003_search_covering_key
Revises: 0002_search

A query checks its other words, and a filtered search its candidates, by looking a
(term, document) pair up in the primary key. Without the weight in the key's index,
PostgreSQL then reads the row from the table for each pair (a second page per lookup),
and its planner, pricing that, prefers reading a common word's whole posting list through
the ranked index and filtering it: 7 ms instead of 2 for 448 documents of a filter. With
`INCLUDE (weight)` the lookup is answered by the index alone. SQLite keeps the postings in
their primary key's b-tree (WITHOUT ROWID): the weight is already there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_search_covering_key"
down_revision: str | None = "0002_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE search_terms DROP CONSTRAINT pk_search_terms, "
            "ADD CONSTRAINT pk_search_terms PRIMARY KEY (kind, term, doc_id) INCLUDE (weight)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE search_terms DROP CONSTRAINT pk_search_terms, "
            "ADD CONSTRAINT pk_search_terms PRIMARY KEY (kind, term, doc_id)"
        )
