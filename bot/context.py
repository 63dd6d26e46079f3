"""What a handler receives (`Context`) and what it returns (`Reply`).

Handlers never touch the Matrix client: they read and write through `ctx.repos` (one unit
of work, committed by the runtime with the event marked handled) and say things through
`Reply` or `ctx.send(...)`, which queue messages in the outbox inside that same unit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable
from zoneinfo import ZoneInfo

from bot.formatting import Rich
from bot.i18n import Catalog, Translator
from bot.messages import OutgoingMessage, reaction_content
from bot.network import Network
from bot.roles import Role

if TYPE_CHECKING:
    from bot.config import Config
    from bot.registry import Command, Registry
    from bot.scheduler import Scheduler
    from storage.unit import Repos


class Reply:
    """What to say: a catalog key and its parameters, or ready rich text.

    `mentions` pings those people (the message becomes `m.text`); `in_dm` sends it to the
    member's direct chat instead of the room; `tag` records what the sent message stands
    for (reactions to it can then be traced back). Those four names are reserved; every
    other keyword is a parameter of the message."""

    __slots__ = ("in_dm", "key", "mentions", "params", "rich", "tag")

    def __init__(
        self,
        key: str | None = None,
        /,
        *,
        rich: Rich | None = None,
        mentions: tuple[str, ...] | list[str] = (),
        in_dm: bool = False,
        tag: str | None = None,
        **params: Any,
    ) -> None:
        if key is None and rich is None:
            raise ValueError("a Reply needs a catalog key or rich text")
        self.key = key
        self.params = params
        self.rich = rich
        self.mentions = tuple(mentions)
        self.in_dm = in_dm
        self.tag = tag

    def __repr__(self) -> str:
        return f"Reply({self.key or self.rich!r}, {self.params})"

    def render(self, tr: Translator) -> Rich:
        if self.rich is not None:
            return self.rich
        assert self.key is not None
        return tr.rich(self.key, **self.params)


class RoomDirectory(Protocol):
    """Read-only facts about rooms, as the bot's client knows them."""

    def display_name(self, room_id: str, user_id: str) -> str: ...

    def is_direct(self, room_id: str) -> bool: ...

    def joined_members(self, room_id: str) -> list[str]: ...

    def joined_rooms(self) -> list[str]: ...

    def room_name(self, room_id: str) -> str: ...

    def room_aliases(self, room_id: str) -> list[str]: ...

    def space_children(self, room_id: str) -> list[str] | None:
        """The rooms a space lists (`m.space.child`); None when the room is no space."""
        ...


class RoleResolver(Protocol):
    async def role_of(self, user_id: str, room_id: str, is_direct: bool) -> Role: ...


S = TypeVar("S")


@runtime_checkable
class MemberMemory(Protocol):
    """A feature's in-memory state that holds something about members: it is forgotten
    with them (`Services.forget_member`, called by `!oublier-moi`)."""

    def forget_user(self, user_id: str) -> int: ...


@dataclass
class Services:
    """Process-wide facilities shared by every context."""

    config: Config
    catalog: Catalog
    registry: Registry
    rooms: RoomDirectory
    permissions: RoleResolver
    bot_user_id: str
    scheduler: Scheduler | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(ZoneInfo("UTC")))

    @property
    def tz(self) -> ZoneInfo:
        return self.config.tz

    @property
    def network(self) -> Network:
        """The network's rooms (`[bot] rooms`, spaces expanded) as the bot sees them now."""
        return Network(self.config.bot.rooms, self.rooms)

    def now(self) -> datetime:
        return self.clock().astimezone(self.tz)

    def translator(self, locale: str | None = None) -> Translator:
        return self.catalog.translator(locale or self.config.bot.language, self.tz)

    # Each member's language, read once: asked for every event, changed almost never.
    # One bot process owns its database; `!langue` and erasure update it here.
    _locales: dict[str, str] = field(default_factory=dict, repr=False)

    async def locale_of(self, repos: Repos, user_id: str) -> str:
        cached = self._locales.get(user_id)
        if cached is None:
            cached = await repos.settings.language(user_id) or self.config.bot.language
            if len(self._locales) > 10_000:
                self._locales.clear()
            self._locales[user_id] = cached
        return cached

    # Features' in-memory state, one instance of each kind per app (`state`).
    _states: dict[type, Any] = field(default_factory=dict, repr=False)

    def state(self, kind: type[S]) -> S:
        """This app's instance of a feature's in-memory state (`kind()`, made on first use).
        State lives and dies with the app, never in a module: two bots in one process (a
        standby taking over, the tests) never share it."""
        found = self._states.get(kind)
        if found is None:
            found = self._states[kind] = kind()
        return found

    def forget_member(self, user_id: str) -> None:
        """What the app holds in memory about someone, gone with their rows: their
        language, and what every feature state that remembers members holds."""
        self.remember_locale(user_id, None)
        for state in self._states.values():
            if isinstance(state, MemberMemory):
                state.forget_user(user_id)

    def remember_locale(self, user_id: str, locale: str | None) -> None:
        """Call when someone's language changes (None: erased, read again next time)."""
        if locale is None:
            self._locales.pop(user_id, None)
        else:
            self._locales[user_id] = locale


@dataclass
class Context:
    services: Services
    repos: Repos
    sender: str
    room_id: str
    event_id: str | None
    is_direct: bool
    locale: str
    role: Role = Role.MEMBER
    command: Command | None = None
    prefix: str = "!"
    thread_root: str | None = None  # the command was typed in this thread

    # --- reading -------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def tr(self) -> Translator:
        return self.services.catalog.translator(self.locale, self.services.tz)

    def t(self, key: str, **params: Any) -> str:
        return self.tr.t(key, **params)

    def rich(self, key: str, **params: Any) -> Rich:
        return self.tr.rich(key, **params)

    def now(self) -> datetime:
        return self.services.now()

    def display_name(self, user_id: str, room_id: str | None = None) -> str:
        return self.services.rooms.display_name(room_id or self.room_id, user_id)

    async def translator_for(self, user_id: str) -> Translator:
        """Someone else's language, for a message sent to them."""
        locale = await self.services.locale_of(self.repos, user_id)
        return self.services.catalog.translator(locale, self.services.tz)

    # --- saying --------------------------------------------------------------------
    async def send(
        self,
        what: Reply | Rich,
        *,
        room_id: str | None = None,
        to_user: str | None = None,
        reply_to: str | None = None,
        thread_root: str | None = None,
        dedup_key: str | None = None,
        tag: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """Queue a message: to this room, another room, or someone's direct chat (in
        their language when it is a Reply). False when `dedup_key` was already used."""
        reply = what if isinstance(what, Reply) else Reply(rich=what)
        tr = await self.translator_for(to_user) if to_user and reply.rich is None else self.tr
        message = OutgoingMessage(
            rich=reply.render(tr),
            mentions=reply.mentions,
            notify=bool(reply.mentions),
            reply_to=reply_to,
            thread_root=thread_root,
            extra=extra or {},
        )
        row = await self.repos.outbox.enqueue(
            event_type="m.room.message",
            content=message.content(),
            room_id=None if to_user else (room_id or self.room_id),
            dm_user=to_user,
            dedup_key=dedup_key,
            tag=tag or reply.tag,
        )
        return row is not None

    async def send_event(
        self,
        event_type: str,
        content: dict[str, Any],
        *,
        room_id: str | None = None,
        to_user: str | None = None,
        dedup_key: str | None = None,
        tag: str | None = None,
    ) -> bool:
        """Queue any event (a poll, a reaction…): to this room, another room, or
        someone's direct chat. False when `dedup_key` was already used."""
        row = await self.repos.outbox.enqueue(
            event_type=event_type,
            content=content,
            room_id=None if to_user else (room_id or self.room_id),
            dm_user=to_user,
            dedup_key=dedup_key,
            tag=tag,
        )
        return row is not None

    async def react(self, event_id: str, key: str, room_id: str | None = None) -> None:
        await self.send_event("m.reaction", reaction_content(event_id, key), room_id=room_id)

    async def send_file(
        self,
        to_user: str | None,
        data: bytes,
        name: str,
        mimetype: str,
        caption: Reply | None = None,
        *,
        room_id: str | None = None,
        dedup_key: str | None = None,
        tag: str | None = None,
    ) -> None:
        """A file in someone's direct chat (e.g. their data export), or with `to_user`
        None in a room (this one by default: e.g. an event's .ics)."""
        if caption is not None:
            await self.send(caption, to_user=to_user, room_id=room_id)
        await self.repos.outbox.enqueue(
            event_type="m.room.message",
            content={"msgtype": "m.file", "body": name, "m.mentions": {}},
            room_id=None if to_user else (room_id or self.room_id),
            dm_user=to_user,
            attachment=data,
            attachment_name=name,
            attachment_mime=mimetype,
            dedup_key=dedup_key,
            tag=tag,
        )

    async def send_image(
        self,
        data: bytes,
        name: str,
        mimetype: str,
        *,
        alt: str,
        size: tuple[int, int],
        room_id: str | None = None,
        to_user: str | None = None,
        reply_to: str | None = None,
        thread_root: str | None = None,
    ) -> None:
        """An image (e.g. a chart) in a room or someone's direct chat. `alt` is its
        description: what screen readers say and clients that show no image display."""
        width, height = size
        content: dict[str, Any] = {
            "msgtype": "m.image",
            "body": alt,
            "filename": name,
            "info": {"w": width, "h": height},
            "m.mentions": {},
        }
        relation = OutgoingMessage(Rich("", ""), reply_to=reply_to, thread_root=thread_root).content()
        if "m.relates_to" in relation:
            content["m.relates_to"] = relation["m.relates_to"]
        await self.repos.outbox.enqueue(
            event_type="m.room.message",
            content=content,
            room_id=None if to_user else (room_id or self.room_id),
            dm_user=to_user,
            attachment=data,
            attachment_name=name,
            attachment_mime=mimetype,
        )

    def reply_parts(self, result: Any) -> Sequence[Reply]:
        if result is None:
            return ()
        if isinstance(result, Reply):
            return (result,)
        if isinstance(result, Rich):
            return (Reply(rich=result),)
        if isinstance(result, list | tuple):
            return [r if isinstance(r, Reply) else Reply(rich=r) for r in result]
        raise TypeError(f"handler returned {type(result).__name__}")
