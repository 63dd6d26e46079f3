"""Shared fixtures: databases (SQLite and PostgreSQL), a real Synapse homeserver started
once per session, real Matrix accounts, and the real bot run in-process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.config import Config, parse_config
from bot.features import load_features
from bot.homeserver import Account, EmbeddedSynapse, synapse_available
from storage.db import Database
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    empty_tables,
    postgres_required,
    postgres_server_url,
)
from tests.support.matrix import TestUser
from tests.support.network import network_of

load_features()

# --- databases --------------------------------------------------------------------

_pg_url: str | None = None
_pg_error: str | None = None


async def _postgres_url() -> str:
    global _pg_url, _pg_error
    if _pg_url is None and _pg_error is None:
        try:
            _pg_url = await create_postgres_database()
        except Exception as exc:
            _pg_error = f"PostgreSQL unavailable at {postgres_server_url()}: {type(exc).__name__}: {exc}"
    if _pg_url is None:
        if postgres_required():
            pytest.fail(_pg_error or "PostgreSQL unavailable")
        pytest.skip(_pg_error or "PostgreSQL unavailable")
    return _pg_url


@pytest.fixture(scope="session", autouse=True)
async def _drop_test_postgres() -> AsyncIterator[None]:
    yield
    if _pg_url is not None:
        await drop_postgres_database(_pg_url)


_migrated: dict[str, Database] = {}


async def _database(kind: str, tmp_dir: Path) -> Database:
    if kind not in _migrated:
        url = f"sqlite+aiosqlite:///{tmp_dir / 'storage.db'}" if kind == "sqlite" else await _postgres_url()
        db = Database(url)
        await db.migrate()
        _migrated[kind] = db
    return _migrated[kind]


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A migrated database, empty at the start of each test; every test using it runs on
    SQLite and on PostgreSQL."""
    database = await _database(request.param, tmp_path_factory.getbasetemp())
    await empty_tables(database)
    yield database


@pytest.fixture(scope="session", autouse=True)
async def _dispose_databases() -> AsyncIterator[None]:
    yield
    for database in _migrated.values():
        await database.dispose()


# --- homeserver -------------------------------------------------------------------

_names = itertools.count(1)


@pytest.fixture(scope="session")
async def homeserver(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedSynapse]:
    if not synapse_available():
        pytest.skip("matrix-synapse is not installed (pip install -e '.[dev]')")
    hs = EmbeddedSynapse(tmp_path_factory.mktemp("synapse"))
    await hs.start()
    yield hs
    await hs.stop()


@pytest.fixture
def register(homeserver: EmbeddedSynapse) -> Callable[..., Awaitable[Account]]:
    async def make(prefix: str = "user", *, displayname: str | None = None) -> Account:
        name = f"{prefix}{next(_names)}_{uuid.uuid4().hex[:6]}"
        return await asyncio.to_thread(homeserver.register, name, "secret-pw", displayname=displayname)

    return make


@pytest.fixture
async def user(
    homeserver: EmbeddedSynapse,
    register: Callable[..., Awaitable[Account]],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Callable[..., Awaitable[TestUser]]]:
    """Factory of started test users (background sync recording what they see), with
    clients that encrypt as Element does (the direct chats the bot opens are encrypted);
    `encrypted=False`: a client without encryption."""
    made: list[TestUser] = []

    async def make(
        prefix: str = "member",
        *,
        displayname: str | None = None,
        auto_join_from: str | None = None,
        encrypted: bool = True,
    ) -> TestUser:
        account = await register(prefix, displayname=displayname)
        store = tmp_path_factory.mktemp("keys") if encrypted else None
        u = TestUser(homeserver, account, auto_join_from=auto_join_from, encrypted=encrypted, store_dir=store)
        await u.start()
        made.append(u)
        return u

    yield make
    for u in made:
        await u.stop()


class RunningBot:
    def __init__(self, app: App, task: asyncio.Task[None]) -> None:
        self.app = app
        self.task = task

    @property
    def user_id(self) -> str:
        return self.app.client.user_id

    async def stop(self) -> None:
        self.app.request_stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=30)

    async def idle(self, timeout: float = 10) -> None:
        """Wait until the dispatcher has nothing in hand and the outbox is empty."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.app.dispatcher.idle.is_set():
                async with self.app.db.unit() as repos:
                    if await repos.outbox.pending_count() == 0:
                        return
            await asyncio.sleep(0.05)
        raise AssertionError("bot still busy")


BotStarter = Callable[..., Awaitable[RunningBot]]


async def run_app(app: App, timeout: float = 60) -> asyncio.Task[None]:
    """Run the app in the background; return once it serves (or raise why it could not)."""
    task = asyncio.create_task(app.run())
    started = asyncio.create_task(app.started.wait())
    await asyncio.wait([task, started], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()
        raise AssertionError("the bot stopped while starting")
    if not app.started.is_set():
        raise AssertionError(f"the bot did not start within {timeout} s")
    return task


def bot_config(homeserver: EmbeddedSynapse, account: Account, db_url: str, **sections: Any) -> Config:
    raw: dict[str, Any] = {
        "matrix": {"homeserver": homeserver.url, "user_id": account.user_id, "password": account.password},
        "database": {"url": db_url},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    if "rooms" not in raw.get("bot", {}):
        # The homeserver's test network (blocking, quick once the space exists).
        network = network_of(homeserver)
        network.admit(account)
        raw.setdefault("bot", {}).update(network.rooms_config())
    return parse_config(raw)


@pytest.fixture
async def start_bot(
    homeserver: EmbeddedSynapse, register: Callable[..., Awaitable[Account]], tmp_path: Path
) -> AsyncIterator[BotStarter]:
    """Start the real bot in-process. Call again with the same `account` and `db_url` to
    restart it on the same state."""
    running: list[RunningBot] = []

    async def start(
        *,
        account: Account | None = None,
        db_url: str | None = None,
        clock: Callable[..., Any] | None = None,
        **sections: Any,
    ) -> RunningBot:
        # Welcomes are on by default in the product; tests of other features would see
        # them among the bot's messages, so they are on only where a test asks for them.
        sections.setdefault("accueil", {"enabled": False})
        acct = account or await register("oasis", displayname="OASIS")
        url = db_url or f"sqlite+aiosqlite:///{tmp_path / ('bot-' + uuid.uuid4().hex[:6] + '.db')}"
        # The network: the homeserver's test space (every room `create_room` makes),
        # unless the test names its own rooms.
        network = await asyncio.to_thread(network_of, homeserver)
        await asyncio.to_thread(network.admit, acct)
        sections["bot"] = {**network.rooms_config(), **sections.get("bot", {})}
        app = App(bot_config(homeserver, acct, url, **sections), clock=clock)
        task = await run_app(app)
        bot = RunningBot(app, task)
        bot.account = acct  # type: ignore[attr-defined]
        bot.db_url = url  # type: ignore[attr-defined]
        running.append(bot)
        return bot

    yield start
    for bot in running:
        await bot.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.e2e)


os.environ.setdefault("OASIS_TESTING", "1")
