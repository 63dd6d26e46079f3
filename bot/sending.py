"""The sender: delivers the outbox, in order, exactly once.

- Rooms take turns: one message from each room with some waiting, then the next one of
  each (in order within a room), and a message queued meanwhile joins the turns at once,
  so a member flooding their direct chat does not delay everyone else's answers.
- Each message has a transaction id fixed when it was queued: if the bot crashes after the
  homeserver accepted a message but before we marked it sent, the resend is recognised by
  the homeserver and not posted twice.
- Rate limits (`M_LIMIT_EXCEEDED`) are honoured: wait `retry_after_ms`, send the same
  message again; later messages wait behind it, so order is kept.
- A homeserver outage: back off (1 s doubling to 60 s) and keep everything queued.
- A message that can never be delivered (the bot was kicked, the room is gone) is marked
  failed and logged; it does not block the others.
- The database busy or unreachable: sending pauses and tries again every few seconds at
  most; any other database error stops the sender, and the process with it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from bot.client import MatrixClient, TransientError
from bot.messages import attachment_content, file_content
from storage.db import Database, is_transient
from storage.models.runtime import OutboxMessage

log = logging.getLogger(__name__)

MAX_ANSWERED_ERRORS = 8  # with the backoff, about four minutes of retries
DB_MAX_BACKOFF = 5.0  # the database back: sending resumes within seconds


class Sender:
    def __init__(self, db: Database, client: MatrixClient) -> None:
        self.db = db
        self.client = client
        self._wake = asyncio.Event()
        self._stopping = False
        self.sent = 0
        self.rate_limited = 0
        # Errors the homeserver itself returned for one message, by message id: after
        # MAX_ANSWERED_ERRORS the message is dropped so it cannot block the others
        # forever. Unreachable-homeserver errors never count: an outage loses nothing.
        self._answered_errors: dict[int, int] = {}
        self._outbox_empty = False  # known to hold nothing but what is handed over
        self._changes = 0  # counts queueings, to tell whether a read may have missed one
        self._handed: list[OutboxMessage] = []
        self._online = True  # the homeserver answered the last send
        self._backoff = 1.0  # before trying the homeserver again
        self._db_failures = 0  # database errors in a row
        self._read_at = 0  # `_changes` when the rows in hand were read

    def wake(self) -> None:
        """Something was queued: read the outbox."""
        self._outbox_empty = False
        self._changes += 1
        self._wake.set()

    def hand_over(self, rows: list[OutboxMessage]) -> None:
        """Committed rows, handed over directly: when the outbox held nothing else they
        are sent without reading it back (one query less on every answer)."""
        if self._outbox_empty:
            self._handed.extend(rows)
        self._changes += 1
        self._wake.set()

    async def _next_rows(self) -> tuple[list[OutboxMessage], datetime | None]:
        self._read_at = self._changes
        if self._outbox_empty:  # nothing but what was handed over (maybe nothing)
            rows = fair_order(self._handed)
            self._handed.clear()
            return rows, None
        self._handed.clear()  # committed, so the read below finds them too
        changes = self._changes
        async with self.db.unit() as repos:
            rows = list(await repos.outbox.due(datetime.now(UTC)))
            next_at = None if rows else await repos.outbox.next_wakeup()
        # Empty only if nothing was queued while reading (the read may have missed it).
        self._outbox_empty = not rows and next_at is None and changes == self._changes
        return rows, next_at

    async def run(self) -> None:
        while True:
            try:
                if await self._send_due():
                    return
                self._database_back()
            except Exception as exc:
                # The database busy or out of reach: what was sent is known to the
                # homeserver by its transaction id, so trying again posts nothing twice.
                if not is_transient(exc):
                    raise
                self._db_failures += 1
                if self._db_failures == 1:
                    log.warning("database unavailable, sending paused (%s)", exc)
                self._outbox_empty = False
                await asyncio.sleep(min(0.5 * 2**self._db_failures, DB_MAX_BACKOFF))

    def _database_back(self) -> None:
        if self._db_failures:
            log.info("database available again; sending resumed")
            self._db_failures = 0

    async def _send_due(self) -> bool:
        """Send what is due, or wait for something to be; True once stopping and empty."""
        self._wake.clear()
        rows, next_at = await self._next_rows()
        if not rows:
            if self._stopping:
                return True
            if not await self._sleep(_seconds_until(next_at)):
                self._outbox_empty = False  # a quiet minute: read the outbox again
            return False
        for i, row in enumerate(rows):
            try:
                await self._deliver(row)
            except TransientError as exc:
                if exc.answered and await self._give_up(row, str(exc)):
                    continue
                if self._online:
                    log.warning("sending paused, homeserver unavailable: %s", exc)
                    self._online = False
            except Exception as exc:
                if is_transient(exc):
                    raise
                # A bug must not stop every later message.
                log.exception("unexpected error sending message %d", row.id)
                if await self._give_up(row, f"{type(exc).__name__}: {exc}"):
                    continue
            else:
                if not self._online:
                    log.info("sending resumed")
                    self._online = True
                self._backoff = 1.0
                if self._changes != self._read_at and i + 1 < len(rows):
                    # Something was queued meanwhile, maybe for a room with nothing
                    # waiting: take the rooms in turn again, with it (the rest of this
                    # batch is still pending in the outbox).
                    self._outbox_empty = False
                    break
                continue
            # Keep the order: wait, then start again from the oldest pending message.
            self._outbox_empty = False
            await self._sleep(self._backoff)
            self._backoff = min(self._backoff * 2, 60.0)
            break
        return False

    async def _give_up(self, row: OutboxMessage, error: str) -> bool:
        count = self._answered_errors.get(row.id, 0) + 1
        self._answered_errors[row.id] = count
        if count < MAX_ANSWERED_ERRORS:
            return False
        del self._answered_errors[row.id]
        log.error("message %d to %s dropped after %d errors: %s", row.id, row.room_id, count, error)
        async with self.db.unit() as repos:
            await repos.outbox.mark_failed(row.id, error)
            await repos.commit()
        return True

    async def _sleep(self, seconds: float) -> bool:
        """Wait for a wake-up (True) or the time (False)."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _deliver(self, row: OutboxMessage) -> None:
        room_id = row.room_id or await self._direct_room(row)
        if room_id is None:
            return
        content = dict(row.content)
        if row.attachment is not None:
            mime = row.attachment_mime or "application/octet-stream"
            name = row.attachment_name or "fichier"
            await self.client.wait_known(room_id)
            # In an encrypted room the file is encrypted too (`file`, not `url`).
            where = await self.client.upload(
                row.attachment, mime, name, encrypt=self.client.is_encrypted(room_id)
            )
            content = attachment_content(file_content(name, mime, len(row.attachment), where), content)
        while True:
            result = await self.client.send(room_id, row.event_type, content, row.txn_id)
            if result.retry_after_ms is None:
                break
            self.rate_limited += 1
            log.info("rate limited: waiting %d ms before sending again", result.retry_after_ms)
            await asyncio.sleep(result.retry_after_ms / 1000)
        async with self.db.unit() as repos:
            if result.event_id:
                await repos.outbox.mark_sent(row.id, result.event_id, room_id)
                self.sent += 1
            else:
                log.error("message %d to %s dropped: %s", row.id, room_id, result.permanent_error)
                await repos.outbox.mark_failed(row.id, result.permanent_error or "")
            await repos.commit()

    async def _direct_room(self, row: OutboxMessage) -> str | None:
        """The direct chat with `row.dm_user`: the known one if the person is still in it,
        else one they already share with the bot (a direct chat they opened, or the one
        kept after `!oublier-moi`), recorded; else a new one. One direct chat per person."""
        user = row.dm_user
        assert user is not None
        async with self.db.unit() as repos:
            known = await repos.direct.room_for(user)
        if known:
            room = self.client.nio.rooms.get(known)
            # Not yet seen in a sync (just created): trust it. Seen: the person must still
            # be in it (joined or invited), else open a new one.
            if room is None or user in room.users or user in room.invited_users:
                return known
        shared = self.client.shared_direct_room(user)
        if shared is not None:
            await self.client.record_direct(user, shared)
            async with self.db.unit() as repos:
                await repos.direct.set(user, shared)
                await repos.commit()
            log.info("direct chat %s with %s reused", shared, user)
            return shared
        try:
            room_id = await self.client.create_direct_room(user)
        except PermissionError as exc:
            async with self.db.unit() as repos:
                await repos.outbox.mark_failed(row.id, f"direct chat impossible: {exc}")
                await repos.commit()
            log.error("cannot open a direct chat with %s: %s", user, exc)
            return None
        self.client.direct_rooms.add(room_id)
        async with self.db.unit() as repos:
            await repos.direct.set(user, room_id)
            await repos.commit()
        log.info("direct chat %s opened with %s", room_id, user)
        return room_id

    async def flush(self, timeout: float) -> None:
        """At shutdown: give queued messages a moment to leave, then stop (at once when
        the homeserver is not answering: they stay queued for the next start)."""
        self._stopping = True
        self.wake()
        await asyncio.sleep(0)
        if not self._online:
            return
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            async with self.db.unit() as repos:
                due = await repos.outbox.due(datetime.now(UTC), limit=1)
            if not due:
                return
            await asyncio.sleep(0.05)


def fair_order(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """Rows taken from the rooms in turn (as `OutboxRepository.due` reads them), in order
    within each room."""
    turns: dict[str | None, int] = {}
    ranked = []
    for row in sorted(rows, key=lambda r: r.id):
        room = row.room_id or row.dm_user
        turns[room] = turns.get(room, 0) + 1
        ranked.append((turns[room], row.id, row))
    return [row for _, _, row in sorted(ranked, key=lambda t: (t[0], t[1]))]


def _seconds_until(moment: datetime | None) -> float:
    if moment is None:
        return 60.0
    return max(0.05, min(60.0, (moment - datetime.now(UTC)).total_seconds()))
