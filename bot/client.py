"""The Matrix client: matrix-nio underneath, with the behaviour the bot needs on top.

- Logs in once and keeps the access token and device id in the database; later starts
  restore them, so restarts create no new device and never meet the login rate limit.
  With `matrix.access_token` (from `OASIS_MATRIX_ACCESS_TOKEN`) the token is read at each
  start and kept in no file at all.
- Calls are bounded: nio's own unbounded retries are switched off (`max_limit_exceeded=0`,
  `max_timeouts=0`) and the sync loop and the sender retry with their own backoff, so a
  shutdown is never stuck behind a retry.
- Answers the read-only questions handlers may ask about rooms (`RoomDirectory`)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import (
    Api,
    AsyncClientConfig,
    ErrorResponse,
    JoinError,
    LoginResponse,
    MessageDirection,
    RoomCreateError,
    RoomGetStateEventResponse,
    RoomMessagesResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)
from nio.exceptions import (
    EncryptionError,
    GroupEncryptionError,
    MembersSyncError,
    OlmTrustError,
    SendRetryError,
)

from bot.config import Config
from bot.encryption import BotAsyncClient, Encryption
from storage.db import Database

log = logging.getLogger(__name__)

TOKEN_KEY = "matrix.access_token"
DEVICE_KEY = "matrix.device_id"
USER_KEY = "matrix.user_id"


class LoginFailed(Exception):
    """The homeserver refused the credentials: retrying would not help."""


class LoginRateLimited(Exception):
    """The homeserver limits logins (`rc_login`): worth trying again later."""


class NotMatrix(Exception):
    """Something answered at the homeserver's address, but not as a Matrix server (an
    error page of a proxy, a server being restarted): worth trying again."""


class TransientError(Exception):
    """The homeserver could not be reached (`answered=False`) or answered with an error
    worth retrying (`answered=True`, e.g. a 5xx): try again later."""

    def __init__(self, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered


# What a network failure looks like from aiohttp/asyncio: worth retrying.
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
# What nio raises when an encrypted send cannot be prepared yet: worth retrying.
ENCRYPTION_ERRORS = (EncryptionError, GroupEncryptionError, MembersSyncError, OlmTrustError, SendRetryError)
MEGOLM = "m.megolm.v1.aes-sha2"


@dataclass(frozen=True)
class SendResult:
    event_id: str | None = None
    retry_after_ms: int | None = None  # rate limited: wait, then send the same again
    permanent_error: str | None = None  # forbidden, unknown room…: give up this message


class MatrixClient:
    def __init__(self, config: Config, *, request_timeout: float = 30) -> None:
        self.config = config
        self.user_id = config.matrix.user_id
        self.nio = BotAsyncClient(
            config.matrix.homeserver,
            config.matrix.user_id,
            config=AsyncClientConfig(
                max_limit_exceeded=0,
                max_timeouts=0,
                request_timeout=request_timeout,
                store_sync_tokens=False,
                # Keys live in our database (`bot.encryption`), not in nio's SQLite file:
                # no store_path, so nio loads no store of its own.
                encryption_enabled=True,
            ),
        )
        self.crypto: Encryption | None = None
        # Rooms known to be direct chats (from `m.direct` and invites flagged direct).
        self.direct_rooms: set[str] = set()

    # --- session ------------------------------------------------------------------
    async def login(self, db: Database) -> None:
        """Reach the bot's one device, then load its encryption keys.

        Every way in ends on the same device: a configured access token names its device
        (asked with `whoami`); otherwise the stored token is reused, and a password login
        asks for the stored device id, so a lost or expired token does not create a new
        device either."""
        m = self.config.matrix
        async with db.unit() as repos:
            token = await repos.state.get(TOKEN_KEY)
            device = await repos.state.get(DEVICE_KEY)
            stored_user = await repos.state.get(USER_KEY)
        if stored_user != self.user_id:
            token = device = None  # another account's session: not ours to reuse
        fresh_login = False
        if m.access_token:
            await self._use_token(m.access_token.get_secret_value(), device, configured=True)
        elif token and device and await self._use_token(token, device, configured=False):
            log.info("session restored (device %s)", device)
        else:
            if not m.password:
                raise LoginFailed("no password to log in with")
            self.nio.device_id = device or ""  # the same device again, when known
            resp = await self.nio.login(m.password.get_secret_value(), device_name=m.device_name)
            if not isinstance(resp, LoginResponse):
                # A Matrix refusal has an error code (M_FORBIDDEN…); no code is no answer.
                code = str(getattr(resp, "status_code", None) or "")
                if code == "M_LIMIT_EXCEEDED":  # too many logins lately: wait, then try again
                    raise LoginRateLimited(str(resp))
                if code.startswith("M_"):
                    raise LoginFailed(str(resp))
                raise NotMatrix(str(resp))
            fresh_login = True
            log.info(
                "logged in as %s (%s device %s)",
                self.user_id,
                "same" if resp.device_id == device else "new",
                resp.device_id,
            )
        async with db.unit() as repos:
            if m.access_token:  # given at each start: written nowhere, an earlier one forgotten
                await repos.state.delete(TOKEN_KEY)
            else:
                await repos.state.set(TOKEN_KEY, self.nio.access_token)
            await repos.state.set(DEVICE_KEY, self.nio.device_id)
            await repos.state.set(USER_KEY, self.user_id)
            await repos.commit()
        self.crypto = Encryption(self.nio, db)
        await self.crypto.load()
        if fresh_login:
            await self._republish_if_gone()

    async def _republish_if_gone(self) -> None:
        """A password login on a device that was logged out (its keys deleted with it):
        the stored account publishes its identity keys again, or nobody could encrypt
        for the bot."""
        olm = self.nio.olm
        if olm is None or not olm.account.shared:
            return
        resp = await self.raw(
            "POST", "/_matrix/client/v3/keys/query", {"device_keys": {self.user_id: [self.nio.device_id]}}
        )
        published = ((resp or {}).get("device_keys") or {}).get(self.user_id) or {}
        if self.nio.device_id not in published:
            olm.account.shared = False
            log.warning(
                "the device's keys were gone from the homeserver (logged out?): publishing them again"
            )

    async def _use_token(self, token: str, known_device: str | None, *, configured: bool) -> bool:
        """Take `token` if the homeserver accepts it; the device is the token's own."""
        self.nio.access_token = token
        self.nio.user_id = self.user_id
        who = await self.nio.whoami()
        if not isinstance(who, WhoamiResponse):
            self.nio.access_token = ""
            code = getattr(who, "status_code", None)
            if code not in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN"):
                raise TransientError(f"whoami failed: {who}")
            if configured:
                raise LoginFailed(f"access token refused: {who}")
            log.warning("stored access token refused; logging in again")
            return False
        if who.user_id != self.user_id:
            raise LoginFailed(f"the access token is {who.user_id}'s, not {self.user_id}'s")
        device = str(who.device_id or known_device or "")
        if not device:
            raise LoginFailed("the access token has no device (log in with a password once instead)")
        self.nio.restore_login(self.user_id, device, token)
        return True

    async def close(self) -> None:
        await self.nio.close()

    # --- sync ---------------------------------------------------------------------
    async def sync(
        self, since: str | None, sync_filter: dict[str, Any], timeout_ms: int, full_state: bool
    ) -> SyncResponse:
        try:
            resp = await self.nio.sync(
                timeout=timeout_ms, since=since, sync_filter=sync_filter, full_state=full_state
            )
        except Exception as exc:  # connection refused, timeout, a 5xx page that is not JSON
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if isinstance(resp, SyncResponse):
            return resp
        raise TransientError(str(resp))

    async def backfill(
        self, room_id: str, start: str, stop: str | None, max_events: int = 1000
    ) -> list[dict[str, Any]]:
        """Events of a gappy sync that were not delivered: from `start` (the timeline's
        prev_batch) back to `stop` (the previous sync token), oldest first."""
        events: list[dict[str, Any]] = []
        token: str | None = start
        while token and len(events) < max_events:
            resp = await self.nio.room_messages(
                room_id, start=token, end=stop, direction=MessageDirection.back, limit=100
            )
            if not isinstance(resp, RoomMessagesResponse):
                raise TransientError(str(resp))
            if not resp.chunk:
                break
            events.extend(e.source for e in resp.chunk)
            if resp.end == token:
                break
            token = resp.end
        events.reverse()
        return events

    # --- rooms --------------------------------------------------------------------
    async def join(self, room_id: str, *, tries: int = 5) -> bool:
        """Join; a join rate-limited by the homeserver is tried again after the wait it
        asks for (an invitation is not dropped because the bot was busy sending)."""
        for _ in range(tries):
            try:
                resp = await self.nio.join(room_id)
            except NETWORK_ERRORS as exc:
                raise TransientError(f"join {room_id}: {type(exc).__name__}: {exc}") from exc
            if not isinstance(resp, JoinError):
                return True
            if getattr(resp, "status_code", None) != "M_LIMIT_EXCEEDED":
                break
            await asyncio.sleep(min((getattr(resp, "retry_after_ms", None) or 1000) / 1000, 10))
        log.warning("could not join %s: %s", room_id, resp)
        return False

    async def get_state(self, room_id: str, event_type: str, state_key: str = "") -> dict[str, Any] | None:
        """Content of a state event; for `m.room.create` the whole event (its sender is
        the creator in room version 12)."""
        if event_type == "m.room.create":
            path = (
                f"/_matrix/client/v3/rooms/{quote(room_id)}/state/{quote(event_type)}/"
                f"{quote(state_key)}?format=event"
            )
            resp = await self.raw("GET", path)
            return resp if isinstance(resp, dict) and "errcode" not in resp else None
        try:
            result = await self.nio.room_get_state_event(room_id, event_type, state_key)
        except NETWORK_ERRORS as exc:
            raise TransientError(f"state of {room_id}: {type(exc).__name__}: {exc}") from exc
        if isinstance(result, RoomGetStateEventResponse):
            return result.content
        if isinstance(result, ErrorResponse) and result.status_code == "M_NOT_FOUND":
            return None
        raise TransientError(str(result))

    async def raw(self, method: str, path: str, body: Any = None) -> Any:
        """A plain client-server API call (for what nio lacks), JSON in and out."""
        headers = {"Authorization": f"Bearer {self.nio.access_token}", "Content-Type": "application/json"}
        data = json.dumps(body) if body is not None else None
        if self.nio.client_session is None:
            self.nio.client_session = self.nio._create_session()  # nio creates it lazily
        try:
            async with self.nio.client_session.request(
                method, self.nio.homeserver + path, data=data, headers=headers
            ) as resp:
                if resp.status >= 500:
                    raise TransientError(f"{method} {path}: HTTP {resp.status}", answered=True)
                try:
                    return await resp.json(content_type=None)
                except (ValueError, json.JSONDecodeError):
                    raise TransientError(f"{method} {path}: not JSON", answered=True) from None
        except NETWORK_ERRORS as exc:
            raise TransientError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    async def create_direct_room(self, user_id: str) -> str:
        """A new direct chat with `user_id`, encrypted (as Element and Tchap create
        theirs), recorded in `m.direct`."""
        resp = await self.nio.room_create(
            is_direct=True,
            invite=[user_id],
            preset=RoomPreset.trusted_private_chat,
            initial_state=[{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}],
        )
        if isinstance(resp, RoomCreateError):
            if resp.status_code in ("M_FORBIDDEN", "M_UNKNOWN", "M_INVALID_PARAM"):
                raise PermissionError(str(resp))
            raise TransientError(str(resp), answered=True)
        await self._record_direct(user_id, resp.room_id)
        return str(resp.room_id)

    def shared_direct_room(self, user_id: str) -> str | None:
        """A direct chat the bot already shares with `user_id` (both joined, nobody else):
        one in `m.direct` first, else any nameless two-member room."""
        candidates = [
            room_id
            for room_id, room in self.nio.rooms.items()
            if user_id in room.users and len(room.users) == 2 and self.is_direct(room_id)
        ]
        candidates.sort(key=lambda room_id: room_id not in self.direct_rooms)
        return candidates[0] if candidates else None

    async def record_direct(self, user_id: str, room_id: str) -> None:
        """`room_id` as the direct chat with `user_id` in `m.direct` (Matrix clients show
        it as such)."""
        self.direct_rooms.add(room_id)
        await self._record_direct(user_id, room_id)

    async def _record_direct(self, user_id: str, room_id: str) -> None:
        path = f"/_matrix/client/v3/user/{quote(self.user_id)}/account_data/m.direct"
        current = await self.raw("GET", path)
        mapping: dict[str, list[str]] = (
            current if isinstance(current, dict) and "errcode" not in current else {}
        )
        rooms = mapping.setdefault(user_id, [])
        if room_id not in rooms:
            rooms.append(room_id)
        await self.raw("PUT", path, mapping)

    # --- sending ------------------------------------------------------------------
    async def send(self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str) -> SendResult:
        """Send one event; in an encrypted room it is encrypted (a reaction too), its
        room key shared with every device of the members, verified or not."""
        await self.wait_known(room_id)
        encrypted = self.is_encrypted(room_id)
        try:
            if encrypted and event_type == "m.reaction":
                # nio sends reactions in clear; encrypt them as Element does.
                resp = await self._send_encrypted_reaction(room_id, content, txn_id)
            else:
                resp = await self.nio.room_send(
                    room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True
                )
        except NETWORK_ERRORS as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except ENCRYPTION_ERRORS as exc:  # keys not shared yet, members not loaded: again later
            raise TransientError(f"encryption: {type(exc).__name__}: {exc}", answered=True) from exc
        except Exception as exc:  # a local refusal (nio): retrying would not help
            return SendResult(permanent_error=f"{type(exc).__name__}: {exc}")
        if isinstance(resp, RoomSendResponse):
            return SendResult(event_id=resp.event_id)
        return self._classify(resp)

    def is_encrypted(self, room_id: str) -> bool:
        room = self.nio.rooms.get(room_id)
        return bool(room is not None and room.encrypted) or room_id in self.nio.encrypted_rooms

    async def wait_known(self, room_id: str, timeout: float = 10.0) -> None:
        """A room the bot just created or joined is sent to once a sync has shown its
        state (is it encrypted? who is in it?); nio refuses to encrypt before."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while room_id not in self.nio.rooms:
            if loop.time() > deadline:
                raise TransientError(f"room {room_id} not seen in a sync yet", answered=True)
            await asyncio.sleep(0.05)

    async def _send_encrypted_reaction(self, room_id: str, content: dict[str, Any], txn_id: str) -> Any:
        nio = self.nio
        room = nio.rooms[room_id]
        if not room.members_synced:
            await nio.joined_members(room_id)
            if nio.should_query_keys:
                await nio.keys_query()
        if nio.olm is not None and nio.olm.should_share_group_session(room_id):
            await nio.share_group_session(room_id, ignore_unverified_devices=True)
        message_type, encrypted = nio.encrypt(room_id, "m.reaction", content)
        method, path, data = Api.room_send(nio.access_token, room_id, message_type, encrypted, txn_id)
        return await nio._send(RoomSendResponse, method, path, data, (room_id,))

    @staticmethod
    def _classify(resp: Any) -> SendResult:
        code = getattr(resp, "status_code", None)
        if code in ("M_LIMIT_EXCEEDED", 429):
            return SendResult(retry_after_ms=getattr(resp, "retry_after_ms", None) or 5000)
        if code in (
            "M_FORBIDDEN",
            "M_NOT_FOUND",
            "M_UNKNOWN",
            "M_BAD_JSON",
            "M_NOT_JSON",
            "M_TOO_LARGE",
            "M_INVALID_PARAM",
        ):
            return SendResult(permanent_error=str(resp))
        raise TransientError(str(resp), answered=True)

    async def upload(self, data: bytes, mimetype: str, name: str, *, encrypt: bool = False) -> dict[str, Any]:
        """Upload a file; returns what the event says of it: `{"url": mxc}`, or for an
        encrypted room `{"file": {url, key, iv, hashes, v}}` (the homeserver only ever
        sees ciphertext)."""
        import io

        try:
            resp, keys = await self.nio.upload(
                io.BytesIO(data), content_type=mimetype, filename=name, filesize=len(data), encrypt=encrypt
            )
        except NETWORK_ERRORS as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(resp, UploadResponse):
            raise TransientError(str(resp), answered=True)
        if encrypt:
            return {"file": {**keys, "url": str(resp.content_uri)}}
        return {"url": str(resp.content_uri)}

    async def set_display_name(self, name: str) -> None:
        await self.nio.set_displayname(name)

    # --- RoomDirectory ------------------------------------------------------------
    def display_name(self, room_id: str, user_id: str) -> str:
        room = self.nio.rooms.get(room_id)
        if room is not None:
            name = room.user_name(user_id)
            if name:
                return str(name)
        for other in self.nio.rooms.values():
            user = other.users.get(user_id)
            if user is not None and user.display_name:
                return str(user.display_name)
        return user_id.split(":", 1)[0].lstrip("@")

    def is_direct(self, room_id: str) -> bool:
        room = self.nio.rooms.get(room_id)
        if room is None:
            return False
        if room_id in self.direct_rooms:
            return True
        # A nameless room with just the bot and one person is a direct chat.
        return room.member_count <= 2 and not room.name and not room.canonical_alias

    def joined_members(self, room_id: str) -> list[str]:
        room = self.nio.rooms.get(room_id)
        return list(room.users) if room else []

    def joined_rooms(self) -> list[str]:
        return list(self.nio.rooms)

    def room_name(self, room_id: str) -> str:
        room = self.nio.rooms.get(room_id)
        return str(room.display_name) if room else room_id

    def space_children(self, room_id: str) -> list[str] | None:
        room = self.nio.rooms.get(room_id)
        if room is None or room.room_type != "m.space":
            return None
        return sorted(room.children)

    def room_aliases(self, room_id: str) -> list[str]:
        """The room's canonical alias, if any (nio tracks no other), so config may name
        rooms by alias."""
        room = self.nio.rooms.get(room_id)
        return [str(room.canonical_alias)] if room is not None and room.canonical_alias else []
