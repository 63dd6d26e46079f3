"""Who may do what: the three roles a command can require."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    MEMBER = 0  # anyone in a room the bot serves
    ANIMATOR = 1  # power level ≥ threshold in the room (or listed in config)
    ADMIN = 2  # listed in config

    @property
    def key(self) -> str:
        return f"roles.{self.name.lower()}"
