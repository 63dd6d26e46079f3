"""Fuzzing (hypothesis) the command parser and every registered command's arguments,
through the real dispatcher over a real database: whatever a member types, no exception
escapes to « erreur inattendue », and every answer comes from the catalogs (no missing
key or parameter, no Python text).

Everything runs with the admin role, so every command's body is reached, not only the
« réservé aux animateurs » answer."""

from __future__ import annotations

import itertools
import logging
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from bot.dispatch import Dispatcher
from bot.parsing import extract_command, message_text
from bot.registry import REGISTRY, Command
from bot.roles import Role
from storage.db import Database
from storage.models.runtime import OutboxMessage
from tests.support.fakes import FakePermissions, FakeRooms, make_services, queued

ROOM = "!salon:example.org"
DM = "!prive:example.org"
ME = "@alice:example.org"
OTHER = "@bob:example.org"


def command_words() -> list[str]:
    """Every way to name a command: names, aliases, and each subcommand after them."""
    words: list[str] = []
    for cmd in REGISTRY.unique_commands():
        for name in cmd.names:
            words.append(name)
            for sub in cmd.unique_subcommands():
                words += [f"{name} {sub_name}" for sub_name in sub.names]
    return sorted(set(words))


def usage_words() -> list[str]:
    """Words the commands' own usage texts and choices mention (valid-looking input)."""
    found: set[str] = set()
    tr = make_services().translator("fr")

    def visit(cmd: Command) -> None:
        found.update(re.findall(r"[\w:@.#/-]+", cmd.usage(tr)))
        for p in cmd.params:
            found.update(str(c) for c in (p.choices or ()))
        for sub in cmd.unique_subcommands():
            visit(sub)

    for cmd in REGISTRY.unique_commands():
        visit(cmd)
    return sorted(found)


NASTY = [
    "",
    "0",
    "-1",
    "99999999999999999999999",
    "1e9",
    "NaN",
    "«",
    "»",
    '"',
    "« non fermé",
    '"a b" c',
    "|",
    "| |",
    "||||",
    "@room",
    "@alice:example.org",
    "@",
    "@:",
    "https://exemple.fr/x?utm_source=y#z",
    "javascript:alert(1)",
    "<b>gras</b>",
    "<a href='javascript:x'>lien</a>",
    "**md** _x_ `code`",
    "\u202eevil\u202c",
    "\u200f\u200e",
    "\x00\x07\x1b[31m",
    "\r\n",
    "demain 10h",
    "16/12 à 9h30",
    "lundi dernier",
    "depuis:septembre",
    "territoire:31",
    "type:caf",
    "#mot-clé",
    "é" * 300,
    "x" * 5000,
]


def tokens() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY),
        st.sampled_from(usage_words()),
        st.integers(min_value=-(10**12), max_value=10**12).map(str),
        st.text(max_size=30),
    )


@st.composite
def command_messages(draw: st.DrawFn) -> tuple[str, bool]:
    prefix = draw(st.sampled_from(["!", "/", "//", "OASIS: ", ""]))
    name = draw(st.sampled_from(command_words()))
    args = " ".join(draw(st.lists(tokens(), max_size=6)))
    return f"{prefix}{name} {args}".rstrip(), draw(st.booleans())


_ids = itertools.count()


@pytest.fixture
async def dispatcher(db: Database) -> Dispatcher:
    rooms = FakeRooms(
        names={ME: "Alice", OTHER: "Bob"},
        members={ROOM: [ME, OTHER, "@oasis:example.org"], DM: [ME, "@oasis:example.org"]},
        direct={DM},
        room_names={ROOM: "OASIS"},
    )
    services = make_services(rooms=rooms, permissions=FakePermissions({ME: Role.ADMIN}))
    d = Dispatcher(services, db, _no_join, lambda: None)
    d.open()
    return d


async def _no_join(room_id: str, is_direct: bool) -> None:
    return None


async def handle(dispatcher: Dispatcher, text: str, *, direct: bool, html: str | None = None) -> None:
    content: dict[str, Any] = {"msgtype": "m.text", "body": text}
    if html is not None:
        content.update(format="org.matrix.custom.html", formatted_body=html)
    event = {
        "type": "m.room.message",
        "event_id": f"$fuzz{next(_ids)}",
        "room_id": DM if direct else ROOM,
        "sender": ME,
        "origin_server_ts": 1_700_000_000_000,
        "content": content,
    }
    async with dispatcher.db.unit() as repos:
        await repos.inbox.add_many([event])
        await repos.commit()
    await dispatcher.handle(event)


def problems(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage()[:300] for r in records if r.levelno >= logging.ERROR]


async def answers(dispatcher: Dispatcher) -> list[str]:
    """What was queued since the last call (a missing catalog key or parameter is
    logged at ERROR by the catalog, and caught above)."""
    async with dispatcher.db.unit() as repos:
        bodies = [m.get("body", "") for m in await queued(repos)]
        await repos.session.execute(delete(OutboxMessage))
        await repos.commit()
    return bodies


def check_answers(bodies: list[str]) -> None:
    for body in bodies:
        assert "erreur inattendue" not in body, body[:300]
        assert "Traceback" not in body and "Error:" not in body, body[:300]


# Derandomized: the suite runs the same examples every time (a failure in CI is one to
# reproduce, not a roll of dice); explore with HYPOTHESIS_SEED-free runs while developing.
FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@FUZZ
@given(message=command_messages())
async def test_every_command_with_fuzzed_arguments(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture, message: tuple[str, bool]
) -> None:
    text, direct = message
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await handle(dispatcher, text, direct=direct)
    assert not problems(caplog.records), (text[:200], problems(caplog.records))
    check_answers(await answers(dispatcher))


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@settings(FUZZ, max_examples=150)
@given(body=st.text(max_size=400), html=st.one_of(st.none(), st.text(max_size=400)), direct=st.booleans())
async def test_any_text_at_all(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture, body: str, html: str | None, direct: bool
) -> None:
    """Free text, HTML bodies with reply fallbacks and pills: parsed without error."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        message_text({"body": body, "format": "org.matrix.custom.html", "formatted_body": html or ""})
        extract_command(
            body,
            prefixes=("!", "/"),
            is_direct=direct,
            bot_user_id="@oasis:example.org",
            bot_names=("OASIS", "oasis"),
        )
        await handle(dispatcher, body, direct=direct, html=html)
    assert not problems(caplog.records), (body[:200], problems(caplog.records))
    check_answers(await answers(dispatcher))
