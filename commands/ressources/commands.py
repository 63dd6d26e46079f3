"""The resource library: `!ressource ajouter` for members, `!ressource vedette` for
animators (featured in the weekly digest), `!ressources` to search recordings,
materials, what members shared and the published digests — one search, through the
shared index (accents, one typo, word beginnings)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.arguments import Rest
from bot.context import Context, Reply
from bot.dates import iso_week
from bot.digest_sections import digest_section
from bot.errors import UserError
from bot.formatting import Rich, bold, bullets, code, italic, join, lines, link, user_link
from bot.i18n import Translator
from bot.registry import command, personal_data
from bot.roles import Role
from commands.ressources.parsing import parse_new, parse_query
from storage.models.ressources import Resource
from storage.repositories.ressources import ResourceFilter
from storage.unit import Repos

PAGE = 10
ICONS = {
    "captation": "🎬",
    "support": "📎",
    "digest": "📰",
    "pratique": "💡",
    "outil": "🧰",
    "methode": "🧭",
    "retour_experience": "🗣️",
    "formation": "🎓",
    "autre": "🔖",
}


def kind_label(tr: Translator, kind: str) -> str:
    return tr.t(f"ressources.kinds.{kind}")


def resource_line(tr: Translator, r: Resource, prefix: str = "!") -> Rich:
    title = link(r.url, r.title) if r.url else Rich.text(r.title)
    bits: list[object] = [
        ICONS.get(r.kind, "🔖") + " " + bold(title),
        kind_label(tr, r.kind),
        tr.value(
            r.created_at.astimezone(tr.tz).date(),
            "day_month" if r.created_at.year == _this_year(tr) else "date",
        ),
    ]
    if r.kind == "digest" and r.digest_id is not None:
        bits.append(code(f"{prefix}digest archives {r.title.rsplit(' ', 1)[-1]}"))
    if r.tags:
        bits.append(" ".join(f"#{t}" for t in r.tags))
    bits.append(code(f"n° {r.id}"))
    return join(bits, " · ")


def _this_year(tr: Translator) -> int:
    return datetime.now(tr.tz).year


# --- published digests, kept searchable ---------------------------------------------------------------------
async def sync_digests(ctx: Context) -> int:
    """Each published digest not yet in the library becomes a resource (its signals'
    titles are what is searched). Read through the digests' repository, a fact of the
    storage, not of the digest feature's code."""
    known = await ctx.repos.resources.latest_digest_id()
    latest = await ctx.repos.digests.latest()
    if latest is None or latest.id <= known:  # the everyday case: one indexed read each
        return 0
    newer = [d for d in await ctx.repos.digests.archives(limit=500) if d.id > known]
    if not newer:
        return 0
    tr = ctx.services.translator()
    for digest in sorted(newer, key=lambda d: d.id):
        signals = await ctx.repos.signals.many([int(i["id"]) for i in digest.items])
        titles = [signals[int(i["id"])].title for i in digest.items if int(i["id"]) in signals]
        await ctx.repos.resources.add(
            Resource(
                kind="digest",
                title=tr.t("ressources.digest_title", week=digest.week),
                description=" · ".join(titles),
                digest_id=digest.id,
                created_at=digest.created_at,
            )
        )
    return len(newer)


# --- !ressource ---------------------------------------------------------------------
@command("ressource", aliases=["resource"], help="ressources.ressource.help", feature="ressources")
async def resource(ctx: Context, texte: Rest = "") -> Reply:
    number = texte.strip().lstrip("#").removeprefix("n°").strip()
    if not number.isdigit():
        raise UserError("ressources.errors.usage")
    return await show(ctx, int(number))


async def get_resource(ctx: Context, number: int) -> Resource:
    found = await ctx.repos.resources.get(number)
    if found is None:
        raise UserError("ressources.errors.unknown", id=number)
    return found


async def show(ctx: Context, number: int) -> Reply:
    r = await get_resource(ctx, number)
    parts: list[Rich] = [resource_line(ctx.tr, r, ctx.prefix)]
    if r.description:
        parts.append(italic(r.description if len(r.description) < 600 else r.description[:599] + "…"))
    if r.author_id:
        parts.append(
            ctx.rich("ressources.shared_by", who=user_link(r.author_id, r.author_name or r.author_id))
        )
    if r.featured_week:
        parts.append(ctx.rich("ressources.featured_line", week=r.featured_week))
    return Reply(rich=lines(parts))


@resource.sub("ajouter", aliases=["add", "partager", "share"], help="ressources.ajouter.help")
async def add(ctx: Context, texte: Rest) -> Reply:
    draft = parse_new(texte)
    created = await ctx.repos.resources.add(
        Resource(
            kind=draft.kind,
            title=draft.title,
            url=draft.url,
            description=draft.description,
            tags=draft.tags,
            author_id=ctx.sender,
            author_name=ctx.display_name(ctx.sender),
            room_id=None if ctx.is_direct else ctx.room_id,
            created_at=ctx.now(),
        )
    )
    return Reply(
        "ressources.added",
        id=created.id,
        title=created.title,
        kind=kind_label(ctx.tr, created.kind),
        tags=" ".join(f"#{t}" for t in created.tags) or "—",
    )


@resource.sub("retirer", aliases=["remove", "supprimer", "delete"], help="ressources.retirer.help")
async def remove(ctx: Context, id: int) -> Reply:
    r = await get_resource(ctx, id)
    if r.kind == "digest":
        raise UserError("ressources.errors.digest_stays")
    if r.author_id != ctx.sender and ctx.role < Role.ANIMATOR:
        raise UserError("ressources.errors.not_yours", id=r.id)
    title = r.title
    await ctx.repos.resources.delete(r)
    return Reply("ressources.removed", id=id, title=title)


@resource.sub(
    "vedette",
    aliases=["avant", "feature", "digest", "une"],
    role=Role.ANIMATOR,
    help="ressources.vedette.help",
)
async def feature(ctx: Context, id: int) -> Reply:
    """Featured in the next weekly digest: this week's, or next week's once this week's
    digest is out (a digest is published once per ISO week)."""
    r = await get_resource(ctx, id)
    if r.kind == "digest":
        raise UserError("ressources.errors.digest_stays")
    now = ctx.now()
    week = iso_week(now.date())
    if await ctx.repos.digests.for_week(week) is not None:
        week = iso_week((now + timedelta(days=7)).date())
    if r.featured_week == week:
        await ctx.repos.resources.feature(r, None, None)
        return Reply("ressources.unfeatured", id=r.id, title=r.title)
    await ctx.repos.resources.feature(r, week, ctx.sender)
    return Reply("ressources.featured", id=r.id, title=r.title)


# --- !ressources ---------------------------------------------------------------------
@command(
    "ressources",
    aliases=["resources", "bibliotheque", "library"],
    help="ressources.ressources.help",
    feature="ressources",
)
async def search(ctx: Context, recherche: Rest = "") -> Reply:
    await sync_digests(ctx)
    q = parse_query(recherche, ctx.now())
    page = await ctx.repos.resources.find(ResourceFilter(q.text, q.kinds, q.since), limit=PAGE)
    if not page.resources:
        return Reply("ressources.search.none" if recherche.strip() else "ressources.search.empty")
    if not q.text:
        head = ctx.rich("ressources.search.latest", n=page.total)
    elif page.complete:
        head = ctx.rich("ressources.search.found", n=page.total)
    else:
        head = ctx.rich("ressources.search.found_many", n=page.total)
    parts: list[Rich] = [head, bullets(resource_line(ctx.tr, r, ctx.prefix) for r in page.resources)]
    if page.total > len(page.resources):
        parts.append(ctx.rich("ressources.search.more", n=page.total - len(page.resources)))
    return Reply(rich=lines(parts))


# --- the digest's section ---------------------------------------------------------------------
@digest_section(order=10)
async def featured_in_digest(ctx: Context, week: str) -> Rich | None:
    """What the weekly digest of `week` shows of the library: the resources animators
    featured that week (the digest's extension point, `bot.digest_sections`)."""
    featured = await ctx.repos.resources.featured(week)
    if not featured:
        return None
    tr = ctx.services.translator()
    return lines(
        [tr.rich("ressources.digest_head"), bullets(resource_line(tr, r, ctx.prefix) for r in featured)]
    )


# --- personal data ---------------------------------------------------------------------
class ResourcesData:
    """What a member shared goes; what they attached to an event stays, unnamed."""

    name = "ressources"

    async def export(self, repos: Repos, user_id: str) -> dict[str, Any]:
        return {
            "ressources_partagees": await repos.resources.export_member(user_id),
            "mises_en_vedette": await repos.resources.featured_by(user_id),
        }

    async def erase(self, repos: Repos, user_id: str) -> int:
        return await repos.resources.erase_member(user_id)


RESOURCES_DATA = personal_data(ResourcesData())
