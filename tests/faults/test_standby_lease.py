"""The lease behind the hot standby, on a real PostgreSQL, and the SQLite file lock."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.standby import AlreadyRunning, FileLock, PostgresLease, Supervisor
from tests.support.databases import create_postgres_database, drop_postgres_database, postgres_required


@pytest.fixture(scope="module")
async def pg_url() -> AsyncIterator[str]:
    try:
        url = await create_postgres_database()
    except Exception as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield url
    await drop_postgres_database(url)


def fast(url: str) -> PostgresLease:
    return PostgresLease(url, poll=0.2, heartbeat=0.2)


async def test_one_active_the_other_takes_over_when_it_releases(pg_url: str) -> None:
    stop = asyncio.Event()
    first, second = fast(pg_url), fast(pg_url)
    assert await first.acquire(stop)
    waiting = asyncio.create_task(second.acquire(stop))
    await asyncio.sleep(0.8)
    assert not waiting.done() and second.role == "standby" and first.role == "active"
    await first.release()
    assert await asyncio.wait_for(waiting, timeout=3)
    assert second.role == "active"
    await second.release()


async def test_the_active_one_steps_down_when_its_connection_dies(pg_url: str) -> None:
    """The server ends the holder's session (as when its connection is cut): the holder
    knows at once, and a standby takes over."""
    stop = asyncio.Event()
    first, second = fast(pg_url), fast(pg_url)
    assert await first.acquire(stop)
    waiting = asyncio.create_task(second.acquire(stop))
    pid = first._conn.get_server_pid()
    admin = await asyncpg.connect(first.dsn)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.wait_for(first.lost.wait(), timeout=3)
    assert first.role == "standby"
    assert await asyncio.wait_for(waiting, timeout=3)
    await first.release()
    await second.release()


async def test_a_standby_waits_for_an_unreachable_database_and_stops_on_request() -> None:
    lease = PostgresLease("postgresql+asyncpg://postgres@127.0.0.1:1/none", poll=0.1)
    stop = asyncio.Event()
    waiting = asyncio.create_task(lease.acquire(stop))
    await asyncio.sleep(0.5)
    assert not waiting.done() and not lease.reachable  # /healthz says so: 503
    stop.set()
    assert await asyncio.wait_for(waiting, timeout=3) is False


class FakeApp:
    """Stands for `bot.app.App`: runs until asked to stop."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.stop = asyncio.Event()

    async def run(self) -> None:
        self.log.append("run")
        await self.stop.wait()

    def request_stop(self, *, step_down: bool = False) -> None:
        self.log.append("step down" if step_down else "stop")
        self.stop.set()


async def test_supervisor_steps_down_then_takes_over_again(pg_url: str) -> None:
    log: list[str] = []
    lease = fast(pg_url)
    supervisor = Supervisor(lambda: FakeApp(log), lease)
    running = asyncio.create_task(supervisor.run())
    for _ in range(50):
        if supervisor.app is not None:
            break
        await asyncio.sleep(0.05)
    admin = await asyncpg.connect(lease.dsn)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", lease._conn.get_server_pid())
    finally:
        await admin.close()
    for _ in range(100):  # stepped down, then active again with a new app
        if supervisor.takeovers == 2 and supervisor.app is not None:
            break
        await asyncio.sleep(0.05)
    assert log == ["run", "step down", "run"]
    supervisor.request_stop()
    assert await asyncio.wait_for(running, timeout=3) == 0
    assert log[-1] == "stop"


# --- SQLite: one process per file --------------------------------------------------


async def test_sqlite_second_lock_refused_then_free_after_release(tmp_path: Path) -> None:
    db = str(tmp_path / "bot.db")
    first, second = FileLock(db), FileLock(db)
    first.take()
    with pytest.raises(AlreadyRunning):
        second.take()
    await first.release()
    second.take()
    await second.release()


def test_sqlite_lock_free_right_after_kill_9(tmp_path: Path) -> None:
    db = str(tmp_path / "bot.db")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from bot.standby import FileLock
                FileLock({db!r}).take()
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        with pytest.raises(AlreadyRunning):
            FileLock(db).take()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=5)
        lock = FileLock(db)
        lock.take()  # no lease to expire: free at once
        assert lock.role == "active"
    finally:
        holder.kill()


def test_run_refuses_a_second_process_on_a_sqlite_database(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [matrix]
            homeserver = "http://127.0.0.1:9"
            user_id = "@oasis:localhost"
            password = "secret"
            [bot]
            rooms = ["!net:localhost"]
            [database]
            url = "sqlite+aiosqlite:///{db}"
            """
        )
    )
    lock = FileLock(str(db))
    lock.take()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "Un autre processus oasis-bot utilise déjà la base" in done.stderr
    assert "passez à PostgreSQL" in done.stderr


async def test_a_missing_database_is_an_error_not_a_wait(pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    from bot.standby import DatabaseRefused

    missing = make_url(pg_url).set(database="oasis_no_such_database").render_as_string(hide_password=False)
    with pytest.raises(DatabaseRefused) as refused:
        await asyncio.wait_for(PostgresLease(missing, poll=0.1).acquire(asyncio.Event()), timeout=10)
    assert refused.value.key == "operations.database_missing"
    assert "oasis_no_such_database" in refused.value.database


def test_run_says_in_french_that_the_database_does_not_exist(pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    missing = make_url(pg_url).set(database="oasis_no_such_database").render_as_string(hide_password=False)
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [matrix]
            homeserver = "http://127.0.0.1:9"
            user_id = "@oasis:localhost"
            password = "secret"
            [bot]
            rooms = ["!net:localhost"]
            [database]
            url = "{missing}"
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "n'existe pas sur le serveur PostgreSQL" in done.stderr and "Traceback" not in done.stderr
    owner = make_url(pg_url).username
    assert f"createdb -O {owner} oasis_no_such_database)" in done.stderr  # the command to type
