"""Real Matrix accounts driven from tests: send messages, wait for what the bot says.

Each `TestUser` syncs in the background and records every timeline event of every room it
is in, so a test can wait for a message, or check that none came."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    RoomCreateResponse,
    RoomInviteError,
    RoomSendResponse,
    SyncResponse,
)

from bot.homeserver import Account, EmbeddedSynapse
from tests.support.network import network_of


@dataclass
class Seen:
    room_id: str
    event: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

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

    def __init__(self, hs: EmbeddedSynapse, account: Account, *, auto_join_from: str | None = None) -> None:
        self.hs = hs
        self.account = account
        self.user_id = account.user_id
        self.client = AsyncClient(hs.url, account.user_id, config=AsyncClientConfig(max_timeouts=5))
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.seen: list[Seen] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.auto_join_from = auto_join_from  # accept invitations from this user (the bot)

    async def start(self) -> None:
        first = await self.client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 0}}})
        assert isinstance(first, SyncResponse), first
        self._task = asyncio.create_task(self._loop(first.next_batch))

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
            for room_id, info in resp.rooms.join.items():
                for ev in info.timeline.events:
                    self.seen.append(Seen(room_id, ev.source))
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
        resp = await self.client.room_send(room_id, "m.room.message", content)
        assert isinstance(resp, RoomSendResponse), resp
        return str(resp.event_id)

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        resp = await self.client.room_send(room_id, event_type, content)
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
    ) -> str:
        """A room of the network (listed in the homeserver's network space before anyone is
        invited), or outside it (`network=False`), or a direct chat (never the network's)."""
        if is_direct or not network:
            resp = await self.client.room_create(name=name, invite=invite or [], is_direct=is_direct)
            assert isinstance(resp, RoomCreateResponse), resp
            return str(resp.room_id)
        resp = await self.client.room_create(name=name)
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
    owner: TestUser, bot_user_id: str, *members: TestUser, name: str = "OASIS test"
) -> str:
    """A room made by `owner` (its creator, so an animator in room v12), with the bot and
    `members` joined; returns once the bot has joined."""
    room = await owner.create_room(name, invite=[bot_user_id, *(m.user_id for m in members)])
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
