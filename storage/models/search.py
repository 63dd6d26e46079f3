"""A small inverted index shared by every searchable aggregate (profiles, signals…): the
same accent-, case- and typo-tolerant search everywhere, on SQLite and PostgreSQL alike,
with plain B-tree indexes (no engine-specific full-text feature)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, PrimaryKeyConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base

# Byte order on PostgreSQL, so `term >= 'eva' AND term < 'eva\uffff'` is exactly the
# prefix range whatever the database's locale (SQLite compares bytes already).
Term = String(64).with_variant(String(64, collation="C"), "postgresql")


class SearchTerm(Base):
    """One folded word of one document (`kind` names the aggregate, e.g. « profile »)."""

    __tablename__ = "search_terms"
    kind: Mapped[str] = mapped_column(String(32))
    term: Mapped[str] = mapped_column(Term)
    doc_id: Mapped[int] = mapped_column(BigInteger)
    weight: Mapped[int] = mapped_column(SmallInteger, default=1)

    __table_args__ = (
        # On PostgreSQL the key also carries the weight (`INCLUDE (weight)`, migration
        # 0003), so looking a (term, document) pair up answers from the index alone
        # (SQLite stores the rows in this key's b-tree already). Said there only: the
        # option here would load SQLAlchemy's PostgreSQL dialect into every SQLite bot.
        PrimaryKeyConstraint("kind", "term", "doc_id"),
        # Postings of a term, best weight first: a query reads only the top of the list.
        Index("ix_search_terms_ranked", "kind", "term", "weight", "doc_id"),
        Index("ix_search_terms_doc", "kind", "doc_id"),
        {"sqlite_with_rowid": False},
    )


class SearchVocab(Base):
    """Every distinct word of a kind, with how many documents hold it: prefix and typo
    candidates are found here, then looked up in `search_terms`."""

    __tablename__ = "search_vocab"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    term: Mapped[str] = mapped_column(Term, primary_key=True)
    doc_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)


class SearchVariant(Base):
    """The one-deletion variants of each word (SymSpell): a query word within one edit
    of a word shares a variant with it, found with an equality lookup."""

    __tablename__ = "search_variants"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    variant: Mapped[str] = mapped_column(Term, primary_key=True)
    term: Mapped[str] = mapped_column(Term, primary_key=True)

    __table_args__ = ({"sqlite_with_rowid": False},)
