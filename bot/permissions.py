"""Roles from power levels, kept current from room state.

nio's cached power levels can be stale (it merges the users map instead of replacing it),
so we keep our own copy of each room's latest `m.room.power_levels` content, updated by
the sync loop and fetched from the homeserver on a miss. In room version 12 the room's
creators outrank every power level and are not listed: we treat them as above everyone.

Only the network's rooms count (`bot.network`): a moderator of a room outside it is no
animator anywhere, and someone in none of its rooms is an outsider in a direct chat."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from bot.config import Config
from bot.network import Network
from bot.roles import Role

log = logging.getLogger(__name__)

StateFetcher = Callable[[str, str, str], Awaitable[dict[str, Any] | None]]
CREATOR_LEVEL = math.inf


def _creators_outrank(room_version: str) -> bool:
    try:
        return int(room_version) >= 12
    except ValueError:
        return "hydra" in room_version  # the pre-release name of v12


class Permissions:
    def __init__(self, config: Config, fetch_state: StateFetcher, network: Network) -> None:
        self.config = config
        self._fetch = fetch_state
        self.network = network
        self._power: dict[str, dict[str, Any]] = {}
        self._creators: dict[str, set[str]] = {}

    def observe(self, room_id: str, event: dict[str, Any]) -> None:
        """Feed a state event seen in sync (timeline or state section)."""
        etype = event.get("type")
        if event.get("state_key") != "":
            return
        content = event.get("content") or {}
        if etype == "m.room.power_levels":
            self._power[room_id] = content
        elif etype == "m.room.create":
            self._creators[room_id] = self._creators_from(event)

    def forget(self, room_id: str) -> None:
        self._power.pop(room_id, None)
        self._creators.pop(room_id, None)

    @staticmethod
    def _creators_from(create_event: dict[str, Any]) -> set[str]:
        content = create_event.get("content") or {}
        if not _creators_outrank(str(content.get("room_version", "1"))):
            return set()
        creators = {create_event.get("sender", "")}
        creators.update(content.get("additional_creators") or [])
        return {c for c in creators if c}

    async def _ensure(self, room_id: str) -> None:
        if room_id not in self._power:
            content = await self._fetch(room_id, "m.room.power_levels", "")
            self._power[room_id] = content or {}
        if room_id not in self._creators:
            create = await self._fetch(room_id, "m.room.create", "")
            # The state endpoint returns content only; the creator is `creator` in old
            # versions and the sender in v12 (we ask nio for the full event below).
            if create is not None and "sender" in create:
                self._creators[room_id] = self._creators_from(create)
            else:
                self._creators[room_id] = set()

    async def level(self, room_id: str, user_id: str) -> float:
        await self._ensure(room_id)
        if user_id in self._creators.get(room_id, set()):
            return CREATOR_LEVEL
        content = self._power.get(room_id, {})
        users = content.get("users") or {}
        if user_id in users:
            return float(users[user_id])
        return float(content.get("users_default", 0))

    async def role_in_room(self, user_id: str, room_id: str) -> Role:
        """The role that power levels (or the config's lists) give in one room; outside
        the network, only the config's lists count."""
        if user_id in self.config.bot.admins:
            return Role.ADMIN
        if user_id in self.config.bot.animators:
            return Role.ANIMATOR
        if not self.network.contains(room_id):
            return Role.OUTSIDER
        try:
            level = await self.level(room_id, user_id)
        except Exception:  # the homeserver is unreachable: fail closed, but say why in logs
            log.warning("power levels of %s unavailable; %s treated as member", room_id, user_id)
            return Role.MEMBER
        return Role.ANIMATOR if level >= self.config.bot.animator_power_level else Role.MEMBER

    async def role_of(self, user_id: str, room_id: str, is_direct: bool) -> Role:
        """In a room: the role there (none outside the network). In a direct chat: the
        highest role the person has in the network's rooms they are in (an animator can
        manage from their DM); in none of them, an outsider."""
        if not is_direct:
            return await self.role_in_room(user_id, room_id)
        if user_id in self.config.bot.admins:
            return Role.ADMIN
        if user_id in self.config.bot.animators:
            return Role.ANIMATOR
        best = Role.OUTSIDER
        for room in self.network.rooms_of(user_id):
            best = max(best, await self.role_in_room(user_id, room))
            if best >= Role.ANIMATOR:
                break
        return best
