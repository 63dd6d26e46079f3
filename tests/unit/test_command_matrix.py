"""Every command of the registry × every kind of person (issue 11), through the real
dispatcher and the real role computation (`Permissions` over the network's rooms; only the
homeserver's power levels are a fake): allowed exactly when `!aide` lists it for that
person, refused otherwise — and nothing at all in a room outside the network.

Generated from the registry: a command added tomorrow is in the matrix without an edit."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.context import Services
from bot.dispatch import Dispatcher
from bot.i18n import default_catalog
from bot.network import Network
from bot.permissions import Permissions
from bot.registry import REGISTRY, Command
from storage.db import Database
from tests.support.databases import empty_tables
from tests.support.fakes import FakeRooms, queued, test_config

BOT = "@oasis:example.org"
NETWORK = "!reseau:example.org"
OUTSIDE = "!annexe:example.org"  # Mallory's own room: she moderates it; not the network's
MEMBER, ANIMATOR, ADMIN = "@membre:example.org", "@anim:example.org", "@admin:example.org"
SIDE = "@mallory:example.org"  # a member of the network, moderator of OUTSIDE
OUTSIDER = "@eve:example.org"  # in no room of the network
PEOPLE = [MEMBER, ANIMATOR, ADMIN, SIDE, OUTSIDER]


def dm_of(user_id: str) -> str:
    return f"!dm-{user_id[1:].split(':')[0]}:example.org"


@dataclass(frozen=True)
class Seat:
    """Who types, and where (None: the network room, or their DM for a direct-only
    command)."""

    name: str
    user_id: str
    room: str | None


SEATS = [
    Seat("membre", MEMBER, None),
    Seat("animateur", ANIMATOR, None),
    Seat("admin", ADMIN, None),
    Seat("modérateur hors réseau, dans son salon", SIDE, OUTSIDE),
    Seat("modérateur hors réseau, en privé", SIDE, dm_of(SIDE)),
    Seat("hors réseau, en privé", OUTSIDER, dm_of(OUTSIDER)),
]
REFUSALS = ("Cette commande est réservée au rôle", "Vous n'êtes dans aucun salon du réseau")


@pytest.fixture(scope="module")
async def migrated(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    # SQLite only: what is under test is the dispatcher and the roles, not the engine.
    db = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('matrix') / 'bot.db'}")
    await db.migrate()
    yield db
    await db.dispose()


@pytest.fixture
async def db(migrated: Database) -> Database:
    await empty_tables(migrated)
    return migrated


class PowerLevels:
    """The homeserver's answers for room state: Mallory is the creator (room v12) and
    moderator of her room; in the network room the animator has 50."""

    async def __call__(self, room_id: str, event_type: str, state_key: str) -> dict[str, Any] | None:
        if event_type == "m.room.power_levels":
            users = {NETWORK: {ANIMATOR: 50, BOT: 100}, OUTSIDE: {SIDE: 100, BOT: 0}}.get(room_id, {})
            return {"users": users}
        if event_type == "m.room.create":
            creator = SIDE if room_id == OUTSIDE else "@fondatrice:example.org"
            return {"type": "m.room.create", "sender": creator, "content": {"room_version": "12"}}
        return None


class Bot:
    def __init__(self, db: Database) -> None:
        rooms = FakeRooms(
            members={
                NETWORK: [BOT, MEMBER, ANIMATOR, ADMIN, SIDE],
                OUTSIDE: [BOT, SIDE],
                **{dm_of(p): [BOT, p] for p in PEOPLE},
            },
            direct={dm_of(p) for p in PEOPLE},
            room_names={NETWORK: "OASIS", OUTSIDE: "Le salon de Mallory"},
        )
        config = test_config(bot={"rooms": [NETWORK], "admins": [ADMIN]})
        permissions = Permissions(config, PowerLevels(), Network(config.bot.rooms, rooms))
        services = Services(config, default_catalog(), REGISTRY, rooms, permissions, BOT)
        self.db = db
        self.dispatcher = Dispatcher(services, db, self._join, lambda: None)
        self.dispatcher.open()
        self._ids = itertools.count(1)
        self._seen = 0

    async def _join(self, room_id: str, is_direct: bool) -> None:
        return None

    async def say(self, seat: Seat, text: str, direct_only: bool = False) -> list[str]:
        """What the bot answers, anywhere, to `text` typed from `seat` (the sync loop's
        filter first, as for real)."""
        room = seat.room or (dm_of(seat.user_id) if direct_only else NETWORK)
        n = next(self._ids)
        event = {
            "type": "m.room.message",
            "event_id": f"$m{n}",
            "room_id": room,
            "sender": seat.user_id,
            # A minute apart: one person typing every command is no flood (`bot.limits`).
            "origin_server_ts": 1_700_000_000_000 + n * 60_000,
            "content": {"msgtype": "m.text", "body": text},
        }
        if self.dispatcher.wants(room, event):
            async with self.db.unit() as repos:
                await repos.inbox.add_many([event])
                await repos.commit()
            self.dispatcher.submit([event])
            await asyncio.sleep(0)
            await asyncio.wait_for(self.dispatcher.idle.wait(), timeout=30)
        async with self.db.unit() as repos:
            rows = await queued(repos)
        new, self._seen = rows[self._seen :], len(rows)
        return [str(r.get("body", "")) for r in new if r["type"] == "m.room.message"]


def commands() -> list[Command]:
    out: list[Command] = []
    for cmd in sorted(REGISTRY.unique_commands(), key=lambda c: c.name):
        if cmd.hidden:
            continue
        out.append(cmd)
        out += [s for s in cmd.unique_subcommands() if not s.hidden]
    return out


async def documented(bot: Bot, seat: Seat) -> set[str]:
    """The command paths `!aide` (and `!aide <commande>`'s variants) lists for `seat`."""
    listed: set[str] = set()
    for body in await bot.say(seat, "!aide"):
        for line in body.splitlines():
            if " — " in line and "!" in line:
                listed.add(line.split(" — ")[0].split("!", 1)[1].strip())
    for name in sorted(listed):
        for body in await bot.say(seat, f"!aide {name}"):
            variants = body.split("Variantes", 1)[1] if "Variantes" in body else ""
            for line in variants.splitlines():
                if " — " in line and "!" in line:
                    words = line.split(" — ")[0].split("!", 1)[1].split()
                    listed.add(" ".join(words[:2]))
    return listed


@pytest.mark.parametrize("seat", SEATS, ids=[s.name for s in SEATS])
async def test_every_command_allowed_exactly_as_aide_documents(db: Database, seat: Seat) -> None:
    bot = Bot(db)
    allowed_by_help = await documented(bot, seat)
    observed: dict[str, str] = {}
    for cmd in commands():
        answers = await bot.say(seat, f"!{cmd.path}", direct_only=cmd.direct_only)
        if not answers:
            observed[cmd.path] = "silence"
        elif any(a.startswith(REFUSALS) for a in answers):
            observed[cmd.path] = "refused"
        else:
            observed[cmd.path] = "allowed"

    if seat.room == OUTSIDE:
        # A room outside the network: not even `!aide` is answered.
        assert allowed_by_help == set()
        assert set(observed.values()) == {"silence"}
        return
    mismatches = {
        path: (outcome, "listed" if path in allowed_by_help else "not listed")
        for path, outcome in observed.items()
        if (outcome == "refused") == (path in allowed_by_help)
    }
    assert mismatches == {}
    # The expected shape, role by role (so an empty `!aide` cannot pass the matrix).
    allowed = {p for p, o in observed.items() if o != "refused"}
    everyone = {"aide", "langue", "mes-donnees", "oublier-moi", "oublier-moi confirmer"}
    if seat.user_id == OUTSIDER:
        assert allowed == everyone
    elif seat.user_id in (MEMBER, SIDE):
        assert everyone < allowed and "signal" in allowed and "annuaire" in allowed
        assert "signal retenir" not in allowed and "annonce" not in allowed and "veille" not in allowed
    elif seat.user_id == ANIMATOR:
        assert {"signal retenir", "annonce planifier", "veille", "webinaire ajouter"} <= allowed
    else:
        assert allowed == {c.path for c in commands()}
