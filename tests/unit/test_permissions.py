"""Roles from power levels, config lists and room-version-12 creators, with a fake state
fetcher standing in for the homeserver."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bot.config import Config
from bot.network import Network
from bot.permissions import Permissions
from bot.roles import Role
from tests.support.fakes import FakeRooms, test_config

ROOM = "!room:example.org"
OTHER = "!other:example.org"
DM = "!dm:example.org"
ALICE = "@alice:example.org"  # room moderator (50)
BOB = "@bob:example.org"  # 49
CREATOR = "@creator:example.org"
CO_CREATOR = "@co:example.org"
NOBODY = "@nobody:example.org"


class FakeState:
    """Room state as the homeserver would answer `GET …/state/{type}/{key}`; counts calls."""

    def __init__(self) -> None:
        self.state: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    def power(self, room: str, users: dict[str, int], **extra: Any) -> None:
        self.state[(room, "m.room.power_levels")] = {"users": users, **extra}

    def create(self, room: str, version: str, sender: str = CREATOR, **content: Any) -> None:
        self.state[(room, "m.room.create")] = {
            "type": "m.room.create",
            "state_key": "",
            "sender": sender,
            "content": {"room_version": version, **content},
        }

    async def __call__(self, room_id: str, event_type: str, state_key: str) -> dict[str, Any] | None:
        self.calls.append((room_id, event_type))
        if self.fail:
            raise ConnectionError("homeserver unreachable")
        return self.state.get((room_id, event_type))


EVERYONE = [ALICE, BOB, CREATOR, CO_CREATOR, NOBODY]
OUTSIDE = "!outside:example.org"  # a room the bot is in, not the network's
SPACE = "!space:example.org"


def make(
    state: FakeState,
    *,
    network: list[str] | None = None,
    members: dict[str, list[str]] | None = None,
    spaces: dict[str, list[str]] | None = None,
    config: Config | None = None,
    **bot: Any,
) -> Permissions:
    """Everyone is in ROOM and OTHER (the network, unless `network` says otherwise) and in
    OUTSIDE; ALICE has a direct chat with the bot."""
    if config is None:
        config = test_config(bot={"rooms": [ROOM, OTHER] if network is None else network, **bot})
    if members is None:
        members = {ROOM: EVERYONE, OTHER: EVERYONE, OUTSIDE: EVERYONE, DM: [ALICE]}
    facts = FakeRooms(members=members, direct={DM}, spaces=spaces or {})
    return Permissions(config, state, Network(config.bot.rooms, facts))


@pytest.fixture
def state() -> FakeState:
    s = FakeState()
    s.power(ROOM, {ALICE: 50, BOB: 49})
    s.create(ROOM, "10")
    return s


# --- power levels -----------------------------------------------------------------


async def test_threshold_default_50(state: FakeState) -> None:
    perms = make(state)
    assert await perms.role_in_room(ALICE, ROOM) is Role.ANIMATOR
    assert await perms.role_in_room(BOB, ROOM) is Role.MEMBER
    assert await perms.role_in_room(NOBODY, ROOM) is Role.MEMBER


async def test_threshold_from_config(state: FakeState) -> None:
    perms = make(state, animator_power_level=49)
    assert await perms.role_in_room(BOB, ROOM) is Role.ANIMATOR
    perms = make(state, animator_power_level=100)
    assert await perms.role_in_room(ALICE, ROOM) is Role.MEMBER


async def test_users_default_applies_to_unlisted_people(state: FakeState) -> None:
    state.power(ROOM, {BOB: 0}, users_default=50)
    perms = make(state)
    assert await perms.level(ROOM, NOBODY) == 50
    assert await perms.role_in_room(NOBODY, ROOM) is Role.ANIMATOR
    assert await perms.role_in_room(BOB, ROOM) is Role.MEMBER  # listed lower than the default


async def test_no_power_levels_event_means_level_zero(state: FakeState) -> None:
    perms = make(state)
    assert await perms.level(OTHER, ALICE) == 0
    assert await perms.role_in_room(ALICE, OTHER) is Role.MEMBER


async def test_levels_are_cached(state: FakeState) -> None:
    perms = make(state)
    await perms.role_in_room(ALICE, ROOM)
    await perms.role_in_room(BOB, ROOM)
    await perms.role_in_room(NOBODY, ROOM)
    assert state.calls.count((ROOM, "m.room.power_levels")) == 1
    assert state.calls.count((ROOM, "m.room.create")) == 1


# --- config lists -----------------------------------------------------------------


async def test_config_admins_and_animators(state: FakeState) -> None:
    perms = make(state, admins=[NOBODY], animators=[BOB])
    assert await perms.role_in_room(NOBODY, ROOM) is Role.ADMIN
    assert await perms.role_in_room(BOB, ROOM) is Role.ANIMATOR
    assert await perms.role_in_room(NOBODY, OTHER) is Role.ADMIN  # in every room


async def test_config_lists_work_without_the_homeserver(state: FakeState) -> None:
    state.fail = True
    perms = make(state, admins=[NOBODY], animators=[BOB])
    assert await perms.role_in_room(NOBODY, ROOM) is Role.ADMIN
    assert await perms.role_in_room(BOB, ROOM) is Role.ANIMATOR


# --- creators (room version 12) ---------------------------------------------------


async def test_v12_creator_outranks_every_level(state: FakeState) -> None:
    state.create(ROOM, "12", additional_creators=[CO_CREATOR])
    state.power(ROOM, {ALICE: 100, CREATOR: 0})  # listed at 0: still above everyone
    perms = make(state, animator_power_level=100)
    assert await perms.level(ROOM, CREATOR) == math.inf
    assert await perms.level(ROOM, CO_CREATOR) == math.inf
    assert await perms.level(ROOM, CREATOR) > await perms.level(ROOM, ALICE)
    assert await perms.role_in_room(CREATOR, ROOM) is Role.ANIMATOR
    assert await perms.role_in_room(CO_CREATOR, ROOM) is Role.ANIMATOR


async def test_hydra_pre_release_name_counts_as_v12(state: FakeState) -> None:
    state.create(ROOM, "org.matrix.hydra.11")
    perms = make(state)
    assert await perms.role_in_room(CREATOR, ROOM) is Role.ANIMATOR


@pytest.mark.parametrize("version", ["1", "6", "10", "11"])
async def test_older_versions_creator_is_just_their_level(state: FakeState, version: str) -> None:
    state.create(ROOM, version, additional_creators=[CO_CREATOR])
    perms = make(state)
    assert await perms.level(ROOM, CREATOR) == 0
    assert await perms.role_in_room(CREATOR, ROOM) is Role.MEMBER
    assert await perms.role_in_room(CO_CREATOR, ROOM) is Role.MEMBER


async def test_creator_of_one_room_is_not_creator_of_another(state: FakeState) -> None:
    state.create(ROOM, "12")
    state.create(OTHER, "12", sender=ALICE)
    state.power(OTHER, {})
    perms = make(state)
    assert await perms.role_in_room(CREATOR, OTHER) is Role.MEMBER
    assert await perms.role_in_room(ALICE, OTHER) is Role.ANIMATOR


# --- kept current from sync -------------------------------------------------------


def _power_event(users: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {"type": "m.room.power_levels", "state_key": "", "content": {"users": users, **extra}}


async def test_observe_replaces_the_users_map(state: FakeState) -> None:
    perms = make(state)
    assert await perms.role_in_room(ALICE, ROOM) is Role.ANIMATOR
    # Alice is demoted: the new event no longer lists her. nio's cache would merge the
    # maps and keep her at 50; we replace.
    perms.observe(ROOM, _power_event({BOB: 50}))
    assert await perms.role_in_room(ALICE, ROOM) is Role.MEMBER
    assert await perms.role_in_room(BOB, ROOM) is Role.ANIMATOR


async def test_observe_before_any_fetch_is_used_as_is(state: FakeState) -> None:
    perms = make(state)
    perms.observe(ROOM, _power_event({NOBODY: 75}))
    assert await perms.level(ROOM, NOBODY) == 75
    assert (ROOM, "m.room.power_levels") not in state.calls


async def test_observe_create_event_from_sync(state: FakeState) -> None:
    perms = make(state)
    perms.observe(
        OTHER,
        {
            "type": "m.room.create",
            "state_key": "",
            "sender": NOBODY,
            "content": {"room_version": "12", "additional_creators": [BOB]},
        },
    )
    assert await perms.role_in_room(NOBODY, OTHER) is Role.ANIMATOR
    assert await perms.role_in_room(BOB, OTHER) is Role.ANIMATOR
    assert (OTHER, "m.room.create") not in state.calls


async def test_observe_ignores_other_events_and_state_keys(state: FakeState) -> None:
    perms = make(state)
    await perms.role_in_room(ALICE, ROOM)
    perms.observe(ROOM, {**_power_event({}), "state_key": "x"})
    perms.observe(ROOM, {"type": "m.room.member", "state_key": ALICE, "content": {"membership": "join"}})
    perms.observe(ROOM, {"type": "m.room.power_levels", "content": {"users": {}}})  # no state_key
    assert await perms.role_in_room(ALICE, ROOM) is Role.ANIMATOR


async def test_forget_refetches(state: FakeState) -> None:
    perms = make(state)
    await perms.role_in_room(ALICE, ROOM)
    state.power(ROOM, {})
    perms.forget(ROOM)
    assert await perms.role_in_room(ALICE, ROOM) is Role.MEMBER
    assert state.calls.count((ROOM, "m.room.power_levels")) == 2


# --- direct chats -----------------------------------------------------------------


async def test_dm_role_is_the_best_role_in_served_rooms(state: FakeState) -> None:
    state.power(OTHER, {BOB: 100})
    perms = make(state, network=[ROOM, OTHER])
    assert await perms.role_of(ALICE, DM, is_direct=True) is Role.ANIMATOR
    assert await perms.role_of(BOB, DM, is_direct=True) is Role.ANIMATOR  # from the other room
    assert await perms.role_of(NOBODY, DM, is_direct=True) is Role.MEMBER
    # The DM's own power levels do not count.
    assert (DM, "m.room.power_levels") not in state.calls


async def test_dm_role_ignores_rooms_not_served(state: FakeState) -> None:
    state.power(OTHER, {BOB: 100})
    perms = make(state, network=[ROOM])
    assert await perms.role_of(BOB, DM, is_direct=True) is Role.MEMBER


async def test_dm_role_from_config(state: FakeState) -> None:
    perms = make(state, network=["!elsewhere:example.org"], admins=[NOBODY], animators=[BOB])
    assert await perms.role_of(NOBODY, DM, is_direct=True) is Role.ADMIN
    assert await perms.role_of(BOB, DM, is_direct=True) is Role.ANIMATOR
    assert await perms.role_of(ALICE, DM, is_direct=True) is Role.OUTSIDER  # in no network room


async def test_room_role_is_the_role_in_that_room_only(state: FakeState) -> None:
    state.power(OTHER, {BOB: 100})
    perms = make(state, network=[ROOM, OTHER])
    assert await perms.role_of(BOB, ROOM, is_direct=False) is Role.MEMBER
    assert await perms.role_of(BOB, OTHER, is_direct=False) is Role.ANIMATOR


# --- only the network's rooms count (issue 11) ------------------------------------


async def test_moderator_of_a_room_outside_the_network_is_no_animator(state: FakeState) -> None:
    # Mallory made her own room and invited the bot: she moderates it, it is not the
    # network's. She is nobody there, and in her direct chat only what the network says.
    state.power(OUTSIDE, {NOBODY: 100})
    state.create(OUTSIDE, "12", sender=NOBODY)
    perms = make(state, network=[ROOM])
    assert await perms.role_of(NOBODY, OUTSIDE, is_direct=False) is Role.OUTSIDER
    assert await perms.role_of(NOBODY, DM, is_direct=True) is Role.MEMBER
    assert (OUTSIDE, "m.room.power_levels") not in state.calls


async def test_dm_role_counts_only_rooms_the_person_is_in(state: FakeState) -> None:
    # Alice left the network's room; the power levels still list her at 50.
    perms = make(state, network=[ROOM], members={ROOM: [BOB], DM: [ALICE], OUTSIDE: [ALICE]})
    assert await perms.role_of(ALICE, DM, is_direct=True) is Role.OUTSIDER
    assert await perms.role_of(BOB, DM, is_direct=True) is Role.MEMBER


async def test_a_space_stands_for_the_rooms_it_lists(state: FakeState) -> None:
    state.power(OTHER, {BOB: 100})
    perms = make(
        state,
        network=[SPACE],
        members={SPACE: [], ROOM: [ALICE], OTHER: [BOB], DM: [ALICE]},
        spaces={SPACE: [ROOM]},
    )
    assert await perms.role_of(ALICE, DM, is_direct=True) is Role.ANIMATOR
    assert await perms.role_of(ALICE, ROOM, is_direct=False) is Role.ANIMATOR
    # OTHER is not listed by the space: Bob moderates it, and is nobody in the network.
    assert await perms.role_of(BOB, OTHER, is_direct=False) is Role.OUTSIDER
    assert await perms.role_of(BOB, DM, is_direct=True) is Role.OUTSIDER


def test_network_rooms() -> None:
    sub = "!sub:example.org"
    facts = FakeRooms(
        members={SPACE: [], sub: [], ROOM: [ALICE], OTHER: [ALICE], OUTSIDE: [ALICE], DM: [ALICE]},
        direct={DM},
        spaces={SPACE: [ROOM, sub], sub: [OTHER, SPACE]},  # a cycle does no harm
    )
    network = Network([SPACE, "!v12RoomWithoutServer"], facts)
    assert network.contains(ROOM) and network.contains(OTHER)  # through the sub-space
    assert network.contains("!v12RoomWithoutServer")  # configured, not joined yet
    assert not network.contains(OUTSIDE)
    assert sorted(network.rooms()) == sorted([SPACE, sub, ROOM, OTHER])
    assert sorted(network.rooms_of(ALICE)) == sorted([ROOM, OTHER])
    assert not network.has_member(BOB)
    # A configured room is the network's even when it looks like a direct chat (nameless,
    # two members): its moderators count.
    small = Network([ROOM], FakeRooms(members={ROOM: [ALICE]}, direct={ROOM}))
    assert small.contains(ROOM) and small.rooms_of(ALICE) == [ROOM]
    # A room that names the space as its parent is not the space's child: only the
    # space's own state counts.
    assert not Network([SPACE], FakeRooms(members={OUTSIDE: [ALICE]})).contains(OUTSIDE)


# --- failures ---------------------------------------------------------------------


async def test_fetch_failure_means_member_and_is_logged(
    state: FakeState, caplog: pytest.LogCaptureFixture
) -> None:
    state.fail = True
    perms = make(state)
    assert await perms.role_in_room(ALICE, ROOM) is Role.MEMBER
    assert await perms.role_of(ALICE, DM, is_direct=True) is Role.MEMBER
    assert "power levels of !room:example.org unavailable" in caplog.text


async def test_failure_is_not_cached(state: FakeState) -> None:
    state.fail = True
    perms = make(state)
    assert await perms.role_in_room(ALICE, ROOM) is Role.MEMBER
    state.fail = False
    assert await perms.role_in_room(ALICE, ROOM) is Role.ANIMATOR
