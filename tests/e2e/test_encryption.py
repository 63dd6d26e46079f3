"""Encrypted rooms and direct chats against the real Synapse, with members whose clients
encrypt as Element does (matrix-nio with its keys store, keys shared with every device).

One bot and a few members serve the whole module (starting them is most of the cost);
tests run in file order and each leaves the bot serving."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, AsyncClientConfig
from sqlalchemy import func, select

from bot.app import App
from bot.config import load_config
from bot.homeserver import Account, EmbeddedSynapse
from storage.db import Database
from storage.models.crypto import CryptoAccount, CryptoGroupSession
from tests.conftest import bot_config, run_app
from tests.support.matrix import TestUser, room_with_bot

pytestmark = pytest.mark.e2e


@dataclass
class World:
    hs: EmbeddedSynapse
    account: Account
    db_url: str
    app: App
    task: asyncio.Task[None]
    alice: TestUser  # encrypts; creator of `room` (an animator there)
    bob: TestUser  # encrypts
    room: str  # encrypted, alice + bob + the bot
    tmp: Path

    @property
    def bot_id(self) -> str:
        return self.account.user_id

    async def restart(self) -> None:
        await self.stop()
        self.app = App(bot_config(self.hs, self.account, self.db_url, accueil={"enabled": False}))
        self.task = await run_app(self.app)

    async def stop(self) -> None:
        self.app.request_stop()
        await asyncio.wait_for(self.task, timeout=30)


async def _member(hs: EmbeddedSynapse, tmp: Path, name: str, *, encrypted: bool = True) -> TestUser:
    account = await asyncio.to_thread(hs.register, f"{name}_{uuid.uuid4().hex[:6]}", "secret-pw")
    u = TestUser(hs, account, encrypted=encrypted, store_dir=tmp / account.device_id if encrypted else None)
    await u.start()
    return u


@pytest.fixture(scope="module")
async def world(
    homeserver: EmbeddedSynapse, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("encryption")
    account = await asyncio.to_thread(
        homeserver.register, f"oasis_{uuid.uuid4().hex[:6]}", "secret-pw", displayname="OASIS"
    )
    await _log_out(homeserver, account)  # the registration's device: the bot makes its own
    db_url = f"sqlite+aiosqlite:///{tmp / 'bot.db'}"
    app = App(bot_config(homeserver, account, db_url, accueil={"enabled": False}))
    task = await run_app(app)
    alice = await _member(homeserver, tmp, "alice")
    bob = await _member(homeserver, tmp, "bob")
    room = await room_with_bot(alice, account.user_id, bob, encrypted=True)
    w = World(homeserver, account, db_url, app, task, alice, bob, room, tmp)
    yield w
    await w.stop()
    for u in (alice, bob):
        await u.stop()


async def _log_out(hs: EmbeddedSynapse, account: Account) -> None:
    client = AsyncClient(hs.url, account.user_id, config=AsyncClientConfig(encryption_enabled=False))
    client.restore_login(account.user_id, account.device_id, account.access_token)
    await client.logout()
    await client.close()


async def _bot_devices(w: World) -> list[str]:
    resp = await w.app.client.raw("GET", "/_matrix/client/v3/devices")
    return sorted(d["device_id"] for d in resp["devices"])


async def _ask(member: TestUser, room: str, text: str, bot_id: str, *, timeout: float = 20) -> Any:
    mark = member.mark()
    await member.send(room, text)
    return await member.wait_message(sender=bot_id, room_id=room, since=mark, timeout=timeout)


async def test_command_in_an_encrypted_room_is_answered_encrypted(world: World) -> None:
    reply = await _ask(world.alice, world.room, "!ping", world.bot_id)
    assert "pong" in reply.body
    assert reply.encrypted  # the member's client decrypted it: it was sent encrypted
    # The other member's device got the room key too (shared with every device).
    seen = await world.bob.wait_message(sender=world.bot_id, room_id=world.room, contains="pong")
    assert seen.encrypted
    # The bot's keys are in its own database.
    async with world.app.db.unit() as repos:
        accounts = (await repos.session.scalars(select(CryptoAccount))).all()
        sessions = await repos.session.scalar(select(func.count()).select_from(CryptoGroupSession))
    assert [(a.user_id, a.device_id, a.shared) for a in accounts] == [
        (world.bot_id, world.app.client.nio.device_id, True)
    ]
    assert sessions and sessions >= 1  # alice's room key, committed with the sync


async def test_an_unencrypted_room_still_works(world: World) -> None:
    room = await world.alice.create_room("Salon en clair", invite=[world.bot_id])
    await world.alice.wait_for(
        lambda s: (
            s.room_id == room
            and s.event.get("state_key") == world.bot_id
            and s.content.get("membership") == "join"
        )
    )
    reply = await _ask(world.alice, room, "!ping", world.bot_id)
    assert "pong" in reply.body and not reply.encrypted


async def test_restart_keeps_the_one_device_and_reads_on(world: World) -> None:
    device = world.app.client.nio.device_id
    assert await _bot_devices(world) == [device]
    await world.restart()
    assert world.app.client.nio.device_id == device
    reply = await _ask(world.bob, world.room, "!ping", world.bot_id)
    assert "pong" in reply.body and reply.encrypted
    assert await _bot_devices(world) == [device]


async def test_every_way_to_log_in_reaches_the_same_device(world: World) -> None:
    """A token from the environment on a fresh database (nio used to refuse it: « Device id
    is not set »), then the password on the same database: one device, the token's."""
    hs = world.hs
    account = await asyncio.to_thread(hs.register, f"oasis_token_{uuid.uuid4().hex[:6]}", "secret-pw")
    db_url = f"sqlite+aiosqlite:///{world.tmp / 'token.db'}"
    path = world.tmp / "token.toml"
    path.write_text(
        f'[matrix]\nhomeserver = "{hs.url}"\nuser_id = "{account.user_id}"\n'
        f'[database]\nurl = "{db_url}"\n[accueil]\nenabled = false\n'
    )
    config = load_config(path, environ={"OASIS_MATRIX_ACCESS_TOKEN": account.access_token})
    app = App(config)
    task = await run_app(app)
    try:
        assert app.client.nio.device_id == account.device_id
        room = await world.alice.create_room(
            "Salon chiffré (jeton)", invite=[account.user_id], encrypted=True
        )
        await world.alice.wait_for(
            lambda s: (
                s.room_id == room
                and s.event.get("state_key") == account.user_id
                and s.content.get("membership") == "join"
            )
        )
        reply = await _ask(world.alice, room, "!ping", account.user_id)
        assert "pong" in reply.body and reply.encrypted
    finally:
        app.request_stop()
        await asyncio.wait_for(task, timeout=30)
    # The password this time, on the same database, the stored token refused: a new
    # login, to the same device.
    db = Database(db_url)
    async with db.unit() as repos:
        await repos.state.set("matrix.access_token", "syt_not_a_valid_token")
        await repos.commit()
    await db.dispose()
    app = App(bot_config(hs, account, db_url, accueil={"enabled": False}))
    task = await run_app(app)
    try:
        assert app.client.nio.device_id == account.device_id
        resp = await app.client.raw("GET", "/_matrix/client/v3/devices")
        assert [d["device_id"] for d in resp["devices"]] == [account.device_id]
        reply = await _ask(world.alice, room, "!ping", account.user_id)
        assert "pong" in reply.body and reply.encrypted
    finally:
        app.request_stop()
        await asyncio.wait_for(task, timeout=30)
