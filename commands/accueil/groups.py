"""Which group of rooms a room belongs to (a member is welcomed once per group), and
whether a configured list names a room: pure functions over room IDs and aliases."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    """A group of rooms in which a member is welcomed once: `key` names it in the
    database; `rooms` are the room IDs known to belong to it."""

    key: str
    rooms: frozenset[str]


def matches(entry: str, room_id: str, aliases: Iterable[str]) -> bool:
    """A configured entry (a room ID « !… » or an alias « #…:server ») names this room."""
    entry = entry.strip()
    return entry == room_id or (entry.startswith("#") and entry in set(aliases))


def group_of(
    room_id: str,
    aliases: Iterable[str],
    groups: Sequence[Sequence[str]],
    known_rooms: Mapping[str, Sequence[str]] | None = None,
    spaces: Mapping[str, Collection[str]] | None = None,
) -> Group:
    """The room's group: the first configured group that names it (its key is the group's
    first entry, so reordering the list or adding rooms to it welcomes nobody twice), or
    the room alone. `known_rooms` (room ID → its aliases) fills in the IDs of the group's
    rooms configured by alias. `spaces` (space ID → the rooms it lists, for the spaces the
    bot is in): an entry naming a space stands for its rooms, as they are now."""
    own = list(aliases)
    known = known_rooms or {}
    for entries in groups:
        named = {e.strip() for e in entries if e.strip().startswith("!")}
        named |= {
            other
            for other, other_aliases in known.items()
            if any(matches(e, other, other_aliases) for e in entries)
        }
        in_spaces = {r for space, children in (spaces or {}).items() if space in named for r in children}
        if any(matches(e, room_id, own) for e in entries) or room_id in in_spaces:
            rooms = ({room_id} | named | in_spaces) - set(spaces or {})
            return Group(key="group:" + entries[0].strip(), rooms=frozenset(rooms))
    return Group(key=room_id, rooms=frozenset({room_id}))


def room_listed(room_id: str, aliases: Iterable[str], entries: Sequence[str]) -> bool:
    own = list(aliases)
    return any(matches(e, room_id, own) for e in entries)
