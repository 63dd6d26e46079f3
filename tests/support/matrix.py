"""Real Matrix accounts driven from tests: send messages, wait for what the bot says.

Each `TestUser` syncs in the background and records every timeline event of every room it
is in, so a test can wait for a message, or check that none came. With `encrypted=True` it
is a client with end-to-end encryption as Element sets it up (matrix-nio's own store in a
directory, keys shared with every device, verified or not): it encrypts what it sends in
encrypted rooms and records what it receives decrypted (`Seen.encrypted`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    DownloadResponse,
    RoomCreateResponse,
    RoomInviteError,
    RoomSendResponse,
    SyncResponse,
)
from nio.crypto import decrypt_attachment

from bot.homeserver import Account, EmbeddedSynapse
from tests.support.network import network_of


@dataclass
class Seen:
    room_id: str
    event: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    encrypted: bool = False  # arrived encrypted (and was decrypted)

    @property
    def type(self) -> str:
        return str(self.event.get("type", ""))

    @property
    def sender(self) -> str:
        return str(self.event.get("sender", ""))

    @property
    def content(self) -> dict[str, Any]:
        return dict(self.event.get("content") or {})

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def event_id(self) -> str:
        return str(self.event.get("event_id", ""))


class TestUser:
    __test__ = False  # not a pytest class

    def __init__(
        self,
        hs: EmbeddedSynapse,
        account: Account,
        *,
        auto_join_from: str | None = None,
        encrypted: bool = False,
        store_dir: Path | None = None,
    ) -> None:
        self.hs = hs
        self.account = account
        self.user_id = account.user_id
        self.encrypted = encrypted
        if encrypted:
            assert store_dir is not None, "an encrypting client needs a directory for its keys"
            store_dir.mkdir(parents=True, exist_ok=True)
            self.client = AsyncClient(
                hs.url,
                account.user_id,
                device_id=account.device_id,
                store_path=str(store_dir),
                config=AsyncClientConfig(max_timeouts=5, encryption_enabled=True, store_sync_tokens=False),
            )
        else:
            self.client = AsyncClient(
                hs.url,
                account.user_id,
                config=AsyncClientConfig(max_timeouts=5, encryption_enabled=False),
            )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.seen: list[Seen] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.auto_join_from = auto_join_from  # accept invitations from this user (the bot)

    async def start(self) -> None:
        first = await self.client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 0}}})
        assert isinstance(first, SyncResponse), first
        await self._keys()
        self._task = asyncio.create_task(self._loop(first.next_batch))

    async def _keys(self) -> None:
        """What nio's sync_forever does after each sync for encryption."""
        c = self.client
        if not self.encrypted or c.olm is None:
            return
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())
        await c.send_to_device_messages()

    async def _loop(self, since: str) -> None:
        token = since
        while True:
            try:
                resp = await self.client.sync(
                    timeout=10_000, since=token, sync_filter={"room": {"timeline": {"limit": 100}}}
                )
            except Exception:
                await asyncio.sleep(0.2)
                continue
            if not isinstance(resp, SyncResponse):
                await asyncio.sleep(0.2)
                continue
            token = resp.next_batch
            with contextlib.suppress(Exception):
                await self._keys()
            for room_id, info in resp.rooms.join.items():
                for ev in info.timeline.events:
                    self.seen.append(
                        Seen(room_id, ev.source, encrypted=bool(getattr(ev, "decrypted", False)))
                    )
            for room_id, invite in resp.rooms.invite.items():
                inviter = next(
                    (
                        getattr(e, "sender", "")
                        for e in invite.invite_state
                        if getattr(e, "state_key", None) == self.user_id
                    ),
                    "",
                )
                if self.auto_join_from and inviter == self.auto_join_from:
                    await self.client.join(room_id)
            async with self._changed:
                self._changed.notify_all()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    # --- acting -------------------------------------------------------------------
    async def send(
        self,
        room_id: str,
        body: str,
        *,
        html: str | None = None,
        extra: dict[str, Any] | None = None,
        msgtype: str = "m.text",
    ) -> str:
        content: dict[str, Any] = {"msgtype": msgtype, "body": body}
        if html is not None:
            content.update(format="org.matrix.custom.html", formatted_body=html)
        content.update(extra or {})
        return await self.send_event(room_id, "m.room.message", content)

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        if self.encrypted and room_id not in self.client.rooms:
            await self.wait_for(lambda s: s.room_id == room_id, timeout=15)
        resp = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        assert isinstance(resp, RoomSendResponse), resp
        return str(resp.event_id)

    async def send_raw(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Send `content` as is (nio would encrypt it again in an encrypted room): what
        a broken or hostile client can put in a room."""
        method, path, data = Api.room_send(self.client.access_token, room_id, event_type, content, uuid4())
        resp = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(resp, RoomSendResponse), resp
        return str(resp.event_id)

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send_event(
            room_id,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
        )

    async def create_room(
        self,
        name: str | None = "Salon de test",
        invite: list[str] | None = None,
        *,
        is_direct: bool = False,
        network: bool = True,
        encrypted: bool = False,
    ) -> str:
        """A room of the network (listed in the homeserver's network space before anyone is
        invited), or outside it (`network=False`), or a direct chat (never the network's);
        `encrypted`: with `m.room.encryption` from the start, as Element's private rooms and
        direct chats are."""
        initial_state = (
            [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
            if encrypted
            else []
        )
        if is_direct or not network:
            resp = await self.client.room_create(
                name=name, invite=invite or [], is_direct=is_direct, initial_state=initial_state
            )
            assert isinstance(resp, RoomCreateResponse), resp
            return str(resp.room_id)
        resp = await self.client.room_create(name=name, initial_state=initial_state)
        assert isinstance(resp, RoomCreateResponse), resp
        room = str(resp.room_id)
        await self.add_to_network(room)
        for user_id in invite or []:
            await self.invite(room, user_id)
        return room

    async def add_to_network(self, room_id: str) -> None:
        net = await asyncio.to_thread(network_of, self.hs)
        await asyncio.to_thread(net.add, room_id)

    async def join(self, room_id: str) -> None:
        resp = await self.client.join(room_id)
        assert getattr(resp, "room_id", None), resp

    async def leave(self, room_id: str) -> None:
        await self.client.room_leave(room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        resp = await self.client.room_invite(room_id, user_id)
        assert not isinstance(resp, RoomInviteError), resp

    async def set_display_name(self, name: str) -> None:
        await self.client.set_displayname(name)

    async def set_power_level(self, room_id: str, user_id: str, level: int) -> None:
        state = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        content = dict(state.content)
        content.setdefault("users", {})[user_id] = level
        await self.client.room_put_state(room_id, "m.room.power_levels", content)

    async def download(self, content: dict[str, Any]) -> bytes:
        """The file an `m.file`/`m.image` event carries: `url` in clear, or `file` (an
        encrypted attachment: fetched, checked and decrypted as a client does)."""
        encrypted = content.get("file")
        resp = await self.client.download(encrypted["url"] if encrypted else content["url"])
        assert isinstance(resp, DownloadResponse), resp
        if not encrypted:
            return bytes(resp.body)
        return bytes(
            decrypt_attachment(
                resp.body, encrypted["key"]["k"], encrypted["hashes"]["sha256"], encrypted["iv"]
            )
        )

    # --- observing ----------------------------------------------------------------
    def mark(self) -> int:
        return len(self.seen)

    def messages(
        self, *, sender: str | None = None, room_id: str | None = None, since: int = 0
    ) -> list[Seen]:
        return [
            s
            for s in self.seen[since:]
            if s.type == "m.room.message"
            and (sender is None or s.sender == sender)
            and (room_id is None or s.room_id == room_id)
        ]

    async def wait_for(
        self, predicate: Callable[[Seen], bool], *, since: int = 0, timeout: float = 15
    ) -> Seen:
        deadline = time.monotonic() + timeout
        index = since
        while True:
            while index < len(self.seen):
                item = self.seen[index]
                index += 1
                if predicate(item):
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                bodies = [f"{s.sender}: {s.body[:80]}" for s in self.seen[since:]]
                raise AssertionError(f"nothing matched within {timeout} s; seen: {bodies}")
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=remaining)

    async def wait_message(
        self,
        *,
        sender: str,
        room_id: str | None = None,
        since: int = 0,
        contains: str | None = None,
        timeout: float = 15,
    ) -> Seen:
        return await self.wait_for(
            lambda s: (
                s.type == "m.room.message"
                and s.sender == sender
                and (room_id is None or s.room_id == room_id)
                and (contains is None or contains.casefold() in s.body.casefold())
            ),
            since=since,
            timeout=timeout,
        )

    async def quiet(
        self, *, sender: str, since: int, seconds: float = 2.0, room_id: str | None = None
    ) -> list[Seen]:
        """Wait `seconds`; return the messages `sender` sent meanwhile (expected: none)."""
        await asyncio.sleep(seconds)
        return self.messages(sender=sender, room_id=room_id, since=since)


async def room_with_bot(
    owner: TestUser, bot_user_id: str, *members: TestUser, name: str = "OASIS test", encrypted: bool = False
) -> str:
    """A room made by `owner` (its creator, so an animator in room v12), with the bot and
    `members` joined; returns once the bot has joined."""
    room = await owner.create_room(
        name, invite=[bot_user_id, *(m.user_id for m in members)], encrypted=encrypted
    )
    for m in members:
        await m.join(room)
    await owner.wait_for(
        lambda s: (
            s.room_id == room
            and s.type == "m.room.member"
            and s.event.get("state_key") == bot_user_id
            and s.content.get("membership") == "join"
        )
    )
    return room


def replies_to(seen: list[Seen], sent: list[str]) -> list[str]:
    """The ids of `sent` events that the messages in `seen` reply to, in order."""
    targets = set(sent)
    out = []
    for s in seen:
        target = ((s.content.get("m.relates_to") or {}).get("m.in_reply_to") or {}).get("event_id")
        if target in targets:
            out.append(target)
    return out
