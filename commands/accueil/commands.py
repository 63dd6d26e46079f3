"""Welcoming new members: a real join queues a welcome (once per member and group of
rooms), the batching job posts one message naming everyone who arrived in the window and
opens the onboarding conversation in a direct chat; animators edit the text in chat with
`!accueil message`, `!accueil apercu`, `!accueil reinitialiser`."""

from __future__ import annotations

from bot.arguments import Rest
from bot.context import Context, Reply
from bot.errors import UserError
from bot.formatting import Rich, code, lines
from bot.hints import operator_hint
from bot.registry import MemberChange, command, on_member
from bot.roles import Role
from commands.accueil.groups import Group
from commands.accueil.jobs import schedule_batch
from commands.accueil.service import (
    group_for,
    record_arrival,
    reset_template,
    set_template,
    settings,
    template_for,
    welcome_text,
    welcomes_in,
)


@on_member
async def on_arrival(ctx: Context, change: MemberChange) -> None:
    due = await record_arrival(ctx, change)
    scheduler = ctx.services.scheduler
    if due is not None and scheduler is not None:
        group_key, when = due
        schedule_batch(scheduler, group_key, when - ctx.now())


# --- !accueil -------------------------------------------------------------------------------------
def _in_room(ctx: Context) -> Group:
    if ctx.is_direct:
        raise UserError("accueil.errors.in_room")
    return group_for(ctx, ctx.room_id)


def _sample(ctx: Context) -> list[tuple[str, str]]:
    return [(ctx.sender, ctx.display_name(ctx.sender))]


async def _preview(ctx: Context, group: Group, title_key: str, **params: int) -> Reply:
    text = await welcome_text(ctx, ctx.room_id, group.key, _sample(ctx))
    return Reply(rich=ctx.rich(title_key, **params) + Rich("\n", "<br>") + text)


@command("accueil", aliases=["welcome"], role=Role.ANIMATOR, help="accueil.help", feature="accueil")
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
    await set_template(ctx, group, texte)
    return await _preview(ctx, group, "accueil.saved", n=len(group.rooms))


@status.sub("apercu", aliases=["preview"], help="accueil.apercu.help")
async def preview(ctx: Context) -> Reply:
    return await _preview(ctx, _in_room(ctx), "accueil.preview_title")


@status.sub("reinitialiser", aliases=["reset", "defaut"], help="accueil.reinitialiser.help")
async def reset(ctx: Context) -> Reply:
    group = _in_room(ctx)
    await reset_template(ctx, group)
    return await _preview(ctx, group, "accueil.reset")
