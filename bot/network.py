"""Which rooms are the network's, and who is in it.

The network is what `[bot] rooms` names: room ids, and spaces standing for the rooms they
list (`m.space.child`, followed into sub-spaces). Only the space's own state says which
rooms belong to it: a room claiming a parent space (`m.space.parent`) does not join the
network, since anyone can write that in a room they create. A space is known once the bot
is in it. Roles come from these rooms only (`bot.permissions`); a room outside them gets
one polite answer and nothing else (`bot.dispatch`)."""

from __future__ import annotations

from typing import Protocol


class RoomFacts(Protocol):
    def is_direct(self, room_id: str) -> bool: ...

    def joined_rooms(self) -> list[str]: ...

    def joined_members(self, room_id: str) -> list[str]: ...

    def space_children(self, room_id: str) -> list[str] | None: ...


class Network:
    def __init__(self, configured: list[str], rooms: RoomFacts) -> None:
        self.configured = tuple(configured)
        self._rooms = rooms

    def _expanded(self) -> set[str]:
        """The configured rooms and, for each configured space, the rooms it lists."""
        found: set[str] = set()
        todo = list(self.configured)
        while todo:
            room = todo.pop()
            if room in found:
                continue
            found.add(room)
            todo.extend(self._rooms.space_children(room) or [])
        return found

    def contains(self, room_id: str) -> bool:
        """A room of the network (joined by the bot or not). Named, so never taken for a
        direct chat, even a small nameless room."""
        return room_id in self.configured or room_id in self._expanded()

    def rooms(self) -> list[str]:
        """The network's rooms the bot is in (the spaces themselves included: their
        members and moderators are the network's too)."""
        network = self._expanded()
        return [r for r in self._rooms.joined_rooms() if r in network]

    def rooms_of(self, user_id: str) -> list[str]:
        """The network's rooms `user_id` has joined (as far as the bot can see)."""
        return [r for r in self.rooms() if user_id in self._rooms.joined_members(r)]

    def has_member(self, user_id: str) -> bool:
        return bool(self.rooms_of(user_id))
