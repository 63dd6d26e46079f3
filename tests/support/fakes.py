"""Handlers without a homeserver: a Context over a real database with fake room facts.

    ctx = await make_context(repos, sender="@alice:example.org", role=Role.ANIMATOR)
    reply = await search(ctx, query)           # call the handler directly
    text = render(ctx, reply)                  # what the member would read

Unit tests of handlers use this; end-to-end tests prove the same features through Synapse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.config import Config, parse_config
from bot.context import Context, Reply, Services
from bot.formatting import Rich
from bot.i18n import default_catalog
from bot.registry import REGISTRY
from bot.roles import Role
from storage.unit import Repos


@dataclass
class FakeRooms:
    names: dict[str, str] = field(default_factory=dict)  # user_id → display name
    members: dict[str, list[str]] = field(default_factory=dict)  # room_id → user ids
    direct: set[str] = field(default_factory=set)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # room_id → aliases
    room_names: dict[str, str] = field(default_factory=dict)  # room_id → name
    spaces: dict[str, list[str]] = field(default_factory=dict)  # space room_id → its rooms

    def display_name(self, room_id: str, user_id: str) -> str:
        return self.names.get(user_id, user_id.split(":", 1)[0].lstrip("@"))

    def is_direct(self, room_id: str) -> bool:
        return room_id in self.direct

    def joined_members(self, room_id: str) -> list[str]:
        return list(self.members.get(room_id, []))

    def joined_rooms(self) -> list[str]:
        return list(self.members)

    def room_name(self, room_id: str) -> str:
        return self.room_names.get(room_id, room_id)

    def room_aliases(self, room_id: str) -> list[str]:
        return list(self.aliases.get(room_id, []))

    def space_children(self, room_id: str) -> list[str] | None:
        children = self.spaces.get(room_id)
        return None if children is None else list(children)


@dataclass
class FakePermissions:
    roles: dict[str, Role] = field(default_factory=dict)

    async def role_of(self, user_id: str, room_id: str, is_direct: bool) -> Role:
        return self.roles.get(user_id, Role.MEMBER)


# The network of unit tests: the room `make_context` puts people in by default.
NETWORK_ROOM = "!room:example.org"


def test_config(**sections: dict[str, Any]) -> Config:
    raw: dict[str, Any] = {
        "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@oasis:example.org", "password": "x"},
        "bot": {"rooms": [NETWORK_ROOM]},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return parse_config(raw)


test_config.__test__ = False  # type: ignore[attr-defined]


def make_services(
    config: Config | None = None,
    *,
    rooms: FakeRooms | None = None,
    permissions: FakePermissions | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Services:
    return Services(
        config=config or test_config(),
        catalog=default_catalog(),
        registry=REGISTRY,
        rooms=rooms or FakeRooms(),
        permissions=permissions or FakePermissions(),
        bot_user_id="@oasis:example.org",
        clock=clock or (lambda: datetime.now(UTC)),
    )


async def make_context(
    repos: Repos,
    *,
    sender: str = "@alice:example.org",
    room_id: str = "!room:example.org",
    is_direct: bool = False,
    locale: str = "fr",
    role: Role = Role.MEMBER,
    services: Services | None = None,
    event_id: str | None = "$event",
) -> Context:
    return Context(
        services=services or make_services(),
        repos=repos,
        sender=sender,
        room_id=room_id,
        event_id=event_id,
        is_direct=is_direct,
        locale=locale,
        role=role,
    )


def render(ctx: Context, reply: Reply | Rich | None) -> str:
    """The plain text a member would read."""
    if reply is None:
        return ""
    if isinstance(reply, Rich):
        return reply.plain
    return reply.render(ctx.tr).plain


async def queued(repos: Repos) -> list[dict[str, Any]]:
    """Messages the handler queued in the outbox (content dicts with room/dm target)."""
    from sqlalchemy import select

    from storage.models.runtime import OutboxMessage

    rows = (await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    return [
        {
            "room_id": r.room_id,
            "dm_user": r.dm_user,
            "type": r.event_type,
            "tag": r.tag,
            "dedup_key": r.dedup_key,
            **r.content,
        }
        for r in rows
    ]
