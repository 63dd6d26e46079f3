"""The dispatcher, with fake room facts and permissions over a real SQLite database: what
a command queues, errors, permissions, exactly-once handling, lanes and conversations."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.arguments import Rest
from bot.context import Context, Reply, Services
from bot.conversations import FORMS, Question, form, start_form
from bot.dispatch import Dispatcher
from bot.errors import UserError
from bot.formatting import Rich
from bot.i18n import NBSP, NNBSP, Catalog, default_catalog
from bot.registry import MemberChange, Registry, command
from bot.roles import Role
from storage.db import Database
from tests.support.databases import empty_tables
from tests.support.fakes import FakePermissions, FakeRooms, queued, test_config

ROOM = "!room:example.org"
OTHER_ROOM = "!other:example.org"
DM = "!dm:example.org"
ALICE = "@alice:example.org"
BOB = "@bob:example.org"
BOT = "@oasis:example.org"
FORM = "tests.dispatch.profile"


# --- the database -----------------------------------------------------------------


@pytest.fixture(scope="module")
async def migrated(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('dispatch') / 'bot.db'}")
    await db.migrate()
    yield db
    await db.dispose()


@pytest.fixture
async def db(migrated: Database) -> Database:
    await empty_tables(migrated)
    return migrated


# --- what the commands do ---------------------------------------------------------


class Calls:
    """What the test commands saw, in order."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.started: dict[str, asyncio.Event] = {}
        self.completed: list[dict[str, Any]] = []
        self.members: list[MemberChange] = []

    def gate(self, name: str) -> asyncio.Event:
        return self.gates.setdefault(name, asyncio.Event())

    def start(self, name: str) -> asyncio.Event:
        return self.started.setdefault(name, asyncio.Event())


def make_registry(calls: Calls) -> Registry:
    reg = Registry()

    @command("ping", help="general.ping.help", registry=reg)
    async def ping(ctx: Context) -> Reply:
        calls.log.append(f"ping:{ctx.sender}")
        return Reply("general.ping.pong")

    @command("annuaire", aliases=["directory"], help="general.ping.help", registry=reg)
    async def directory(ctx: Context, recherche: Rest = "") -> Reply:
        calls.log.append(f"annuaire:{recherche}")
        return Reply(rich=Rich.text(f"résultats pour {recherche}"))

    @command("compter", help="general.ping.help", registry=reg)
    async def count(ctx: Context, n: int) -> Reply:
        return Reply(rich=Rich.text(str(n * 2)))

    @command("effacer", help="general.ping.help", registry=reg)
    async def erase(ctx: Context) -> Reply:
        return Reply(rich=Rich.text("sûr ?"))

    @erase.sub("confirmer", help="general.ping.help")
    async def erase_confirmed(ctx: Context) -> Reply:
        return Reply(rich=Rich.text("effacé"))

    @command("langue", help="general.ping.help", registry=reg, role=Role.OUTSIDER)
    async def set_language(ctx: Context, langue: str) -> None:
        await ctx.repos.settings.set_language(ctx.sender, langue)
        if langue == "xx":
            raise UserError("args.not_choice", value=langue, choices="fr, en")
        if langue == "boom":
            raise RuntimeError("connexion à postgresql://admin:hunter2@db refusée")

    @command("verrou", help="general.ping.help", registry=reg)
    async def locked(ctx: Context) -> Reply:
        await ctx.repos.settings.set_language(ctx.sender, "en")
        calls.log.append("verrou")
        if calls.log.count("verrou") == 1:  # a backup holds the SQLite write lock
            raise OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
        return Reply(rich=Rich.text("déverrouillé"))

    @command("admin", help="general.ping.help", registry=reg, role=Role.ADMIN)
    async def admin_only(ctx: Context) -> Reply:
        calls.log.append("admin")
        return Reply(rich=Rich.text("fait"))

    @command("prive", help="general.ping.help", registry=reg, direct_only=True)
    async def private(ctx: Context) -> Reply:
        return Reply(rich=Rich.text("en privé"))

    @command("lent", help="general.ping.help", registry=reg)
    async def slow(ctx: Context, nom: str) -> Reply:
        calls.log.append(f"start:{nom}")
        calls.start(nom).set()
        await asyncio.wait_for(calls.gate(nom).wait(), timeout=5)
        calls.log.append(f"end:{nom}")
        return Reply(rich=Rich.text(f"fini {nom}"))

    @command("noter", help="general.ping.help", registry=reg)
    async def note(ctx: Context, nom: str) -> Reply:
        calls.log.append(f"note:{nom}")
        return Reply(rich=Rich.text(f"noté {nom}"))

    @command("saluer", help="general.ping.help", registry=reg)
    async def greet(ctx: Context) -> list[Reply]:
        return [
            Reply(rich=Rich.text("bonjour"), mentions=[BOB]),
            Reply(rich=Rich.text("en privé"), in_dm=True),
            Reply(rich=Rich.text("marqué"), tag="test:1"),
        ]

    @command("formulaire", help="general.ping.help", registry=reg)
    async def start(ctx: Context) -> None:
        await start_form(ctx, FORM)

    async def on_member(ctx: Context, change: MemberChange) -> None:
        calls.members.append(change)
        if change.user_id == "@crash:example.org":
            raise RuntimeError("hook failed")

    reg.member_hooks.append(on_member)
    return reg


# --- a test form ------------------------------------------------------------------

EXTRA_MESSAGES = {
    "tests.ask.age": "Quel âge avez-vous ?",
    "tests.ask.ville": "Votre ville ? (par défaut {default})",
    "tests.ask.note": "Un mot de plus ?",
    "tests.age_invalid": "« {value} » n'est pas un âge.",
    "tests.done": "Merci : {age} ans, {ville}.",
}


def _parse_age(raw: str, ctx: Context, data: dict[str, Any]) -> int:
    if not raw.strip().isdigit():
        raise UserError("tests.age_invalid", value=raw)
    return int(raw)


async def _complete(calls: Calls, ctx: Context, data: dict[str, Any]) -> Reply:
    calls.completed.append(data)
    return Reply("tests.done", age=data["age"], ville=data.get("ville", "?"))


@pytest.fixture
def calls() -> Iterator[Calls]:
    found = Calls()

    async def complete(ctx: Context, data: dict[str, Any]) -> Reply:
        return await _complete(found, ctx, data)

    FORMS.pop(FORM, None)
    form(
        FORM,
        questions=[
            Question("age", "tests.ask.age", parse=_parse_age, optional=False),
            Question("ville", "tests.ask.ville", default=lambda ctx, data: "Lyon"),
            Question("note", "tests.ask.note"),
        ],
        on_complete=complete,
    )
    yield found
    FORMS.pop(FORM, None)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    from bot.i18n import french_typography

    base = default_catalog()
    messages: dict[str, dict[str, Any]] = {loc: dict(msgs) for loc, msgs in base.messages.items()}
    for loc in messages:
        for key, value in EXTRA_MESSAGES.items():
            messages[loc][key] = french_typography(value) if loc == "fr" else value
    return Catalog(messages)


# --- the dispatcher ---------------------------------------------------------------


class Harness:
    def __init__(self, db: Database, catalog: Catalog, calls: Calls, **bot: Any) -> None:
        self.db = db
        self.calls = calls
        self.rooms = FakeRooms(direct={DM}, members={ROOM: [ALICE, BOB], DM: [ALICE]})
        self.permissions = FakePermissions({BOB: Role.ADMIN})
        self.registry = make_registry(calls)
        self.catalog = catalog
        self.config = test_config(bot=bot) if bot else test_config()
        self.joined: list[tuple[str, bool]] = []
        self.wakes = 0
        self.dispatcher = self.restart()

    def restart(self) -> Dispatcher:
        """A new dispatcher over the same database (what a restart of the bot gives)."""
        services = Services(
            config=self.config,
            catalog=self.catalog,
            registry=self.registry,
            rooms=self.rooms,
            permissions=self.permissions,
            bot_user_id=BOT,
        )

        async def join(room_id: str, is_direct: bool) -> None:
            self.joined.append((room_id, is_direct))

        def wake() -> None:
            self.wakes += 1

        self.dispatcher = Dispatcher(services, self.db, join, wake)
        self.dispatcher.open()
        return self.dispatcher

    async def receive(self, *events: dict[str, Any]) -> None:
        """What the sync loop does: store in the inbox, then hand over."""
        async with self.db.unit() as repos:
            new = set(await repos.inbox.add_many(list(events)))
            await repos.commit()
        self.dispatcher.submit([e for e in events if e["event_id"] in new])

    async def settle(self) -> None:
        await asyncio.sleep(0)
        await asyncio.wait_for(self.dispatcher.idle.wait(), timeout=5)

    async def send(self, *events: dict[str, Any]) -> list[dict[str, Any]]:
        await self.receive(*events)
        await self.settle()
        return await self.outbox()

    async def outbox(self) -> list[dict[str, Any]]:
        async with self.db.unit() as repos:
            return await queued(repos)

    async def bodies(self) -> list[str]:
        return [m["body"] for m in await self.outbox()]

    async def done(self, event_id: str) -> bool:
        async with self.db.unit() as repos:
            return await repos.inbox.is_done(event_id)


@pytest.fixture
def bot(db: Database, catalog: Catalog, calls: Calls) -> Harness:
    return Harness(db, catalog, calls)


_ids = iter(range(1, 1_000_000))


def message(body: str, *, sender: str = ALICE, room: str = ROOM, **content: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": f"$ev{next(_ids)}",
        "room_id": room,
        "sender": sender,
        "origin_server_ts": 1_700_000_000_000,
        "content": {"msgtype": "m.text", "body": body, **content},
    }


# --- replies ----------------------------------------------------------------------


async def test_command_reply_is_queued_as_a_reply(bot: Harness) -> None:
    event = message("!ping")
    (sent,) = await bot.send(event)
    assert sent["room_id"] == ROOM
    assert sent["type"] == "m.room.message"
    assert sent["msgtype"] == "m.notice"
    assert sent["body"] == "pong 🏓"
    assert sent["m.mentions"] == {}
    assert sent["m.relates_to"] == {"m.in_reply_to": {"event_id": event["event_id"]}}
    assert await bot.done(event["event_id"])
    assert bot.calls.log == [f"ping:{ALICE}"]
    assert bot.wakes >= 1  # the sender is told there is something to send


@pytest.mark.parametrize("body", ["/ping", "//ping", "!PING", "@oasis:example.org ping", "oasis: ping"])
async def test_command_forms(bot: Harness, body: str) -> None:
    assert await bot.bodies() == []
    assert [m["body"] for m in await bot.send(message(body))] == ["pong 🏓"]


async def test_direct_chat_without_prefix_and_without_reply_relation(bot: Harness) -> None:
    (sent,) = await bot.send(message("ping", room=DM))
    assert sent["room_id"] == DM
    assert sent["body"] == "pong 🏓"
    assert "m.relates_to" not in sent


async def test_arguments_reach_the_handler(bot: Harness) -> None:
    await bot.send(message("!annuaire « Métropole de Lyon »"))
    assert bot.calls.log == ["annuaire:« Métropole de Lyon »"]  # Rest: as typed


async def test_several_replies_mentions_dm_and_tag(bot: Harness) -> None:
    sent = await bot.send(message("!saluer"))
    assert len(sent) == 3
    ping, private, tagged = sent
    assert ping["msgtype"] == "m.text"
    assert ping["m.mentions"] == {"user_ids": [BOB]}
    assert private["room_id"] is None and private["dm_user"] == ALICE
    assert "m.relates_to" not in private
    assert tagged["tag"] == "test:1"
    assert tagged["m.mentions"] == {}


async def test_member_language_is_used(bot: Harness) -> None:
    async with bot.db.unit() as repos:
        await repos.settings.set_language(ALICE, "en")
        await repos.commit()
    await bot.send(message("!pnig"))
    assert await bot.bodies() == ["Unknown command. Did you mean !ping?"]


# --- not for us -------------------------------------------------------------------


@pytest.mark.parametrize("body", ["bonjour", "!important.", "OASIS organise un atelier"])
async def test_plain_text_in_a_room_is_ignored(bot: Harness, body: str) -> None:
    event = message(body)
    assert not bot.dispatcher.wants(ROOM, event)
    assert await bot.send(event) == []


def test_wants(bot: Harness) -> None:
    wants = bot.dispatcher.wants
    assert wants(ROOM, message("!ping"))
    assert wants(DM, message("bonjour"))
    assert not wants(ROOM, message("bonjour"))
    assert not wants(ROOM, message("!ping", msgtype="m.notice"))  # other bots' output
    edit = message("!ping")
    edit["content"]["m.relates_to"] = {"rel_type": "m.replace", "event_id": "$x"}
    assert not wants(ROOM, edit)
    assert wants(ROOM, {"type": "m.room.member", "event_id": "$m", "content": {}})  # a hook exists
    assert not wants(ROOM, {"type": "m.reaction", "event_id": "$r", "content": {}})  # no hook
    assert wants(DM, {"type": "m.room.encrypted", "event_id": "$e", "content": {}})
    # Maybe a command: kept until decrypted.
    assert wants(ROOM, {"type": "m.room.encrypted", "event_id": "$e", "content": {}})


async def test_only_configured_rooms_are_served(db: Database, catalog: Catalog, calls: Calls) -> None:
    bot = Harness(db, catalog, calls, rooms=[OTHER_ROOM])
    wants = bot.dispatcher.wants
    assert not wants(ROOM, message("!ping"))
    assert not wants(ROOM, {"type": "m.room.member", "event_id": "$m", "content": {}})
    assert wants(OTHER_ROOM, message("!ping", room=OTHER_ROOM))
    assert wants(DM, message("ping", room=DM))  # direct chats are always served


# --- unknown commands -------------------------------------------------------------


async def test_unknown_command_suggests_the_nearest(bot: Harness) -> None:
    await bot.send(message("!anuaire Lyon"))
    assert await bot.bodies() == [f"Commande inconnue. Vouliez-vous dire !annuaire{NNBSP}?"]
    assert bot.calls.log == []


async def test_unknown_command_without_suggestion(bot: Harness) -> None:
    await bot.send(message("!xyzzy"))
    assert await bot.bodies() == ["Commande inconnue. Tapez !aide pour la liste des commandes."]


# --- errors -----------------------------------------------------------------------


async def test_user_error_is_its_message_and_nothing_else_is_committed(bot: Harness) -> None:
    event = message("!langue xx")
    sent = await bot.send(event)
    assert [m["body"] for m in sent] == [
        f"«{NBSP}xx{NBSP}» n'est pas une valeur possible. Valeurs possibles{NBSP}: fr, en."
    ]
    assert sent[0]["m.relates_to"] == {"m.in_reply_to": {"event_id": event["event_id"]}}
    async with bot.db.unit() as repos:
        assert await repos.settings.language(ALICE) is None  # the handler's write is undone
    assert await bot.done(event["event_id"])


async def test_bad_argument_adds_the_usage(bot: Harness) -> None:
    await bot.send(message("!compter douze"))
    (body,) = await bot.bodies()
    assert body == (
        f"«{NBSP}douze{NBSP}» n'est pas un nombre entier.\n"
        f"Usage{NBSP}: !compter <n> — détails{NBSP}: !aide compter"
    )


async def test_missing_argument(bot: Harness) -> None:
    await bot.send(message("!compter"))
    (body,) = await bot.bodies()
    assert body.startswith(f"Il manque un argument{NBSP}: n.\nUsage{NBSP}: !compter <n>")


async def test_usage_of_a_command_with_variants_names_them(bot: Harness) -> None:
    await bot.send(message("!effacer peut-être"))
    (body,) = await bot.bodies()
    assert body == (
        f"Je n'ai pas compris la fin de la commande{NBSP}: «{NBSP}peut-être{NBSP}».\n"
        f"Usage{NBSP}: !effacer\u202f; variantes{NBSP}: !effacer confirmer — détails{NBSP}: !aide effacer"
    )


async def test_successful_write_is_committed(bot: Harness) -> None:
    await bot.send(message("!langue en"))
    async with bot.db.unit() as repos:
        assert await repos.settings.language(ALICE) == "en"


async def test_unexpected_error_shows_only_a_reference(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    event = message("!langue boom")
    with caplog.at_level(logging.ERROR, logger="bot.dispatch"):
        sent = await bot.send(event)
    (body,) = [m["body"] for m in sent]
    found = re.fullmatch(
        r"Une erreur inattendue est survenue \(réf\. ([0-9A-F]{4})\)\. "
        r"L'équipe d'animation peut la retrouver avec cette référence\.",
        body,
    )
    assert found, body
    ref = found.group(1)
    assert "hunter2" not in body and "RuntimeError" not in body and "postgresql" not in body
    assert "hunter2" not in sent[0]["formatted_body"]
    (record,) = [r for r in caplog.records if f"réf. {ref}" in r.getMessage()]
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert event["event_id"] in record.getMessage()
    async with bot.db.unit() as repos:
        assert await repos.settings.language(ALICE) is None
    assert await bot.done(event["event_id"])


async def test_a_busy_database_retries_the_command_instead_of_an_error(bot: Harness) -> None:
    event = message("!verrou")
    await bot.receive(event)
    for _ in range(100):  # retried within a second or so
        if await bot.bodies():
            break
        await asyncio.sleep(0.05)
    assert await bot.bodies() == ["déverrouillé"]
    assert bot.calls.log == ["verrou", "verrou"]
    assert await bot.done(event["event_id"])
    async with bot.db.unit() as repos:
        assert await repos.settings.language(ALICE) == "en"  # the second run's effect, once


def test_which_database_errors_are_worth_retrying() -> None:
    from storage.db import is_transient

    def sqlite_error(text: str) -> OperationalError:
        return OperationalError("SELECT", {}, sqlite3.OperationalError(text))

    assert is_transient(sqlite_error("database is locked"))
    assert is_transient(sqlite3.OperationalError("database is locked"))  # from the driver
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(sqlite_error("no such table: bot_state"))
    assert not is_transient(RuntimeError("a bug"))


async def test_references_differ(bot: Harness) -> None:
    await bot.send(message("!langue boom"), message("!langue boom", sender=BOB))
    refs = {re.findall(r"réf\. (\w+)", b)[0] for b in await bot.bodies()}
    assert len(refs) == 2


async def test_permission_refusal(bot: Harness) -> None:
    await bot.send(message("!admin"))
    assert await bot.bodies() == [
        f"Cette commande est réservée au rôle «{NBSP}administrateur ou administratrice{NBSP}»."
    ]
    assert bot.calls.log == []


async def test_permission_granted(bot: Harness) -> None:
    await bot.send(message("!admin", sender=BOB))
    assert bot.calls.log == ["admin"]
    assert await bot.bodies() == ["fait"]


async def test_direct_only_command_in_a_room(bot: Harness) -> None:
    await bot.send(message("!prive"))
    assert await bot.bodies() == ["La commande !prive s'utilise dans une discussion privée avec moi."]
    await bot.send(message("prive", room=DM))
    assert (await bot.bodies())[-1] == "en privé"


async def test_error_in_a_hook_is_logged_without_a_reply(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    event = {
        "type": "m.room.member",
        "event_id": "$member1",
        "room_id": ROOM,
        "sender": "@crash:example.org",
        "state_key": "@crash:example.org",
        "content": {"membership": "join"},
    }
    with caplog.at_level(logging.ERROR, logger="bot.dispatch"):
        assert await bot.send(event) == []
    assert "réf." in caplog.text
    assert await bot.done("$member1")


async def test_member_hook_sees_a_real_join(bot: Harness) -> None:
    join = {
        "type": "m.room.member",
        "event_id": "$join",
        "room_id": ROOM,
        "sender": BOB,
        "state_key": BOB,
        "content": {"membership": "join", "displayname": "Bob"},
        "unsigned": {"prev_content": {"membership": "invite"}},
    }
    rename = {
        **join,
        "event_id": "$rename",
        "content": {"membership": "join", "displayname": "Bobby"},
        "unsigned": {"prev_content": {"membership": "join", "displayname": "Bob"}},
    }
    await bot.send(join, rename)
    assert [(c.event_id, c.is_join) for c in bot.calls.members] == [("$join", True), ("$rename", False)]
    assert bot.calls.members[1].prev_display_name == "Bob"


# --- exactly once -----------------------------------------------------------------


async def test_an_event_is_handled_once(bot: Harness) -> None:
    event = message("!ping")
    await bot.send(event)
    bot.dispatcher.submit([event])  # delivered again (a retried sync, a back-fill…)
    await bot.settle()
    await bot.send(event)  # the inbox ignores it as well
    assert bot.calls.log == [f"ping:{ALICE}"]
    assert len(await bot.outbox()) == 1


async def test_pending_events_are_handled_after_a_restart(bot: Harness) -> None:
    first, second = message("!noter un"), message("!noter deux")
    async with bot.db.unit() as repos:
        await repos.inbox.add_many([first, second])
        await repos.inbox.mark_done(first["event_id"])  # handled before the stop
        await repos.commit()
    dispatcher = bot.restart()
    assert await dispatcher.load_pending() == 1
    await bot.settle()
    assert bot.calls.log == ["note:deux"]
    assert await bot.done(second["event_id"])


async def test_events_wait_for_the_gate(bot: Harness) -> None:
    dispatcher = bot.restart()
    dispatcher._gate.clear()  # as before the first sync
    await bot.receive(message("!ping"))
    await asyncio.sleep(0.05)
    assert bot.calls.log == []
    dispatcher.open()
    await bot.settle()
    assert bot.calls.log == [f"ping:{ALICE}"]


# --- lanes ------------------------------------------------------------------------


async def test_one_members_commands_are_handled_in_order(bot: Harness) -> None:
    await bot.receive(message("!lent premier"), message("!noter second"))
    await asyncio.wait_for(bot.calls.start("premier").wait(), timeout=5)
    await asyncio.sleep(0.05)
    assert bot.calls.log == ["start:premier"]  # the second waits behind the slow one
    bot.calls.gate("premier").set()
    await bot.settle()
    assert bot.calls.log == ["start:premier", "end:premier", "note:second"]
    assert await bot.bodies() == ["fini premier", "noté second"]


async def test_another_member_is_not_blocked_by_a_slow_command(bot: Harness) -> None:
    slow = message("!lent alice")
    await bot.receive(slow)
    await asyncio.wait_for(bot.calls.start("alice").wait(), timeout=5)
    other = message("!noter bob", sender=BOB)
    await bot.receive(other)
    for _ in range(100):
        if await bot.done(other["event_id"]):
            break
        await asyncio.sleep(0.02)
    assert await bot.done(other["event_id"])
    assert not await bot.done(slow["event_id"])
    assert bot.calls.log == ["start:alice", "note:bob"]
    bot.calls.gate("alice").set()
    await bot.settle()
    assert await bot.bodies() == ["noté bob", "fini alice"]


async def test_same_member_in_another_room_is_not_blocked(bot: Harness) -> None:
    await bot.receive(message("!lent ici"))
    await asyncio.wait_for(bot.calls.start("ici").wait(), timeout=5)
    other = message("!noter ailleurs", room=OTHER_ROOM)
    await bot.receive(other)
    for _ in range(100):
        if await bot.done(other["event_id"]):
            break
        await asyncio.sleep(0.02)
    assert bot.calls.log == ["start:ici", "note:ailleurs"]
    bot.calls.gate("ici").set()
    await bot.settle()


async def test_concurrency_is_bounded(db: Database, catalog: Catalog, calls: Calls) -> None:
    bot = Harness(db, catalog, calls, max_concurrent_commands=1)
    await bot.receive(message("!lent alice"))
    await asyncio.wait_for(calls.start("alice").wait(), timeout=5)
    await bot.receive(message("!noter bob", sender=BOB))
    await asyncio.sleep(0.05)
    assert calls.log == ["start:alice"]  # one slot, taken
    calls.gate("alice").set()
    await bot.settle()
    assert calls.log == ["start:alice", "end:alice", "note:bob"]


async def test_drain_leaves_the_rest_in_the_inbox(bot: Harness) -> None:
    first, second = message("!lent un"), message("!noter deux")
    await bot.receive(first, second)
    await asyncio.wait_for(bot.calls.start("un").wait(), timeout=5)
    drained = asyncio.create_task(bot.dispatcher.drain(timeout=5))
    await asyncio.sleep(0.02)
    bot.calls.gate("un").set()
    await drained
    assert await bot.done(first["event_id"])  # the event in hand is finished
    assert not await bot.done(second["event_id"])  # the rest waits for the next start
    bot.dispatcher.submit([message("!ping")])  # refused while stopping
    await asyncio.sleep(0.02)
    assert "note:deux" not in bot.calls.log and f"ping:{ALICE}" not in bot.calls.log


# --- invites ----------------------------------------------------------------------


def invite(sender: str, room: str = "!new:example.org", is_direct: bool = False) -> dict[str, Any]:
    return {
        "type": "oasis.invite",
        "event_id": f"invite|{room}|{next(_ids)}",
        "room_id": room,
        "sender": sender,
        "content": {"is_direct": is_direct},
    }


async def test_invites_from_the_bots_server_are_accepted(bot: Harness) -> None:
    await bot.send(invite(ALICE, is_direct=True), invite("@eve:elsewhere.org", room="!spam:elsewhere.org"))
    assert bot.joined == [("!new:example.org", True)]


async def test_invite_allow_list(db: Database, catalog: Catalog, calls: Calls) -> None:
    bot = Harness(db, catalog, calls)
    bot.config = test_config(invites={"allow": ["partner.org", "@friend:other.org"]})
    bot.restart()
    await bot.send(
        invite("@x:partner.org", room="!a:x"),
        invite("@friend:other.org", room="!b:x"),
        invite("@enemy:other.org", room="!c:x"),
        invite(ALICE, room="!d:x"),  # own server, but not listed
    )
    assert sorted(r for r, _ in bot.joined) == ["!a:x", "!b:x"]


async def test_invitations_into_the_network_and_elsewhere(
    db: Database, catalog: Catalog, calls: Calls
) -> None:
    bot = Harness(db, catalog, calls)
    bot.config = test_config(bot={"admins": [BOB]})
    bot.restart()
    await bot.send(
        invite("@eve:elsewhere.org", room=ROOM),  # a network room: from anyone
        invite(ALICE, room="!side:example.org"),  # her own side room: not from a member
        invite(BOB, room="!foreign:example.org"),  # an admin's: joined, answered once
    )
    assert sorted(bot.joined) == [("!foreign:example.org", False), (ROOM, False)]
    assert await bot.outbox() == [
        {
            **(await bot.outbox())[0],
            "room_id": "!foreign:example.org",
            "body": f"Bonjour{NNBSP}! Ce salon ne fait pas partie du réseau OASIS{NBSP}: je n'y réponds pas. "
            "Pour me parler, écrivez-moi en discussion privée ou dans un salon du réseau.",
        }
    ]
    await bot.send(invite(BOB, room="!foreign:example.org"))  # invited again
    assert len(await bot.outbox()) == 1  # said once
    # What is said there afterwards never reaches the handlers.
    assert not bot.dispatcher.wants("!foreign:example.org", message("!ping", room="!foreign:example.org"))


async def test_invitation_outside_the_network_declined(db: Database, catalog: Catalog, calls: Calls) -> None:
    bot = Harness(db, catalog, calls)
    bot.config = test_config(bot={"admins": [BOB]}, invites={"outside": "leave"})
    bot.restart()
    await bot.send(invite(BOB, room="!foreign:example.org"), invite(BOB, room=DM, is_direct=True))
    assert bot.joined == [(DM, True)]
    assert await bot.outbox() == []


async def test_outsider_in_a_direct_chat(bot: Harness) -> None:
    carol = "@carol:example.org"
    bot.permissions.roles[carol] = Role.OUTSIDER
    await bot.send(message("ping", room=DM, sender=carol))
    assert (await bot.bodies())[-1] == (
        f"Vous n'êtes dans aucun salon du réseau OASIS{NBSP}: ici, je ne réponds qu'à !langue. "
        "Pour rejoindre le réseau, demandez une invitation à l'équipe d'animation."
    )
    assert f"ping:{carol}" not in bot.calls.log
    await bot.send(message("langue en", room=DM, sender=carol))  # open to everyone
    async with bot.db.unit() as repos:
        assert await repos.settings.language(carol) == "en"


# --- conversations ----------------------------------------------------------------


async def test_form_answers_validated_skip_and_restart(bot: Harness) -> None:
    await bot.send(message("formulaire", room=DM))
    assert (await bot.bodies())[-1] == (
        f"Quel âge avez-vous{NNBSP}?\n(1/3 · réponse obligatoire, «{NBSP}annuler{NBSP}» pour arrêter)"
    )
    async with bot.db.unit() as repos:
        row = await repos.conversations.get(ALICE)
        assert row is not None and (row.form, row.step, row.room_id) == (FORM, 0, DM)

    await bot.send(message("passer", room=DM))
    assert (await bot.bodies())[-1].startswith("Cette question est obligatoire")

    await bot.send(message("vieux", room=DM))
    assert (await bot.bodies())[-1] == (
        f"«{NBSP}vieux{NBSP}» n'est pas un âge.\nRéessayez, ou tapez «{NBSP}passer{NBSP}»."
    )

    await bot.send(message("42", room=DM))
    assert (await bot.bodies())[-1] == (
        f"Votre ville{NNBSP}? (par défaut Lyon)\n"
        f"(2/3 · «{NBSP}passer{NBSP}» garde «{NBSP}Lyon{NBSP}», «{NBSP}annuler{NBSP}» pour arrêter)"
    )

    # The bot restarts: a new dispatcher and new contexts over the same database.
    bot.restart()
    await bot.send(message("Passer", room=DM))  # the default is kept
    assert (await bot.bodies())[-1].startswith(f"Un mot de plus{NNBSP}?")
    await bot.send(message("Annecy, finalement", room=DM))
    assert bot.calls.completed == [{"age": 42, "ville": "Lyon", "note": "Annecy, finalement"}]
    assert (await bot.bodies())[-1] == f"Merci{NBSP}: 42 ans, Lyon."
    async with bot.db.unit() as repos:
        assert await repos.conversations.get(ALICE) is None
    assert bot.calls.log == []  # no answer was taken for a command


async def test_form_cancel(bot: Harness) -> None:
    await bot.send(message("formulaire", room=DM))
    await bot.send(message("30", room=DM))
    await bot.send(message("Annuler.", room=DM))
    assert (await bot.bodies())[-1] == "C'est annulé, rien n'a été enregistré."
    assert bot.calls.completed == []
    async with bot.db.unit() as repos:
        assert await repos.conversations.get(ALICE) is None


async def test_commands_still_work_during_a_form(bot: Harness) -> None:
    await bot.send(message("formulaire", room=DM))
    await bot.send(message("!ping", room=DM))
    assert (await bot.bodies())[-1] == "pong 🏓"
    async with bot.db.unit() as repos:
        row = await repos.conversations.get(ALICE)
        assert row is not None and row.step == 0  # the form is still waiting


async def test_form_started_from_a_room_goes_to_the_dm(bot: Harness) -> None:
    sent = await bot.send(message("!formulaire"))
    assert sent[-1]["dm_user"] == ALICE and sent[-1]["room_id"] is None
    assert sent[-1]["body"].startswith(f"Quel âge avez-vous{NNBSP}?")


async def test_answers_in_a_room_are_not_taken_for_the_form(bot: Harness) -> None:
    await bot.send(message("formulaire", room=DM))
    await bot.send(message("!noter 12"))
    assert bot.calls.log == ["note:12"]
    async with bot.db.unit() as repos:
        row = await repos.conversations.get(ALICE)
        assert row is not None and row.step == 0
