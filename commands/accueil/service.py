"""The rules of the welcome: who is welcomed where (once per member and group of rooms),
when a batch of arrivals is due, the text it is posted with, and posting it.

No Matrix here and no SQLAlchemy: the rules read and write through `ctx.repos` and speak
through `ctx.send`, which queues outbox rows in the caller's unit of work, so the claimed
rows and the queued messages commit together (a crash posts a batch once or not at all)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.context import Context, Reply
from bot.formatting import Rich, user_link
from bot.registry import MemberChange
from commands.accueil.config import AccueilConfig
from commands.accueil.groups import Group, group_of, room_listed
from commands.accueil.onboarding import offer
from commands.accueil.template import check_template, join_names, render_template

if TYPE_CHECKING:
    from storage.models.directory import Welcome
    from storage.repositories.welcome import PendingGroup
    from storage.unit import Repos

TEMPLATE_KEY = "accueil.message:"  # + group key: the animators' text, in `bot_state`


def settings(ctx: Context) -> AccueilConfig:
    return ctx.config.section(AccueilConfig)


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


def due_at(pending: PendingGroup, cfg: AccueilConfig) -> datetime:
    """When a batch is posted: `batch_seconds` after the latest arrival (a wave of joins
    is one message), at most `batch_max_seconds` after the first (nobody waits long)."""
    quiet = pending.last_join + timedelta(seconds=cfg.batch_seconds)
    cap = pending.first_join + timedelta(seconds=max(cfg.batch_max_seconds, cfg.batch_seconds))
    return min(quiet, cap)


# --- arrivals -------------------------------------------------------------------------------------
async def record_arrival(ctx: Context, change: MemberChange) -> tuple[str, datetime] | None:
    """Note a real arrival for its group's next batch, once per member and group. Returns
    the group and when its batch is due, or None if nobody is to be welcomed. Someone who
    left before their batch was posted is dropped from it."""
    if change.is_leave:
        await ctx.repos.welcomes.drop_pending(change.user_id, change.room_id)
        return None
    # Display-name and avatar changes are join → join; the bot's own joins never reach
    # here (the sync loop drops the bot's events), but a config may list it anyway.
    if not change.is_join or change.user_id == ctx.services.bot_user_id:
        return None
    cfg = settings(ctx)
    if change.user_id in cfg.ignore_users or not welcomes_in(ctx, change.room_id):
        return None
    group = group_for(ctx, change.room_id)
    if await ctx.repos.welcomes.welcomed(change.user_id, group.key, group.rooms):
        return None  # already welcomed in this group, or coming back
    name = change.display_name or ctx.display_name(change.user_id, change.room_id)
    if not await ctx.repos.welcomes.add_pending(group.key, change.user_id, change.room_id, name, ctx.now()):
        return None
    pending = await ctx.repos.welcomes.pending_group(group.key)
    return None if pending is None else (group.key, due_at(pending, cfg))


async def next_due(ctx: Context, group_key: str) -> datetime | None:
    """When the group's waiting arrivals (if any) are due."""
    pending = await ctx.repos.welcomes.pending_group(group_key)
    return None if pending is None else due_at(pending, settings(ctx))


# --- the text -------------------------------------------------------------------------------------
async def template_for(repos: Repos, cfg: AccueilConfig, group_key: str) -> tuple[str | None, str]:
    """The group's text and where it comes from: « salon » (set in chat), « config »,
    or « defaut » (None: the catalog's)."""
    override = await repos.state.get(TEMPLATE_KEY + group_key)
    if override:
        return override, "salon"
    if cfg.template.strip():
        return cfg.template.strip(), "config"
    return None, "defaut"


async def set_template(ctx: Context, group: Group, text: str) -> None:
    """The animators' text for this group of rooms (checked first)."""
    await ctx.repos.state.set(TEMPLATE_KEY + group.key, check_template(text))


async def reset_template(ctx: Context, group: Group) -> None:
    await ctx.repos.state.delete(TEMPLATE_KEY + group.key)


def default_template(ctx: Context, cfg: AccueilConfig) -> str:
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


# --- the batch ------------------------------------------------------------------------------------
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
        await _post_room(ctx, cfg, group_key, room_id, people)
    if cfg.dm_onboarding:
        for members in by_room.values():
            for m in members:
                if not await ctx.repos.welcomes.posted_elsewhere(m.user_id, group_key):
                    await offer(ctx, m.user_id)
    return None


async def _post_room(
    ctx: Context, cfg: AccueilConfig, group_key: str, room_id: str, people: list[tuple[str, str]]
) -> None:
    """One room's welcome, and the animators' notice of it."""
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
