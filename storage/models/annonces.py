"""Scheduled announcements: a text posted once at a given moment, or at every occurrence
of a recurrence (« chaque lundi 9h », or a cron expression).

`last_occurrence` is the source of truth for « exactly once per occurrence »: the job
that posts an occurrence moves it forward in the same unit of work as the queued
messages (whose dedup key names the occurrence too)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime, utcnow


class Announcement(Base):
    __tablename__ = "announcements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    rooms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # One-off: `at`. Recurring: `recurrence` as typed (read again by the shared grammar).
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recurrence: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | done | cancelled
    # The latest occurrence handled (posted, or skipped beyond the grace period).
    last_occurrence: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_count: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_announcements_status", "status"),)
