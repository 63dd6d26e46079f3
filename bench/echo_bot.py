"""A bare matrix-nio echo bot: the baseline of `bench/roundtrip.py`.

Nothing but nio: `AsyncClient`, `sync_forever`, one `RoomMessageText` callback that
answers `!ping` with an `m.notice` « pong ». No database, no queue, no filter.

    OASIS_ECHO_ACCESS_TOKEN=… python bench/echo_bot.py --homeserver URL --user-id @echo:hs --device-id DEV
"""

from __future__ import annotations

import argparse
import asyncio
import os

from nio import AsyncClient, MatrixRoom, RoomMessageText


async def serve(homeserver: str, user_id: str, device_id: str, access_token: str) -> None:
    client = AsyncClient(homeserver, user_id)
    client.restore_login(user_id, device_id, access_token)

    async def on_message(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != user_id and event.body.strip() == "!ping":
            await client.room_send(room.room_id, "m.room.message", {"msgtype": "m.notice", "body": "pong"})

    client.add_event_callback(on_message, RoomMessageText)
    try:
        await client.sync_forever(timeout=30_000)
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--device-id", default="")
    args = parser.parse_args()
    token = os.environ["OASIS_ECHO_ACCESS_TOKEN"]  # not on the command line (visible in ps)
    asyncio.run(serve(args.homeserver, args.user_id, args.device_id, token))


if __name__ == "__main__":
    main()
