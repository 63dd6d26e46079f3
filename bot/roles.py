"""Who may do what: the roles a command can require."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    # In none of the network's rooms (met in a direct chat). A command declared with
    # `role=Role.OUTSIDER` is open to them too: help, language, their own data.
    OUTSIDER = -1
    MEMBER = 0  # in a room of the network (`[bot] rooms`)
    ANIMATOR = 1  # power level ≥ threshold in a network room (or listed in config)
    ADMIN = 2  # listed in config

    @property
    def key(self) -> str:
        return f"roles.{self.name.lower()}"
