"""`oasis-bot console`: a terminal chat with the demo bot, as the demo member, the animator,
or a newcomer (`--as nouveau`: a new person each time, who joins the room and so meets the
welcome and the onboarding). What you type goes to the room (or to a direct chat with
`--dm`; a newcomer's answers go to the direct chat the bot opens); what the bot answers,
anywhere, is printed readably.

Scriptable: at the end of its input (`printf '!ping\n' | oasis-bot console`) it waits for
the bot's answers — until the bot has written after the last line and then kept quiet for
a moment, or `--wait` seconds at most — before quitting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    ReactionEvent,
    RoomMessage,
    SyncResponse,
    UnknownEvent,
)

from bot.demo import DemoAccount, DemoState
from bot.homeserver import EmbeddedSynapse, _http_json
from bot.i18n import Translator, default_catalog

NEWCOMER = ("nouveau", "nouvelle", "newcomer")
QUIET = 1.5  # seconds without a word from the bot: its answer is complete


def _prompt() -> str:
    return "> " if sys.stdin.isatty() else ""  # no prompts in a script's output


class _Conversation:
    """Where typed lines go, and what the bot said since the last one."""

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self.sent = 0
        self.last_answer = 0.0  # monotonic time of the bot's latest message
        self.answered_last = True
        self.last_event_id = ""  # the latest line sent: in a room, the bot's answer replies to it
        self.unrelated = 0  # the bot's messages that reply to nothing (a direct chat's answers)
        self.follow_direct = False  # a newcomer answers the onboarding in the direct chat
        # Joining a room brings its recent history: only what is said from now on shows.
        self.since_ms = int(time.time() * 1000)


async def run_console(
    data_dir: Path, who: str, *, direct: bool = False, lang: str = "fr", wait: float = 30
) -> int:
    tr = default_catalog().translator(lang)
    state_path = data_dir / "demo.json"
    state = DemoState.load(state_path)
    if state is None:
        print(tr.t("demo.not_found", dir=data_dir))
        return 1
    logging.getLogger("nio").setLevel(logging.CRITICAL)
    config_url = _homeserver_url(data_dir)
    if who in NEWCOMER:
        try:
            account = await asyncio.to_thread(_new_newcomer, data_dir, config_url, state)
        except OSError:
            print(tr.t("demo.unreachable", url=config_url))
            return 1
        state.save(state_path)
    else:
        account = state.animator if who in ("animator", "animateur") else state.member
    # A client that encrypts, as Element does: the direct chats the bot opens are encrypted.
    keys = data_dir / "console-keys" / account.user_id.split(":")[0].lstrip("@")
    keys.mkdir(parents=True, exist_ok=True)
    client = AsyncClient(
        config_url,
        account.user_id,
        store_path=str(keys),
        config=AsyncClientConfig(max_timeouts=2, request_timeout=40, encryption_enabled=True),
    )
    client.access_token = account.access_token
    try:
        try:
            me = await client.whoami()  # the token's device, whose keys are in `keys`
            client.restore_login(
                account.user_id, str(getattr(me, "device_id", "") or ""), account.access_token
            )
            first = await client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 0}}})
        except Exception:
            first = None
        if not isinstance(first, SyncResponse):
            print(tr.t("demo.unreachable", url=config_url))
            return 1
        room_id = await _direct_room(client, state) if direct else state.room_id
        talk = _Conversation(room_id)
        talk.follow_direct = who in NEWCOMER
        print(tr.t("demo.connected", name=account.display_name, user_id=account.user_id))
        print(tr.t("demo.typing_hint") + "\n")
        client.add_event_callback(_printer(tr, client, state, talk), RoomMessage)
        client.add_event_callback(_reactions(client, state, talk), ReactionEvent)
        client.add_event_callback(_polls(client, state, talk), UnknownEvent)
        client.add_event_callback(_auto_join(tr, client, state, talk), InviteMemberEvent)
        syncer = asyncio.create_task(client.sync_forever(timeout=30000, since=first.next_batch))
        try:
            if who in NEWCOMER:
                await client.join(state.room_id)  # the welcome, then the onboarding
                talk.answered_last = False
            ended = await _read_loop(client, talk)
            if ended:
                await _wait_for_answers(talk, wait)
                print()
        finally:
            syncer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await syncer
    finally:
        await client.close()
    return 0


def _homeserver_url(data_dir: Path) -> str:
    import yaml

    config = yaml.safe_load((data_dir / "homeserver" / "homeserver.yaml").read_text())
    return f"http://127.0.0.1:{config['listeners'][0]['port']}"


async def _direct_room(client: AsyncClient, state: DemoState) -> str:
    for room_id, room in client.rooms.items():
        if room.member_count <= 2 and state.bot.user_id in room.users and room_id != state.room_id:
            return str(room_id)
    resp = await client.room_create(is_direct=True, invite=[state.bot.user_id])
    room_id = str(resp.room_id)
    for _ in range(50):  # wait until the bot has joined, so the first message is seen
        await client.sync(timeout=200)
        room = client.rooms.get(room_id)
        if room and state.bot.user_id in room.users:
            break
    return room_id


def _new_newcomer(data_dir: Path, url: str, state: DemoState) -> DemoAccount:
    """A new account, invited into the room by the animator (the room is invite-only)."""
    state.newcomers += 1
    n = state.newcomers
    name = "Alex Nouveau" if n == 1 else f"Alex Nouveau {n}"
    hs = EmbeddedSynapse(data_dir / "homeserver", port=int(url.rsplit(":", 1)[1]))
    made = hs.register(f"nouveau{n}", secrets.token_urlsafe(12), displayname=name)
    _http_json(
        "POST",
        f"{url}/_matrix/client/v3/rooms/{quote(state.room_id)}/invite",
        {"user_id": made.user_id},
        state.animator.access_token,
    )
    return DemoAccount(f"nouveau{n}", made.password, made.user_id, made.access_token, name)


def _printer(tr: Translator, client: AsyncClient, state: DemoState, talk: _Conversation) -> Any:
    async def show(room: MatrixRoom, event: RoomMessage) -> None:
        if event.sender == client.user_id or event.server_timestamp < talk.since_ms:
            return
        if event.sender == state.bot.user_id:
            talk.last_answer = time.monotonic()
            relates = event.source.get("content", {}).get("m.relates_to") or {}
            reply_to = (relates.get("m.in_reply_to") or {}).get("event_id")
            if reply_to is None and room.room_id == talk.room_id:
                talk.unrelated += 1
            # Commands are answered in order: the last line's answer is the last one due.
            if reply_to == talk.last_event_id or (reply_to is None and talk.unrelated >= talk.sent):
                talk.answered_last = True
        where = "" if room.room_id == talk.room_id else f"[{room.display_name or tr.t('demo.private_room')}] "
        name = room.user_name(event.sender) or event.sender
        body = getattr(event, "body", "") or event.source.get("content", {}).get("body", "")
        indent = "\n    ".join(str(body).splitlines())
        print(f"\n{where}{name} › {indent}\n{_prompt()}", end="", flush=True)

    return show


def _reactions(client: AsyncClient, state: DemoState, talk: _Conversation) -> Any:
    """The bot's reactions to what you typed (✅ for a vote) are answers too."""

    async def show(room: MatrixRoom, event: ReactionEvent) -> None:
        if event.sender != state.bot.user_id or event.server_timestamp < talk.since_ms:
            return
        talk.last_answer = time.monotonic()
        if event.reacts_to == talk.last_event_id:
            talk.answered_last = True
        name = room.user_name(event.sender) or event.sender
        print(f"\n{name} › {event.key}\n{_prompt()}", end="", flush=True)

    return show


def _polls(client: AsyncClient, state: DemoState, talk: _Conversation) -> Any:
    """A native poll (`!sondage`, `!pouls`), shown by its text fallback."""

    async def show(room: MatrixRoom, event: UnknownEvent) -> None:
        if event.sender != state.bot.user_id or event.server_timestamp < talk.since_ms:
            return
        if not event.type.endswith("poll.start"):
            return
        talk.last_answer = time.monotonic()
        content = event.source.get("content", {})
        if room.room_id == talk.room_id:  # a poll is the whole answer to !sondage, !pouls
            talk.answered_last = True
        text = str(content.get("org.matrix.msc1767.text") or content.get("body") or "")
        indent = "\n    ".join(text.splitlines())
        name = room.user_name(event.sender) or event.sender
        print(f"\n{name} › {indent}\n{_prompt()}", end="", flush=True)

    return show


def _auto_join(tr: Translator, client: AsyncClient, state: DemoState, talk: _Conversation) -> Any:
    async def join(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == client.user_id and event.sender == state.bot.user_id:
            if event.membership != "invite" or room.room_id in client.rooms:
                return
            await client.join(room.room_id)
            if talk.follow_direct:
                talk.room_id = room.room_id
                talk.follow_direct = False
                talk.answered_last = False  # the onboarding's first question is coming
                talk.unrelated = talk.sent = 0
                print("\n" + tr.t("demo.now_direct") + "\n" + _prompt(), end="", flush=True)

    return join


async def _read_loop(client: AsyncClient, talk: _Conversation) -> bool:
    """True at the end of input, False on /quitter."""
    while True:
        print(_prompt(), end="", flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return True
        text = line.strip()
        if text in ("/quitter", "/quit", "/exit"):
            return False
        if not text:
            continue
        if talk.follow_direct or (talk.sent == 0 and not talk.answered_last):
            # A newcomer's first lines answer the onboarding: typed ahead (a script),
            # they wait for its first question.
            await _wait_for_answers(talk, 30)
        talk.answered_last = False
        talk.sent += 1
        sent = await client.room_send(
            talk.room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": text, "m.mentions": {}},
            ignore_unverified_devices=True,
        )
        talk.last_event_id = getattr(sent, "event_id", "")


async def _wait_for_answers(talk: _Conversation, wait: float) -> None:
    """Until the bot has written after the last line and then kept quiet for `QUIET`
    seconds, or `wait` seconds at most."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        done = talk.answered_last and not talk.follow_direct
        if done and time.monotonic() - talk.last_answer >= QUIET:
            break
        await asyncio.sleep(0.1)
    print()
