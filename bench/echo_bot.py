"""A bare matrix-nio echo bot: the baseline of `bench/roundtrip.py`.

Nothing but nio: `AsyncClient`, `sync_forever`, one `RoomMessageText` callback that
answers `!ping` with an `m.notice` « pong ». No database, no queue, no filter.

`--rich` answers with the same message shape as oasis-bot (a reply, HTML, `m.mentions`),
to separate what the runtime costs from what the homeserver spends on a richer message.

`--store-path DIR` turns on end-to-end encryption, as a nio bot does it: nio's own key
store in DIR, `sync_forever` doing the key housekeeping, room keys shared with every
device (the baseline of `bench/roundtrip.py --encrypted`).

    OASIS_ECHO_ACCESS_TOKEN=… python bench/echo_bot.py --homeserver URL --user-id @echo:hs --device-id DEV
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from nio import AsyncClient, AsyncClientConfig, MatrixRoom, RoomMessageText


async def serve(
    homeserver: str, user_id: str, device_id: str, access_token: str, rich: bool, store_path: str | None
) -> None:
    if store_path:
        os.makedirs(store_path, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        client = AsyncClient(homeserver, user_id, device_id=device_id, store_path=store_path, config=config)
    else:
        client = AsyncClient(homeserver, user_id, config=AsyncClientConfig(encryption_enabled=False))
    client.restore_login(user_id, device_id, access_token)

    async def on_message(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != user_id and event.body.strip() == "!ping":
            content: dict[str, Any] = {"msgtype": "m.notice", "body": "pong"}
            if rich:
                content.update(
                    {
                        "format": "org.matrix.custom.html",
                        "formatted_body": "pong",
                        "m.mentions": {},
                        "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
                    }
                )
            await client.room_send(room.room_id, "m.room.message", content, ignore_unverified_devices=True)

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
    parser.add_argument("--rich", action="store_true", help="answer with oasis-bot's message shape")
    parser.add_argument("--store-path", help="end-to-end encryption, nio's key store in this folder")
    args = parser.parse_args()
    token = os.environ["OASIS_ECHO_ACCESS_TOKEN"]  # not on the command line (visible in ps)
    asyncio.run(serve(args.homeserver, args.user_id, args.device_id, token, args.rich, args.store_path))


if __name__ == "__main__":
    main()
