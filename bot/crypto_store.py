"""matrix-nio's key store, kept in the bot's own database.

nio calls its store synchronously, from inside the sync loop and the sending of messages;
the database is asynchronous. So the store is a write-behind cache: everything is read
once at start (`CryptoKeys`), nio's saves change memory and are queued as row changes,
and the owner writes them (`take_changes`) in the same transaction as the sync token of
the events that caused them — a crash rolls the keys back together with the events, which
the homeserver then delivers again. Nothing is written before what it protects is
published: the owner flushes before uploading keys (`bot.encryption`).

`BotOlm` is nio's Olm machine with three changes: a room key a member's device forwards for
its own session is accepted (that is how devices answer the bot's key requests), the Olm
sessions kept per device are bounded, and an event nio's decryption chokes on (a forged or
truncated message raises from vodozemac) is dropped with a log line instead of failing the
whole sync — which the homeserver would send again, forever."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from nio.crypto import (
    DeviceStore,
    GroupSessionStore,
    InboundGroupSession,
    Olm,
    OlmAccount,
    OlmDevice,
    OutgoingKeyRequest,
    Session,
    SessionStore,
    TrustState,
)
from nio.events import ForwardedRoomKeyEvent
from nio.store import MatrixStore

from storage.repositories.crypto import CryptoChanges, CryptoKeys

log = logging.getLogger(__name__)

MAX_OLM_SESSIONS_PER_DEVICE = 8  # the most recently used are kept


def _aware(moment: datetime) -> datetime:
    return moment.astimezone(UTC)  # nio's times are naive local times


def _naive(moment: datetime) -> datetime:
    return moment.astimezone().replace(tzinfo=None)


class DatabaseCryptoStore(MatrixStore):
    """nio's `MatrixStore` interface over memory loaded from our tables (see module)."""

    def __init__(self, user_id: str, device_id: str, keys: CryptoKeys, pickle_key: str = "") -> None:
        # nio's dataclass fields, without its SQLite file.
        self.user_id = user_id
        self.device_id = device_id
        self.store_path = ""
        self.pickle_key = pickle_key
        self.database_name = ""
        self._keys = keys
        self._trust: dict[tuple[str, str], TrustState] = {
            (d.user_id, d.device_id): TrustState(d.trust) for d in keys.devices
        }
        self._devices: dict[tuple[str, str], OlmDevice] = {}
        self._upserts: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}
        self._deletes: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"DatabaseCryptoStore({self.user_id}, {self.device_id})"

    # --- pending changes ------------------------------------------------------------
    def _put(self, table: str, key: tuple[str, ...], row: dict[str, Any]) -> None:
        self._deletes.get(table, {}).pop(key, None)
        self._upserts.setdefault(table, {})[key] = row

    def _drop(self, table: str, key: tuple[str, ...], pk: dict[str, Any]) -> None:
        self._upserts.get(table, {}).pop(key, None)
        self._deletes.setdefault(table, {})[key] = pk

    @property
    def dirty(self) -> bool:
        return any(self._upserts.values()) or any(self._deletes.values())

    def take_changes(self) -> CryptoChanges:
        """What changed since the last call, to be written by the caller."""
        changes = CryptoChanges(
            upserts={t: list(rows.values()) for t, rows in self._upserts.items() if rows},
            deletes={t: list(keys.values()) for t, keys in self._deletes.items() if keys},
        )
        self._upserts, self._deletes = {}, {}
        return changes

    def give_back(self, changes: CryptoChanges) -> None:
        """Changes whose write failed: queue them again, unless newer ones replaced them."""
        for table, rows in changes.upserts.items():
            pk = _PRIMARY_KEYS[table]
            for row in rows:
                key = tuple(row[c] for c in pk)
                if key not in self._upserts.get(table, {}) and key not in self._deletes.get(table, {}):
                    self._upserts.setdefault(table, {})[key] = row
        for table, keys in changes.deletes.items():
            pk = _PRIMARY_KEYS[table]
            for item in keys:
                key = tuple(item[c] for c in pk)
                if key not in self._upserts.get(table, {}):
                    self._deletes.setdefault(table, {})[key] = item

    # --- account --------------------------------------------------------------------
    def load_account(self) -> OlmAccount | None:
        row = self._keys.account
        if row is None:
            return None
        return OlmAccount.from_pickle(row.pickle.encode(), self.pickle_key, row.shared)

    def save_account(self, account: OlmAccount) -> None:
        row = {
            "user_id": self.user_id,
            "device_id": self.device_id,
            "pickle": account.pickle(self.pickle_key).decode(),
            "shared": bool(account.shared),
            "updated_at": datetime.now(UTC),
        }
        self._put("crypto_accounts", (self.user_id, self.device_id), row)

    # --- Olm sessions ---------------------------------------------------------------
    def load_sessions(self) -> SessionStore:
        store = SessionStore()
        for row in self._keys.olm_sessions:
            session = Session.from_pickle(
                row.pickle.encode(), _naive(row.created_at), self.pickle_key, _naive(row.used_at)
            )
            store.add(row.sender_key, session)
        return store

    def save_session(self, curve_key: str, session: Session) -> None:
        row = {
            "account": self.device_id,
            "sender_key": curve_key,
            "session_id": session.id,
            "pickle": session.pickle(self.pickle_key).decode(),
            "created_at": _aware(session.creation_time),
            "used_at": _aware(session.use_time),
        }
        self._put("crypto_olm_sessions", (self.device_id, curve_key, session.id), row)

    def delete_session(self, curve_key: str, session: Session) -> None:
        key = (self.device_id, curve_key, session.id)
        self._drop(
            "crypto_olm_sessions",
            key,
            {"account": self.device_id, "sender_key": curve_key, "session_id": session.id},
        )

    # --- Megolm sessions ------------------------------------------------------------
    def load_inbound_group_sessions(self) -> GroupSessionStore:
        store = GroupSessionStore()
        for row in self._keys.group_sessions:
            store.add(
                InboundGroupSession.from_pickle(
                    row.pickle.encode(),
                    row.signing_key,
                    row.sender_key,
                    row.room_id,
                    self.pickle_key,
                    list(row.forwarding_chain or []),
                )
            )
        return store

    def save_inbound_group_session(self, session: InboundGroupSession) -> None:
        row = {
            "account": self.device_id,
            "room_id": session.room_id,
            "sender_key": session.sender_key,
            "session_id": session.id,
            "signing_key": session.ed25519,
            "pickle": session.pickle(self.pickle_key).decode(),
            "forwarding_chain": list(session.forwarding_chain or []),
            "created_at": datetime.now(UTC),
        }
        key = (self.device_id, session.room_id, session.sender_key, session.id)
        self._put("crypto_group_sessions", key, row)

    # --- other devices --------------------------------------------------------------
    def load_device_keys(self) -> DeviceStore:
        store = DeviceStore()
        for row in self._keys.devices:
            device = OlmDevice(
                row.user_id,
                row.device_id,
                dict(row.keys or {}),
                display_name=row.display_name or "",
                deleted=row.deleted,
                trust_state=TrustState(row.trust),
            )
            self._devices[(row.user_id, row.device_id)] = device
            store.add(device)
        return store

    def save_device_keys(self, device_keys: dict[str, dict[str, OlmDevice]]) -> None:
        for devices in device_keys.values():
            for device in devices.values():
                self._save_device(device)

    def _save_device(self, device: OlmDevice) -> None:
        key = (device.user_id, device.id)
        self._devices[key] = device
        row = {
            "account": self.device_id,
            "user_id": device.user_id,
            "device_id": device.id,
            "display_name": (device.display_name or "")[:255] or None,
            "deleted": bool(device.deleted),
            "keys": dict(device.keys),
            "trust": self._trust.get(key, TrustState.unset).value,
        }
        self._put("crypto_devices", (self.device_id, *key), row)

    def _set_trust(self, device: OlmDevice, state: TrustState) -> bool:
        key = (device.user_id, device.id)
        if self._trust.get(key, TrustState.unset) == state:
            device.trust_state = state
            return False
        self._trust[key] = state
        device.trust_state = state
        self._save_device(device)
        return True

    def _has_trust(self, device: OlmDevice, state: TrustState) -> bool:
        return self._trust.get((device.user_id, device.id), TrustState.unset) == state

    def verify_device(self, device: OlmDevice) -> bool:
        return self._set_trust(device, TrustState.verified)

    def unverify_device(self, device: OlmDevice) -> bool:
        return self._has_trust(device, TrustState.verified) and self._set_trust(device, TrustState.unset)

    def is_device_verified(self, device: OlmDevice) -> bool:
        return self._has_trust(device, TrustState.verified)

    def blacklist_device(self, device: OlmDevice) -> bool:
        return self._set_trust(device, TrustState.blacklisted)

    def unblacklist_device(self, device: OlmDevice) -> bool:
        return self._has_trust(device, TrustState.blacklisted) and self._set_trust(device, TrustState.unset)

    def is_device_blacklisted(self, device: OlmDevice) -> bool:
        return self._has_trust(device, TrustState.blacklisted)

    def ignore_device(self, device: OlmDevice) -> bool:
        return self._set_trust(device, TrustState.ignored)

    def unignore_device(self, device: OlmDevice) -> bool:
        return self._has_trust(device, TrustState.ignored) and self._set_trust(device, TrustState.unset)

    def ignore_devices(self, devices: list[OlmDevice]) -> None:
        for device in devices:
            self._set_trust(device, TrustState.ignored)

    def is_device_ignored(self, device: OlmDevice) -> bool:
        return self._has_trust(device, TrustState.ignored)

    # --- rooms, key requests, sync token ----------------------------------------------
    def load_encrypted_rooms(self) -> set[str]:
        return set(self._keys.rooms)

    def save_encrypted_rooms(self, rooms: set[str]) -> None:
        for room_id in rooms:
            self._put(
                "crypto_rooms", (self.device_id, room_id), {"account": self.device_id, "room_id": room_id}
            )

    def delete_encrypted_room(self, room: str) -> None:
        self._drop("crypto_rooms", (self.device_id, room), {"account": self.device_id, "room_id": room})

    def load_outgoing_key_requests(self) -> dict[str, OutgoingKeyRequest]:
        return {
            r.request_id: OutgoingKeyRequest(r.request_id, r.session_id, r.room_id, r.algorithm)
            for r in self._keys.key_requests
        }

    def add_outgoing_key_request(self, key_request: OutgoingKeyRequest) -> None:
        row = {
            "account": self.device_id,
            "request_id": key_request.request_id,
            "session_id": key_request.session_id,
            "room_id": key_request.room_id,
            "algorithm": key_request.algorithm,
        }
        self._put("crypto_key_requests", (self.device_id, key_request.request_id), row)

    def remove_outgoing_key_request(self, key_request: OutgoingKeyRequest) -> None:
        key = (self.device_id, key_request.request_id)
        self._drop(
            "crypto_key_requests", key, {"account": self.device_id, "request_id": key_request.request_id}
        )

    def save_sync_token(self, token: str) -> None:
        """The bot keeps its sync token itself (`bot.sync`), with the events."""

    def load_sync_token(self) -> str | None:
        return None


_PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "crypto_accounts": ("user_id", "device_id"),
    "crypto_olm_sessions": ("account", "sender_key", "session_id"),
    "crypto_group_sessions": ("account", "room_id", "sender_key", "session_id"),
    "crypto_devices": ("account", "user_id", "device_id"),
    "crypto_rooms": ("account", "room_id"),
    "crypto_key_requests": ("account", "request_id"),
}


class BotOlm(Olm):
    """nio's Olm machine, with the two changes the module docstring gives."""

    store: DatabaseCryptoStore

    def _should_accept_forward(self, sender: str, sender_key: str, event: ForwardedRoomKeyEvent) -> bool:
        if super()._should_accept_forward(sender, sender_key, event):
            return True
        # A room key the bot asked for, sent back by the very device that created the
        # session (the same trust as when it shared it in the first place).
        content = event.source.get("content") or {}
        return bool(
            event.session_id in self.outgoing_key_requests
            and content.get("sender_key") == sender_key
            and not content.get("forwarding_curve25519_key_chain")
            and event.algorithm == "m.megolm.v1.aes-sha2"
        )

    dropped = 0

    def handle_to_device_event(self, event: Any) -> Any:
        try:
            return super().handle_to_device_event(event)
        except Exception as exc:
            self._dropped(f"to-device event from {getattr(event, 'sender', '?')}", exc)
            return None

    def _decrypt_megolm_no_error(self, event: Any, room_id: str | None = None) -> Any:
        try:
            return super()._decrypt_megolm_no_error(event, room_id)
        except Exception as exc:
            self._dropped(f"room event {getattr(event, 'event_id', '?')}", exc)
            return None

    def _dropped(self, what: str, exc: Exception) -> None:
        BotOlm.dropped += 1
        n = BotOlm.dropped
        if n < 10 or (n < 1000 and n % 100 == 0) or n % 10_000 == 0:  # a flood: a few lines
            log.warning("undecryptable %s dropped (%s; %d so far)", what, type(exc).__name__, n)

    def save_session(self, curve_key: str, session: Session) -> None:
        super().save_session(curve_key, session)
        sessions = self.session_store[curve_key]
        if len(sessions) > MAX_OLM_SESSIONS_PER_DEVICE:
            sessions.sort(key=lambda s: s.use_time, reverse=True)
            for old in sessions[MAX_OLM_SESSIONS_PER_DEVICE:]:
                self.store.delete_session(curve_key, old)
            del sessions[MAX_OLM_SESSIONS_PER_DEVICE:]
            log.warning(
                "more than %d Olm sessions with one device: the oldest dropped", MAX_OLM_SESSIONS_PER_DEVICE
            )
