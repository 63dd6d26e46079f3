"""The `!ping` round trip of oasis-bot against a bare matrix-nio echo bot.

A member account sends `!ping` and waits for the answer to arrive in its own sync; the
time from just before the send to the sync response holding the answer is one round
trip. Two rooms, each with the member and one bot: oasis-bot (`python -m bot run`) in
one, `bench/echo_bot.py` in the other. Both bots run at the same time, each in its own
process, on the same homeserver; pings alternate between the two rooms (in a random
order within each pair), one at a time, with a short pause after each answer so neither
bot's after-work (the sender's bookkeeping, its own echo in sync) overlaps the next
measurement. Machine noise thus hits both equally.

Why subprocesses: each bot gets its own interpreter, event loop and GIL, as in
production, and neither shares a loop with the measuring client (which would add the
client's work to one bot's latency); and each process's resident memory is its own.

    python bench/roundtrip.py                          # starts its own Synapse
    python bench/roundtrip.py --encrypted              # the same, in encrypted rooms
    python bench/roundtrip.py --homeserver URL --registration-shared-secret SECRET
    python bench/roundtrip.py --homeserver URL --accounts accounts.json

`accounts.json`: {"member": {"user_id": …, "password": …}, "bot": {…}, "echo": {…}} (and
"other" with --compare-with).
Against a real homeserver lift the accounts' rate limits first (see docs/benchmarks.md).

`--encrypted`: both rooms are end-to-end encrypted; the member is a matrix-nio client with
its key store (it encrypts `!ping` and decrypts the answers, as Element does), and the echo
bot encrypts too (nio's own store, `sync_forever`). Each round trip then includes the
member's encryption and decryption, the same for both bots.

Each bot starts on an existing database (migrated beforehand by another process, as at
every start of a deployed bot but the first; `--first-start` lets it create it), one
after the other: `start_ms` is from the process's launch to the first answer seen.

`--burst 50`: after the measured pings, five more members join oasis-bot's room and send
50 `!ping` at once (10 each, one after another, the five at the same time); every answer
is checked (once each, in order per member). `--idle 600`: both bots' CPU time over ten
idle minutes (nothing sent; each keeps its long-poll /sync).

The last line printed is `RESULT ratio=… bot_p90_ratio=… start_ms=… …`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.homeserver import EmbeddedSynapse, process_rss_mb  # noqa: E402

PASSWORD_BYTES = 12
SYNC_FILTER = json.dumps(
    {
        "presence": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
        "room": {
            "timeline": {"limit": 50},
            "state": {"lazy_load_members": True},
            "ephemeral": {"not_types": ["*"]},
            "account_data": {"not_types": ["*"]},
        },
    }
)


@dataclass
class Login:
    user_id: str
    access_token: str
    device_id: str
    password: str = ""


# --- HTTP -----------------------------------------------------------------------------


class HttpError(Exception):
    pass


async def call(
    session: aiohttp.ClientSession,
    base: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    params: dict[str, str] | None = None,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(method, base + path, json=body, headers=headers, params=params) as resp:
        data = await resp.json(content_type=None)
        if resp.status >= 400:
            raise HttpError(f"{method} {path}: HTTP {resp.status} {data}")
        return data


async def register(
    session: aiohttp.ClientSession, base: str, secret: str, username: str, password: str
) -> Login:
    """Shared-secret registration (Synapse's admin API): no open registration needed."""
    path = "/_synapse/admin/v1/register"
    nonce = (await call(session, base, "GET", path))["nonce"]
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), username.encode(), password.encode(), b"notadmin"]))
    body = {
        "nonce": nonce,
        "username": username,
        "password": password,
        "admin": False,
        "mac": mac.hexdigest(),
    }
    data = await call(session, base, "POST", path, body)
    return Login(data["user_id"], data["access_token"], data["device_id"], password)


async def login(session: aiohttp.ClientSession, base: str, user_id: str, password: str) -> Login:
    body = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
        "initial_device_display_name": "oasis-bot benchmark",
    }
    data = await call(session, base, "POST", "/_matrix/client/v3/login", body)
    return Login(data["user_id"], data["access_token"], data["device_id"], password)


# --- the member who pings ------------------------------------------------------------


@dataclass
class Sample:
    event_id: str
    started: float  # perf_counter just before the PUT of `!ping`
    arrived: float  # perf_counter when the sync response holding the answer was read

    @property
    def seconds(self) -> float:
        return self.arrived - self.started


@dataclass
class Waiter:
    sender: str
    future: asyncio.Future[float]


@dataclass
class Member:
    """Sends `!ping` and long-polls /sync; notes when each bot's answer arrives."""

    session: aiohttp.ClientSession
    base: str
    login: Login
    waiters: dict[str, Waiter] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    filter_id: str = ""
    # Called with each timeline event of each sync, and when its response was read.
    watchers: list[Callable[[str, dict[str, Any], float], None]] = field(default_factory=list)

    async def create_room(self, name: str, invite: str) -> str:
        body = {"name": name, "preset": "private_chat", "invite": [invite]}
        data = await call(self.session, self.base, "POST", "/_matrix/client/v3/createRoom", body, self.token)
        return str(data["room_id"])

    @property
    def token(self) -> str:
        return self.login.access_token

    async def start(self) -> None:
        # An uploaded filter, used by id (as Element does): the lightest /sync request.
        path = f"/_matrix/client/v3/user/{quote(self.login.user_id)}/filter"
        created = await call(self.session, self.base, "POST", path, json.loads(SYNC_FILTER), self.token)
        self.filter_id = str(created["filter_id"])
        params = {"timeout": "0", "filter": json.dumps({"room": {"timeline": {"limit": 0}}})}
        first = await call(
            self.session, self.base, "GET", "/_matrix/client/v3/sync", None, self.token, params
        )
        self.task = asyncio.create_task(self._loop(first["next_batch"]))

    async def _loop(self, since: str) -> None:
        while True:
            params = {"since": since, "timeout": "30000", "filter": self.filter_id}
            try:
                data = await call(
                    self.session, self.base, "GET", "/_matrix/client/v3/sync", None, self.token, params
                )
            except (aiohttp.ClientError, HttpError, TimeoutError):
                await asyncio.sleep(0.2)
                continue
            arrived = time.perf_counter()
            since = data["next_batch"]
            for room_id, room in (data.get("rooms") or {}).get("join", {}).items():
                for watcher in self.watchers:
                    for event in (room.get("timeline") or {}).get("events", []):
                        watcher(room_id, event, arrived)
                waiter = self.waiters.get(room_id)
                if waiter is None or waiter.future.done():
                    continue
                for event in (room.get("timeline") or {}).get("events", []):
                    content = event.get("content") or {}
                    if (
                        event.get("type") == "m.room.message"
                        and event.get("sender") == waiter.sender
                        and "pong" in str(content.get("body", ""))
                    ):
                        waiter.future.set_result(arrived)
                        break

    async def ping(self, room_id: str, bot_user_id: str, timeout: float) -> Sample | None:
        """One round trip; None when no answer came within `timeout`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[room_id] = Waiter(bot_user_id, future)
        txn = uuid.uuid4().hex
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{txn}"
        started = time.perf_counter()
        sent = await call(
            self.session, self.base, "PUT", path, {"msgtype": "m.text", "body": "!ping"}, self.token
        )
        try:
            arrived = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self.waiters.pop(room_id, None)
        return Sample(str(sent["event_id"]), started, arrived)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class EncryptedMember(Member):
    """The member with end-to-end encryption: a matrix-nio client with its key store."""

    def __init__(self, session: aiohttp.ClientSession, base: str, login: Login, store: Path) -> None:
        super().__init__(session, base, login)
        from nio import AsyncClient, AsyncClientConfig

        store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, max_timeouts=5)
        self.nio = AsyncClient(
            base, login.user_id, device_id=login.device_id, store_path=str(store), config=config
        )
        self.nio.restore_login(login.user_id, login.device_id, login.access_token)

    async def create_room(self, name: str, invite: str) -> str:
        body = {
            "name": name,
            "preset": "private_chat",
            "invite": [invite],
            "initial_state": [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ],
        }
        data = await call(self.session, self.base, "POST", "/_matrix/client/v3/createRoom", body, self.token)
        return str(data["room_id"])

    async def _keys(self) -> None:
        c = self.nio
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())
        await c.send_to_device_messages()

    async def start(self) -> None:
        from nio import SyncResponse

        first = await self.nio.sync(timeout=0, full_state=True)
        assert isinstance(first, SyncResponse), first
        await self._keys()
        self.task = asyncio.create_task(self._nio_loop(first.next_batch))

    async def _nio_loop(self, since: str) -> None:
        from nio import RoomMessage, SyncResponse

        sync_filter = {"presence": {"not_types": ["*"]}, "room": {"ephemeral": {"not_types": ["*"]}}}
        while True:
            try:
                resp = await self.nio.sync(timeout=30_000, since=since, sync_filter=sync_filter)
            except Exception:
                await asyncio.sleep(0.2)
                continue
            if not isinstance(resp, SyncResponse):
                await asyncio.sleep(0.2)
                continue
            arrived = time.perf_counter()  # the response read and decrypted
            since = resp.next_batch
            for room_id, room in resp.rooms.join.items():
                waiter = self.waiters.get(room_id)
                if waiter is None or waiter.future.done():
                    continue
                for event in room.timeline.events:
                    if (
                        isinstance(event, RoomMessage)
                        and event.sender == waiter.sender
                        and "pong" in str(getattr(event, "body", ""))
                    ):
                        waiter.future.set_result(arrived)
                        break
            with contextlib.suppress(Exception):
                await self._keys()

    async def ping(self, room_id: str, bot_user_id: str, timeout: float) -> Sample | None:
        from nio import RoomSendResponse

        if not list(self.nio.device_store.active_user_devices(bot_user_id)):
            # The bot had published no keys at our last query (it was starting): ask again.
            self.nio.olm.users_for_key_query.add(bot_user_id)
            await self.nio.keys_query()
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[room_id] = Waiter(bot_user_id, future)
        started = time.perf_counter()
        sent = await self.nio.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "!ping"}, ignore_unverified_devices=True
        )
        if not isinstance(sent, RoomSendResponse):
            self.waiters.pop(room_id, None)
            return None
        try:
            arrived = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self.waiters.pop(room_id, None)
        return Sample(str(sent.event_id), started, arrived)

    async def stop(self) -> None:
        await super().stop()
        await self.nio.close()


# --- the two bots ---------------------------------------------------------------------


@dataclass
class BotProcess:
    name: str
    user_id: str
    room_id: str
    process: subprocess.Popen[bytes]
    log: Path
    trace: Path | None = None
    samples: list[Sample] = field(default_factory=list)
    missed: int = 0
    spawned: float = field(default_factory=time.perf_counter)  # when the process was launched
    start_ms: float = 0.0  # from the launch to the first answer seen

    @property
    def times(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with code {self.process.returncode}:\n{tail}")

    def rss_mb(self) -> float:
        return process_rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_oasis_bot(
    workdir: Path,
    base: str,
    account: Login,
    room_id: str,
    args: argparse.Namespace,
    *,
    name: str = "oasis-bot",
    root: Path = ROOT,
) -> BotProcess:
    """`python -m bot run` from the checkout at `root` (this one, or --compare-with)."""
    tag = "oasis-bot" if root == ROOT else "oasis-other"
    db_url = args.bot_database if args.bot_database and root == ROOT else None
    db_url = db_url or f"sqlite+aiosqlite:///{workdir / (tag + '.db')}"
    config = workdir / f"{tag}.toml"
    config.write_text(
        "[matrix]\n"
        f"homeserver = {json.dumps(base)}\n"
        f"user_id = {json.dumps(account.user_id)}\n"
        'device_name = "oasis-bot benchmark"\n'
        "[bot]\n"
        f"rooms = {json.dumps([room_id])}\n"  # the network: the benchmark's room
        # The member pings more than a member's command budget allows (bot.limits):
        # an admin has none.
        f"admins = {json.dumps([args.member_id])}\n"
        "[database]\n"
        f"url = {json.dumps(db_url)}\n"
        "[logging]\n"
        f"level = {json.dumps(args.bot_log_level)}\n"
    )
    if not args.first_start:
        # At the migrations' heads, as at every start but the very first (which also
        # loads Alembic, for the process's whole life).
        migrate = (
            "import asyncio, sys; from storage.db import Database;"
            " asyncio.run(Database(sys.argv[1]).migrate())"
        )
        subprocess.run([sys.executable, "-c", migrate, db_url], cwd=root, check=True)
    env = dict(os.environ, OASIS_MATRIX_ACCESS_TOKEN=account.access_token)
    trace = workdir / f"trace-{tag}.jsonl" if args.trace and root == ROOT else None
    if trace is not None:
        command = [sys.executable, str(ROOT / "bench" / "tracing.py"), str(trace), "oasis", "run"]
    elif args.profile and root == ROOT:
        command = [sys.executable, "-m", "cProfile", "-o", str(args.profile), "-m", "bot", "run"]
    else:
        command = [sys.executable, "-m", "bot", "run"]
    log = workdir / f"{tag}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--config", str(config)], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return BotProcess(name, account.user_id, room_id, process, log, trace)


def start_echo_bot(
    workdir: Path, base: str, account: Login, room_id: str, args: argparse.Namespace
) -> BotProcess:
    env = dict(os.environ, OASIS_ECHO_ACCESS_TOKEN=account.access_token)
    trace = workdir / "trace-echo.jsonl" if args.trace else None
    if trace is not None:
        command = [sys.executable, str(ROOT / "bench" / "tracing.py"), str(trace), "echo"]
    else:
        command = [sys.executable, str(ROOT / "bench" / "echo_bot.py")]
    if args.echo_rich:
        command.append("--rich")
    if args.encrypted:
        command += ["--store-path", str(workdir / "echo-keys")]
    log = workdir / "echo-bot.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--homeserver", base, "--user-id", account.user_id, "--device-id", account.device_id],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return BotProcess("echo bot", account.user_id, room_id, process, log, trace)


# --- where the time goes (--trace) ----------------------------------------------------------

# Consecutive steps of one ping, as (label, from mark, to mark); `started` and `arrived` are
# the measuring client's, the others the bot's (see bench/tracing.py).
OASIS_STEPS = [
    ("Synapse: !ping sent -> bot's sync returns", "started", "http"),
    ("nio: read + parse the sync response", "http", "parsed"),
    ("nio: update room state", "parsed", "received"),
    ("sync loop: filter events", "received", "collected"),
    ("sync loop: commit inbox + token", "collected", "stored"),
    ("dispatch: lane task starts", "stored", "handle_start"),
    ("dispatch: unit of work (handler, outbox, done)", "handle_start", "handle_end"),
    ("sender: wake, query outbox", "handle_end", "deliver_start"),
    ("sender: prepare send", "deliver_start", "send_start"),
    ("Synapse: answer sent -> member's sync returns", "send_start", "arrived"),
]
ECHO_STEPS = [
    ("Synapse: !ping sent -> bot's sync returns", "started", "http"),
    ("nio: read + parse the sync response", "http", "parsed"),
    ("nio: room state + callback until room_send", "parsed", "send_start"),
    ("Synapse: answer sent -> member's sync returns", "send_start", "arrived"),
]
SIDE_STEPS = [
    ("(answer PUT /send: request -> response)", "send_start", "send_end"),
    ("(after the send: mark sent, commit)", "send_end", "delivered"),
]


def trace_report(bot: BotProcess, steps: list[tuple[str, str, str]]) -> None:
    if bot.trace is None or not bot.trace.exists():
        print(f"{bot.name}: no trace written")
        return
    marks: dict[str, dict[str, Any]] = {}
    for line in bot.trace.read_text().splitlines():
        record = json.loads(line)
        marks[record["event_id"]] = record
    rows: list[dict[str, Any]] = []
    for sample in bot.samples:
        record = marks.get(sample.event_id)
        if record is not None:
            rows.append({**record, "started": sample.started, "arrived": sample.arrived})
    print(f"\n{bot.name}: where the time goes ({len(rows)} traced pings; ms)")
    print(f"  {'step':52} {'median':>7} {'mean':>7} {'p90':>7}")
    for label, start, end in [*steps, *SIDE_STEPS, ("total", "started", "arrived")]:
        values = [(r[end] - r[start]) * 1000 for r in rows if start in r and end in r]
        if values:
            print(
                f"  {label:52} {statistics.median(values):7.2f} {statistics.fmean(values):7.2f} "
                f"{percentile(values, 0.9):7.2f}"
            )
    spans = sorted({name for r in rows for name in r.get("spans", {})})
    for name in spans:
        values = [r["spans"][name] * 1000 for r in rows if name in r.get("spans", {})]
        print(
            f"  {'  in which ' + name:52} {statistics.median(values):7.2f} {statistics.fmean(values):7.2f} "
            f"{percentile(values, 0.9):7.2f}"
        )


# --- the run ------------------------------------------------------------------------------


async def accounts(session: aiohttp.ClientSession, base: str, args: argparse.Namespace) -> dict[str, Login]:
    roles = ("member", "bot", "echo", "other") if args.compare_with else ("member", "bot", "echo")
    if args.accounts:
        given = json.loads(await asyncio.to_thread(Path(args.accounts).read_text))
        return {
            role: await login(session, base, given[role]["user_id"], given[role]["password"])
            for role in roles
        }
    assert args.registration_shared_secret
    suffix = uuid.uuid4().hex[:6]
    made = {}
    for role in roles:
        password = uuid.uuid4().hex[:PASSWORD_BYTES]
        made[role] = await register(
            session, base, args.registration_shared_secret, f"bench_{role}_{suffix}", password
        )
    return made


async def wait_ready(member: Member, bot: BotProcess, timeout: float = 90) -> None:
    """Ping until the bot answers (it has logged in and synced): every 0.25 s, so the
    first answer seen (to any of these pings) tells when it started serving."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bot.alive()
        sample = await member.ping(bot.room_id, bot.user_id, timeout=0.25)
        if sample is not None:
            bot.start_ms = (sample.arrived - bot.spawned) * 1000
            print(f"{bot.name} answers {bot.start_ms:.0f} ms after its launch", flush=True)
            await asyncio.sleep(1)  # the answers to the other start-up pings come in
            return
    raise TimeoutError(f"{bot.name} did not answer within {timeout} s; see {bot.log}")


async def measure(args: argparse.Namespace, base: str, workdir: Path) -> dict[str, float]:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        logins = await accounts(session, base, args)
        member = (
            EncryptedMember(session, base, logins["member"], workdir / "member-keys")
            if args.encrypted
            else Member(session, base, logins["member"])
        )
        rooms = {}
        names = [("bot", "bench oasis-bot"), ("echo", "bench echo bot")]
        if args.compare_with:
            names.append(("other", "bench other oasis-bot"))
        for role, name in names:
            rooms[role] = await member.create_room(name, logins[role].user_id)
            await call(
                session,
                base,
                "POST",
                f"/_matrix/client/v3/join/{quote(rooms[role])}",
                {},
                logins[role].access_token,
            )
        await member.start()
        args.member_id = member.login.user_id
        bots: list[BotProcess] = []
        try:
            # One after the other, so that each start is measured alone.
            ours = start_oasis_bot(workdir, base, logins["bot"], rooms["bot"], args)
            bots.append(ours)
            await wait_ready(member, ours)
            echo = start_echo_bot(workdir, base, logins["echo"], rooms["echo"], args)
            bots.append(echo)
            await wait_ready(member, echo)
            if args.compare_with:
                other_name = f"oasis@{args.compare_with.name}"
                bots.append(
                    start_oasis_bot(
                        workdir,
                        base,
                        logins["other"],
                        rooms["other"],
                        args,
                        name=other_name,
                        root=args.compare_with,
                    )
                )
                await wait_ready(member, bots[-1])
            print(f"{len(bots)} bots answer; warm-up: {args.warmup} pings each", flush=True)
            await run_pings(member, bots, args.warmup, args, record=False)
            await asyncio.sleep(args.settle)
            rss = {bot.name: bot.rss_mb() for bot in bots}
            cpu = {bot.name: bot.cpu_seconds() for bot in bots}
            print(f"measuring: {args.pings} pings each, interleaved", flush=True)
            started = time.monotonic()
            load_before = os.getloadavg()[0]
            await run_pings(member, bots, args.pings, args, record=True)
            elapsed = time.monotonic() - started
            load = (load_before + os.getloadavg()[0]) / 2
            cpu = {bot.name: bot.cpu_seconds() - cpu[bot.name] for bot in bots}
            rss_after = {bot.name: bot.rss_mb() for bot in bots}
            extra: dict[str, float] = {}
            if args.idle:
                extra.update(await idle(bots, args.idle))
            if args.burst:
                extra.update(await burst(session, base, args, member, ours))
                for other in bots[2:]:  # --compare-with: the same burst, after ours
                    theirs = await burst(session, base, args, member, other)
                    extra.update(
                        {"other_" + k: v for k, v in theirs.items() if k in ("burst_answered", "burst_s")}
                    )
        finally:
            await member.stop()
            for bot in bots:
                bot.stop()
        print(f"measured in {elapsed:.0f} s; machine load average {load:.2f} on {os.cpu_count()} cores")
        if args.trace:
            trace_report(ours, OASIS_STEPS)
            trace_report(echo, ECHO_STEPS)
        result = summarize(ours, echo, rss, rss_after, cpu, bots[2:])
        return {**result, **extra, "load": round(load, 2)}


async def run_pings(
    member: Member, bots: list[BotProcess], count: int, args: argparse.Namespace, *, record: bool
) -> None:
    for i in range(count):
        order = random.sample(bots, len(bots))
        for bot in order:
            sample = await member.ping(bot.room_id, bot.user_id, timeout=args.timeout)
            if sample is None:
                bot.alive()
                bot.missed += record
            elif record:
                bot.samples.append(sample)
            await asyncio.sleep(args.gap)
        if record and (i + 1) % max(1, count // 5) == 0:
            print(f"  {i + 1}/{count}", flush=True)


BURST_MEMBERS = 5


async def burst(
    session: aiohttp.ClientSession, base: str, args: argparse.Namespace, member: Member, bot: BotProcess
) -> dict[str, float]:
    """`args.burst` commands at once from five members in the bot's room: how many were
    answered (each once), in how long, and whether each member's came back in order."""
    senders = []
    for i in range(BURST_MEMBERS):
        password = uuid.uuid4().hex[:PASSWORD_BYTES]
        name = f"bench_burst{i}_{uuid.uuid4().hex[:6]}"
        senders.append(await register(session, base, args.registration_shared_secret, name, password))
    room = quote(bot.room_id)
    for who in senders:
        await call(
            session,
            base,
            "POST",
            f"/_matrix/client/v3/rooms/{room}/invite",
            {"user_id": who.user_id},
            member.token,
        )
        await call(session, base, "POST", f"/_matrix/client/v3/join/{room}", {}, who.access_token)
    await asyncio.sleep(2)  # the bot sees them join before they speak
    answers: list[tuple[str, float]] = []  # (the command's event id, arrival), in timeline order

    def watch(room_id: str, event: dict[str, Any], arrived: float) -> None:
        target = ((event.get("content") or {}).get("m.relates_to") or {}).get("m.in_reply_to") or {}
        if room_id == bot.room_id and event.get("sender") == bot.user_id and target.get("event_id"):
            answers.append((target["event_id"], arrived))

    member.watchers.append(watch)
    sent: dict[str, list[str]] = {who.user_id: [] for who in senders}
    each = [args.burst // BURST_MEMBERS + (i < args.burst % BURST_MEMBERS) for i in range(BURST_MEMBERS)]

    async def commands(who: Login, count: int) -> None:
        for _ in range(count):
            path = f"/_matrix/client/v3/rooms/{room}/send/m.room.message/{uuid.uuid4().hex}"
            done = await call(
                session, base, "PUT", path, {"msgtype": "m.text", "body": "!ping"}, who.access_token
            )
            sent[who.user_id].append(str(done["event_id"]))

    print(f"burst: {args.burst} commands from {BURST_MEMBERS} members at once to {bot.name}", flush=True)
    cpu_before = bot.cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(commands(who, n) for who, n in zip(senders, each, strict=True)))
    ours = {event_id for ids in sent.values() for event_id in ids}
    deadline = time.perf_counter() + args.timeout * 6
    while time.perf_counter() < deadline and len({e for e, _ in answers if e in ours}) < len(ours):
        bot.alive()
        await asyncio.sleep(0.05)
    await asyncio.sleep(2)  # a double would have come by now
    member.watchers.remove(watch)
    cpu = bot.cpu_seconds() - cpu_before
    mine = [(e, t) for e, t in answers if e in ours]
    answered = {e for e, _ in mine}
    order = [e for e, _ in mine]
    in_order = all(
        [e for e in order if e in set(ids)] == [e for e in ids if e in answered] for ids in sent.values()
    )
    seconds = max((t for _, t in mine), default=started) - started
    print(
        f"burst: {len(answered)}/{len(ours)} answered in {seconds:.2f} s, "
        f"{len(mine) - len(answered)} twice, order per member kept: {in_order}; CPU {cpu:.2f} s"
    )
    return {
        "burst_answered": len(answered),
        "burst_sent": len(ours),
        "burst_s": round(seconds, 2),
        "burst_doubles": len(mine) - len(answered),
        "burst_in_order": int(in_order),
        "burst_cpu_s": round(cpu, 2),
    }


async def idle(bots: list[BotProcess], seconds: float) -> dict[str, float]:
    """Each bot's CPU time while nothing is sent for `seconds` (only its long-poll /sync)."""
    print(f"idle: {seconds:.0f} s, nothing sent", flush=True)
    before = {bot.name: bot.cpu_seconds() for bot in bots}
    await asyncio.sleep(seconds)
    used = {bot.name: bot.cpu_seconds() - before[bot.name] for bot in bots}
    for bot in bots:
        bot.alive()
        print(f"  {bot.name}: {used[bot.name] * 1000:.0f} ms of CPU in {seconds:.0f} s idle")
    names = ["idle_cpu_ms", "echo_idle_cpu_ms", "other_idle_cpu_ms"]
    return {name: round(used[bot.name] * 1000) for name, bot in zip(names, bots, strict=False)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


def summarize(
    ours: BotProcess,
    echo: BotProcess,
    rss: dict[str, float],
    rss_after: dict[str, float],
    cpu: dict[str, float],
    others: list[BotProcess],
) -> dict[str, float]:
    if not all(bot.times for bot in (ours, echo, *others)):
        raise RuntimeError("no answers measured")
    print()
    width = max([10, *(len(bot.name) for bot in others)])
    columns = ("median", "p90", "p99", "min", "mean")
    print(f"{'':{width}} " + " ".join(f"{c:>8}" for c in columns) + f" {'missed':>7} {'CPU/ping':>9}")
    for bot in (ours, echo, *others):
        ms = [t * 1000 for t in bot.times]
        cpu_ms = cpu[bot.name] * 1000 / max(1, len(ms))
        print(
            f"{bot.name:{width}} {statistics.median(ms):8.1f} {percentile(ms, 0.9):8.1f} "
            f"{percentile(ms, 0.99):8.1f} {min(ms):8.1f} {statistics.fmean(ms):8.1f} "
            f"{bot.missed:7d} {cpu_ms:7.1f}ms"
        )
    print("(milliseconds; CPU/ping: the bot process's user+system CPU time per answered ping)")
    print(
        f"idle resident memory: oasis-bot {rss[ours.name]:.1f} MB, echo bot {rss[echo.name]:.1f} MB "
        f"(after the run: {rss_after[ours.name]:.1f} MB and {rss_after[echo.name]:.1f} MB)"
    )
    bot_median = statistics.median(ours.times) * 1000
    echo_median = statistics.median(echo.times) * 1000
    ratio = bot_median / echo_median
    p90_ratio = percentile(ours.times, 0.9) / percentile(echo.times, 0.9)
    print(f"ratio of medians: {ratio:.2f} (target ≤ 1.05), of p90s: {p90_ratio:.2f} (target ≤ 1.10)")
    print(f"start to the first answer: oasis-bot {ours.start_ms:.0f} ms, echo bot {echo.start_ms:.0f} ms")
    extra: dict[str, float] = {}
    for bot in others:
        median = statistics.median(bot.times) * 1000
        print(f"{bot.name}: ratio {median / echo_median:.2f}, idle resident memory {rss[bot.name]:.1f} MB")
        extra = {"other_ratio": round(median / echo_median, 3), "other_median_ms": round(median, 1)}
    return {
        "ratio": round(ratio, 3),
        "bot_median_ms": round(bot_median, 1),
        "echo_median_ms": round(echo_median, 1),
        "bot_p90_ratio": round(p90_ratio, 3),
        "start_ms": round(ours.start_ms),
        "echo_start_ms": round(echo.start_ms),
        "bot_p90_ms": round(percentile(ours.times, 0.9) * 1000, 1),
        "echo_p90_ms": round(percentile(echo.times, 0.9) * 1000, 1),
        "bot_rss_mb": round(rss[ours.name], 1),
        "echo_rss_mb": round(rss[echo.name], 1),
        "bot_cpu_ms_per_ping": round(cpu[ours.name] * 1000 / len(ours.times), 2),
        "echo_cpu_ms_per_ping": round(cpu[echo.name] * 1000 / len(echo.times), 2),
        "pings": len(ours.times),
        "missed": sum(bot.missed for bot in (ours, echo, *others)),
        **extra,
    }


async def run(args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="oasis-bench-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.homeserver:
            return await measure(args, args.homeserver.rstrip("/"), workdir)
        hs = EmbeddedSynapse(workdir / "synapse")
        print("starting an embedded Synapse…", flush=True)
        await hs.start()
        try:
            args.registration_shared_secret = hs.shared_secret
            return await measure(args, hs.url, workdir)
        finally:
            print(f"Synapse resident memory: {hs.rss_mb() or 0:.0f} MB")
            await hs.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="!ping round trip: oasis-bot against a bare matrix-nio echo bot, interleaved."
    )
    parser.add_argument("--homeserver", help="URL of the homeserver (default: start an embedded Synapse)")
    parser.add_argument("--registration-shared-secret", help="to register the three accounts on --homeserver")
    parser.add_argument("--accounts", help="JSON file with existing accounts: member, bot, echo (other)")
    parser.add_argument("--pings", type=int, default=300, help="measured pings per bot (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured pings per bot first (default 30)")
    parser.add_argument("--gap", type=float, default=0.1, help="pause after each answer, s (default 0.1)")
    parser.add_argument("--settle", type=float, default=2.0, help="idle time before reading memory, seconds")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a ping counts as missed")
    parser.add_argument("--bot-database", help="oasis-bot's database URL (default: SQLite in the temp dir)")
    parser.add_argument("--bot-log-level", default="INFO", help="oasis-bot's log level (default INFO)")
    parser.add_argument("--profile", help="run oasis-bot under cProfile, writing the stats to this file")
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="also measure the oasis-bot checkout in this folder (e.g. an older commit), in a third room",
    )
    parser.add_argument(
        "--echo-rich",
        action="store_true",
        help="the echo bot answers with oasis-bot's message shape (reply, HTML, m.mentions)",
    )
    parser.add_argument(
        "--trace", action="store_true", help="run both bots under bench/tracing.py: time of each step"
    )
    parser.add_argument(
        "--encrypted", action="store_true", help="end-to-end encrypted rooms; the echo bot encrypts too"
    )
    parser.add_argument(
        "--first-start",
        action="store_true",
        help="oasis-bot creates its database (default: migrated beforehand)",
    )
    parser.add_argument("--burst", type=int, default=0, help="then N commands at once from five members")
    parser.add_argument(
        "--idle", type=float, default=0, help="then both bots' CPU over this many idle seconds"
    )
    parser.add_argument("--keep", help="keep the working files (logs, database, Synapse) in this folder")
    parser.add_argument("--seed", type=int, help="random seed of the ping order")
    args = parser.parse_args(argv)
    if args.homeserver and not (args.registration_shared_secret or args.accounts):
        parser.error("--homeserver needs --registration-shared-secret or --accounts")
    if args.burst and (args.encrypted or args.accounts):
        parser.error("--burst: unencrypted rooms, and accounts it can register")
    if args.profile:
        args.profile = str(Path(args.profile).absolute())
    if args.compare_with:
        args.compare_with = args.compare_with.absolute()
        if not (args.compare_with / "bot" / "__main__.py").exists():
            parser.error(f"--compare-with: no oasis-bot checkout in {args.compare_with}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    random.seed(args.seed)
    result = asyncio.run(run(args))
    print("RESULT " + " ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
