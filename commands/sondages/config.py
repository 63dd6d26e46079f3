"""The `[sondages]` section."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from bot.config import Section, room_ids
from bot.dates import Delay
from bot.roles import Role

ROLES = {"membre": Role.MEMBER, "animateur": Role.ANIMATOR, "admin": Role.ADMIN}


class SondagesConfig(Section):
    # Who may start a survey or a pulse (!sondage, !pouls): "membre", "animateur" or "admin".
    creators: Literal["membre", "animateur", "admin"] = "animateur"
    # The governance's room(s) (room ids): `--pour gouvernance` counts only their members.
    governance_rooms: list[str] = Field(default_factory=list)
    # An anonymous survey's totals are shown only from this many answers on (k).
    threshold: int = Field(default=5, ge=1, le=1000)
    # How long a survey stays open without --fin (« 7j », « 2j », « 12h »).
    duration: Delay = timedelta(days=7)
    # How long at most (a --fin further away is refused).
    max_duration: Delay = timedelta(days=366)
    # One reminder in a direct chat, before the end, to eligible members who have not
    # answered (those who said !rappels non are never reminded).
    reminder: bool = True
    # How long before the end; a survey shorter than that reminds half-way.
    remind_before: Delay = timedelta(days=1)
    # The pulse question (!pouls) on a 1–5 scale, and the labels of its five answers.
    # Empty: the catalog's (« Le réseau vous a-t-il été utile ce mois-ci ? »).
    pulse_question: str = ""
    pulse_labels: list[str] = Field(default_factory=list)
    # The recommendation question (!pouls nps), answered 0 to 10. Empty: the catalog's.
    nps_question: str = ""
    # How long a recurring pulse stays open without --duree.
    pulse_duration: Delay = timedelta(days=7)

    @field_validator("governance_rooms")
    @classmethod
    def _rooms(cls, v: list[str]) -> list[str]:
        return room_ids(v)

    @field_validator("pulse_labels")
    @classmethod
    def _labels(cls, v: list[str]) -> list[str]:
        if v and len(v) != 5:
            raise PydanticCustomError("pulse_labels", "five labels, or none: {value}", {"value": v})
        return v

    @property
    def creator_role(self) -> Role:
        return ROLES[self.creators]
