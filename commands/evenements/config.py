"""The `[evenements]` section: where events are announced, when reminders go out."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from bot.config import Section, config_section, room_ids
from bot.dates import Delay


@config_section("evenements")
class EventsConfig(Section):
    # Rooms where events are announced (room ids). Empty: the room where the animator
    # typed the command.
    rooms: list[str] = Field(default_factory=list)
    # Reminders, as delays before the start: « 7j », « 1j », « 1h », « 30min », « 30s ».
    # Those more than a day ahead are a notice in the room; closer ones mention the
    # people who signed up (never the whole room). Empty: no reminder.
    rappels: list[Delay] = Field(
        default_factory=lambda: [timedelta(days=7), timedelta(days=1), timedelta(hours=1)]
    )
    # How long an event lasts in calendars when no end was given (« 1h », « 1h30 »).
    default_duration: Delay = timedelta(hours=1)

    @field_validator("rooms")
    @classmethod
    def _rooms(cls, v: list[str]) -> list[str]:
        return room_ids(v)

    @property
    def offsets(self) -> list[timedelta]:
        """The reminder delays, longest first, each once."""
        return sorted(set(self.rappels), reverse=True)

    @property
    def duration(self) -> timedelta:
        return self.default_duration
