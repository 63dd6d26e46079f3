"""Load: 50 members send 10 commands each, all at once, through Synapse.

The bot runs as operators run it (`python -m bot run --config …`, its own process). Five
rooms of ten members each (plus the bot and an observer who made the rooms). When the
bot is ready, every member sends its commands one after another, all members at the
same time: 500 commands in flight. The observer's sync sees each answer (the bot's reply
names the command's event): the latency of a command is from just before its send to
the observer's sync holding the answer. Answers are checked: each command once.

Figures: how many were answered, p50/p90/p99 latency, the time until the last answer, the
bot's CPU time over the burst and its peak resident memory (VmHWM, the kernel's
high-water mark, from start to the end of the burst).

    python bench/load.py                       # SQLite, embedded Synapse
    python bench/load.py --database postgresql+asyncpg://postgres@127.0.0.1/x
    python bench/load.py --members 50 --commands 10 --command '!aide'
    python bench/load.py --first-start        # the bot creates its database itself

The database is migrated beforehand by another process, as it is at every start of a
deployed bot but the very first one.

Last line: `RESULT answered=… sent=… p50_ms=… p99_ms=… peak_rss_mb=… …`. Targets: all
answered, p99 under 3× p50, peak RSS under 80 MB."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.homeserver import EmbeddedSynapse  # noqa: E402
from tests.support.network import network_of  # noqa: E402
from tests.support.process import BotProcess  # noqa: E402

ROOM_SIZE = 10


def proc_status(pid: int, field: str) -> float:
    """A /proc/<pid>/status field in MB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, user_id: str, token: str) -> None:
        self.session, self.base, self.user_id, self.token = session, base, user_id, token

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        for _attempt in range(20):
            async with self.session.request(method, self.base + path, json=body, headers=headers) as r:
                data = await r.json(content_type=None)
                if r.status == 429:  # should not happen with relaxed limits; waited out
                    await asyncio.sleep((data.get("retry_after_ms") or 500) / 1000)
                    continue
                if r.status >= 400:
                    raise RuntimeError(f"{method} {path}: {r.status} {data}")
                return data
        raise RuntimeError(f"{method} {path}: still rate limited")

    async def send(self, room_id: str, body: str) -> str:
        txn = uuid.uuid4().hex
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{txn}"
        data = await self.call("PUT", path, {"msgtype": "m.text", "body": body})
        return str(data["event_id"])


class Observer:
    """Syncs as the rooms' creator; notes when each answer of the bot arrives."""

    def __init__(self, client: Client, bot_user_id: str) -> None:
        self.client = client
        self.bot_user_id = bot_user_id
        self.answers: dict[str, list[float]] = {}  # command event id → arrival times
        self.token: str | None = None
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        data = await self.client.call("GET", "/_matrix/client/v3/sync?timeout=0&filter=" + quote(json.dumps(
            {"room": {"timeline": {"limit": 0}}})))  # fmt: skip
        self.token = data["next_batch"]
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        flt = quote(json.dumps({"presence": {"not_types": ["*"]}, "room": {"timeline": {"limit": 500}}}))
        while True:
            try:
                data = await self.client.call(
                    "GET", f"/_matrix/client/v3/sync?timeout=10000&since={self.token}&filter={flt}"
                )
            except Exception:
                await asyncio.sleep(0.2)
                continue
            now = time.perf_counter()
            self.token = data["next_batch"]
            for room in (data.get("rooms", {}).get("join") or {}).values():
                for ev in room.get("timeline", {}).get("events", []):
                    if ev.get("sender") != self.bot_user_id:
                        continue
                    target = ((ev.get("content") or {}).get("m.relates_to") or {}).get("m.in_reply_to") or {}
                    if target.get("event_id"):
                        self.answers.setdefault(target["event_id"], []).append(now)
            self.changed.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="oasis-load-"))
    hs = EmbeddedSynapse(work / "synapse")
    await hs.start()
    bot: BotProcess | None = None
    try:
        reg = [
            asyncio.to_thread(hs.register, f"m{i}_{uuid.uuid4().hex[:4]}", "pw") for i in range(args.members)
        ]
        members_acc = await asyncio.gather(*reg)
        creator = await asyncio.to_thread(hs.register, "observer", "pw")
        bot_acc = await asyncio.to_thread(hs.register, "oasis", "pw", displayname="OASIS")
        db_url = args.database or f"sqlite+aiosqlite:///{work / 'bot.db'}"
        if not args.first_start:
            # The database at the migrations' heads, as at every start but the very first
            # (a first start also loads Alembic, ~10 MB more for the process's life).
            migrate = (
                "import asyncio, sys; from storage.db import Database;"
                " asyncio.run(Database(sys.argv[1]).migrate())"
            )
            migrate_cmd = [sys.executable, "-c", migrate, db_url]
            await asyncio.to_thread(subprocess.run, migrate_cmd, check=True, cwd=ROOT)
        bot = BotProcess(hs, bot_acc, db_url, work, name="bot", logging={"level": "WARNING"})
        bot.start()
        await bot.wait_role("active", timeout=120)
        async with aiohttp.ClientSession() as session:
            obs = Client(session, hs.url, creator.user_id, creator.access_token)
            members = [Client(session, hs.url, a.user_id, a.access_token) for a in members_acc]
            rooms: list[str] = []
            groups = [members[i : i + ROOM_SIZE] for i in range(0, len(members), ROOM_SIZE)]
            for n, group in enumerate(groups):
                invite = [bot_acc.user_id, *(m.user_id for m in group)]
                data = await obs.call("POST", "/_matrix/client/v3/createRoom", {"name": f"Charge {n}"})
                # A room of the network (its test space) before the bot is invited.
                await asyncio.to_thread(network_of(hs).add, data["room_id"])
                invite_path = f"/_matrix/client/v3/rooms/{quote(data['room_id'])}/invite"
                for user_id in invite:
                    await obs.call("POST", invite_path, {"user_id": user_id})
                rooms.append(data["room_id"])
                await asyncio.gather(
                    *(m.call("POST", f"/_matrix/client/v3/join/{quote(data['room_id'])}", {}) for m in group)
                )
            observer = Observer(obs, bot_acc.user_id)
            await observer.start()
            # Wait for the bot to be in every room: one !ping each, answered.
            for room in rooms:
                event = await obs.send(room, "!ping")
                while event not in observer.answers:
                    observer.changed.clear()
                    await asyncio.wait_for(observer.changed.wait(), timeout=60)
            await asyncio.sleep(2)
            rss_before = proc_status(bot.pid, "VmRSS")
            cpu_before = cpu_seconds(bot.pid)
            sent_at: dict[str, float] = {}

            async def member_burst(member: Client, room: str) -> None:
                for _ in range(args.commands):
                    started = time.perf_counter()
                    event = await member.send(room, args.command)
                    sent_at[event] = started

            started = time.perf_counter()
            await asyncio.gather(*(member_burst(m, rooms[i // ROOM_SIZE]) for i, m in enumerate(members)))
            sending = time.perf_counter() - started
            total = args.members * args.commands
            deadline = time.perf_counter() + args.timeout
            while time.perf_counter() < deadline and sum(e in observer.answers for e in sent_at) < total:
                observer.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(observer.changed.wait(), timeout=5)
            await asyncio.sleep(2)  # a double would arrive by now
            cpu = cpu_seconds(bot.pid) - cpu_before
            peak = proc_status(bot.pid, "VmHWM")
            rss_after = proc_status(bot.pid, "VmRSS")
            await observer.stop()
        latencies = sorted(
            (observer.answers[e][0] - t) * 1000 for e, t in sent_at.items() if e in observer.answers
        )
        doubles = sum(1 for e in sent_at if len(observer.answers.get(e, [])) > 1)
        last = (
            max((observer.answers[e][0] for e in sent_at if e in observer.answers), default=started) - started
        )
        q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
        result = {
            "answered": len(latencies),
            "sent": len(sent_at),
            "doubles": doubles,
            "p50_ms": round(q[49], 1),
            "p90_ms": round(q[89], 1),
            "p99_ms": round(q[98], 1),
            "last_answer_s": round(last, 2),
            "sending_s": round(sending, 2),
            "cpu_s": round(cpu, 2),
            "rss_idle_mb": round(rss_before, 1),
            "rss_after_mb": round(rss_after, 1),
            "peak_rss_mb": round(peak, 1),
        }
        outcomes: Counter[str] = Counter()
        for line in (await asyncio.to_thread(bot.metrics)).splitlines():
            if line.startswith("oasis_commands_total{"):
                outcomes[line.split('outcome="')[1].split('"')[0]] += int(float(line.split()[-1]))
        print(f"commands by outcome (the bot's /metrics): {dict(outcomes)}")
        return result
    finally:
        if bot is not None:
            await bot.stop()
        await hs.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--commands", type=int, default=10)
    parser.add_argument("--command", default="!ping")
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--first-start", action="store_true", help="let the bot create its database (it then loads Alembic)"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    for key, value in result.items():
        print(f"{key}: {value}")
    targets = (
        result["answered"] == result["sent"]
        and result["doubles"] == 0
        and result["p99_ms"] < 3 * result["p50_ms"]
        and result["peak_rss_mb"] < 80
    )
    print("targets met" if targets else "targets NOT met")
    print("RESULT " + " ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
