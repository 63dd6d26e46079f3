"""The network of the end-to-end tests: one Matrix space per homeserver, standing for every
room the tests create, as an operator would configure it (`[bot] rooms = [space]`).

A steward account owns the space; `TestUser.create_room` lists each new room in it before
anyone is invited, so a bot invited there sees a room of the network. Every bot started
by the harness is in the space and names it in its config. A room outside the network is
asked for explicitly: `create_room(..., network=False)`."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bot.homeserver import Account, EmbeddedSynapse, _http_json


@dataclass
class TestNetwork:
    __test__ = False  # not a pytest class

    hs: EmbeddedSynapse
    steward: Account
    space_id: str

    @property
    def server(self) -> str:
        return self.steward.user_id.split(":", 1)[1]

    def _call(self, method: str, path: str, body: Any, token: str | None = None) -> Any:
        return _http_json(method, self.hs.url + path, body, token or self.steward.access_token)

    def add(self, room_id: str) -> None:
        """List `room_id` in the space (blocking: call it in a thread)."""
        path = f"/_matrix/client/v3/rooms/{quote(self.space_id)}/state/m.space.child/{quote(room_id)}"
        self._call("PUT", path, {"via": [self.server]})

    def admit(self, account: Account) -> None:
        """`account` (a bot's) joins the space (blocking), as an operator's bot would."""
        self._call("POST", f"/_matrix/client/v3/rooms/{quote(self.space_id)}/join", {}, account.access_token)

    def rooms_config(self) -> dict[str, Any]:
        return {"rooms": [self.space_id]}


_networks: dict[tuple[str, str], TestNetwork] = {}
_lock = threading.Lock()


def network_of(hs: EmbeddedSynapse) -> TestNetwork:
    """The network space of `hs`, made on first use (blocking: call it in a thread)."""
    key = (str(hs.data_dir), hs.url)
    with _lock:
        found = _networks.get(key)
        if found is None:
            steward = hs.register(f"steward_{uuid.uuid4().hex[:8]}", "steward-pw")
            made = _http_json(
                "POST",
                hs.url + "/_matrix/client/v3/createRoom",
                {
                    "name": "Réseau OASIS (tests)",
                    "preset": "public_chat",  # the bots join without an invitation
                    "creation_content": {"type": "m.space"},
                },
                steward.access_token,
            )
            found = _networks[key] = TestNetwork(hs, steward, str(made["room_id"]))
        return found
