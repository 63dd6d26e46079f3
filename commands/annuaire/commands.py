"""The member directory (annuaire): `!profil` to see and edit one's own profile (or
someone's listed one), `!annuaire` to find members by words and filters.

Opt-in: a profile is found only once its owner made it visible (`!profil visible`); a
profile imported from the contact book stays out of the directory until its owner
confirms it (`!profil confirmer`, or `!profil visible`, which says more)."""

from __future__ import annotations

import time
from dataclasses import replace

import commands.annuaire.render as render
import commands.annuaire.search as search
import commands.annuaire.service as service
from bot.arguments import Rest
from bot.context import Context, Reply
from bot.errors import UserError
from bot.formatting import Rich, code, lines, user_link
from bot.parsing import split_first
from bot.query import offer_as_filter
from bot.registry import MemberChange, command, on_member
from bot.text import fold
from commands import directory_vocab as vocab
from commands.annuaire.fields import DirectoryConfig, ProfileField, directory_settings, field_named
from storage.models.directory import Profile
from storage.repositories.profiles import STRUCTURE_KIND, TERRITORY, DirectoryQuery, is_listed


def settings(ctx: Context) -> DirectoryConfig:
    return directory_settings(ctx.config)


# --- the member's own profile -------------------------------------------------------------
def status_hint(ctx: Context, profile: Profile) -> Rich | None:
    """What still keeps an edited profile out of the directory, if anything."""
    if profile.pending:
        return ctx.rich("profil.hint_pending")
    if not profile.visible:
        return ctx.rich("profil.hint_hidden")
    return None


# --- !profil -------------------------------------------------------------------------------
MAX_NAMED = 5  # members listed when a typed name fits several


@command("profil", aliases=["profile"], help="profil.help", feature="annuaire")
async def profile(ctx: Context, profil_quoi: Rest = "") -> Reply:
    text = profil_quoi.strip()
    if not text:
        return await _show_own(ctx)
    first, rest = split_first(text)
    if first.startswith("@"):
        if rest:
            raise UserError("profil.errors.person_then_text", extra=rest)
        return await _show_other(ctx, first.rstrip(",:;"))
    field = field_named(first)
    if field is None:
        # Not a field: a member's name typed without a mention pill (« !profil Camille Martin »).
        named = await ctx.repos.profiles.listed_named(text, limit=MAX_NAMED + 1)
        if len(named) == 1:
            return await _show_other(ctx, named[0].user_id)
        if named:
            more = len(named) > MAX_NAMED
            return Reply(rich=render.named(ctx.tr, named[:MAX_NAMED], typed=text, more=more))
        raise UserError("profil.errors.unknown_field", typed=text, fields=render.typed_names(ctx.tr))
    return await _edit(ctx, field, rest)


async def _show_own(ctx: Context) -> Reply:
    p = await service.own(ctx, create=False)
    if p is None:
        return Reply("profil.own.none", fields=render.typed_names(ctx.tr))
    return Reply(rich=render.own_profile(ctx.tr, p, matrix_name=p.display_name, in_direct=ctx.is_direct))


async def _show_other(ctx: Context, user_id: str) -> Reply:
    if user_id == ctx.sender:
        return await _show_own(ctx)
    p = await ctx.repos.profiles.get(user_id)
    # A hidden or unconfirmed profile is answered exactly like a missing one: the
    # directory never tells who has kept a profile to themselves.
    if p is None or not is_listed(p):
        who = user_link(user_id, ctx.display_name(user_id))
        return Reply("profil.not_listed", who=who)
    return Reply(rich=render.profile_card(ctx.tr, p))


async def _edit(ctx: Context, field: ProfileField, raw: str) -> Reply:
    label = render.field_label(ctx.tr, field.attr)
    if not raw.strip():
        raise UserError(
            "profil.errors.missing_value",
            field=label,
            example=code(ctx.t(f"profil.examples_by_field.{field.attr}")),
            clear=code(ctx.t("profil.cmd.clear", field=render.typed_name(ctx.tr, field.attr))),
        )
    p = await service.own(ctx, create=True)
    assert p is not None
    before = getattr(p, field.attr)
    replaced: Rich | None = None
    if field.attr in LIST_FIELDS:
        value, replaced = _list_edit(ctx, field, raw, list(before or []))
    else:
        value = field.parse(raw, settings(ctx))
    await service.edit(ctx, p, **{field.attr: value})
    parts = [ctx.rich("profil.edited", field=label, value=render.shown_value(value))]
    if replaced is not None:
        parts.append(replaced)
    hint = status_hint(ctx, p)
    if hint is not None:
        parts.append(hint)
    return Reply(rich=lines(parts))


# Fields holding a list: « + X » adds to it, « - X » removes from it, a plain value replaces
# it (and the answer says so).
LIST_FIELDS = ("tags", "territories")


def _list_edit(
    ctx: Context, field: ProfileField, raw: str, before: list[str]
) -> tuple[list[str], Rich | None]:
    text = raw.strip()
    sign, rest = (text[0], text[1:]) if text[:1] in ("+", "-", "−") else ("", text)
    if sign and not rest.strip():
        raise UserError(
            "profil.errors.missing_value",
            field=render.field_label(ctx.tr, field.attr),
            example=code(ctx.t(f"profil.examples_by_field.{field.attr}")),
            clear=code(ctx.t("profil.cmd.clear", field=render.typed_name(ctx.tr, field.attr))),
        )
    typed: list[str] = field.parse(rest, settings(ctx))
    if sign == "+":
        known = {fold(v) for v in before}
        value = before + [v for v in typed if fold(v) not in known]
        if field.attr == "tags":
            field.parse(", ".join(value), settings(ctx))  # the limit on the whole list
        return value, None
    if sign:
        gone = {fold(v) for v in typed}
        if not gone & {fold(v) for v in before}:
            raise UserError(
                "profil.errors.not_in_list",
                field=render.field_label(ctx.tr, field.attr),
                value=", ".join(typed),
            )
        return [v for v in before if fold(v) not in gone], None
    if before and [fold(v) for v in before] != [fold(v) for v in typed]:
        name = render.typed_name(ctx.tr, field.attr)
        return typed, ctx.rich(
            "profil.replaced",
            before=", ".join(before),
            add=code(ctx.t("profil.cmd.add", field=name)),
            remove=code(ctx.t("profil.cmd.remove", field=name)),
        )
    return typed, None


@profile.sub("visible", aliases=["public", "show"], help="profil.visible.help")
async def make_visible(ctx: Context) -> Reply:
    change = await service.make_visible(ctx)
    if change.outcome == "unchanged":
        return Reply("profil.already_visible")
    p = change.profile
    assert p is not None
    parts = [
        ctx.rich(
            "profil.now_visible_confirmed" if change.outcome == "done_confirmed" else "profil.now_visible"
        )
    ]
    missing = render.missing_fields(p)
    if missing:
        parts.append(
            ctx.rich(
                "profil.own.missing",
                fields=", ".join(render.typed_name(ctx.tr, a) for a in missing),
                example=code(ctx.t(f"profil.examples_by_field.{missing[0]}")),
            )
        )
    return Reply(rich=lines(parts))


@profile.sub("masque", aliases=["masquer", "cacher", "hidden", "hide", "prive"], help="profil.masque.help")
async def make_hidden(ctx: Context) -> Reply:
    change = await service.hide(ctx)
    if change.outcome == "none":
        return Reply("profil.own.none", fields=render.typed_names(ctx.tr))
    if change.outcome == "unchanged":
        return Reply("profil.already_hidden")
    return Reply("profil.now_hidden")


@profile.sub("confirmer", aliases=["confirm", "valider"], help="profil.confirmer.help")
async def confirm(ctx: Context) -> Reply:
    change = await service.confirm(ctx)
    p = change.profile
    if p is None:
        return Reply("profil.own.none", fields=render.typed_names(ctx.tr))
    if change.outcome == "unchanged":
        return Reply("profil.not_pending")
    return Reply("profil.confirmed" if not p.visible else "profil.confirmed_visible")


CONFIRM_WORDS = {"confirmer", "confirme", "confirm", "oui", "yes"}


@profile.sub("supprimer", aliases=["delete"], help="profil.supprimer.help")
async def delete(ctx: Context, profil_confirmation: str = "") -> Reply:
    """Two steps without any state to keep: the bot says what will go and asks to type
    the command again with « confirmer »."""
    p = await ctx.repos.profiles.get(ctx.sender)
    if p is None:
        return Reply("profil.own.none", fields=render.typed_names(ctx.tr))
    word = fold(profil_confirmation.strip())
    if not word:
        return Reply("profil.delete_ask")
    if word not in CONFIRM_WORDS:
        raise UserError("profil.errors.delete_word", value=profil_confirmation)
    await service.delete(ctx)
    return Reply("profil.deleted")


EMAIL_NAMES = {"email", "e-mail", "mail", "courriel", "adresse"}


@profile.sub("effacer", aliases=["clear", "vider"], help="profil.effacer.help")
async def clear(ctx: Context, profil_champ: str) -> Reply:
    """Empty one field (the name goes back to the Matrix name)."""
    field = field_named(profil_champ)
    attr = field.attr if field else ("email" if fold(profil_champ) in EMAIL_NAMES else None)
    if attr is None:
        raise UserError("profil.errors.unknown_field", typed=profil_champ, fields=render.typed_names(ctx.tr))
    p = await service.clear(ctx, attr)
    if p is None:
        return Reply("profil.own.none", fields=render.typed_names(ctx.tr))
    if attr == "name":
        return Reply("profil.cleared_name", name=p.shown_name)
    return Reply("profil.cleared", field=render.field_label(ctx.tr, attr))


@on_member
async def remember_display_name(ctx: Context, change: MemberChange) -> None:
    """Keep a profile's default name (the Matrix display name) in step with the member's
    renames, which arrive as join → join membership events."""
    if change.membership != "join" or not change.display_name:
        return
    if change.user_id == ctx.services.bot_user_id:
        return
    await service.rename(ctx, change.user_id, change.display_name)


@command("annuaire", aliases=["directory"], help="annuaire.help", feature="annuaire")
async def directory(ctx: Context, annuaire_recherche: Rest = "") -> Reply:
    cfg = settings(ctx)
    if not annuaire_recherche.strip():
        return await _counts(ctx, cfg)
    parsed = search.parse_query(annuaire_recherche, cfg)
    query = await search.resolve_tag(ctx, parsed.query)
    return await _page(ctx, cfg, query, parsed.typed, 0)


@directory.sub("suite", aliases=["more", "next"], help="annuaire.suite.help")
async def more(ctx: Context) -> Reply:
    last = search.recent(ctx).get(search.search_key(ctx))
    if last is None:
        return Reply("annuaire.suite.none")
    return await _page(ctx, settings(ctx), last.query, last.typed, last.next_offset)


async def _page(ctx: Context, cfg: DirectoryConfig, query: DirectoryQuery, typed: str, offset: int) -> Reply:
    size = cfg.page_size
    page = await ctx.repos.profiles.search(query, limit=size, offset=offset)
    if not page.profiles:
        if offset:
            return Reply("annuaire.suite.end", query=typed)
        nobody = ctx.rich("annuaire.none", query=typed)
        better = await _as_filter(ctx, cfg, query, typed)
        if better is not None:
            return Reply(rich=nobody + Rich("\n", "<br>") + ctx.rich("annuaire.try_kind", suggestion=better))
        return Reply(rich=nobody)
    search.recent(ctx).put(
        search.search_key(ctx), search.LastSearch(query, typed, offset + len(page.profiles), time.monotonic())
    )
    return Reply(
        rich=render.results(
            ctx.tr,
            page.profiles,
            total=page.total,
            complete=page.complete,
            offset=offset,
            matched=page.matched,
            tag_filter=query.tag,
        )
    )


async def _as_filter(ctx: Context, cfg: DirectoryConfig, query: DirectoryQuery, typed: str) -> str | None:
    """For a search that found nobody: the search to type instead when one of its words
    names a type of structure by an alias no profile's text holds (« prefecture »,
    « cpam »: a profile's text has the type's name, not its aliases), and that type as a
    filter finds someone. (Territories need none: their names and numbers are words
    of the profiles.)"""
    if query.kind is not None:
        return None

    async def finds(word: str, rest: str) -> str | None:
        kind = vocab.find_kind(word, cfg.kinds, whole=True)
        if (
            kind is None
            or not (await ctx.repos.profiles.search(replace(query, text=rest, kind=kind), limit=1)).profiles
        ):
            return None
        return ctx.tr.t("annuaire.kind_filter")

    return await offer_as_filter(typed, query.text, finds)


async def _counts(ctx: Context, cfg: DirectoryConfig) -> Reply:
    profiles = ctx.repos.profiles
    total = await profiles.count_listed()
    if total == 0:
        return Reply(rich=render.counts_summary(ctx.tr, total=0, kinds=[], territories=[]))
    kinds = render.display_counts(await profiles.counts(STRUCTURE_KIND), cfg.kinds)
    territories = render.display_counts(await profiles.counts(TERRITORY), cfg.territories)
    return Reply(rich=render.counts_summary(ctx.tr, total=total, kinds=kinds, territories=territories))
