"""The resource library: what the network keeps and shares — recordings and materials of
its webinars, practices, tools, methods and experience reports members share, and the
published digests — searchable together with `!ressources`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime, utcnow


class Resource(Base):
    """One entry of the library. `kind`: captation, support (attached to event
    `event_id`), pratique, outil, methode, retour_experience, formation, autre (shared by a
    member), digest (a published digest, `digest_id`). `author_id`/`author_name` are
    personal data."""

    __tablename__ = "resources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    event_id: Mapped[int | None] = mapped_column(Integer, index=True)
    digest_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    author_id: Mapped[str | None] = mapped_column(String(255), index=True)
    author_name: Mapped[str | None] = mapped_column(String(255))
    room_id: Mapped[str | None] = mapped_column(String(255))
    # Featured by an animator in the digest of this ISO week (« 2026-W49 »).
    featured_week: Mapped[str | None] = mapped_column(String(10), index=True)
    featured_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_resources_kind_created", "kind", "created_at"),)
