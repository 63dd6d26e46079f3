"""The `[evenements]` section: where events are announced, when reminders go out."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from bot.config import Section, config_section, room_ids
from commands.evenements.service import parse_delay


@config_section("evenements")
class EventsConfig(Section):
    # Rooms where events are announced (room ids). Empty: the room where the animator
    # typed the command.
    rooms: list[str] = Field(default_factory=list)
    # Reminders, as delays before the start: « 7j », « 1j », « 1h », « 30min », « 30s ».
    # Those more than a day ahead are a notice in the room; closer ones mention the
    # people who signed up (never the whole room). Empty: no reminder.
    rappels: list[str] = Field(default_factory=lambda: ["7j", "1j", "1h"])
    # How long an event lasts in calendars when no end was given (« 1h », « 1h30 »).
    default_duration: str = "1h"

    @field_validator("rooms")
    @classmethod
    def _rooms(cls, v: list[str]) -> list[str]:
        return room_ids(v)

    @field_validator("rappels")
    @classmethod
    def _reminders(cls, v: list[str]) -> list[str]:
        for raw in v:
            if parse_delay(raw) is None:
                raise PydanticCustomError(
                    "literal_error", "bad delay {value}", {"value": raw, "expected": "7j, 1j, 1h, 30min, 30s"}
                )
        return v

    @field_validator("default_duration")
    @classmethod
    def _duration(cls, v: str) -> str:
        if parse_delay(v) is None:
            raise PydanticCustomError(
                "literal_error", "bad duration {value}", {"value": v, "expected": "1h, 1h30"}
            )
        return v

    @property
    def offsets(self) -> list[timedelta]:
        """The reminder delays, longest first, each once."""
        found = {d for d in (parse_delay(r) for r in self.rappels) if d is not None}
        return sorted(found, reverse=True)

    @property
    def duration(self) -> timedelta:
        return parse_delay(self.default_duration) or timedelta(hours=1)
