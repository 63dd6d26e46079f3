"""The sync loop: from the homeserver to the durable inbox.

Each sync's relevant events are written to the inbox in the same transaction as the new
sync token, so an event is never lost (a crash before the commit re-delivers it) and never
stored twice (event ids are unique). Handling happens elsewhere (the dispatcher), so a slow
command never stalls syncing.

- First start (no token): a filter with `timeline.limit = 0`, so the bot acts on no
  historical event.
- Gappy syncs: Synapse returns at most `timeline.limit` events per room; when a room's
  timeline is `limited`, the missing events are fetched with `/messages` from the
  timeline's `prev_batch` back to the previous token, and handled in order.
- Rooms the bot has just joined: Synapse's timeline for them (and the back-fill) holds
  history from before the bot's join; only what follows the join is acted on (a member
  who joined before the bot is not a newcomer, an old command is not answered).
- A sync that brings nothing to keep (the bot's own answers coming back, a long-poll
  that ended empty) moves the token in memory only: it is written with the next events,
  or once it is `TOKEN_KEPT_AT_MOST` seconds old. Syncing again from a stored token after
  a crash only re-delivers events that were dropped then (`wants`) or are in the inbox
  already (event ids are unique): nothing is handled twice.
- Outages: the loop backs off (1 s doubling to 15 s) and logs each change of state.
- Encryption: nio decrypts what it can during the sync; the key changes this made are
  committed with the token (`bot.encryption`), then the encryption housekeeping runs, and
  room keys that arrived wake the events waiting for them (`on_keys`).
- The database busy or out of reach (a SQLite write lock held by a backup, PostgreSQL
  restarting): the same sync is tried again every few seconds at most (`DB_MAX_BACKOFF`),
  nothing is lost (the token moves only with the events); any other error stops the
  loop, and the process with it (exit code 1, so a supervisor restarts it)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from nio import SyncResponse

from bot.client import MatrixClient, TransientError
from bot.crypto_store import DatabaseCryptoStore
from bot.metrics import STATS
from bot.permissions import Permissions
from storage.db import Database, is_transient

log = logging.getLogger(__name__)

TOKEN_KEY = "sync.next_batch"
TIMELINE_LIMIT = 50
SYNC_TIMEOUT_MS = 30_000
# A homeserver back after an outage is noticed within this many seconds (one small
# request per try: frugal enough, and a 30 s outage does not cost another minute).
MAX_BACKOFF = 15.0
DB_MAX_BACKOFF = 5.0  # the bot answers within seconds of the database's return
TOKEN_KEPT_AT_MOST = 60.0  # seconds a token moved by empty syncs stays unwritten

_QUIET = {
    "presence": {"not_types": ["*"]},
    "account_data": {"types": ["m.direct"]},
}
FIRST_FILTER: dict[str, Any] = {
    **_QUIET,
    "room": {
        "timeline": {"limit": 0},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}
FILTER: dict[str, Any] = {
    **_QUIET,
    "room": {
        "timeline": {"limit": TIMELINE_LIMIT},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}

Wants = Callable[[str, dict[str, Any]], bool]
OnNew = Callable[[list[dict[str, Any]]], None]
OnLeave = Callable[[str, str], Any]
OnKeys = Callable[[set[str]], None]


class SyncLoop:
    def __init__(
        self,
        client: MatrixClient,
        db: Database,
        permissions: Permissions,
        wants: Wants,
        on_new: OnNew,
        on_leave: OnLeave,
        on_keys: OnKeys | None = None,
    ) -> None:
        self.client = client
        self.db = db
        self.permissions = permissions
        self.wants = wants
        self.on_new = on_new
        self.on_leave = on_leave
        self.on_keys = on_keys
        self.ready = asyncio.Event()  # set after the first successful sync
        self.synced = asyncio.Event()  # pulsed after each sync (tests wait on it)
        self.token: str | None = None
        self._db_failures = 0
        self._token_written_at = 0.0  # time.monotonic() of the last token written

    async def run(self) -> None:
        while True:
            try:
                async with self.db.unit() as repos:
                    self.token = await repos.state.get(TOKEN_KEY)
                break
            except Exception as exc:
                await self._database_unavailable(exc)
        if self.token is None:
            log.info("first start: historical events are skipped")
        first = True
        online = True
        backoff = 1.0
        while True:
            try:
                resp = await self.client.sync(
                    self.token,
                    FILTER if self.token else FIRST_FILTER,
                    timeout_ms=0 if first else SYNC_TIMEOUT_MS,
                    full_state=first and self.token is not None,
                )
                events = await self._collect(resp, self.token)
            except TransientError as exc:
                if online:
                    log.warning("homeserver unreachable, retrying with backoff: %s", exc)
                    online = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except Exception as exc:
                await self._database_unavailable(exc)
                continue
            if not online:
                log.info("homeserver reachable again")
                online = True
            backoff = 1.0
            # Commit the events and the token together, shielded from cancellation so a
            # shutdown never leaves one without the other.
            try:
                fresh = await asyncio.shield(
                    self._store(events, resp.next_batch, must=first or _eventful(resp))
                )
            except Exception as exc:
                await self._database_unavailable(exc)
                continue  # the same sync again: the token did not move
            self._database_back()
            self.token = resp.next_batch
            first = False
            crypto = self.client.crypto
            if crypto is not None:
                try:
                    await crypto.housekeeping()
                except Exception:  # the database: the keys stay queued for the next sync
                    log.exception("encryption housekeeping failed; retried after the next sync")
                keys = crypto.room_keys_in(resp.to_device_events)
                if keys and self.on_keys is not None:
                    self.on_keys(keys)
            if fresh:
                self.on_new(fresh)
                # Let the new lanes start (their first query goes to the database) before
                # the next /sync is prepared: the two then overlap.
                await asyncio.sleep(0)
            self.ready.set()
            STATS.synced()
            self.synced.set()
            self.synced.clear()

    async def _database_unavailable(self, exc: Exception) -> None:
        """A transient database error: wait a little (re-raise anything else)."""
        if not is_transient(exc):
            raise exc
        self._db_failures += 1
        delay = min(0.5 * 2**self._db_failures, DB_MAX_BACKOFF)
        if self._db_failures == 1:
            log.warning("database unavailable, syncing paused (%s); trying again every few seconds", exc)
        await asyncio.sleep(delay)

    def _database_back(self) -> None:
        if self._db_failures:
            log.info("database available again after %d tries; syncing resumed", self._db_failures)
            self._db_failures = 0

    async def _store(self, events: list[dict[str, Any]], token: str, *, must: bool) -> list[dict[str, Any]]:
        """Commit the events and the token (unless there is nothing to keep: `must` is
        false, no event, no key change, and the stored token is recent)."""
        crypto = self.client.crypto
        store = crypto.store if crypto is not None else None
        if (
            not (must or events or (store is not None and store.dirty))
            and time.monotonic() - self._token_written_at < TOKEN_KEPT_AT_MOST
        ):
            return []
        if crypto is None or store is None:
            fresh = await self._commit(events, token)
        else:
            async with crypto.writing:
                fresh = await self._commit(events, token, store)
        self._token_written_at = time.monotonic()
        return fresh

    async def _commit(
        self, events: list[dict[str, Any]], token: str, store: DatabaseCryptoStore | None = None
    ) -> list[dict[str, Any]]:
        keys = store.take_changes() if store is not None else None
        try:
            async with self.db.unit() as repos:
                new_ids = set(await repos.inbox.add_many(events))
                await repos.state.set(TOKEN_KEY, token)
                if keys:
                    await repos.crypto.apply(keys)
                await repos.commit()
        except BaseException:
            if store is not None and keys:
                store.give_back(keys)
            raise
        return [e for e in events if e["event_id"] in new_ids]

    async def _collect(self, resp: SyncResponse, since: str | None) -> list[dict[str, Any]]:
        me = self.client.user_id
        events: list[dict[str, Any]] = []
        self._account_data(resp)
        for room_id, info in resp.rooms.join.items():
            for state in info.state:
                self.permissions.observe(room_id, getattr(state, "source", {}))
            timeline = [getattr(e, "source", {}) for e in info.timeline.events]
            if info.timeline.limited and since and info.timeline.prev_batch:
                missed = await self.client.backfill(room_id, info.timeline.prev_batch, since)
                known = {e.get("event_id") for e in timeline}
                extra = [e for e in missed if e.get("event_id") not in known]
                if extra:
                    log.info("gappy sync in %s: %d missed events fetched", room_id, len(extra))
                timeline = extra + timeline
            for src in timeline:
                if "state_key" in src:
                    self.permissions.observe(room_id, src)
            for src in after_own_join(timeline, me):
                if not src.get("event_id") or src.get("sender") == me:
                    continue
                if self.wants(room_id, src):
                    events.append({**src, "room_id": room_id})
        for room_id, invite in resp.rooms.invite.items():
            events.append(self._invite_event(room_id, invite.invite_state, resp.next_batch))
        for room_id, info in resp.rooms.leave.items():
            why = "left"
            for e in info.timeline.events:
                src = getattr(e, "source", {})
                if src.get("type") == "m.room.member" and src.get("state_key") == me:
                    why = "kicked by " + src.get("sender", "?") if src.get("sender") != me else "left"
                    if (src.get("content") or {}).get("membership") == "ban":
                        why = "banned by " + src.get("sender", "?")
            log.warning("no longer in room %s (%s)", room_id, why)
            self.permissions.forget(room_id)
            await self.on_leave(room_id, why)
        return events

    def _invite_event(self, room_id: str, invite_state: list[Any], token: str) -> dict[str, Any]:
        inviter, is_direct = "", False
        for e in invite_state:
            src = getattr(e, "source", None) or {}
            if getattr(e, "state_key", src.get("state_key")) != self.client.user_id:
                continue
            inviter = getattr(e, "sender", None) or src.get("sender", "") or inviter
            # nio moves the content out of `source` (InviteMemberEvent.content): whether
            # the invitation is to a direct chat is read there.
            content = getattr(e, "content", None) or src.get("content") or {}
            is_direct = is_direct or bool(content.get("is_direct"))
        return {
            "type": "oasis.invite",
            "event_id": f"invite|{room_id}|{token}",
            "room_id": room_id,
            "sender": inviter,
            "origin_server_ts": int(time.time() * 1000),
            "content": {"is_direct": is_direct},
        }

    def _account_data(self, resp: SyncResponse) -> None:
        for ev in resp.account_data_events:
            if getattr(ev, "type", None) == "m.direct":
                content = getattr(ev, "content", {}) or {}
                self.client.direct_rooms = {r for rooms in content.values() for r in rooms}


def _eventful(resp: SyncResponse) -> bool:
    """Whether a sync changed more than room timelines: rooms left or invited to,
    to-device messages, device lists, account data (kept with the token they came with,
    as if they held events)."""
    devices = resp.device_list
    return bool(
        resp.rooms.leave
        or resp.rooms.invite
        or resp.to_device_events
        or devices.changed
        or devices.left
        or resp.account_data_events
    )


def after_own_join(timeline: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """The events after the bot's latest real join in this timeline (all of them when the
    bot did not join in it)."""
    for i in range(len(timeline) - 1, -1, -1):
        src = timeline[i]
        if src.get("type") != "m.room.member" or src.get("state_key") != me:
            continue
        content = src.get("content") or {}
        unsigned = src.get("unsigned") or {}
        prev = src.get("prev_content") or unsigned.get("prev_content") or {}
        if content.get("membership") == "join" and prev.get("membership") != "join":
            return timeline[i + 1 :]
    return timeline
