"""The member directory (annuaire): `!profil` to see and edit one's own profile (or
someone's listed one), `!annuaire` to find members by words and filters.

Opt-in: a profile is found only once its owner made it visible (`!profil visible`); a
profile imported from the contact book stays out of the directory until its owner
confirms it (`!profil confirmer`, or `!profil visible`, which says more)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.arguments import Rest
from bot.context import Context, Reply
from bot.errors import UserError
from bot.formatting import Rich, code, lines, user_link
from bot.parsing import split_first
from bot.query import Grammar, Key, Term, offer_as_filter
from bot.registry import MemberChange, command, on_member, personal_data
from bot.text import facet_value, fold
from commands import directory_render as render
from commands import directory_vocab as vocab
from commands.profile_fields import DirectoryConfig, ProfileField, directory_settings, field_named
from storage.models.directory import Profile
from storage.repositories.profiles import STRUCTURE_KIND, TERRITORY, DirectoryQuery, is_listed

if TYPE_CHECKING:
    from storage.unit import Repos


def settings(ctx: Context) -> DirectoryConfig:
    return directory_settings(ctx.config)


# --- the member's own profile -------------------------------------------------------------
async def own_profile(ctx: Context, *, create: bool) -> Profile | None:
    """The sender's profile, its Matrix name brought up to date (and reindexed when that
    changes what search finds). Created, hidden and empty, only when `create`."""
    matrix_name = ctx.display_name(ctx.sender)
    if create:
        profile: Profile | None = await ctx.repos.profiles.get_or_create(ctx.sender)
    else:
        profile = await ctx.repos.profiles.get(ctx.sender)
    if profile is None:
        return None
    if matrix_name and profile.display_name != matrix_name:
        profile.display_name = matrix_name
        await ctx.repos.profiles.save(profile)
    return profile


def status_hint(ctx: Context, profile: Profile) -> Rich | None:
    """What still keeps an edited profile out of the directory, if anything."""
    if profile.pending:
        return ctx.rich("profil.hint_pending")
    if not profile.visible:
        return ctx.rich("profil.hint_hidden")
    return None


# --- !profil -------------------------------------------------------------------------------
MAX_NAMED = 5  # members listed when a typed name fits several


@command("profil", aliases=["profile"], help="profil.help")
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
    p = await own_profile(ctx, create=False)
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
    p = await own_profile(ctx, create=True)
    assert p is not None
    before = getattr(p, field.attr)
    replaced: Rich | None = None
    if field.attr in LIST_FIELDS:
        value, replaced = _list_edit(ctx, field, raw, list(before or []))
    else:
        value = field.parse(raw, settings(ctx))
    setattr(p, field.attr, value)
    await ctx.repos.profiles.save(p)
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
    p = await own_profile(ctx, create=True)
    assert p is not None
    if is_listed(p):
        return Reply("profil.already_visible")
    confirmed = p.pending
    p.visible, p.pending = True, False
    await ctx.repos.profiles.save(p)
    parts = [ctx.rich("profil.now_visible_confirmed" if confirmed else "profil.now_visible")]
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
    p = await own_profile(ctx, create=False)
    if p is None:
        return Reply("profil.own.none", fields=render.typed_names(ctx.tr))
    if not p.visible:
        return Reply("profil.already_hidden")
    p.visible = False
    await ctx.repos.profiles.save(p)
    return Reply("profil.now_hidden")


@profile.sub("confirmer", aliases=["confirm", "valider"], help="profil.confirmer.help")
async def confirm(ctx: Context) -> Reply:
    p = await own_profile(ctx, create=False)
    if p is None:
        return Reply("profil.own.none", fields=render.typed_names(ctx.tr))
    if not p.pending:
        return Reply("profil.not_pending")
    p.pending = False
    await ctx.repos.profiles.save(p)
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
    await ctx.repos.profiles.delete(ctx.sender)
    recent(ctx).forget_user(ctx.sender)
    return Reply("profil.deleted")


EMAIL_NAMES = {"email", "e-mail", "mail", "courriel", "adresse"}


@profile.sub("effacer", aliases=["clear", "vider"], help="profil.effacer.help")
async def clear(ctx: Context, profil_champ: str) -> Reply:
    """Empty one field (the name goes back to the Matrix name)."""
    field = field_named(profil_champ)
    attr = field.attr if field else ("email" if fold(profil_champ) in EMAIL_NAMES else None)
    if attr is None:
        raise UserError("profil.errors.unknown_field", typed=profil_champ, fields=render.typed_names(ctx.tr))
    p = await own_profile(ctx, create=False)
    if p is None:
        return Reply("profil.own.none", fields=render.typed_names(ctx.tr))
    setattr(p, attr, [] if attr in ("territories", "tags") else None)
    await ctx.repos.profiles.save(p)
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
    p = await ctx.repos.profiles.get(change.user_id)
    if p is not None and p.display_name != change.display_name:
        p.display_name = change.display_name
        await ctx.repos.profiles.save(p)


# --- !annuaire: the query ------------------------------------------------------------------
FILTER_KEYS = {
    **dict.fromkeys(("territoire", "territoires", "territory", "departement", "dept", "dep"), TERRITORY),
    **dict.fromkeys(("type", "types", "kind", "type-structure", "type_structure"), STRUCTURE_KIND),
    **dict.fromkeys(
        ("competence", "competences", "sujet", "sujets", "tag", "tags", "skill", "skills", "topic", "topics"),
        "tag",
    ),
}


@dataclass(frozen=True)
class ParsedQuery:
    query: DirectoryQuery
    typed: str  # as the member typed it, for messages


def _grammar(cfg: DirectoryConfig) -> Grammar:
    """A territory or a kind may run over several words (« territoire:haute garonne »,
    « type:service de l'état »); a topic is one word or a quoted group."""

    def territory(whole: bool) -> Callable[[str], bool]:
        return lambda text: vocab.find_territory(text, cfg.territories, whole=whole) is not None

    def kind(whole: bool) -> Callable[[str], bool]:
        return lambda text: vocab.find_kind(text, cfg.kinds, whole=whole) is not None

    keys = {
        TERRITORY: Key(TERRITORY, whole=territory(True), partial=territory(False)),
        STRUCTURE_KIND: Key(STRUCTURE_KIND, whole=kind(True), partial=kind(False)),
        "tag": Key("tag"),
    }
    return Grammar({alias: keys[name] for alias, name in FILTER_KEYS.items()}, errors="annuaire.errors")


def parse_query(raw: str, cfg: DirectoryConfig) -> ParsedQuery:
    """« prospective territoire:31 type:caf competence:"design de services" » → words
    and filters (`bot.query`). Raises UserError on a value that names nothing and on a
    filter given twice."""
    parsed = _grammar(cfg).parse(raw)
    found: dict[str, str] = {}
    for term in parsed.terms:
        if term.key in found:
            raise UserError("annuaire.errors.twice", name=term.typed_key)
        found[term.key] = _resolve(term, cfg)
    query = DirectoryQuery(
        text=parsed.text,
        territory=found.get(TERRITORY),
        kind=found.get(STRUCTURE_KIND),
        tag=found.get("tag"),
    )
    return ParsedQuery(query, parsed.typed)


def _resolve(term: Term, cfg: DirectoryConfig) -> str:
    """The territory, kind or topic a filter's value names."""
    if term.key == "tag":
        tag = vocab.normalize_tag(term.value)
        if not tag:
            raise UserError("annuaire.errors.empty_filter", name=term.typed_key)
        return tag
    if term.key == TERRITORY:
        first = term.value if term.quoted else term.value.split()[0]
        found, unknown = vocab.find_territories(first, cfg.territories)
        if len(found) > 1 and not unknown:
            raise UserError("annuaire.errors.one_territory", value=first)
        territory = vocab.find_territory(term.value, cfg.territories)
        if territory is None:
            raise UserError(
                "annuaire.errors.bad_territory", value=term.value, choices=" · ".join(cfg.territories)
            )
        return territory
    kind = vocab.find_kind(term.value, cfg.kinds)
    if kind is None:
        raise UserError("annuaire.errors.bad_kind", value=term.value, choices=" · ".join(cfg.kinds))
    return kind


async def resolve_tag(ctx: Context, query: DirectoryQuery) -> DirectoryQuery:
    """A topic filter names a topic members use: « prospect » is read as the one topic
    starting so; several candidates are offered to choose from."""
    if not query.tag:
        return query
    known = await ctx.repos.profiles.tag_values(query.tag)
    wanted = facet_value(query.tag)
    if not known or wanted in known:
        return query
    if len(known) == 1:
        return replace(query, tag=known[0])
    raise UserError("annuaire.errors.which_tag", value=query.tag, choices=", ".join(known))


# --- !annuaire: the last search of each member, for `suite` --------------------------------
@dataclass
class LastSearch:
    query: DirectoryQuery
    typed: str
    next_offset: int
    at: float


class RecentSearches:
    """The last search of each member in each room, in memory only: what someone looks
    for is personal data that no feature needs to keep, so it is never written to the
    database, expires after an hour and is forgotten with the profile. A restart loses
    it; `!annuaire suite` then asks for the search again. The search itself is re-run
    for every page, so an erased or hidden profile never shows up from a stale list."""

    def __init__(self, size: int = 2000, ttl: float = 3600) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[tuple[str, str], LastSearch] = OrderedDict()

    def put(self, key: tuple[str, str], item: LastSearch) -> None:
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, key: tuple[str, str]) -> LastSearch | None:
        item = self._items.get(key)
        if item is None or time.monotonic() - item.at > self.ttl:
            self._items.pop(key, None)
            return None
        return item

    def forget_user(self, user_id: str) -> int:
        keys = [k for k in self._items if k[0] == user_id]
        for k in keys:
            del self._items[k]
        return len(keys)


def recent(ctx: Context) -> RecentSearches:
    """This bot's last searches (its app's state: another bot in the process has its own)."""
    return ctx.services.state(RecentSearches)


def _search_key(ctx: Context) -> tuple[str, str]:
    return (ctx.sender, ctx.room_id)


# --- !annuaire -------------------------------------------------------------------------------
@command("annuaire", aliases=["directory"], help="annuaire.help")
async def directory(ctx: Context, annuaire_recherche: Rest = "") -> Reply:
    cfg = settings(ctx)
    if not annuaire_recherche.strip():
        return await _counts(ctx, cfg)
    parsed = parse_query(annuaire_recherche, cfg)
    query = await resolve_tag(ctx, parsed.query)
    return await _page(ctx, cfg, query, parsed.typed, 0)


@directory.sub("suite", aliases=["more", "next"], help="annuaire.suite.help")
async def more(ctx: Context) -> Reply:
    last = recent(ctx).get(_search_key(ctx))
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
    recent(ctx).put(_search_key(ctx), LastSearch(query, typed, offset + len(page.profiles), time.monotonic()))
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


# --- personal data ---------------------------------------------------------------------------
class ProfileData:
    """The member's directory profile. (Their last searches, held in memory only, go with
    `!oublier-moi`'s `Services.forget_member`: `RecentSearches` is a `MemberMemory`.)"""

    name = "profil"

    async def export(self, repos: Repos, user_id: str) -> dict[str, Any] | None:
        return await repos.profiles.export_member(user_id)

    async def erase(self, repos: Repos, user_id: str) -> int:
        return await repos.profiles.erase_member(user_id)


personal_data(ProfileData())
