"""Takeovers: two bot processes on one PostgreSQL, the active one killed 10 times under load.

Two `python -m bot run` processes share a configuration and a database: one is active,
the other stands by. Members keep sending `!ping` the whole time (each one every
`--interval` seconds). Each round: `kill -9` the active process; time until the other one
reports itself active and serving on `/healthz` (the takeover), and until the first answer
to a command sent after the kill; restart the killed one (it must come back as standby).
At the end every command must have been answered exactly once.

    python bench/takeover.py                            # embedded Synapse, local PostgreSQL
    python bench/takeover.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test --rounds 10

Last line: `RESULT takeovers=… max_takeover_s=… duplicates=… lost=… …`. Targets: max ≤ 30 s,
no duplicate, nothing lost."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import Client, Observer  # noqa: E402
from bot.homeserver import EmbeddedSynapse  # noqa: E402
from tests.support.databases import create_database, drop_database  # noqa: E402
from tests.support.network import network_of  # noqa: E402
from tests.support.process import BotProcess  # noqa: E402


async def active_one(bots: list[BotProcess]) -> BotProcess:
    while True:
        for b in bots:
            h = await asyncio.to_thread(b.health)
            if h and h.get("role") == "active" and h.get("ready"):
                return b
        await asyncio.sleep(0.05)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="oasis-takeover-"))
    db_url = await create_database(args.postgres, "oasis_takeover")
    hs = EmbeddedSynapse(work / "synapse")
    await hs.start()
    bots: list[BotProcess] = []
    try:
        bot_acc = await asyncio.to_thread(hs.register, "oasis", "pw", displayname="OASIS")
        creator = await asyncio.to_thread(hs.register, "observer", "pw")
        member_accs = [await asyncio.to_thread(hs.register, f"m{i}", "pw") for i in range(args.members)]
        bots = [
            BotProcess(hs, bot_acc, db_url, work, name=name, logging={"level": "INFO"}) for name in ("a", "b")
        ]
        bots[0].start()
        await bots[0].wait_role("active", timeout=120)
        bots[1].start()
        await bots[1].wait_role("standby", timeout=120)
        async with aiohttp.ClientSession() as session:
            obs = Client(session, hs.url, creator.user_id, creator.access_token)
            members = [Client(session, hs.url, a.user_id, a.access_token) for a in member_accs]
            data = await obs.call("POST", "/_matrix/client/v3/createRoom", {"name": "Relève"})
            room = data["room_id"]
            # A room of the network (its test space) before the bot is invited.
            await asyncio.to_thread(network_of(hs).add, room)
            for user_id in [bot_acc.user_id, *(m.user_id for m in members)]:
                await obs.call("POST", f"/_matrix/client/v3/rooms/{room}/invite", {"user_id": user_id})
            for m in members:
                await m.call("POST", f"/_matrix/client/v3/join/{room}", {})
            observer = Observer(obs, bot_acc.user_id)
            await observer.start()
            first = await obs.send(room, "!ping")
            while first not in observer.answers:
                observer.changed.clear()
                await asyncio.wait_for(observer.changed.wait(), timeout=60)

            sent_at: dict[str, float] = {}
            running = True

            async def load(member: Client) -> None:
                while running:
                    started = time.perf_counter()
                    with contextlib.suppress(Exception):  # Synapse busy: try again
                        sent_at[await member.send(room, "!ping")] = started
                    await asyncio.sleep(args.interval)

            loaders = [asyncio.create_task(load(m)) for m in members]
            takeovers: list[float] = []
            gaps: list[float] = []
            await asyncio.sleep(2)
            for n in range(args.rounds):
                victim = await active_one(bots)
                victim.kill()
                killed = time.perf_counter()
                survivor = await asyncio.wait_for(
                    active_one([b for b in bots if b is not victim]), timeout=120
                )
                takeovers.append(time.perf_counter() - killed)
                # The first answer to a command sent after the kill.
                while True:
                    after = [
                        observer.answers[e][0]
                        for e, t in sent_at.items()
                        if t > killed and e in observer.answers
                    ]
                    if after:
                        gaps.append(min(after) - killed)
                        break
                    observer.changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(observer.changed.wait(), timeout=5)
                print(
                    f"round {n + 1}: {victim.name} killed, {survivor.name} active after "
                    f"{takeovers[-1]:.2f} s, first answer after {gaps[-1]:.2f} s"
                )
                victim.start()
                await victim.wait_role("standby", timeout=120)
                await asyncio.sleep(args.pause)
            running = False
            await asyncio.gather(*loaders)
            deadline = time.perf_counter() + 60
            while time.perf_counter() < deadline and any(e not in observer.answers for e in sent_at):
                observer.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(observer.changed.wait(), timeout=5)
            await asyncio.sleep(3)  # a double would arrive by now
            await observer.stop()
        duplicates = sum(1 for e in sent_at if len(observer.answers.get(e, [])) > 1)
        lost = sum(1 for e in sent_at if e not in observer.answers)
        return {
            "takeovers": len(takeovers),
            "max_takeover_s": round(max(takeovers), 2),
            "median_takeover_s": round(statistics.median(takeovers), 2),
            "max_first_answer_s": round(max(gaps), 2),
            "duplicates": duplicates,
            "lost": lost,
            "commands": len(sent_at),
        }
    finally:
        for b in bots:
            await b.stop(timeout=10)
        await hs.stop()
        await drop_database(args.postgres, db_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a member's commands")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds of load between rounds")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    for key, value in result.items():
        print(f"{key}: {value}")
    met = result["max_takeover_s"] <= 30 and result["duplicates"] == 0 and result["lost"] == 0
    print("targets met" if met else "targets NOT met")
    print("RESULT " + " ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
