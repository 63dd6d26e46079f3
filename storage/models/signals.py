"""Weak signals: what members and the veille bring in, the supports and comments around
them, the feed items waiting for curation, the state of each feed, and the archive of
weekly digests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime, utcnow


class Signal(Base):
    """A weak signal (see MISSION.md, « A weak-signal record »). The author's id and
    name are personal data; both become NULL when the member is erased and the network
    keeps the content (config `signaux.keep_on_erase`)."""

    __tablename__ = "signals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    theme: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    # The link normalised (no fragment, no tracking parameters…): a link is recorded once.
    url_key: Mapped[str | None] = mapped_column(String(2000), unique=True)
    observation: Mapped[str] = mapped_column(Text, default="")
    why: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32))
    nature: Mapped[str] = mapped_column(String(32))
    horizon: Mapped[str | None] = mapped_column(String(16))
    territory: Mapped[str | None] = mapped_column(String(100))
    source_kind: Mapped[str | None] = mapped_column(String(32))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    related: Mapped[list[int]] = mapped_column(JSONType, default=list)
    observed_on: Mapped[date | None] = mapped_column(Date)
    # proposed → retained → published (in digest `digest_id`) | discarded
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_by: Mapped[str | None] = mapped_column(String(255))
    digest_id: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[str | None] = mapped_column(String(255), index=True)
    author_name: Mapped[str | None] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(255), default="member")  # member | veille:<feed>
    room_id: Mapped[str | None] = mapped_column(String(255))
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # The digest reads one week of signals in creation order.
        Index("ix_signals_created", "created_at"),
        Index("ix_signals_status_created", "status", "created_at"),
    )


class SignalSupport(Base):
    """A member supports a signal (👍 on the bot's message, or `!signal soutenir`)."""

    __tablename__ = "signal_supports"
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The 👍 reaction that made it (its redaction withdraws the support); NULL by command.
    reaction_event_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_signal_supports_user", "user_id"),)


class SignalComment(Base):
    __tablename__ = "signal_comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str | None] = mapped_column(String(255), index=True)
    author_name: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedState(Base):
    """What we know of one feed between polls: the validators of conditional GET and
    its health (failures push the next poll back)."""

    __tablename__ = "feed_states"
    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class FeedItem(Base):
    """An entry of a feed that matched the keywords, waiting for an animator."""

    __tablename__ = "feed_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed_url: Mapped[str] = mapped_column(String(2000))
    feed_name: Mapped[str] = mapped_column(String(200))
    guid: Mapped[str] = mapped_column(String(64))  # hash of the entry's id or link
    title: Mapped[str] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(2000))
    summary: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|retained|ignored
    signal_id: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("guid", name="uq_feed_items_guid"),
        Index("ix_feed_items_status", "status", "id"),
    )


class Digest(Base):
    """One weekly digest (network-wide; posted in every digest room). `items` keeps the
    ids shown and their support at publication, so the archive re-renders it (and an
    erased author disappears from old digests too)."""

    __tablename__ = "digests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[str] = mapped_column(String(10), unique=True)  # ISO week of publication
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    total: Mapped[int] = mapped_column(Integer, default=0)  # signals of the period
    rooms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    published_by: Mapped[str | None] = mapped_column(String(255))  # None: the schedule
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
