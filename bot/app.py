"""The application: wires the client, the database, the sync loop, the dispatcher, the
sender and the scheduler, and stops them in the right order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from apscheduler.triggers.cron import CronTrigger

from bot import logs, memory
from bot.client import LoginFailed, LoginRateLimited, MatrixClient, NotMatrix
from bot.config import Config
from bot.context import Services
from bot.dispatch import Dispatcher
from bot.features import load_features
from bot.i18n import Catalog, default_catalog
from bot.network import Network
from bot.permissions import Permissions
from bot.registry import REGISTRY, Registry
from bot.scheduler import JobContext, Scheduler
from bot.sending import Sender
from bot.sync import SyncLoop
from storage.db import Database

log = logging.getLogger(__name__)

KEEP_HANDLED = timedelta(days=7)
# A post with a dedup key (a digest, a reminder, a survey's close) stays unique while its
# row lives: kept longer than anything that could post it again (a survey lasts at most
# 366 days), then forgotten like the rest.
KEEP_DEDUPLICATED = timedelta(days=400)


class App:
    def __init__(
        self,
        config: Config,
        *,
        registry: Registry | None = None,
        catalog: Catalog | None = None,
        clock: Callable[[], datetime] | None = None,
        settle_memory: bool = False,
    ) -> None:
        """`settle_memory`: once started, freeze the start-up objects out of the garbage
        collector's full passes (`bot.memory`) — for the bot's own process, not for
        tests that start many bots in one."""
        load_features()
        self.config = config
        self.settle_memory = settle_memory
        self.registry = registry or REGISTRY
        self.catalog = catalog or default_catalog()
        self.clock = clock
        self.db = Database(config.database.url)
        self.client = MatrixClient(config)
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._stopped = False
        self._step_down = False
        self.exit_code = 0  # 1 when the sync loop or the sender stopped on an error
        self.started = asyncio.Event()  # set once serving (first sync done, jobs rebuilt)

    async def start(self) -> None:
        await self.db.migrate()
        await self._login()
        logs.hide(self.client.nio.access_token)
        self.permissions = Permissions(
            self.config, self.client.get_state, Network(self.config.bot.rooms, self.client)
        )
        self.services = Services(
            config=self.config,
            catalog=self.catalog,
            registry=self.registry,
            rooms=self.client,
            permissions=self.permissions,
            bot_user_id=self.client.user_id,
        )
        if self.clock is not None:
            self.services.clock = self.clock
        self.sender = Sender(self.db, self.client)
        self.dispatcher = Dispatcher(
            self.services,
            self.db,
            self._join,
            self.sender.wake,
            self.sender.hand_over,
            crypto=self.client.crypto,
        )
        self.scheduler = Scheduler(JobContext(self.services, self.db, self.sender.wake))
        self.services.scheduler = self.scheduler
        self.sync = SyncLoop(
            self.client,
            self.db,
            self.permissions,
            self.dispatcher.wants,
            self.dispatcher.submit,
            self._left,
            self.dispatcher.keys_arrived,
        )
        await self.dispatcher.load_pending()  # queued first, so handled first
        self._tasks = [
            asyncio.create_task(self.sync.run(), name="sync"),
            asyncio.create_task(self.sender.run(), name="sender"),
        ]
        for task in self._tasks:
            task.add_done_callback(self._crashed)
        await self.sync.ready.wait()
        self._say_missing_network_rooms()
        self.dispatcher.open()
        self.scheduler.add("runtime.prune", _prune, CronTrigger(hour=4, minute=17, timezone=self.config.tz))
        await self.scheduler.start()
        if self.settle_memory:
            memory.settle()
        self.started.set()
        log.info("oasis-bot ready as %s", self.client.user_id)

    async def _login(self) -> None:
        """Log in, waiting out a homeserver that is not up yet (said in the operator's
        language, with what to check); a refused password or token is fatal (retrying
        would only meet the login rate limit). A stop asked meanwhile ends the wait
        (`run`)."""
        tr = self.catalog.translator(self.config.bot.language)
        url = self.config.matrix.homeserver
        delay, tries = 1.0, 0
        while True:
            try:
                await self.client.login(self.db)
                if tries:
                    log.info(tr.t("operations.homeserver_back", url=url))
                return
            except LoginFailed:
                raise
            except Exception as exc:
                why, detail = unreachable_reason(exc)
                reason = tr.t(why, detail=detail)
                tries += 1
                key = "operations.homeserver_unreachable" if tries == 1 else "operations.homeserver_still"
                log.warning(tr.t(key, url=url, reason=reason, delay=int(delay)))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    def _crashed(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s stopped unexpectedly", task.get_name(), exc_info=task.exception())
            # Not a requested stop: the process says so (a supervisor restarts it).
            self.exit_code = 1
            self._stop.set()

    def _say_missing_network_rooms(self) -> None:
        """A configured room the bot is not in serves nobody: tell the operator at start
        (it joins when invited there)."""
        joined = set(self.client.joined_rooms())
        missing = [r for r in self.config.bot.rooms if r not in joined]
        if missing:
            log.warning("not in the network's room(s) %s: invite the bot there", ", ".join(missing))

    async def _join(self, room_id: str, is_direct: bool) -> None:
        if await self.client.join(room_id):
            log.info("joined %s", room_id)
            if is_direct:
                self.client.direct_rooms.add(room_id)

    async def _left(self, room_id: str, why: str) -> None:
        async with self.db.unit() as repos:
            dropped = await repos.outbox.fail_room(room_id, f"bot no longer in room ({why})")
            await repos.direct.forget_room(room_id)
            await repos.commit()
        self.client.direct_rooms.discard(room_id)
        if dropped:
            log.warning("%d queued messages for %s dropped", dropped, room_id)

    def request_stop(self, *, step_down: bool = False) -> None:
        """`step_down`: another process may be active already (`bot.standby`): stop at
        once, without finishing or sending anything more."""
        self._step_down = self._step_down or step_down
        self._stop.set()

    async def run(self) -> None:
        """Start, serve until asked to stop (signal or `request_stop`), stop cleanly."""
        try:
            # A stop asked while starting (a signal, a lost lease) does not wait for the
            # start to finish: it may be waiting for a homeserver or a database.
            starting = asyncio.create_task(self.start(), name="start")
            stopping = asyncio.create_task(self._stop.wait())
            try:
                await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if starting.done():
                    starting.result()
                    await stopping
            finally:
                for task in (starting, stopping):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Finish the event in hand, leave the rest in the inbox, send what is queued (a
        few seconds at most), stop the scheduler, close the client and the database."""
        if self._stopped:
            return
        self._stopped = True
        log.info("stopping")
        for task in self._tasks:
            if task.get_name() == "sync":
                task.cancel()
        if hasattr(self, "dispatcher"):
            await self.dispatcher.drain(timeout=0 if self._step_down else 20)
        if hasattr(self, "scheduler"):
            self.scheduler.shutdown()
        if hasattr(self, "sender") and not self._step_down:
            await self.sender.flush(timeout=5)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.client.crypto is not None and not self._step_down:
            # The keys the last answers used (a standby that stepped down writes nothing:
            # the active process owns them now).
            try:
                await self.client.crypto.flush()
            except Exception:
                log.exception("encryption keys not written at stop")
        await self.client.close()
        await self.db.dispose()
        log.info("stopped")


def unreachable_reason(exc: BaseException) -> tuple[str, str]:
    """Why the homeserver could not be reached, as a catalog key and its detail (aiohttp's
    own text names the TLS context, `ssl:default`, even for an http address)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the cause the client wrapped
        seen.add(id(current))
        if isinstance(current, aiohttp.ClientSSLError | ssl.SSLError):
            return "operations.unreachable.tls", ""
        if isinstance(current, aiohttp.ClientConnectorError):
            current = current.os_error
            continue
        if isinstance(current, socket.gaierror):
            return "operations.unreachable.unknown_host", ""
        if isinstance(current, ConnectionRefusedError):
            return "operations.unreachable.refused", ""
        if isinstance(current, TimeoutError | aiohttp.ServerTimeoutError):
            return "operations.unreachable.timeout", ""
        if isinstance(current, NotMatrix):
            return "operations.unreachable.not_matrix", ""
        if isinstance(current, LoginRateLimited):
            return "operations.unreachable.rate_limited", ""
        current = current.__cause__ or current.__context__
    return "operations.unreachable.other", f"{type(exc).__name__}: {exc}"[:200]


async def _prune(jobs: JobContext) -> None:
    async with jobs.db.unit() as repos:
        a = await repos.inbox.prune(KEEP_HANDLED)
        b = await repos.outbox.prune(KEEP_HANDLED, KEEP_DEDUPLICATED)
        await repos.commit()
    log.info("pruned %d handled events and %d sent messages", a, b)
