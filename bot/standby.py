"""One active process per database: the hot standby on PostgreSQL, a single instance on
SQLite.

- PostgreSQL: every process takes a session advisory lock on a connection of its own.
  The one holding it is active; the others are standbys that try again every
  `POLL_SECONDS`. The server drops the lock the moment the holder's session ends — process
  killed (the kernel closes its socket), connection cut, or, for a machine that vanished,
  the server's TCP keepalives (set short on that connection) — and a standby takes over:
  it migrates, restores the same Matrix session from the database and resumes from the
  stored sync token, inbox, outbox and schedules.
- The active process checks its lock's connection every `HEARTBEAT_SECONDS`: when that
  connection dies or stops answering it has lost the lock, so it steps down at once
  (stops syncing, handling and sending) and becomes a standby again. It notices before
  the server frees the lock (keepalives: ≥ 11 s), so two processes are never active for
  long; if they overlap, the inbox claim, the outbox's dedup keys and the fixed
  transaction ids keep every command answered once and every post sent once.
- SQLite: an operating-system lock (`flock`) on `<database>.lock` beside the file. A
  second process refuses to start with a clear message; the kernel releases the lock
  when its holder dies, so a restart right after `kill -9` never waits.
- The lock is taken before anything else touches the database (migrations included)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# Stable across versions: every oasis-bot process on one database competes for it.
# (Advisory locks are per database, so two bots on two databases never meet.)
LOCK_KEY = int.from_bytes(b"oasisbot", "big")
POLL_SECONDS = 2.0  # a standby's try
HEARTBEAT_SECONDS = 2.0  # the active one's check of its lock connection
HEARTBEAT_TIMEOUT = 3.0
CONNECT_TIMEOUT = 10.0
# The server's side: a peer that vanished without closing its socket is dropped after
# about idle + interval × count = 11 s (and 10 s of unacknowledged data), freeing the lock.
LOCK_SESSION_SETTINGS = {
    "application_name": "oasis-bot lease",
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "10000",
}


class AlreadyRunning(Exception):
    """Another process serves this SQLite database."""

    def __init__(self, database: str, lock_path: str) -> None:
        super().__init__(f"another oasis-bot process uses {database} (lock {lock_path})")
        self.database = database
        self.lock_path = lock_path


class DatabaseRefused(Exception):
    """The PostgreSQL server answers but refuses: no such database, wrong credentials.
    Waiting would not help; the operator must fix the configuration."""

    def __init__(self, key: str, database: str, detail: str) -> None:
        super().__init__(f"{database}: {detail}")
        self.key = key  # catalog key
        self.database = database
        self.detail = detail


class Lease(Protocol):
    """Who may act on the database. `lost` is set when an active process must stop."""

    lost: asyncio.Event

    @property
    def role(self) -> str: ...  # "starting", "standby" or "active"

    @property
    def reachable(self) -> bool: ...  # the database answered the last try

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until this process is the active one (True), or `stop` is set (False)."""
        ...

    async def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting (for `oasis-bot restore`)."""
        ...

    async def release(self) -> None: ...


def lease_for(database_url: str) -> Lease:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return FileLock(url.database or "")
    return PostgresLease(database_url)


class FileLock:
    """SQLite: at most one process per database file, by `flock`."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.path = lock_path(database)
        self.lost = asyncio.Event()  # never set: nothing can take a file lock away
        self._fd: int | None = None

    @property
    def role(self) -> str:
        return "active" if self._fd is not None else "starting"

    @property
    def reachable(self) -> bool:
        return True

    async def acquire(self, stop: asyncio.Event) -> bool:
        self.take()
        return not stop.is_set()

    async def try_acquire(self) -> bool:
        self.take()
        return True

    def take(self) -> None:
        """Take the lock or raise `AlreadyRunning` (no waiting: the other process is
        alive, since the kernel frees the lock of a dead one)."""
        if self.path is None or self._fd is not None:
            return
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.database, self.path) from None
        # For the operator who wonders who holds it (the lock, not this text, is what counts).
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def lock_path(database: str) -> str | None:
    """The lock file beside a SQLite database (none for an in-memory one)."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return str(Path(database).absolute()) + ".lock"


class PostgresLease:
    """PostgreSQL: a session advisory lock held on a dedicated connection."""

    def __init__(
        self,
        database_url: str,
        *,
        poll: float = POLL_SECONDS,
        heartbeat: float = HEARTBEAT_SECONDS,
        key: int = LOCK_KEY,
    ) -> None:
        url = make_url(database_url)
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.where = url.set(password=None).render_as_string()  # for logs: no password
        self.poll = poll
        self.heartbeat = heartbeat
        self.key = key
        self.lost = asyncio.Event()
        self._conn: Any = None
        self._watch: asyncio.Task[None] | None = None
        self._role = "starting"
        self._reachable = True

    @property
    def role(self) -> str:
        return self._role

    @property
    def reachable(self) -> bool:
        return self._reachable

    async def acquire(self, stop: asyncio.Event) -> bool:
        import asyncpg

        self.lost.clear()
        said_waiting = said_unreachable = False
        while not stop.is_set():
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(
                        self.dsn, timeout=CONNECT_TIMEOUT, server_settings=LOCK_SESSION_SETTINGS
                    )
                got = await asyncio.wait_for(
                    self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key), CONNECT_TIMEOUT
                )
            except asyncpg.InvalidCatalogNameError as exc:
                raise DatabaseRefused("operations.database_missing", self.where, str(exc)) from None
            except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
                raise DatabaseRefused("operations.database_refused", self.where, str(exc)) from None
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if not said_unreachable:
                    log.warning("database unreachable (%s); trying again", type(exc).__name__)
                    said_unreachable = True
                await self._drop_connection()
                got = False
                self._reachable = False
            else:
                self._reachable = True
                if said_unreachable:
                    log.info("database reachable again")
                    said_unreachable = False
            if got:
                self._role = "active"
                log.info("active: this process holds the lock on %s", self.where)
                self._conn.add_termination_listener(self._terminated)
                self._watch = asyncio.create_task(self._heartbeat(), name="lease heartbeat")
                return True
            if not said_waiting and not said_unreachable:
                log.info("standby: another process is active on %s; waiting to take over", self.where)
                said_waiting = True
            self._role = "standby"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll)
        return False

    async def try_acquire(self) -> bool:
        import asyncpg

        self._conn = await asyncpg.connect(
            self.dsn, timeout=CONNECT_TIMEOUT, server_settings=LOCK_SESSION_SETTINGS
        )
        if await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
            self._role = "active"
            return True
        await self._drop_connection()
        return False

    def _terminated(self, _conn: Any) -> None:
        self._lose("the lock's connection was closed")

    def _lose(self, why: str) -> None:
        if not self.lost.is_set():
            log.error("lock lost (%s): stepping down", why)
            self._role = "standby"
            self.lost.set()

    async def _heartbeat(self) -> None:
        while not self.lost.is_set():
            await asyncio.sleep(self.heartbeat)
            try:
                await asyncio.wait_for(self._conn.fetchval("SELECT 1"), HEARTBEAT_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._lose(f"{type(exc).__name__} on the lock's connection")

    async def release(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await self._drop_connection()  # the session ends: the lock is free
        self._role = "standby" if self._role == "active" else self._role

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn.remove_termination_listener(self._terminated)
        try:
            await asyncio.wait_for(conn.close(), timeout=2)
        except Exception:
            conn.terminate()


class Runnable(Protocol):
    """What the supervisor runs: the app (`bot.app.App`)."""

    async def run(self) -> None: ...

    def request_stop(self, *, step_down: bool = False) -> None: ...


class Supervisor:
    """Runs the app while this process holds the lease; a standby waits; a process that
    loses the lease steps down and waits again. `request_stop` (signals) ends it all."""

    def __init__(self, make_app: Callable[[], Runnable], lease: Lease) -> None:
        self.make_app = make_app
        self.lease = lease
        self.app: Runnable | None = None
        self._stop = asyncio.Event()
        self.takeovers = 0  # how many times this process became active

    @property
    def role(self) -> str:
        return self.lease.role

    def request_stop(self) -> None:
        self._stop.set()
        if self.app is not None:
            self.app.request_stop()

    async def run(self) -> int:
        """Serve until stopped; the app's exit code (0 for a requested stop)."""
        while not self._stop.is_set():
            if not await self.lease.acquire(self._stop):
                break
            self.takeovers += 1
            self.app = app = self.make_app()
            watch = asyncio.create_task(self._step_down_when_lost(app))
            try:
                await app.run()
            except Exception:
                if not self.lease.lost.is_set():
                    raise
                # What failed is what made the lease go (the database): stand by.
                log.warning("the app stopped on an error after the lock was lost", exc_info=True)
            finally:
                watch.cancel()
                self.app = None
                await self.lease.release()
            if self.lease.lost.is_set() and not self._stop.is_set():
                log.warning("stepped down; standing by")
                continue
            return int(getattr(app, "exit_code", 0) or 0)
        await self.lease.release()
        return 0

    async def _step_down_when_lost(self, app: Runnable) -> None:
        await self.lease.lost.wait()
        app.request_stop(step_down=True)
