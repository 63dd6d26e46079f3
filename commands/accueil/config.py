"""The `[accueil]` section."""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from bot.config import Section, user_ids
from bot.errors import UserError
from commands.accueil.template import check_template

ROOM_REF = re.compile(r"^(![^:\s]+(?::\S+)?|#[^:\s]+:\S+)$")


class AccueilConfig(Section):
    # Welcome newcomers at all.
    enabled: bool = True
    # Rooms where newcomers are welcomed (IDs or aliases); empty: every room the bot serves.
    rooms: list[str] = Field(default_factory=list)
    # Rooms where nobody is welcomed (an announcement room…).
    exclude_rooms: list[str] = Field(default_factory=list)
    # Groups of rooms in which a member is welcomed once (e.g. the rooms of the network's
    # space); a room in no group is its own group.
    groups: list[list[str]] = Field(default_factory=list)
    # Joins within this quiet time are welcomed together, in one message…
    batch_seconds: int = Field(default=20, ge=0, le=3600)
    # …but nobody waits longer than this after their arrival.
    batch_max_seconds: int = Field(default=120, ge=0, le=86400)
    # The welcome text (placeholders {nom}, {reseau}, {salon}); empty: the default text.
    template: str = ""
    # Offer each newcomer to create their profile step by step in a direct chat.
    dm_onboarding: bool = True
    # Where animators get a short notice per batch of arrivals (a room ID); empty: none.
    moderators_room: str = ""
    # Accounts never welcomed (other bots, bridges).
    ignore_users: list[str] = Field(default_factory=list)

    @field_validator("rooms", "exclude_rooms")
    @classmethod
    def _rooms(cls, v: list[str]) -> list[str]:
        for r in v:
            _room_ref(r)
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[list[str]]) -> list[list[str]]:
        for group in v:
            if not group:
                raise PydanticCustomError("list_type", "empty group", {})
            for r in group:
                _room_ref(r)
        return v

    @field_validator("ignore_users")
    @classmethod
    def _users(cls, v: list[str]) -> list[str]:
        return user_ids(v)

    @field_validator("moderators_room")
    @classmethod
    def _moderators(cls, v: str) -> str:
        return _room_ref(v) if v else v

    @field_validator("template")
    @classmethod
    def _template(cls, v: str) -> str:
        if v.strip():
            try:
                check_template(v)
            except UserError:
                raise PydanticCustomError(
                    "welcome_template", "bad welcome template {value}", {"value": v[:80]}
                ) from None
        return v


def _room_ref(v: str) -> str:
    if not ROOM_REF.match(v.strip()):
        raise PydanticCustomError("room_ref", "not a room id or alias: {value}", {"value": v})
    return v
