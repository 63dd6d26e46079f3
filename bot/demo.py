"""`oasis-bot demo`: a local homeserver, the demo's accounts, the network's room and the
bot, with nothing to configure — and a tour (`bot.demo_tour`): the animator is admin, the
digest goes to the room, a local feed fills the veille, sample profiles, signals, a
webinar and a pulse. Run twice, it reuses what it made (folder `oasis-demo/`)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import signal
import urllib.error
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.config import parse_config
from bot.demo_tour import FeedServer, run_tour
from bot.homeserver import EmbeddedSynapse, _http_json, synapse_available
from bot.i18n import Translator, default_catalog
from bot.logs import setup_logging

log = logging.getLogger(__name__)

ROOM_NAME = "OASIS — réseau"
ROOM_TOPIC = "Réseau des praticiens de l'innovation publique en Occitanie"


@dataclass
class DemoAccount:
    username: str
    password: str
    user_id: str = ""
    access_token: str = ""
    display_name: str = ""


@dataclass
class DemoState:
    bot: DemoAccount
    animator: DemoAccount
    member: DemoAccount
    room_id: str = ""
    # The tour's samples were made (once, on the first run); newcomers made by
    # `console --as nouveau` (each run a new person, so the welcome shows every time).
    tour: bool = False
    newcomers: int = 0
    # The local feed keeps its port between runs: the veille knows a feed by its address.
    feed_port: int = 0

    @classmethod
    def load(cls, path: Path) -> DemoState | None:
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        return cls(
            bot=DemoAccount(**raw["bot"]),
            animator=DemoAccount(**raw["animator"]),
            member=DemoAccount(**raw["member"]),
            room_id=raw.get("room_id", ""),
            tour=raw.get("tour", False),
            newcomers=raw.get("newcomers", 0),
            feed_port=raw.get("feed_port", 0),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False))
        path.chmod(0o600)


def _api(hs: EmbeddedSynapse, method: str, path: str, token: str, body: Any = None) -> Any:
    return _http_json(method, hs.url + path, body, token)


def _ensure_accounts(hs: EmbeddedSynapse, state: DemoState | None) -> DemoState:
    if state is None:
        state = DemoState(
            bot=DemoAccount("oasis", secrets.token_urlsafe(12), display_name="OASIS"),
            animator=DemoAccount("camille", secrets.token_urlsafe(12), display_name="Camille (animatrice)"),
            member=DemoAccount("dominique", secrets.token_urlsafe(12), display_name="Dominique"),
        )
    for account in (state.bot, state.animator, state.member):
        if account.access_token and _token_works(hs, account.access_token):
            continue
        try:
            created = hs.register(account.username, account.password, displayname=account.display_name)
        except urllib.error.HTTPError as err:
            if err.code != 400:  # 400: the name is taken (a demo folder reused): log in
                raise
            created = hs.login(account.username, account.password)
        account.user_id, account.access_token = created.user_id, created.access_token
    return state


def _token_works(hs: EmbeddedSynapse, token: str) -> bool:
    try:
        _api(hs, "GET", "/_matrix/client/v3/account/whoami", token)
    except urllib.error.HTTPError:
        return False
    return True


def _ensure_room(hs: EmbeddedSynapse, state: DemoState) -> None:
    anim = state.animator.access_token
    if not state.room_id:
        created = _api(
            hs,
            "POST",
            "/_matrix/client/v3/createRoom",
            anim,
            {
                "name": ROOM_NAME,
                "topic": ROOM_TOPIC,
                "preset": "private_chat",
                "invite": [state.bot.user_id, state.member.user_id],
            },
        )
        state.room_id = created["room_id"]
    room = quote(state.room_id)
    # The member accepts the invitation (the bot joins by itself when it starts).
    try:
        _api(hs, "POST", f"/_matrix/client/v3/rooms/{room}/join", state.member.access_token, {})
    except Exception as exc:  # already joined, or invited again below
        log.debug("member join: %s", exc)


def demo_config(data_dir: Path, hs: EmbeddedSynapse, state: DemoState) -> dict[str, Any]:
    return {
        "matrix": {"homeserver": hs.url, "user_id": state.bot.user_id, "password": state.bot.password},
        # The network is the demo's one room (created before the bot starts).
        "bot": {"network_name": "OASIS", "animators": [state.animator.user_id], "rooms": [state.room_id]},
        "database": {"url": f"sqlite+aiosqlite:///{data_dir.absolute() / 'bot.db'}"},
    }


def tour_config(values: dict[str, Any], state: DemoState, feed_url: str = "") -> dict[str, Any]:
    """`values` with what the tour needs: the animator is admin too (every command can be
    tried), a newcomer is welcomed 3 s after joining (20 s in a real network, one message
    for a wave of arrivals), the digest goes to the demo's room, the local feed."""
    values["bot"]["admins"] = [state.animator.user_id]
    values["accueil"] = {"batch_seconds": 3}
    if state.room_id:
        values["digest"] = {"rooms": [state.room_id]}
    if feed_url:
        values["veille"] = {"sources": [{"name": "Actualités climat (démonstration)", "url": feed_url}]}
    return values


def config_toml(values: Mapping[str, Mapping[str, Any]]) -> str:
    """`values` (sections of strings, numbers, booleans, lists and tables) as a TOML
    file: the demo's configuration, written beside its data for the admin commands."""
    lines: list[str] = []
    for section, table in values.items():
        lines.append(f"[{section}]")
        for key, value in table.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes (\", \\, \n, \uXXXX) are TOML's basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):  # an inline table (the veille's sources)
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


async def run_demo(data_dir: Path, lang: str = "fr", *, examples: bool = True) -> int:
    setup_logging("INFO")
    tr = default_catalog().translator(lang)
    if not synapse_available():
        print(tr.t("demo.synapse_missing"))
        return 1
    data_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, at start)
    hs = EmbeddedSynapse(data_dir / "homeserver")
    await hs.start()
    from bot.app import App

    app: App | None = None
    feed = FeedServer()
    try:
        state_path = data_dir / "demo.json"
        state = await asyncio.to_thread(_ensure_accounts, hs, DemoState.load(state_path))
        await asyncio.to_thread(_ensure_room, hs, state)
        await feed.start(state.feed_port)
        state.feed_port = feed.port
        state.save(state_path)
        values = tour_config(demo_config(data_dir, hs, state), state, feed.url)
        config = parse_config(values)
        # The same configuration as a file (the homeserver's port may change between
        # runs): `import-contacts`, `export-directory`, `check-config` take it.
        config_path = data_dir / "config.toml"
        config_path.touch(0o600)
        config_path.chmod(0o600)  # before it holds the bot's password
        config_path.write_text(config_toml(values))
        app = App(config, settle_memory=True)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, app.request_stop)
        runner = asyncio.create_task(app.run())
        started = asyncio.create_task(app.started.wait())
        await asyncio.wait([runner, started], return_when=asyncio.FIRST_COMPLETED)
        if app.started.is_set():
            app.scheduler.run_soon("veille.")  # the feed's items, now rather than within a minute
            if examples and not state.tour:
                print(tr.t("demo.preparing"), flush=True)
                await run_tour(
                    hs.url,
                    {
                        "member": (state.member.user_id, state.member.access_token),
                        "animator": (state.animator.user_id, state.animator.access_token),
                    },
                    state.room_id,
                    state.bot.user_id,
                )
            state.tour = True  # once: a demo started without examples stays without
            state.save(state_path)
            _print_welcome(tr, hs, state, config_path)
        await runner
    finally:
        if app is not None:
            await app.stop()
        await feed.stop()
        await hs.stop()
        print(tr.t("demo.stopped"))
    return 0


def _print_welcome(tr: Translator, hs: EmbeddedSynapse, state: DemoState, config_path: Path) -> None:
    banner = tr.t(
        "demo.banner",
        url=hs.url,
        room=ROOM_NAME,
        room_id=state.room_id,
        member=state.member.username,
        member_password=state.member.password,
        animator=state.animator.username,
        animator_password=state.animator.password,
        config=config_path,
    )
    print("\n" + banner, flush=True)
