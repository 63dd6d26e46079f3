"""End-to-end encryption keys of the bot's one device, in the bot's own database (not
matrix-nio's SQLite file), so a backup, a restore and the PostgreSQL standby carry them.

Every row belongs to one of the bot's devices (`account`: its device id); pickles are
matrix-nio's (vodozemac) serialisations, kept as text. Nothing here is a message: the
decrypted text of an event lives only in the inbox row that handles it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime, utcnow


class CryptoAccount(Base):
    """The device's Olm account: its identity keys and unpublished one-time keys."""

    __tablename__ = "crypto_accounts"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    pickle: Mapped[str] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CryptoOlmSession(Base):
    """A one-to-one Olm session with another device (room keys travel through them)."""

    __tablename__ = "crypto_olm_sessions"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    sender_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pickle: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CryptoGroupSession(Base):
    """A Megolm inbound session: what decrypts one sender device's messages in a room."""

    __tablename__ = "crypto_group_sessions"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    sender_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    signing_key: Mapped[str] = mapped_column(String(64))
    pickle: Mapped[str] = mapped_column(Text)
    forwarding_chain: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CryptoDevice(Base):
    """Another device's public keys, and the trust the bot gives it."""

    __tablename__ = "crypto_devices"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    keys: Mapped[dict[str, Any]] = mapped_column(JSONType)
    trust: Mapped[int] = mapped_column(Integer, default=0)  # nio's TrustState value


class CryptoRoom(Base):
    """A room known to be encrypted: never a clear-text message into it."""

    __tablename__ = "crypto_rooms"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)


class CryptoKeyRequest(Base):
    """A room key the bot asked for (a message it could not decrypt yet)."""

    __tablename__ = "crypto_key_requests"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(255))
    room_id: Mapped[str] = mapped_column(String(255))
    algorithm: Mapped[str] = mapped_column(String(100))
