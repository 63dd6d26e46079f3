"""End-to-end encryption, on by default: the bot's one device and what keeps it working.

- The keys live in the bot's database (`bot.crypto_store`): loaded at login, their
  changes committed with the sync token (`SyncLoop`), and flushed before anything that
  depends on them leaves (`BotAsyncClient`): keys uploaded, room keys sent to devices. A
  `kill -9` then never leaves a member's device with an Olm message from a ratchet state
  the bot forgot (which would make every later message unreadable for them).
- After each sync, the housekeeping matrix-nio's own loop would do: upload one-time keys,
  query the devices of the encrypted rooms' members, claim keys for new Olm sessions,
  send queued to-device messages. Each step is bounded and a failure is retried at the
  next sync, with a log line.
- Events nio could not decrypt in the sync reach the inbox encrypted; the dispatcher asks
  `decrypt` again (keys may have come since), `request_key` asks the sender's device for
  the missing room key, once per session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from nio import (
    AsyncClient,
    KeysUploadResponse,
    MegolmEvent,
    ShareGroupSessionResponse,
    ToDeviceError,
    ToDeviceResponse,
)
from nio.crypto import OutgoingKeyRequest
from nio.events import BadEvent, ForwardedRoomKeyEvent, RoomKeyEvent, UnknownBadEvent
from nio.exceptions import EncryptionError

from bot.crypto_store import BotOlm, DatabaseCryptoStore
from storage.db import Database

log = logging.getLogger(__name__)

MEGOLM = "m.megolm.v1.aes-sha2"
STEP_TIMEOUT = 30.0  # seconds for one housekeeping request
MAX_KEY_REQUESTS = 1000  # pending requests remembered; older ones are forgotten


# Requests that publish what the key store holds: it is written first.
PUBLISHING = (KeysUploadResponse, ShareGroupSessionResponse, ToDeviceResponse)


class BotAsyncClient(AsyncClient):
    """nio's client, writing the key store before a request that publishes keys."""

    before_publish: Callable[[], Awaitable[None]] | None = None

    async def _send(self, response_class: type, *args: Any, **kwargs: Any) -> Any:
        if self.before_publish is not None and response_class in PUBLISHING:
            await self.before_publish()
        return await super()._send(response_class, *args, **kwargs)


@dataclass(frozen=True)
class Decryption:
    """`event`: the decrypted event (`status == "ok"`); `missing_keys`: the room key has
    not arrived (yet); `unreadable`: malformed, unknown algorithm, or refused."""

    status: Literal["ok", "missing_keys", "unreadable"]
    event: dict[str, Any] | None = None
    reason: str = ""


class Encryption:
    def __init__(self, nio: AsyncClient, db: Database) -> None:
        self.nio = nio
        self.db = db
        self.store: DatabaseCryptoStore | None = None
        # Held while key changes are written: batches reach the database in the order
        # they were taken (an older one never overwrites a newer one).
        self.writing = asyncio.Lock()

    @property
    def olm(self) -> BotOlm:
        assert isinstance(self.nio.olm, BotOlm)
        return self.nio.olm

    async def load(self) -> None:
        """Load the device's keys from the database into nio (a new account on the
        device's first start, written at once)."""
        user_id, device_id = self.nio.user_id, self.nio.device_id
        async with self.db.unit() as repos:
            keys = await repos.crypto.load(user_id, device_id)
        store = DatabaseCryptoStore(user_id, device_id, keys)
        self.store = store
        self.nio.store = store
        self.nio.olm = BotOlm(user_id, device_id, store)
        self.nio.encrypted_rooms = store.load_encrypted_rooms()
        if isinstance(self.nio, BotAsyncClient):
            self.nio.before_publish = self.flush
        await self.flush()
        log.info(
            "encryption keys loaded for device %s (%s)",
            device_id,
            "existing" if keys.account is not None else "new",
        )

    # --- writing ------------------------------------------------------------------------
    async def flush(self) -> None:
        """Write the pending key changes now (in their own transaction)."""
        if self.store is None or not self.store.dirty:
            return
        async with self.writing:
            changes = self.store.take_changes()
            if not changes:
                return
            try:
                async with self.db.unit() as repos:
                    await repos.crypto.apply(changes)
                    await repos.commit()
            except BaseException:
                self.store.give_back(changes)
                raise

    # --- after each sync -----------------------------------------------------------------
    @staticmethod
    def room_keys_in(to_device_events: list[Any]) -> set[str]:
        """Session ids of the room keys a sync brought."""
        return {
            str(e.session_id)
            for e in to_device_events
            if isinstance(e, (RoomKeyEvent, ForwardedRoomKeyEvent))
        }

    async def housekeeping(self) -> None:
        nio = self.nio
        if nio.olm is None:
            return
        try:
            if nio.should_upload_keys:
                await self._step(nio.keys_upload(), "keys upload")
            if nio.should_query_keys:
                await self._step(nio.keys_query(), "device keys query")
            if nio.should_claim_keys:
                await self._step(nio.keys_claim(nio.get_users_for_key_claiming()), "one-time keys claim")
            if nio.outgoing_to_device_messages:
                await self._step(nio.send_to_device_messages(), "to-device messages")
        finally:
            await self.flush()

    async def _step(self, call: Any, what: str) -> None:
        try:
            result = await asyncio.wait_for(call, timeout=STEP_TIMEOUT)
        except Exception as exc:  # the next sync tries again
            log.warning(
                "encryption: %s failed (%s: %s); retried after the next sync", what, type(exc).__name__, exc
            )
            return
        failed = [r for r in (result if isinstance(result, list) else [result]) if _is_error(r)]
        if failed:
            log.warning("encryption: %s answered %s; retried after the next sync", what, failed[0])

    # --- events the sync could not decrypt ---------------------------------------------
    def decrypt(self, event: dict[str, Any]) -> Decryption:
        """Decrypt an `m.room.encrypted` room event (its source, with `room_id`)."""
        if self.nio.olm is None:
            return Decryption("unreadable", reason="encryption not loaded")
        content = event.get("content")
        if not isinstance(content, dict):
            return Decryption("unreadable", reason="no content")
        if content.get("algorithm") != MEGOLM:
            return Decryption(
                "unreadable", reason=f"unknown algorithm {str(content.get('algorithm'))[:60]!r}"
            )
        parsed = MegolmEvent.from_dict(event)
        if not isinstance(parsed, MegolmEvent):
            return Decryption("unreadable", reason="malformed encrypted event")
        room_id = str(event.get("room_id", ""))
        parsed.room_id = room_id
        if self.olm.inbound_group_store.get(room_id, parsed.sender_key, parsed.session_id) is None:
            return Decryption("missing_keys")
        try:
            decrypted = self.olm.decrypt_megolm_event(parsed, room_id)
        except EncryptionError as exc:
            return Decryption("unreadable", reason=str(exc)[:200])
        except Exception as exc:  # vodozemac on a forged ciphertext, a bad payload
            return Decryption("unreadable", reason=f"{type(exc).__name__}")
        if isinstance(decrypted, (BadEvent, UnknownBadEvent)) or not isinstance(
            getattr(decrypted, "source", None), dict
        ):
            return Decryption("unreadable", reason="malformed decrypted payload")
        source = dict(decrypted.source)
        source.update(room_id=room_id, event_id=event.get("event_id"), sender=event.get("sender"))
        return Decryption("ok", event=source)

    def session_of(self, event: dict[str, Any]) -> str:
        content = event.get("content") or {}
        return str(content.get("session_id", ""))[:64] if isinstance(content, dict) else ""

    async def request_key(self, event: dict[str, Any]) -> None:
        """Ask the sender's device for the room key of `event`, once per session."""
        if self.nio.olm is None:
            return
        parsed = MegolmEvent.from_dict(event)
        if not isinstance(parsed, MegolmEvent) or not parsed.session_id:
            return
        olm = self.olm
        if parsed.session_id in olm.outgoing_key_requests:
            return
        if len(olm.outgoing_key_requests) >= MAX_KEY_REQUESTS:
            oldest = olm.outgoing_key_requests.pop(next(iter(olm.outgoing_key_requests)))
            if self.store is not None:
                self.store.remove_outgoing_key_request(oldest)
        parsed.room_id = str(event.get("room_id", ""))
        message = parsed.as_key_request(
            parsed.sender, self.nio.device_id, parsed.session_id, parsed.device_id or None
        )
        try:
            resp = await asyncio.wait_for(self.nio.to_device(message), timeout=STEP_TIMEOUT)
        except Exception as exc:
            log.warning("room key request failed (%s); the message waits for its key", type(exc).__name__)
            return
        if isinstance(resp, ToDeviceError):
            log.warning("room key request refused: %s", resp)
            return
        request = OutgoingKeyRequest(parsed.session_id, parsed.session_id, parsed.room_id, MEGOLM)
        olm.outgoing_key_requests[parsed.session_id] = request
        assert self.store is not None
        self.store.add_outgoing_key_request(request)
        log.info("room key requested from %s's device %s", parsed.sender, parsed.device_id)


def _is_error(response: Any) -> bool:
    return bool(getattr(response, "status_code", None)) or type(response).__name__.endswith("Error")
