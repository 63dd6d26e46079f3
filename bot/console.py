"""`oasis-bot console`: a terminal chat with the demo bot, as the demo member or animator.
What you type goes to the room (or to a direct chat with `--dm`); what the bot answers,
anywhere, is printed readably."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    RoomMessage,
    SyncResponse,
)

from bot.demo import DemoState
from bot.i18n import Translator, default_catalog


async def run_console(data_dir: Path, who: str, *, direct: bool = False, lang: str = "fr") -> int:
    tr = default_catalog().translator(lang)
    state = DemoState.load(data_dir / "demo.json")
    if state is None:
        print(tr.t("demo.not_found", dir=data_dir))
        return 1
    logging.getLogger("nio").setLevel(logging.CRITICAL)
    account = state.animator if who in ("animator", "animateur") else state.member
    config_url = _homeserver_url(data_dir)
    client = AsyncClient(
        config_url, account.user_id, config=AsyncClientConfig(max_timeouts=2, request_timeout=40)
    )
    client.restore_login(account.user_id, "", account.access_token)
    try:
        try:
            first = await client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 0}}})
        except Exception:
            first = None
        if not isinstance(first, SyncResponse):
            print(tr.t("demo.unreachable", url=config_url))
            return 1
        room_id = await _direct_room(client, state) if direct else state.room_id
        print(tr.t("demo.connected", name=account.display_name, user_id=account.user_id))
        print(tr.t("demo.typing_hint") + "\n")
        client.add_event_callback(_printer(tr, client, state, room_id), RoomMessage)
        client.add_event_callback(_auto_join(client, state), InviteMemberEvent)
        syncer = asyncio.create_task(client.sync_forever(timeout=30000, since=first.next_batch))
        try:
            await _read_loop(client, room_id)
        finally:
            syncer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await syncer
    finally:
        await client.close()
    return 0


def _homeserver_url(data_dir: Path) -> str:
    import yaml

    config = yaml.safe_load((data_dir / "homeserver" / "homeserver.yaml").read_text())
    return f"http://127.0.0.1:{config['listeners'][0]['port']}"


async def _direct_room(client: AsyncClient, state: DemoState) -> str:
    for room_id, room in client.rooms.items():
        if room.member_count <= 2 and state.bot.user_id in room.users and room_id != state.room_id:
            return str(room_id)
    resp = await client.room_create(is_direct=True, invite=[state.bot.user_id])
    room_id = str(resp.room_id)
    for _ in range(50):  # wait until the bot has joined, so the first message is seen
        await client.sync(timeout=200)
        room = client.rooms.get(room_id)
        if room and state.bot.user_id in room.users:
            break
    return room_id


def _printer(tr: Translator, client: AsyncClient, state: DemoState, room_id: str) -> Any:
    async def show(room: MatrixRoom, event: RoomMessage) -> None:
        if event.sender == client.user_id:
            return
        where = "" if room.room_id == room_id else f"[{room.display_name or tr.t('demo.private_room')}] "
        name = room.user_name(event.sender) or event.sender
        body = getattr(event, "body", "") or event.source.get("content", {}).get("body", "")
        indent = "\n    ".join(str(body).splitlines())
        print(f"\n{where}{name} › {indent}\n> ", end="", flush=True)

    return show


def _auto_join(client: AsyncClient, state: DemoState) -> Any:
    async def join(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == client.user_id and event.sender == state.bot.user_id:
            await client.join(room.room_id)

    return join


async def _read_loop(client: AsyncClient, room_id: str) -> None:
    while True:
        print("> ", end="", flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        text = line.strip()
        if text in ("/quitter", "/quit", "/exit"):
            return
        if not text:
            continue
        await client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text, "m.mentions": {}}
        )
