"""Encrypted rooms and direct chats against the real Synapse, with members whose clients
encrypt as Element does (matrix-nio with its keys store, keys shared with every device).

One bot and a few members serve the whole module (starting them is most of the cost);
tests run in file order and each leaves the bot serving."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import vodozemac
from nio import AsyncClient, AsyncClientConfig
from nio.event_builders import ToDeviceMessage
from nio.store import SqliteMemoryStore
from sqlalchemy import func, select

from bot.app import App
from bot.config import load_config
from bot.homeserver import Account, EmbeddedSynapse
from storage.db import Database
from storage.models.crypto import CryptoAccount, CryptoGroupSession
from tests.conftest import bot_config, run_app
from tests.support.matrix import TestUser, room_with_bot
from tests.support.network import network_of
from tests.support.process import BotProcess

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
    network: dict[str, Any]  # [bot] rooms: the harness's network space

    @property
    def bot_id(self) -> str:
        return self.account.user_id

    async def restart(self, **sections: Any) -> None:
        await self.stop()
        self.start(**sections)
        self.task = await run_app(self.app)

    def start(self, **sections: Any) -> None:
        sections.setdefault("accueil", {"enabled": False})
        sections.setdefault("bot", self.network)
        self.app = App(bot_config(self.hs, self.account, self.db_url, **sections))

    async def stop(self) -> None:
        self.app.request_stop()
        await asyncio.wait_for(self.task, timeout=30)


async def _member(hs: EmbeddedSynapse, tmp: Path, name: str, bot_id: str) -> TestUser:
    account = await asyncio.to_thread(hs.register, f"{name}_{uuid.uuid4().hex[:6]}", "secret-pw")
    u = TestUser(hs, account, encrypted=True, store_dir=tmp / account.device_id, auto_join_from=bot_id)
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
    network = network_of(homeserver)
    await asyncio.to_thread(network.admit, account)  # with the registration's token…
    await _log_out(homeserver, account)  # …whose device goes: the bot makes its own
    db_url = f"sqlite+aiosqlite:///{tmp / 'bot.db'}"
    rooms = network.rooms_config()
    app = App(bot_config(homeserver, account, db_url, accueil={"enabled": False}, bot=rooms))
    task = await run_app(app)
    alice = await _member(homeserver, tmp, "alice", account.user_id)
    bob = await _member(homeserver, tmp, "bob", account.user_id)
    room = await room_with_bot(alice, account.user_id, bob, encrypted=True)
    w = World(homeserver, account, db_url, app, task, alice, bob, room, tmp, rooms)
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


async def test_a_file_in_the_direct_chat_the_bot_opens_is_an_encrypted_attachment(world: World) -> None:
    alice = world.alice
    await _ask(alice, world.room, "!profil type caf", world.bot_id)  # something kept: a file to send
    mark = alice.mark()
    await alice.send(world.room, "!mes-donnees")
    file = await alice.wait_for(
        lambda s: s.sender == world.bot_id and s.content.get("msgtype") == "m.file", since=mark, timeout=20
    )
    dm = file.room_id
    assert dm != world.room and alice.client.rooms[dm].encrypted  # the chat the bot opened
    assert file.encrypted and "file" in file.content and "url" not in file.content
    data = json.loads(await alice.download(file.content))  # fetched, hash checked, decrypted
    assert data["identifiant_matrix"] == alice.user_id


async def test_a_second_device_of_a_member_reads_the_answers(world: World) -> None:
    login = await asyncio.to_thread(world.hs.login, world.alice.user_id, "secret-pw")
    phone = TestUser(world.hs, login, encrypted=True, store_dir=world.tmp / login.device_id)
    await phone.start()
    try:
        # The bot learns of the new device from its syncs (device list change), then
        # shares its next room key with it too.
        for _ in range(5):
            mark = phone.mark()
            await _ask(world.alice, world.room, "!ping", world.bot_id)
            try:
                seen = await phone.wait_message(
                    sender=world.bot_id, room_id=world.room, since=mark, timeout=3
                )
            except AssertionError:
                continue
            if seen.encrypted and "pong" in seen.body:
                break
        else:
            raise AssertionError("the second device never read an answer")
    finally:
        await phone.stop()


async def test_an_undecryptable_message_is_explained_once(world: World) -> None:
    """A message whose room key never comes (here: a session nobody shared): the bot asks
    the sender's device for the key, waits, then tells the sender once."""
    world.app.dispatcher.undecryptable_after = 2.0  # 60 s in production
    bob = world.bob
    lost = vodozemac.GroupSession()  # a room key nobody will ever send
    session = lost.session_id
    content = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "sender_key": bob.client.olm.account.identity_keys["curve25519"],
        "device_id": bob.client.device_id,
        "session_id": session,
        "ciphertext": lost.encrypt(b"{}").to_base64(),
    }
    mark = bob.mark()
    first = await bob.send_raw(world.room, "m.room.encrypted", content)
    await bob.send_raw(world.room, "m.room.encrypted", content)
    told = await bob.wait_message(
        sender=world.bot_id, room_id=world.room, since=mark, contains="pas pu lire votre message chiffré"
    )
    assert told.encrypted and told.content["m.relates_to"]["m.in_reply_to"]["event_id"] == first
    assert session in world.app.client.nio.olm.outgoing_key_requests  # the key was asked for
    later = await bob.quiet(sender=world.bot_id, since=mark, seconds=4, room_id=world.room)
    assert len([m for m in later if "chiffré" in m.body]) == 1  # once, not per message


async def test_a_message_whose_key_comes_late_is_answered_then(world: World) -> None:
    """The room key arrives after the message: the event waits in the inbox and is
    handled when the key comes, without any explanation sent."""
    world.app.dispatcher.undecryptable_after = 30.0
    bob = world.bob
    olm = bob.client.olm
    bot_device = world.app.client.nio.device_id
    device = olm.device_store[world.bot_id][bot_device]
    olm_session = olm.session_store.get(device.curve25519)
    assert olm_session is not None  # bob's earlier messages opened one
    group = vodozemac.GroupSession()
    key = group.session_key.to_base64()
    payload = {
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": "!ping"},
        "room_id": world.room,
    }
    ciphertext = group.encrypt(json.dumps(payload).encode()).to_base64()
    mark = bob.mark()
    await bob.send_raw(
        world.room,
        "m.room.encrypted",
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "sender_key": olm.account.identity_keys["curve25519"],
            "device_id": bob.client.device_id,
            "session_id": group.session_id,
            "ciphertext": ciphertext,
        },
    )
    assert await bob.quiet(sender=world.bot_id, since=mark, seconds=2, room_id=world.room) == []
    room_key = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "room_id": world.room,
        "session_id": group.session_id,
        "session_key": key,
    }
    to_device = olm._olm_encrypt(olm_session, device, "m.room_key", room_key)
    await bob.client.to_device(ToDeviceMessage("m.room.encrypted", world.bot_id, bot_device, to_device))
    reply = await bob.wait_message(sender=world.bot_id, room_id=world.room, since=mark, contains="pong")
    assert reply.encrypted
    assert not [m for m in bob.messages(sender=world.bot_id, since=mark) if "chiffré" in m.body]


async def test_malformed_events_unknown_algorithms_and_a_flood_break_nothing(world: World) -> None:
    bob = world.bob
    mark = bob.mark()
    for content in (
        {"algorithm": "m.olm.v1.curve25519-aes-sha2", "ciphertext": {}},
        {"algorithm": "org.example.rot13", "ciphertext": "uryyb"},
        {"algorithm": "m.megolm.v1.aes-sha2"},  # no session, no ciphertext
        {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": 5, "session_id": [], "ciphertext": None},
    ):
        await bob.send_raw(world.room, "m.room.encrypted", content)
    # A to-device flood: hundreds of undecryptable Olm messages to the bot's device.
    bot_device = world.app.client.nio.device_id
    bot_key = world.app.client.nio.olm.account.identity_keys["curve25519"]
    for i in range(200):
        junk = {
            "algorithm": "m.olm.v1.curve25519-aes-sha2",
            "sender_key": "A" * 43,
            "ciphertext": {bot_key: {"type": i % 2, "body": "bm90IGEgbWVzc2FnZQ"}},
        }
        await bob.client.to_device(ToDeviceMessage("m.room.encrypted", world.bot_id, bot_device, junk))
    reply = await _ask(bob, world.room, "!ping", world.bot_id, timeout=30)
    assert "pong" in reply.body and reply.encrypted
    answers = bob.messages(sender=world.bot_id, room_id=world.room, since=mark)
    assert len(answers) == 1, [m.body for m in answers]  # nothing said about the junk
    olm = world.app.client.nio.olm
    assert all(len(sessions) <= 8 for sessions in olm.session_store.values())


async def test_a_member_with_fifty_devices_reads_the_answers(world: World) -> None:
    dave = await _member(world.hs, world.tmp, "dave", world.bot_id)
    extra: list[AsyncClient] = []
    try:
        for _ in range(49):  # 49 more devices, each with its keys published
            login = await asyncio.to_thread(world.hs.login, dave.user_id, "secret-pw")
            client = AsyncClient(
                world.hs.url, dave.user_id, config=AsyncClientConfig(store=SqliteMemoryStore, max_timeouts=3)
            )
            client.restore_login(dave.user_id, login.device_id, login.access_token)
            await client.keys_upload()
            extra.append(client)
        await world.alice.invite(world.room, dave.user_id)
        await dave.join(world.room)
        reply = await _ask(dave, world.room, "!ping", world.bot_id, timeout=60)
        assert "pong" in reply.body and reply.encrypted
        known = world.app.client.nio.olm.device_store.active_user_devices(dave.user_id)
        assert len(list(known)) == 50
    finally:
        for client in extra:
            await client.close()
        await dave.stop()


async def test_restart_keeps_the_one_device_and_reads_on(world: World) -> None:
    device = world.app.client.nio.device_id
    assert await _bot_devices(world) == [device]
    await world.restart()
    assert world.app.client.nio.device_id == device
    reply = await _ask(world.bob, world.room, "!ping", world.bot_id)
    assert "pong" in reply.body and reply.encrypted
    assert await _bot_devices(world) == [device]


async def test_kill_9_keeps_the_one_device_and_the_keys(world: World) -> None:
    """The bot as operators run it, killed with SIGKILL between two answers: it comes
    back on the same device, reads the room, and its answers are readable."""
    device = world.app.client.nio.device_id
    await world.stop()
    proc = BotProcess(world.hs, world.account, world.db_url, world.tmp, name="killed", bot=world.network)
    try:
        proc.start()
        await proc.wait_role("active")
        reply = await _ask(world.bob, world.room, "!ping", world.bot_id, timeout=30)
        assert "pong" in reply.body and reply.encrypted
        proc.kill()
        mark = world.bob.mark()
        await world.bob.send(world.room, "!ping")  # sent while the bot is dead
        proc.start()
        await proc.wait_role("active")
        reply = await world.bob.wait_message(
            sender=world.bot_id, room_id=world.room, since=mark, contains="pong"
        )
        assert reply.encrypted
    finally:
        await proc.stop()
    world.start()
    world.task = await run_app(world.app)
    assert world.app.client.nio.device_id == device
    assert await _bot_devices(world) == [device]


async def test_a_newcomer_reads_the_welcome_and_onboards_in_an_encrypted_direct_chat(world: World) -> None:
    await world.restart(accueil={"batch_seconds": 1, "batch_max_seconds": 5, "dm_onboarding": True})
    carol = await _member(world.hs, world.tmp, "carol", world.bot_id)
    try:
        await carol.set_display_name("Carole Dupont")
        mark = carol.mark()
        await world.alice.invite(world.room, carol.user_id)
        await carol.join(world.room)
        hello = await carol.wait_message(
            sender=world.bot_id, room_id=world.room, since=mark, contains="Bienvenue"
        )
        assert hello.encrypted  # the newcomer's new device got the room key
        intro = await carol.wait_message(
            sender=world.bot_id, since=mark, contains="Votre structure", timeout=30
        )
        dm = intro.room_id
        assert intro.encrypted and carol.client.rooms[dm].encrypted
        for text, expected in [
            ("Département de l'Hérault", "Type de structure"),
            ("departement", "Votre fonction"),
            ("passer", "Votre territoire"),
            ("34", "compétences ou sujets"),
            ("Chiffrement, sobriété numérique", "présentation courte"),
            ("passer", "Apparaître dans l'annuaire"),
            ("oui", "Votre fiche est enregistrée"),
        ]:
            mark = carol.mark()
            await carol.send(dm, text)
            await carol.wait_message(sender=world.bot_id, room_id=dm, since=mark, contains=expected)
        found = await _ask(world.alice, world.room, "!annuaire sobriete", world.bot_id)
        assert "Carole Dupont" in found.body and found.encrypted
    finally:
        await carol.stop()


async def test_every_way_to_log_in_reaches_the_same_device(world: World) -> None:
    """A token from the environment on a fresh database (nio used to refuse it: « Device id
    is not set »), then the password on the same database: one device, the token's."""
    hs = world.hs
    account = await asyncio.to_thread(hs.register, f"oasis_token_{uuid.uuid4().hex[:6]}", "secret-pw")
    db_url = f"sqlite+aiosqlite:///{world.tmp / 'token.db'}"
    path = world.tmp / "token.toml"
    network = network_of(hs)
    await asyncio.to_thread(network.admit, account)
    rooms = json.dumps(network.rooms_config()["rooms"])
    path.write_text(
        f'[matrix]\nhomeserver = "{hs.url}"\nuser_id = "{account.user_id}"\n'
        f'[database]\nurl = "{db_url}"\n[accueil]\nenabled = false\n[bot]\nrooms = {rooms}\n'
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
