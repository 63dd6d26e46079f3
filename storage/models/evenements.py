"""Webinars and meetings: the event itself, who signed up (in order, with a waiting list
when the event has a capacity), and which reminders were already posted.

The reminders rows are what makes « each reminder once » hold across restarts: a reminder
is keyed by the event, its delay and the start time it was computed for, so moving the
event plans fresh reminders and a restart never posts one again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime, utcnow


class Event(Base):
    """A webinar (`kind` « webinaire », with a `link`) or a meeting (« rencontre », with a
    `place`). `id` is the short number members type (« n° 7 »). `created_by` is personal
    data (NULL once that animator is erased)."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link: Mapped[str | None] = mapped_column(String(2000))
    place: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | cancelled
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    rooms: Mapped[list[str]] = mapped_column(JSONType, default=list)  # where it is announced
    # When the start time was last set: reminders that were due before are not owed.
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The iCalendar SEQUENCE: raised at each change, so calendars replace their copy.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_events_status_start", "status", "starts_at"),)


class EventRsvp(Base):
    """Someone signed up for an event: « going », or « waiting » on the list when the event
    is full. `id` is the arrival order, which the waiting list follows."""

    __tablename__ = "event_rsvps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="going")  # going | waiting
    # The ✅ reaction that made it (its redaction cancels it); NULL by command.
    reaction_event_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_event_rsvps_event_user"),
        Index("ix_event_rsvps_user", "user_id"),
    )


class EventReminder(Base):
    """A reminder posted (or deliberately skipped: missed while the bot was down, with a
    later one sent instead) for one event, delay and start time."""

    __tablename__ = "event_reminders"
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), default="sent")  # sent | skipped
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
