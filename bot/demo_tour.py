"""The demo's tour: what `oasis-bot demo` puts in place so that every feature can be tried
at once — a small news feed served on 127.0.0.1 for the veille, and sample content made
the way members make it (commands typed by the demo's accounts, each answered before the
next), so the tour goes through the real handlers and survives any change to storage.

Every sample is marked « (exemple) ». They belong to the demo's accounts: as each of them,
`!oublier-moi confirmer` erases their profile and signals; `oasis-bot demo --sans-exemples`
starts a demo folder without them."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from typing import Any

from aiohttp import web
from nio import AsyncClient, AsyncClientConfig, RoomCreateResponse, SyncResponse

log = logging.getLogger(__name__)

FEED_PATH = "/veille.xml"

# (title, path, summary, days ago): the veille's keywords (climat, sécheresse, canicule,
# inondation…) pick all but the last, as a real feed brings some noise.
FEED_ITEMS = [
    ("Sécheresse : les nappes de l'Aude au plus bas", "nappes-aude", "Les élus s'inquiètent.", 1),
    ("Canicule : Montpellier ouvre des îlots de fraîcheur", "ilots", "Douze cours d'école.", 2),
    ("Les assureurs face aux inondations sur le littoral", "assureurs", "Deux assureurs partent.", 3),
    ("Un nouveau stade à Toulouse", "stade", "Rien à voir avec le sujet.", 4),
]


def feed_xml(now: datetime, base: str = "https://exemple.fr") -> bytes:
    """An RSS document whose items are a few days old (the veille ignores old items)."""
    items = "".join(
        f"<item><title>{escape(title)}</title><link>{base}/{slug}</link><guid>{base}/{slug}</guid>"
        f"<description>{escape(summary)}</description>"
        f"<pubDate>{format_datetime(now - timedelta(days=days))}</pubDate></item>"
        for title, slug, summary, days in FEED_ITEMS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Actualités climat (démonstration)</title><link>{base}/</link>"
        f"<description>Flux d'exemple de la démonstration</description>{items}</channel></rss>"
    ).encode()


class FeedServer:
    """Serves `feed_xml` on 127.0.0.1 (a free port) while the demo runs."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{FEED_PATH}"

    async def start(self, port: int = 0) -> None:
        """On `port` when it is free, else on any free port."""

        async def feed(_: web.Request) -> web.Response:
            return web.Response(body=feed_xml(datetime.now(UTC)), content_type="application/rss+xml")

        app = web.Application()
        app.router.add_get(FEED_PATH, feed)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, "127.0.0.1", port).start()
        except OSError:
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[-1][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass(frozen=True)
class Step:
    who: str  # "member" or "animator"
    where: str  # "room" or "dm"
    text: str


_MEMBER_PROFILE = [
    "!profil structure CAF de la Haute-Garonne",
    "!profil type caf",
    "!profil fonction Chargée de mission innovation",
    "!profil territoire 31",
    "!profil competences évaluation, accès aux droits",
    "!profil presentation Profil d'exemple de la démonstration.",
    "!profil visible",
]
_ANIMATOR_PROFILE = [
    "!profil structure Région Occitanie",
    "!profil type region",
    "!profil fonction Animatrice du réseau",
    "!profil territoire region",
    "!profil competences prospective, design de services",
    "!profil presentation Profil d'exemple de la démonstration.",
    "!profil visible",
]

TOUR: list[Step] = [
    *(Step("member", "dm", text) for text in _MEMBER_PROFILE),
    *(Step("animator", "dm", text) for text in _ANIMATOR_PROFILE),
    Step(
        "member",
        "room",
        "!signal Des cours d'école transformées en îlots de fraîcheur (exemple) | "
        "https://exemple.fr/ilots | Douze écoles de Montpellier désimperméabilisées #canicule",
    ),
    Step(
        "member",
        "room",
        "!signal Les assureurs quittent le littoral (exemple) | https://exemple.fr/assureurs | "
        "Deux assureurs ne couvrent plus les communes exposées #inondation",
    ),
    Step(
        "animator",
        "room",
        "!signal Un village du Lot rationne l'eau dès avril (exemple) | https://exemple.fr/lot | "
        "Arrêté sécheresse trois mois plus tôt que d'habitude #sécheresse",
    ),
    Step("animator", "room", "!signal soutenir 1"),
    Step("animator", "room", "!signal retenir 1"),
    Step(
        "animator",
        "room",
        "!webinaire ajouter mardi prochain 14h-15h30 | S'adapter aux canicules (exemple) | "
        "https://visio.exemple.fr/oasis | Retours d'expérience de collectivités | 30 places",
    ),
    Step("animator", "room", "!pouls"),
]


class Speaker:
    """One demo account typing: each line is sent, then the bot's answer awaited."""

    def __init__(self, url: str, user_id: str, token: str, bot_id: str) -> None:
        config = AsyncClientConfig(max_timeouts=2, request_timeout=30, encryption_enabled=False)
        self.client = AsyncClient(url, user_id, config=config)
        # Not restore_login: with nio's encryption installed it wants a device id, which
        # a speaker in the demo's (unencrypted) room does not need.
        self.client.access_token = token
        self.bot_id = bot_id
        self._since: str | None = None

    async def _sync(self, timeout: int) -> SyncResponse | None:
        resp = await self.client.sync(timeout=timeout, since=self._since)
        if isinstance(resp, SyncResponse):
            self._since = resp.next_batch
            return resp
        return None

    async def direct_room(self) -> str:
        """A direct chat with the bot, once the bot is in it."""
        await self._sync(0)
        for room_id, room in self.client.rooms.items():
            if room.member_count <= 2 and self.bot_id in room.users and room.is_group is False:
                return str(room_id)
        created = await self.client.room_create(is_direct=True, invite=[self.bot_id])
        if not isinstance(created, RoomCreateResponse):
            raise RuntimeError(f"demo: no direct chat ({created})")
        room_id = str(created.room_id)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            await self._sync(500)
            room = self.client.rooms.get(room_id)
            if room is not None and self.bot_id in room.users:
                break
        return room_id

    async def say(self, room_id: str, text: str, *, wait: float = 30) -> bool:
        """Send `text`; True once the bot has written in that room after it."""
        if self._since is None:
            await self._sync(0)
        await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text, "m.mentions": {}}
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            resp = await self._sync(1000)
            joined: Any = resp.rooms.join.get(room_id) if resp is not None else None
            if joined is not None and any(e.sender == self.bot_id for e in joined.timeline.events):
                return True
        log.warning("demo: no answer to %r", text)
        return False

    async def close(self) -> None:
        await self.client.close()


async def run_tour(url: str, accounts: dict[str, tuple[str, str]], room_id: str, bot_id: str) -> int:
    """Play `TOUR` as the demo's accounts (`who` → user id, token); returns the number of
    answered steps."""
    speakers = {who: Speaker(url, uid, token, bot_id) for who, (uid, token) in accounts.items()}
    answered = 0
    try:
        rooms = {who: {"room": room_id, "dm": await s.direct_room()} for who, s in speakers.items()}
        for step in TOUR:
            if await speakers[step.who].say(rooms[step.who][step.where], step.text):
                answered += 1
            await asyncio.sleep(0)
    finally:
        for s in speakers.values():
            await s.close()
    return answered
