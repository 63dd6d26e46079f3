"""From the inbox to the handlers.

Events are handled in lanes: one lane per (room, person), so one member's commands in one
room are answered in order, while other members and rooms go on in parallel (bounded by
`max_concurrent_commands`). Each event is handled in one unit of work: the handler's
effects, the messages it queues and the event's `done` mark commit together.

Errors: a `UserError` becomes its localized message (and the command's usage for a bad
argument); anything else is logged with a short reference, which is all the user sees.

Encrypted events the sync could not decrypt are decrypted here, then handled as any other.
One whose room key has not come stays pending in the inbox: its key is asked for, and it is
tried again when room keys arrive (`keys_arrived`) or after `undecryptable_after` seconds;
then, still unreadable, its sender is told once (per room and session) how to fix it.
Malformed ones and unknown algorithms are logged and dropped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from bot import conversations
from bot.arguments import parse_arguments
from bot.client import TransientError
from bot.context import Context, Reply, Services
from bot.encryption import Encryption
from bot.errors import BadArgument, PermissionDenied, UserError, error_reference
from bot.formatting import Rich, code
from bot.limits import MAX_MESSAGE_CHARS, MemberRate
from bot.metrics import STATS
from bot.parsing import extract_command, message_text, split_first
from bot.registry import Command, MemberChange, Reaction, Redaction
from bot.roles import Role
from storage.db import Database, is_transient

log = logging.getLogger(__name__)

SUBMITTED_MEMORY = 50_000  # event ids remembered against double queuing
MAX_RETRIES = 5  # a handler meeting a homeserver outage is tried again, then answered
UNDECRYPTABLE_AFTER = 60.0  # seconds an encrypted event waits for its room key
MAX_WAITING = 10_000  # encrypted events waiting for keys, at most (the oldest give up)
GAVE_UP = "oasis.undecryptable"  # marks an encrypted event whose key never came


class NotYetReadable(Exception):
    """An encrypted event whose room key has not arrived: try again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"waiting {seconds:.0f} s for a room key")
        self.seconds = seconds


# A handler meeting a busy or unreachable database is tried again every few seconds at
# most, for about five minutes, then answered with an error reference.
MAX_DB_RETRIES = 60
DB_MAX_BACKOFF = 5.0

Join = Callable[[str], Any]


class Dispatcher:
    def __init__(
        self,
        services: Services,
        db: Database,
        join_room: Callable[[str, bool], Any],
        wake_sender: Callable[[], None],
        hand_over: Callable[[list[Any]], None] | None = None,
        crypto: Encryption | None = None,
        undecryptable_after: float = UNDECRYPTABLE_AFTER,
    ) -> None:
        self.services = services
        self.crypto = crypto
        self.undecryptable_after = undecryptable_after
        # Encrypted events waiting for their key: event id → (event, session id), and
        # when this process first tried each.
        self._waiting: dict[str, tuple[dict[str, Any], str]] = {}
        self._first_try: OrderedDict[str, float] = OrderedDict()
        self.db = db
        self.registry = services.registry
        self.join_room = join_room
        self.wake_sender = wake_sender
        self.hand_over = hand_over  # committed outbox rows straight to the sender
        self.config = services.config
        self._wanted = self.registry.wanted_event_types()
        self._lanes: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(self.config.bot.max_concurrent_commands)
        self._accepting = True
        # Closed until the first sync has filled the room state (is it a direct chat?
        # who are the members?); events queued before wait behind it, in order.
        self._gate = asyncio.Event()
        self.handled = 0
        self._retries: dict[str, int] = {}
        self._db_retries: dict[str, int] = {}
        self._rate = MemberRate()
        self._submitted: OrderedDict[str, None] = OrderedDict()
        self.idle = asyncio.Event()
        self.idle.set()

    # --- what to keep ---------------------------------------------------------------
    def wants(self, room_id: str, event: dict[str, Any]) -> bool:
        """Cheap filter applied in the sync loop: only what some handler acts on enters
        the inbox (commands, direct-chat messages, hooked event types)."""
        etype = event.get("type", "")
        if etype not in self._wanted:
            return False
        if not self.services.rooms.is_direct(room_id) and not self.services.network.contains(room_id):
            return False  # outside the network: answered once when joined, then nothing
        if etype == "m.room.encrypted":
            return True  # maybe a command: decrypted when handled
        if etype != "m.room.message":
            return True
        content = event.get("content") or {}
        if content.get("msgtype") == "m.notice":
            return False  # other bots' output, never commands
        if (content.get("m.relates_to") or {}).get("rel_type") == "m.replace":
            return False  # an edit: the original was already handled
        if self.services.rooms.is_direct(room_id):
            return True
        return self._command_in(room_id, content, is_direct=False) is not None

    def _command_in(self, room_id: str, content: dict[str, Any], is_direct: bool) -> Any:
        return extract_command(
            message_text(content),
            prefixes=tuple(self.config.bot.prefixes),
            is_direct=is_direct,
            bot_user_id=self.services.bot_user_id,
            bot_names=self._bot_names(room_id),
        )

    def _bot_names(self, room_id: str) -> tuple[str, ...]:
        me = self.services.bot_user_id
        return (self.services.rooms.display_name(room_id, me), me.split(":", 1)[0].lstrip("@"))

    # --- lanes --------------------------------------------------------------------
    def submit(self, events: list[dict[str, Any]]) -> None:
        """Queue events from the inbox. An event already queued by this process (pending
        at start and delivered again by the first sync) is queued once."""
        for event in events:
            event_id = event["event_id"]
            if event_id in self._submitted:
                continue
            self._submitted[event_id] = None
            if len(self._submitted) > SUBMITTED_MEMORY:
                self._submitted.popitem(last=False)
            self._enqueue(event)

    def _enqueue(self, event: dict[str, Any]) -> None:
        if self._accepting:  # else left in the inbox; handled after the restart
            key = self._lane_key(event)
            self._lanes.setdefault(key, deque()).append(event)
            if key not in self._tasks:
                self.idle.clear()
                self._tasks[key] = asyncio.create_task(self._run_lane(key), name=f"lane {key}")

    @staticmethod
    def _lane_key(event: dict[str, Any]) -> tuple[str, str]:
        if event.get("type") == "m.room.member":
            return event["room_id"], event.get("state_key") or event.get("sender", "")
        return event["room_id"], event.get("sender", "")

    async def _run_lane(self, key: tuple[str, str]) -> None:
        queue = self._lanes[key]
        try:
            await self._gate.wait()
            failures = 0
            while queue and self._accepting:
                event = queue.popleft()
                try:
                    async with self._slots:
                        await self.handle(event)
                    failures = 0
                except Exception:
                    # Even recording the failure failed (the database is unavailable):
                    # keep the event first in line and try again, in order.
                    failures += 1
                    delay = min(2.0**failures, DB_MAX_BACKOFF)
                    log.exception("event %s could not be handled; retry in %.0f s", event["event_id"], delay)
                    queue.appendleft(event)
                    await asyncio.sleep(delay)
        finally:
            self._lanes.pop(key, None)
            self._tasks.pop(key, None)
            if not self._tasks:
                self.idle.set()

    def open(self) -> None:
        self._gate.set()

    async def load_pending(self) -> int:
        """Re-queue what was received but not handled before the last stop."""
        async with self.db.unit() as repos:
            rows = await repos.inbox.pending()
        self.submit([dict(r.payload, room_id=r.room_id, event_id=r.event_id) for r in rows])
        if rows:
            log.info("%d events from before the restart queued", len(rows))
        return len(rows)

    async def drain(self, timeout: float) -> None:
        """Stop taking events; let lanes finish the event in hand (the rest stays in the
        inbox for the next start)."""
        self._accepting = False
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for t in pending:
                t.cancel()

    # --- handling -----------------------------------------------------------------
    async def handle(self, event: dict[str, Any]) -> None:
        event_id = event["event_id"]
        handed = False
        ctx: Context | None = None
        outcome, started = "ok", time.monotonic()
        try:
            decrypted = False
            if event.get("type") == "m.room.encrypted" and self.crypto is not None:
                event = await self._decrypted(event)
                decrypted = event.get("type") != "m.room.encrypted"
            async with self.db.unit() as repos:
                # Only pending events reach here, each once per process (`submit`), so
                # no handler runs twice; the done mark is the atomic guard all the same:
                # it commits with the handler's effects only if the event was pending.
                ctx = await self._context(repos, event)
                if not decrypted or self.wants(ctx.room_id, event):  # maybe no command
                    await self._route(ctx, event)
                if not await repos.inbox.claim(event_id):
                    log.warning("%s was already handled; this run's effects are dropped", event_id)
                    await repos.rollback()
                    outcome = "duplicate"
                    return
                await repos.commit()
                if self.hand_over is not None:
                    self.hand_over(repos.outbox.created)
                    handed = True
        except NotYetReadable as wait:
            outcome = "waiting"
            self._wait_for_key(event, wait.seconds)
        except UserError as err:
            outcome = "refused"
            await self._fail(event, err, None)
        except TransientError as exc:
            outcome = "retried"
            # The homeserver did not answer a call the handler made: nothing was
            # committed, so the event is simply handled again a little later.
            tries = self._retries.get(event_id, 0) + 1
            self._retries[event_id] = tries
            if tries <= MAX_RETRIES:
                delay = min(2.0**tries, 60.0)
                log.warning("%s: homeserver unavailable (%s); retry in %.0f s", event_id, exc, delay)
                asyncio.get_running_loop().call_later(delay, self._enqueue, event)
            else:
                ref = error_reference()
                log.error("giving up on %s after %d tries (réf. %s): %s", event_id, tries, ref, exc)
                await self._fail(event, None, ref)
        except Exception as exc:
            if is_transient(exc) and self._db_retries.get(event_id, 0) < MAX_DB_RETRIES:
                # The database was busy or out of reach: nothing was committed, so the
                # command is simply run again shortly, rather than answered « erreur
                # inattendue ».
                outcome = "retried"
                tries = self._db_retries[event_id] = self._db_retries.get(event_id, 0) + 1
                delay = min(0.5 * 2**tries, DB_MAX_BACKOFF)
                log.warning("%s: database unavailable (%s); retry in %.1f s", event_id, exc, delay)
                asyncio.get_running_loop().call_later(delay, self._enqueue, event)
                return
            outcome = "failed"
            ref = error_reference()
            log.exception("error handling %s %s (réf. %s)", event.get("type"), event_id, ref)
            await self._fail(event, None, ref)
        finally:
            self.handled += 1
            if outcome != "retried":
                self._retries.pop(event_id, None)
                self._db_retries.pop(event_id, None)
            command = ctx.command.path if ctx is not None and ctx.command is not None else None
            STATS.handled(
                str(event.get("type")),
                command,
                outcome,
                time.monotonic() - started,
                int(event.get("origin_server_ts") or 0),
            )
            if not handed:
                self.wake_sender()

    # --- encrypted events -------------------------------------------------------------
    async def _decrypted(self, event: dict[str, Any]) -> dict[str, Any]:
        """The decrypted event; the encrypted one when it cannot be read (marked
        `GAVE_UP` when its key never came); raises `NotYetReadable` while waiting."""
        assert self.crypto is not None
        event_id = event["event_id"]
        result = self.crypto.decrypt(event)
        if result.status == "ok" and result.event is not None:
            self._first_try.pop(event_id, None)
            return result.event
        if result.status == "unreadable":
            self._first_try.pop(event_id, None)
            log.warning(
                "encrypted event %s from %s dropped: %s", event_id, event.get("sender"), result.reason
            )
            return event
        now = asyncio.get_running_loop().time()
        first = self._first_try.setdefault(event_id, now)
        while len(self._first_try) > MAX_WAITING:
            self._first_try.popitem(last=False)
        waited = now - first
        if waited < self.undecryptable_after:
            await self.crypto.request_key(event)
            raise NotYetReadable(self.undecryptable_after - waited)
        self._first_try.pop(event_id, None)
        log.info("encrypted event %s still unreadable after %.0f s: its sender is told", event_id, waited)
        return {**event, GAVE_UP: True}

    def _wait_for_key(self, event: dict[str, Any], seconds: float) -> None:
        assert self.crypto is not None
        self._waiting[event["event_id"]] = (event, self.crypto.session_of(event))
        asyncio.get_running_loop().call_later(seconds, self._retry_waiting, event["event_id"])

    def _retry_waiting(self, event_id: str) -> None:
        entry = self._waiting.pop(event_id, None)
        if entry is not None:
            self._enqueue(entry[0])

    def keys_arrived(self, session_ids: set[str]) -> None:
        """Room keys came in a sync: try again the events that waited for them."""
        for event_id, (_, session_id) in list(self._waiting.items()):
            if session_id in session_ids:
                self._retry_waiting(event_id)

    async def _on_undecryptable(self, ctx: Context, event: dict[str, Any]) -> None:
        if not event.get(GAVE_UP):
            return  # malformed or unknown algorithm: logged, nothing to say
        session = self.crypto.session_of(event) if self.crypto is not None else ""
        await ctx.send(
            Reply("errors.undecryptable"),
            reply_to=None if ctx.is_direct else ctx.event_id,
            dedup_key=f"undecryptable:{ctx.room_id}:{ctx.sender}:{session}"[:255],
        )

    async def _context(self, repos: Any, event: dict[str, Any]) -> Context:
        sender = event.get("sender", "")
        room_id = event["room_id"]
        return Context(
            services=self.services,
            repos=repos,
            sender=sender,
            room_id=room_id,
            event_id=event["event_id"],
            is_direct=self.services.rooms.is_direct(room_id),
            locale=await self.services.locale_of(repos, sender),
            prefix=self.config.bot.prefixes[0],
            thread_root=_thread_root(event),
        )

    async def _fail(self, event: dict[str, Any], err: UserError | None, ref: str | None) -> None:
        """Roll back the handler's work, but mark the event handled and, for a command,
        say what went wrong."""
        async with self.db.unit() as repos:
            if not await repos.inbox.claim(event["event_id"]):
                return  # handled meanwhile: nothing to say
            ctx = await self._context(repos, event)
            if event.get("type") == "m.room.message":
                await self._say(ctx, Reply(rich=self._error_text(ctx, event, err, ref)))
            await repos.commit()

    def _error_text(
        self, ctx: Context, event: dict[str, Any], err: UserError | None, ref: str | None
    ) -> Rich:
        if err is None:
            return ctx.rich("errors.unexpected", ref=ref or "")
        text = ctx.rich(err.key, **err.params)
        if isinstance(err, BadArgument):
            cmd = self._command_of(ctx, event)
            if cmd is not None:
                usage = code(cmd.usage(ctx.tr, ctx.prefix))
                help_ = code(f"{ctx.prefix}{ctx.t('commands.help_name')} {cmd.path}")
                variants = cmd.unique_subcommands()
                if variants:  # « !oublier-moi peut-être »: the way on is a variant (confirmer)
                    shown = Rich("", "")
                    for i, sub in enumerate(variants):
                        shown = shown + (", " if i else "") + code(sub.usage(ctx.tr, ctx.prefix))
                    usage_text = ctx.rich("commands.usage_variants", usage=usage, variants=shown, help=help_)
                else:
                    usage_text = ctx.rich("commands.usage", usage=usage, help=help_)
                text = text + Rich("\n", "<br>") + usage_text
        return text

    def _command_of(self, ctx: Context, event: dict[str, Any]) -> Command | None:
        parsed = self._command_in(ctx.room_id, event.get("content") or {}, ctx.is_direct)
        if parsed is None:
            return None
        cmd = self.registry.find(parsed.name)
        if cmd is not None and cmd.subcommands:
            first, _ = split_first(parsed.args)
            cmd = cmd.find_sub(first) or cmd
        return cmd

    async def _route(self, ctx: Context, event: dict[str, Any]) -> None:
        etype = event.get("type")
        if etype == "m.room.message":
            await self._on_message(ctx, event)
        elif etype == "oasis.invite":
            await self._on_invite(ctx, event)
        elif etype == "m.room.encrypted":
            await self._on_undecryptable(ctx, event)
        elif etype == "m.room.member":
            change = _member_change(event)
            for member_hook in self.registry.member_hooks:
                await member_hook(ctx, change)
        elif etype == "m.reaction":
            reaction = _reaction(event)
            if reaction is not None:
                for reaction_hook in self.registry.reaction_hooks:
                    await reaction_hook(ctx, reaction)
        elif etype == "m.room.redaction":
            redaction = _redaction(event)
            if redaction is not None:
                for redaction_hook in self.registry.redaction_hooks:
                    await redaction_hook(ctx, redaction)
        for hook in self.registry.event_hooks.get(str(etype), []):
            await hook(ctx, event)

    async def _on_invite(self, ctx: Context, event: dict[str, Any]) -> None:
        """Into the network's rooms: from anyone. A direct chat: from the bot's own
        homeserver and what `[invites] allow` names. Any other room: from the admins and
        what `[invites] allow` names; it gets one polite answer and nothing else (or is
        declined, `[invites] outside = "leave"`)."""
        inviter = event.get("sender", "")
        room_id = event["room_id"]
        is_direct = bool((event.get("content") or {}).get("is_direct"))
        if self.services.network.contains(room_id):
            await self.join_room(room_id, False)
            return
        if not self._invite_allowed(inviter, is_direct):
            log.warning("invite to %s from %s refused (not in invites.allow)", room_id, inviter)
            return
        if is_direct:
            await self.join_room(room_id, True)
            return
        if self.config.invites.outside == "leave":
            log.warning("invite to %s from %s declined: not a room of the network", room_id, inviter)
            return
        await self.join_room(room_id, False)
        log.info("%s is not a room of the network: answered once, then ignored", room_id)
        await ctx.send(
            Reply("network.outside_room", network=self.config.bot.network_name),
            dedup_key=f"outside:{room_id}",
        )

    def _invite_allowed(self, inviter: str, is_direct: bool) -> bool:
        if inviter in self.config.bot.admins:
            return True
        server = inviter.split(":", 1)[-1]
        if is_direct and server == self.config.server_name:
            return True
        allow = self.config.invites.allow
        return "*" in allow or inviter in allow or server in allow

    async def _on_message(self, ctx: Context, event: dict[str, Any]) -> None:
        content = event.get("content") or {}
        text = message_text(content)
        if len(text) > MAX_MESSAGE_CHARS:
            # Not read at all: nothing below has to bear a message of any size.
            raise UserError("commands.too_long", length=len(text), max=MAX_MESSAGE_CHARS)
        if ctx.sender not in self.config.bot.admins:
            sent_at = int(event.get("origin_server_ts") or time.time() * 1000) / 1000
            allowed, wait = self._rate.take(ctx.sender, sent_at)
            if not allowed:
                if wait is None:
                    return  # told already: dropped (marked handled) until the budget is back
                raise UserError("commands.slow_down", seconds=max(1, round(wait)))
        if ctx.is_direct:
            running = await ctx.repos.conversations.get(ctx.sender)
            if running is not None and not text.startswith(tuple(self.config.bot.prefixes)):
                await conversations.answer(ctx, running, text)
                return
        parsed = self._command_in(ctx.room_id, content, ctx.is_direct)
        if parsed is None:
            return
        cmd = self.registry.find(parsed.name)
        if cmd is None:
            await self._unknown(ctx, parsed.typed_name)
            return
        args = parsed.args
        if cmd.subcommands:
            first, rest = split_first(args)
            sub = cmd.find_sub(first) if first else None
            if sub is not None:
                cmd, args = sub, rest
        ctx.command = cmd
        if cmd.direct_only and not ctx.is_direct:
            raise UserError("commands.direct_only", command=code(ctx.prefix + cmd.path))
        ctx.role = await self.services.permissions.role_of(ctx.sender, ctx.room_id, ctx.is_direct)
        if ctx.role < cmd.role:
            if ctx.role is Role.OUTSIDER:
                raise PermissionDenied(
                    "commands.outsider", network=self.config.bot.network_name, open=self._open_commands(ctx)
                )
            raise PermissionDenied("commands.denied", role=ctx.t(cmd.role.key))
        values = parse_arguments(cmd.params, args, ctx)
        result = await cmd.handler(ctx, **values)
        for reply in ctx.reply_parts(result):
            await self._say(ctx, reply)

    def _open_commands(self, ctx: Context) -> Rich:
        """The commands open to someone outside the network (`!aide` lists the same)."""
        names = [c.name for c in self.registry.unique_commands() if c.role <= Role.OUTSIDER and not c.hidden]
        listed = Rich("", "")
        for i, name in enumerate(names):
            listed = listed + (", " if i else "") + code(ctx.prefix + name)
        return listed

    async def _unknown(self, ctx: Context, typed: str) -> None:
        ctx.role = await self.services.permissions.role_of(ctx.sender, ctx.room_id, ctx.is_direct)
        suggestion = self.registry.suggest(typed, ctx.role)
        if suggestion:
            await self._say(ctx, Reply("commands.unknown_suggest", command=code(ctx.prefix + suggestion)))
        else:
            help_name = ctx.t("commands.help_name")
            await self._say(ctx, Reply("commands.unknown", help=code(ctx.prefix + help_name)))

    async def _say(self, ctx: Context, reply: Reply) -> None:
        if reply.in_dm and not ctx.is_direct:
            await ctx.send(reply, to_user=ctx.sender)
            return
        await ctx.send(reply, reply_to=None if ctx.is_direct else ctx.event_id, thread_root=ctx.thread_root)


def _thread_root(event: dict[str, Any]) -> str | None:
    relation = (event.get("content") or {}).get("m.relates_to") or {}
    if relation.get("rel_type") == "m.thread" and relation.get("event_id"):
        return str(relation["event_id"])
    return None


def _member_change(event: dict[str, Any]) -> MemberChange:
    content = event.get("content") or {}
    unsigned = event.get("unsigned") or {}
    prev = event.get("prev_content") or unsigned.get("prev_content") or {}
    return MemberChange(
        room_id=event["room_id"],
        user_id=event.get("state_key", ""),
        sender=event.get("sender", ""),
        membership=content.get("membership", ""),
        prev_membership=prev.get("membership"),
        display_name=content.get("displayname"),
        prev_display_name=prev.get("displayname"),
        event_id=event["event_id"],
        origin_ts=int(event.get("origin_server_ts", 0)),
    )


def _reaction(event: dict[str, Any]) -> Reaction | None:
    rel = (event.get("content") or {}).get("m.relates_to") or {}
    if rel.get("rel_type") != "m.annotation" or not rel.get("event_id"):
        return None
    return Reaction(
        room_id=event["room_id"],
        sender=event.get("sender", ""),
        event_id=event["event_id"],
        target=rel["event_id"],
        key=str(rel.get("key", "")),
        origin_ts=int(event.get("origin_server_ts", 0)),
    )


def _redaction(event: dict[str, Any]) -> Redaction | None:
    redacts = event.get("redacts") or (event.get("content") or {}).get("redacts")
    if not redacts:
        return None
    return Redaction(
        room_id=event["room_id"],
        sender=event.get("sender", ""),
        event_id=event["event_id"],
        redacts=str(redacts),
        origin_ts=int(event.get("origin_server_ts", 0)),
    )


__all__ = ["Dispatcher", "Role"]
