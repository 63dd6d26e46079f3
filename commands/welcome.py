"""Welcoming new members: a real join queues a welcome (once per member and group of
rooms), the batching job posts one message naming everyone who arrived in the window and
opens the onboarding conversation in a direct chat; animators edit the text in chat with
`!accueil message`, `!accueil apercu`, `!accueil reinitialiser`."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.date import DateTrigger
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from bot.arguments import Rest
from bot.config import Section, config_section, user_ids
from bot.context import Context, Reply
from bot.errors import UserError
from bot.formatting import Rich, code, lines, user_link
from bot.hints import operator_hint
from bot.registry import MemberChange, command, on_member, personal_data
from bot.roles import Role
from commands import onboarding
from commands.welcome_text import Group, check_template, group_of, join_names, render_template, room_listed

if TYPE_CHECKING:
    from bot.scheduler import JobContext, Scheduler
    from storage.models.directory import Welcome
    from storage.repositories.welcome import PendingGroup
    from storage.unit import Repos

ROOM_REF = re.compile(r"^(![^:\s]+(?::\S+)?|#[^:\s]+:\S+)$")
TEMPLATE_KEY = "accueil.message:"  # + group key: the animators' text, in `bot_state`


@config_section("accueil")
class WelcomeConfig(Section):
    # Welcome newcomers at all.
    enabled: bool = True
    # Rooms where newcomers are welcomed (IDs or aliases); empty: every room the bot serves.
    rooms: list[str] = Field(default_factory=list)
    # Rooms where nobody is welcomed (an announcement room…).
    exclude_rooms: list[str] = Field(default_factory=list)
    # Groups of rooms in which a member is welcomed once (e.g. the rooms of the network's
    # space); a room in no group is its own group.
    groups: list[list[str]] = Field(default_factory=list)
    # Joins within this quiet time are welcomed together, in one message…
    batch_seconds: int = Field(default=20, ge=0, le=3600)
    # …but nobody waits longer than this after their arrival.
    batch_max_seconds: int = Field(default=120, ge=0, le=86400)
    # The welcome text (placeholders {nom}, {reseau}, {salon}); empty: the default text.
    template: str = ""
    # Offer each newcomer to create their profile step by step in a direct chat.
    dm_onboarding: bool = True
    # Where animators get a short notice per batch of arrivals (a room ID); empty: none.
    moderators_room: str = ""
    # Accounts never welcomed (other bots, bridges).
    ignore_users: list[str] = Field(default_factory=list)

    @field_validator("rooms", "exclude_rooms")
    @classmethod
    def _rooms(cls, v: list[str]) -> list[str]:
        for r in v:
            _room_ref(r)
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[list[str]]) -> list[list[str]]:
        for group in v:
            if not group:
                raise PydanticCustomError("list_type", "empty group", {})
            for r in group:
                _room_ref(r)
        return v

    @field_validator("ignore_users")
    @classmethod
    def _users(cls, v: list[str]) -> list[str]:
        return user_ids(v)

    @field_validator("moderators_room")
    @classmethod
    def _moderators(cls, v: str) -> str:
        return _room_ref(v) if v else v

    @field_validator("template")
    @classmethod
    def _template(cls, v: str) -> str:
        if v.strip():
            try:
                check_template(v)
            except UserError:
                raise PydanticCustomError(
                    "welcome_template", "bad welcome template {value}", {"value": v[:80]}
                ) from None
        return v


def _room_ref(v: str) -> str:
    if not ROOM_REF.match(v.strip()):
        raise PydanticCustomError("room_ref", "not a room id or alias: {value}", {"value": v})
    return v


def settings(ctx: Context) -> WelcomeConfig:
    return ctx.config.section(WelcomeConfig)


# --- where, and in which group -----------------------------------------------------------------
def welcomes_in(ctx: Context, room_id: str) -> bool:
    """Newcomers are welcomed in every room the bot serves except direct chats, unless the
    config narrows it (`rooms`) or excludes the room (`exclude_rooms`)."""
    cfg = settings(ctx)
    rooms = ctx.services.rooms
    if not cfg.enabled or not room_id or rooms.is_direct(room_id):
        return False
    if rooms.space_children(room_id) is not None:
        return False  # joining a space: nobody reads its timeline; its rooms welcome
    aliases = rooms.room_aliases(room_id)
    if cfg.rooms and not room_listed(room_id, aliases, cfg.rooms):
        return False
    return not room_listed(room_id, aliases, cfg.exclude_rooms)


def group_for(ctx: Context, room_id: str) -> Group:
    cfg = settings(ctx)
    rooms = ctx.services.rooms
    if not cfg.groups:
        return group_of(room_id, rooms.room_aliases(room_id), [])
    known = {r: rooms.room_aliases(r) for r in rooms.joined_rooms()}
    spaces = {r: children for r in known if (children := rooms.space_children(r)) is not None}
    return group_of(room_id, rooms.room_aliases(room_id), cfg.groups, known, spaces)


def due_at(pending: PendingGroup, cfg: WelcomeConfig) -> datetime:
    """When a batch is posted: `batch_seconds` after the latest arrival (a wave of joins
    is one message), at most `batch_max_seconds` after the first (nobody waits long)."""
    quiet = pending.last_join + timedelta(seconds=cfg.batch_seconds)
    cap = pending.first_join + timedelta(seconds=max(cfg.batch_max_seconds, cfg.batch_seconds))
    return min(quiet, cap)


# --- arrivals -------------------------------------------------------------------------------------
@on_member
async def on_arrival(ctx: Context, change: MemberChange) -> None:
    if change.is_leave:
        # Left before their batch was posted: dropped from it.
        await ctx.repos.welcomes.drop_pending(change.user_id, change.room_id)
        return
    # Display-name and avatar changes are join → join; the bot's own joins never reach
    # here (the sync loop drops the bot's events), but a config may list it anyway.
    if not change.is_join or change.user_id == ctx.services.bot_user_id:
        return
    cfg = settings(ctx)
    if change.user_id in cfg.ignore_users or not welcomes_in(ctx, change.room_id):
        return
    group = group_for(ctx, change.room_id)
    if await ctx.repos.welcomes.welcomed(change.user_id, group.key, group.rooms):
        return  # already welcomed in this group, or coming back
    name = change.display_name or ctx.display_name(change.user_id, change.room_id)
    if not await ctx.repos.welcomes.add_pending(group.key, change.user_id, change.room_id, name, ctx.now()):
        return
    pending = await ctx.repos.welcomes.pending_group(group.key)
    scheduler = ctx.services.scheduler
    if pending is not None and scheduler is not None:
        schedule_batch(scheduler, group.key, due_at(pending, cfg) - ctx.now())


# --- the batch ------------------------------------------------------------------------------------
async def template_for(repos: Repos, cfg: WelcomeConfig, group_key: str) -> tuple[str | None, str]:
    """The group's text and where it comes from: « salon » (set in chat), « config »,
    or « defaut » (None: the catalog's)."""
    override = await repos.state.get(TEMPLATE_KEY + group_key)
    if override:
        return override, "salon"
    if cfg.template.strip():
        return cfg.template.strip(), "config"
    return None, "defaut"


def default_template(ctx: Context, cfg: WelcomeConfig) -> str:
    tr = ctx.services.translator()
    return tr.template("accueil.default" if cfg.dm_onboarding else "accueil.default_no_dm", {})


async def welcome_text(ctx: Context, room_id: str, group_key: str, people: list[tuple[str, str]]) -> Rich:
    """The welcome for `people` (user id, name) in `room_id`, in the network's language,
    each name a pill (the message's `m.mentions` is what notifies them)."""
    cfg = settings(ctx)
    tr = ctx.services.translator()
    text, _ = await template_for(ctx.repos, cfg, group_key)
    names = join_names([user_link(uid, name) for uid, name in people], tr.t("accueil.and"))
    values: dict[str, Rich | str] = {
        "nom": names,
        "reseau": ctx.config.bot.network_name,
        "salon": ctx.services.rooms.room_name(room_id),
    }
    return render_template(text or default_template(ctx, cfg), values, french=tr.locale == "fr")


def batch_key(group_key: str, room_id: str, user_ids: list[str]) -> str:
    """The outbox dedup key of one posted batch: the same batch can never be queued twice."""
    digest = hashlib.sha256("\n".join(sorted(user_ids)).encode()).hexdigest()[:16]
    return f"accueil:{group_key}:{room_id}:{digest}"


async def post_batch(ctx: Context, group_key: str) -> datetime | None:
    """Post the group's waiting welcomes if their window is over (one message per room,
    the moderators' notice, the onboarding conversations). Returns when to look again if
    the window is still open. The caller commits: the claimed rows and the queued
    messages go together, so a crash posts everything once or nothing."""
    cfg = settings(ctx)
    pending = await ctx.repos.welcomes.pending_group(group_key)
    if pending is None:
        return None
    due = due_at(pending, cfg)
    if ctx.now() < due:
        return due
    rows = await ctx.repos.welcomes.pending(group_key)
    claimed = await ctx.repos.welcomes.claim(group_key, [r.user_id for r in rows])
    by_room: dict[str, list[Welcome]] = {}
    for row in rows:
        if row.user_id in claimed:
            by_room.setdefault(row.room_id, []).append(row)
    for room_id, members in by_room.items():
        people = [(m.user_id, m.display_name or ctx.display_name(m.user_id, room_id)) for m in members]
        ids = [uid for uid, _ in people]
        text = await welcome_text(ctx, room_id, group_key, people)
        key = batch_key(group_key, room_id, ids)
        await ctx.send(Reply(rich=text, mentions=ids), room_id=room_id, dedup_key=key)
        if cfg.moderators_room:
            tr = ctx.services.translator()
            notice = tr.rich(
                "accueil.notice",
                salon=ctx.services.rooms.room_name(room_id),
                noms=join_names([user_link(uid, name) for uid, name in people], tr.t("accueil.and")),
                n=len(people),
            )
            await ctx.send(Reply(rich=notice), room_id=cfg.moderators_room, dedup_key=key + ":animateurs")
    if cfg.dm_onboarding:
        for members in by_room.values():
            for m in members:
                if not await ctx.repos.welcomes.posted_elsewhere(m.user_id, group_key):
                    await onboarding.offer(ctx, m.user_id)
    return None


# --- the batching job ------------------------------------------------------------------------------
JOB_PREFIX = "welcome.batch:"


def schedule_batch(scheduler: Scheduler, group_key: str, delay: timedelta) -> None:
    """(Re)schedule the group's batch `delay` from now (replacing an earlier plan: each
    arrival pushes the quiet window back, within `batch_max_seconds`)."""
    when = datetime.now(UTC) + max(delay, timedelta(0))
    scheduler.add(
        JOB_PREFIX + group_key,
        run_batch,
        DateTrigger(when),
        kwargs={"group_key": group_key},
        misfire_grace_time=None,  # late is better than never: always run
    )


async def run_batch(jobs: JobContext, group_key: str) -> None:
    async with jobs.unit() as ctx:
        again = await post_batch(ctx, group_key)
        await ctx.repos.commit()
        if again is None:
            # Arrivals committed while this batch was being posted wait for their own.
            pending = await ctx.repos.welcomes.pending_group(group_key)
            if pending is not None:
                again = due_at(pending, ctx.config.section(WelcomeConfig))
        now = ctx.now()
    scheduler = jobs.services.scheduler
    if again is not None and scheduler is not None:
        schedule_batch(scheduler, group_key, again - now)


# --- !accueil -------------------------------------------------------------------------------------
def _in_room(ctx: Context) -> Group:
    if ctx.is_direct:
        raise UserError("accueil.errors.in_room")
    return group_for(ctx, ctx.room_id)


def _sample(ctx: Context) -> list[tuple[str, str]]:
    return [(ctx.sender, ctx.display_name(ctx.sender))]


@command("accueil", aliases=["welcome"], role=Role.ANIMATOR, help="accueil.help")
async def status(ctx: Context) -> Reply:
    group = _in_room(ctx)
    cfg = settings(ctx)
    _, source = await template_for(ctx.repos, cfg, group.key)
    parts: list[Rich] = [
        ctx.rich("accueil.status.on")
        if welcomes_in(ctx, ctx.room_id)
        else ctx.rich("accueil.status.off", hint=operator_hint(ctx, "accueil.status.off_operator")),
        ctx.rich("accueil.status.group", n=len(group.rooms)),
        ctx.rich("accueil.status.batch", seconds=cfg.batch_seconds),
        ctx.rich("accueil.status.dm_on" if cfg.dm_onboarding else "accueil.status.dm_off"),
        ctx.rich(f"accueil.status.source_{source}"),
        ctx.rich("accueil.preview_title"),
        await welcome_text(ctx, ctx.room_id, group.key, _sample(ctx)),
        ctx.rich("accueil.status.commands", example=code(f"{ctx.prefix}accueil message …")),
    ]
    return Reply(rich=lines(parts))


@status.sub("message", aliases=["texte", "text"], help="accueil.message.help")
async def set_message(ctx: Context, texte: Rest) -> Reply:
    group = _in_room(ctx)
    text = check_template(texte)
    await ctx.repos.state.set(TEMPLATE_KEY + group.key, text)
    preview = await welcome_text(ctx, ctx.room_id, group.key, _sample(ctx))
    return Reply(rich=ctx.rich("accueil.saved", n=len(group.rooms)) + Rich("\n", "<br>") + preview)


@status.sub("apercu", aliases=["preview"], help="accueil.apercu.help")
async def preview(ctx: Context) -> Reply:
    group = _in_room(ctx)
    text = await welcome_text(ctx, ctx.room_id, group.key, _sample(ctx))
    return Reply(rich=ctx.rich("accueil.preview_title") + Rich("\n", "<br>") + text)


@status.sub("reinitialiser", aliases=["reset", "defaut"], help="accueil.reinitialiser.help")
async def reset(ctx: Context) -> Reply:
    group = _in_room(ctx)
    await ctx.repos.state.delete(TEMPLATE_KEY + group.key)
    text = await welcome_text(ctx, ctx.room_id, group.key, _sample(ctx))
    return Reply(rich=ctx.rich("accueil.reset") + Rich("\n", "<br>") + text)


# --- personal data ----------------------------------------------------------------------------------
class WelcomeData:
    """Where and when a member was welcomed. Erased with the rest: if they come back
    after `!oublier-moi`, they are welcomed as new."""

    name = "accueil"

    async def export(self, repos: Repos, user_id: str) -> Any:
        return await repos.welcomes.export_member(user_id)

    async def erase(self, repos: Repos, user_id: str) -> int:
        return await repos.welcomes.erase_member(user_id)


personal_data(WelcomeData())
