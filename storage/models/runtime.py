"""Tables the runtime itself needs: sync position, credentials, member settings, the
durable inbox of events to handle, the outbox of messages to send, conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime, utcnow


class BotState(Base):
    """Small key/value facts: the sync token, the access token and device id."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MemberSettings(Base):
    __tablename__ = "member_settings"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    # False: no reminder the bot sends on its own (surveys, events): `!rappels non`.
    reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboxEvent(Base):
    """An event the bot must act on, stored with the sync token that delivered it: the
    handler's effects and the row's `done` mark commit together, so each event is handled
    exactly once across crashes and restarts."""

    __tablename__ = "inbox_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # arrival
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    room_id: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    origin_ts: Mapped[int] = mapped_column(BigInteger)
    done: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_inbox_events_pending", "done", "id"),)


class OutboxMessage(Base):
    """A message waiting to be sent. Written in the same transaction as what caused it;
    the sender delivers rows in order with a fixed transaction id, so a retry after a crash
    is a no-op on the homeserver. `dedup_key` makes a scheduled post unique (e.g. one
    digest per room per week)."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    dedup_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    room_id: Mapped[str | None] = mapped_column(String(255))
    dm_user: Mapped[str | None] = mapped_column(String(255))  # resolved to a direct chat
    event_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment_mime: Mapped[str | None] = mapped_column(String(100))
    tag: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outbox_messages_pending", "status", "id"),)


class SentEvent(Base):
    """Which bot message stands for what (`tag`, e.g. « signal:42 »), so a reaction to it
    can be traced back to the record."""

    __tablename__ = "sent_events"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    tag: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirectRoom(Base):
    """The direct chat the bot uses with each person."""

    __tablename__ = "direct_rooms"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conversation(Base):
    """A step-by-step exchange in a direct chat (a form being filled), kept in the
    database so it survives a restart."""

    __tablename__ = "conversations"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    form: Mapped[str] = mapped_column(String(100))
    step: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    room_id: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
