"""Weak signals: members submit them (one line, or step by step in a direct chat),
support them with 👍 or a command, comment them; animators curate them; everyone searches
the archive with `!signaux`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from bot.arguments import ArgType, Rest
from bot.config import Section, config_section
from bot.context import Context, Reply
from bot.conversations import Question, form, start_form
from bot.dates import parse_date
from bot.errors import BadArgument, UserError
from bot.formatting import Rich, bold, bullets, code, italic, join, lines, titled_link, user_link
from bot.query import offer_as_filter
from bot.registry import Reaction, Redaction, command, on_reaction, on_redaction, personal_data
from bot.roles import Role
from commands import signal_parsing as sp
from commands.directory_vocab import DEFAULT_TERRITORIES
from storage.models.signals import Signal
from storage.repositories.signals import DISCARDED, PROPOSED, PUBLISHED, RETAINED, SignalFilter

if TYPE_CHECKING:
    from bot.config import Config
    from storage.unit import Repos

SEARCH_PAGE = 10
SUPPORT_KEYS = {"👍", "+1", ":+1:", "👍️"}


@config_section("signaux")
class SignalsConfig(Section):
    # The focus theme of the foresight work (others will follow: it is configuration).
    theme: str = "changement climatique"
    # The STEEPL categories offered, in the order digests show them (codes).
    categories: list[str] = Field(default_factory=lambda: list(sp.CATEGORIES))
    # The category proposed by default (the theme's own).
    default_category: str = "environnemental"
    default_nature: str = "signal_faible"
    territories: list[str] = DEFAULT_TERRITORIES
    # When a member asks to be forgotten: keep their signals and comments for the network
    # (without their name), or delete them.
    keep_on_erase: bool = False

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: list[str]) -> list[str]:
        for c in v:
            if c not in sp.CATEGORIES:
                raise PydanticCustomError(
                    "literal_error",
                    "unknown category {value}",
                    {"value": c, "expected": ", ".join(sp.CATEGORIES)},
                )
        if not v:
            raise PydanticCustomError("list_type", "empty list", {})
        return v

    @field_validator("default_category")
    @classmethod
    def _default_category(cls, v: str) -> str:
        if v not in sp.CATEGORIES:
            raise PydanticCustomError(
                "literal_error",
                "unknown category {value}",
                {"value": v, "expected": ", ".join(sp.CATEGORIES)},
            )
        return v

    @field_validator("default_nature")
    @classmethod
    def _default_nature(cls, v: str) -> str:
        if v not in sp.NATURES:
            raise PydanticCustomError(
                "literal_error", "unknown nature {value}", {"value": v, "expected": ", ".join(sp.NATURES)}
            )
        return v


def settings(ctx: Context) -> SignalsConfig:
    return ctx.config.section(SignalsConfig)


# --- labels ---------------------------------------------------------------------------------
def labels(ctx: Context, kind: str) -> dict[str, str]:
    codes = {
        "categories": sp.CATEGORIES,
        "natures": sp.NATURES,
        "horizons": sp.HORIZONS,
        "sources": sp.SOURCE_KINDS,
    }
    return {c: ctx.t(f"signaux.{kind}.{c}") for c in codes[kind]}


def label(ctx: Context, kind: str, value: str | None) -> str:
    if not value:
        return ""
    key = f"signaux.{kind}.{value}"
    return ctx.t(key) if ctx.tr.has(key) else value


def tags_text(tags: list[str]) -> str:
    return " ".join(f"#{t}" for t in tags)


def author_of(ctx: Context, signal: Signal) -> Rich:
    if not signal.author_id:
        return Rich.text(ctx.t("signaux.anonymous"))
    return user_link(signal.author_id, signal.author_name or signal.author_id)


def classification(ctx: Context, signal: Signal) -> Rich:
    parts: list[object] = [label(ctx, "categories", signal.category), label(ctx, "natures", signal.nature)]
    if signal.horizon:
        parts.append(ctx.t("signaux.horizon_line", horizon=label(ctx, "horizons", signal.horizon)))
    if signal.territory:
        parts.append(signal.territory)
    if signal.tags:
        parts.append(tags_text(signal.tags))
    return join(parts, " · ")


def short_title(signal: Signal) -> Rich:
    """« #42 Titre » with the title linked when there is a link."""
    title = titled_link(signal.url, signal.title) if signal.url else Rich.text(signal.title)
    return bold(f"#{signal.id}") + " " + title


# --- arguments -------------------------------------------------------------------------------
class SignalId(int, ArgType):
    """A signal's short id: « 42 » or « #42 »."""

    label = "id"

    @classmethod
    def parse(cls, raw: str, ctx: Context) -> SignalId:
        try:
            return cls(sp.signal_id(raw))
        except UserError as err:
            raise BadArgument(err.key, **err.params) from None


async def get_signal(ctx: Context, signal_id: int) -> Signal:
    signal = await ctx.repos.signals.get(signal_id)
    if signal is None:
        raise UserError("signaux.errors.unknown", id=signal_id)
    return signal


def is_animator(ctx: Context) -> bool:
    return ctx.role >= Role.ANIMATOR


def ensure_can_edit(ctx: Context, signal: Signal) -> None:
    if signal.author_id != ctx.sender and not is_animator(ctx):
        raise UserError("signaux.errors.not_yours", id=signal.id)


# --- recording ------------------------------------------------------------------------------
async def ensure_new_link(ctx: Context, url: str, *, except_id: int | None = None) -> None:
    """A link already recorded is refused, saying who shared it and when."""
    existing = await ctx.repos.signals.by_url_key(sp.url_key(url))
    if existing is None or existing.id == except_id:
        return
    raise duplicate_error(ctx, existing)


def duplicate_error(ctx: Context, existing: Signal) -> UserError:
    when = existing.created_at.astimezone(ctx.services.tz).date()
    params: dict[str, Any] = {
        "id": existing.id,
        "title": existing.title,
        "date": when,
        "support": code(f"{ctx.prefix}{ctx.t('signaux.cmd.support', id=existing.id)}"),
    }
    if existing.status == DISCARDED:
        return UserError("signaux.duplicate_discarded", **params)
    if existing.author_id == ctx.sender:
        return UserError("signaux.duplicate_yours", **params)
    if existing.author_id is None:
        return UserError("signaux.duplicate_anonymous", **params)
    return UserError("signaux.duplicate", who=author_of(ctx, existing), **params)


async def default_territory(ctx: Context, user_id: str) -> str | None:
    """The member's territory: the first of their directory profile's territories that
    signals know, else the territory of their latest signal."""
    profile = await ctx.repos.profiles.get(user_id)
    known = settings(ctx).territories
    for territory in profile.territories if profile else []:
        if territory in known:
            return territory
    return await ctx.repos.signals.last_territory(user_id)


async def record(
    ctx: Context,
    draft: sp.Draft,
    *,
    category: str | None = None,
    nature: str | None = None,
    horizon: str | None = None,
    territory: str | None = None,
    origin: str = "member",
    status: str = PROPOSED,
    use_default_territory: bool = True,
) -> Signal:
    cfg = settings(ctx)
    if draft.url:
        await ensure_new_link(ctx, draft.url)
    if territory is None:  # the place the text names, else (a member's) their own
        territory = sp.named_territory(f"{draft.title} {draft.observation or ''}", cfg.territories)
    if territory is None and use_default_territory:
        territory = await default_territory(ctx, ctx.sender)
    signal = Signal(
        theme=cfg.theme,
        title=draft.title,
        url=draft.url,
        url_key=sp.url_key(draft.url) if draft.url else None,
        observation=draft.observation,
        why=draft.why,
        category=category or cfg.default_category,
        nature=nature or cfg.default_nature,
        horizon=horizon,
        territory=territory,
        tags=draft.tags,
        observed_on=ctx.now().date(),
        status=status,
        status_by=ctx.sender if status == RETAINED else None,
        author_id=ctx.sender,
        author_name=ctx.display_name(ctx.sender),
        origin=origin,
        room_id=None if ctx.is_direct else ctx.room_id,
    )
    existing = await ctx.repos.signals.add_unless_linked(signal)
    if existing is not None:  # the same link recorded a moment ago by someone else
        raise duplicate_error(ctx, existing)
    return signal


def recorded_reply(ctx: Context, signal: Signal) -> Reply:
    parts = [
        ctx.rich("signaux.recorded", id=signal.id, title=signal.title),
        classification(ctx, signal),
    ]
    if not signal.why:
        parts.append(
            ctx.rich(
                "signaux.recorded_complete",
                example=code(f"{ctx.prefix}signal modifier {signal.id} pourquoi …"),
            )
        )
    if ctx.is_direct:  # nobody else sees this message: a 👍 on it would go nowhere
        support = code(f"{ctx.prefix}signal soutenir {signal.id}")
        parts.append(ctx.rich("signaux.recorded_support_direct", command=support))
    else:
        parts.append(ctx.rich("signaux.recorded_support"))
    return Reply(rich=lines(parts), tag=f"signal:{signal.id}")


# --- !signal ---------------------------------------------------------------------------------
@command("signal", help="signaux.signal.help")
async def submit(ctx: Context, texte: Rest = "") -> Reply | None:
    text = texte.strip()
    if not text:
        await start_form(ctx, "signaux.nouveau", user_id=ctx.sender)
        return None if ctx.is_direct else Reply("signaux.form_in_dm")
    try:
        number = sp.signal_id(text)
    except UserError:
        number = None
    if number is not None:
        return await _show(ctx, number)
    signal = await record(ctx, sp.parse_one_line(text))
    return recorded_reply(ctx, signal)


@submit.sub("voir", aliases=["show", "detail"], help="signaux.voir.help")
async def show(ctx: Context, id: SignalId) -> Reply:
    return await _show(ctx, id)


async def _show(ctx: Context, signal_id: int) -> Reply:
    signal = await get_signal(ctx, signal_id)
    if signal.status == DISCARDED and not is_animator(ctx) and signal.author_id != ctx.sender:
        raise UserError("signaux.errors.unknown", id=signal_id)
    status = label(ctx, "statuses", signal.status)
    if signal.status == PUBLISHED and signal.digest_id:
        digest = await _digest_week(ctx, signal.digest_id)
        status = ctx.t("signaux.status_published_in", week=digest) if digest else status
    if signal.status == DISCARDED and signal.status_reason:
        status = ctx.t("signaux.status_discarded_because", reason=signal.status_reason)
    parts: list[Rich] = [short_title(signal) + " — " + italic(status), classification(ctx, signal)]
    if signal.source_kind:
        parts.append(ctx.rich("signaux.show.source", source=label(ctx, "sources", signal.source_kind)))
    if signal.observation:
        parts.append(ctx.rich("signaux.show.observation", text=signal.observation))
    if signal.why:
        parts.append(ctx.rich("signaux.show.why", text=signal.why))
    shared = signal.created_at.astimezone(ctx.services.tz).date()
    parts.append(
        ctx.rich(
            "signaux.show.shared",
            who=author_of(ctx, signal),
            date=shared,
            n=signal.support_count,
        )
    )
    if signal.related:
        parts.append(ctx.rich("signaux.show.related", ids=", ".join(f"#{i}" for i in signal.related)))
    comments = await ctx.repos.signals.comments(signal.id)
    if comments:
        parts.append(ctx.rich("signaux.show.comments", n=len(comments)))
        parts.append(
            bullets(
                ctx.rich(
                    "signaux.show.comment",
                    who=user_link(c.author_id, c.author_name or c.author_id)
                    if c.author_id
                    else ctx.t("signaux.anonymous"),
                    date=c.created_at.astimezone(ctx.services.tz).date(),
                    text=c.text,
                )
                for c in comments[-5:]
            )
        )
    return Reply(rich=lines(parts), tag=f"signal:{signal.id}")


async def _digest_week(ctx: Context, digest_id: int) -> str | None:
    digest = await ctx.repos.digests.get(digest_id)
    return digest.week if digest else None


@submit.sub("soutenir", aliases=["support", "plus1"], help="signaux.soutenir.help")
async def support(ctx: Context, id: SignalId) -> Reply:
    signal = await get_signal(ctx, id)
    if signal.status == DISCARDED:
        raise UserError("signaux.errors.discarded", id=signal.id)
    if signal.author_id == ctx.sender:
        raise UserError("signaux.errors.own_support", id=signal.id)
    if not await ctx.repos.signals.support(signal, ctx.sender):
        return Reply("signaux.already_supported", id=signal.id, n=signal.support_count)
    return Reply("signaux.supported", id=signal.id, title=signal.title, n=signal.support_count)


@submit.sub("commenter", aliases=["comment"], help="signaux.commenter.help")
async def comment(ctx: Context, id: SignalId, texte: Rest) -> Reply:
    signal = await get_signal(ctx, id)
    text = sp.check_text(texte, sp.MAX_COMMENT, "comment")
    if len(text) < 2:
        raise UserError("signaux.errors.comment_empty")
    await ctx.repos.signals.comment(signal, ctx.sender, ctx.display_name(ctx.sender), text)
    n = len(await ctx.repos.signals.comments(signal.id))
    return Reply("signaux.commented", id=signal.id, n=n)


@submit.sub("retenir", aliases=["keep", "retain"], role=Role.ANIMATOR, help="signaux.retenir.help")
async def keep(ctx: Context, id: SignalId) -> Reply:
    signal = await get_signal(ctx, id)
    if signal.status == PUBLISHED:
        raise UserError("signaux.errors.already_published", id=signal.id)
    if signal.status == RETAINED:
        return Reply("signaux.already_retained", id=signal.id)
    await ctx.repos.signals.set_status(signal, RETAINED, ctx.sender)
    return Reply("signaux.retained", id=signal.id, title=signal.title)


@submit.sub("ecarter", aliases=["discard"], role=Role.ANIMATOR, help="signaux.ecarter.help")
async def discard(ctx: Context, id: SignalId, raison: Rest = "") -> Reply:
    signal = await get_signal(ctx, id)
    reason = sp.check_text(raison, sp.MAX_REASON, "reason") or None
    await ctx.repos.signals.set_status(signal, DISCARDED, ctx.sender, reason)
    return Reply("signaux.discarded", id=signal.id, title=signal.title)


@submit.sub("retirer", aliases=["withdraw", "supprimer", "delete"], help="signaux.retirer.help")
async def withdraw(ctx: Context, id: SignalId) -> Reply:
    signal = await get_signal(ctx, id)
    ensure_can_edit(ctx, signal)
    title = signal.title
    await ctx.repos.signals.delete(signal)
    return Reply("signaux.withdrawn", id=id, title=title)


EDITABLE = {
    "titre": "title",
    "title": "title",
    "lien": "url",
    "link": "url",
    "url": "url",
    "observation": "observation",
    "pourquoi": "why",
    "why": "why",
    "interpretation": "why",
    "categorie": "category",
    "category": "category",
    "nature": "nature",
    "horizon": "horizon",
    "territoire": "territory",
    "territory": "territory",
    "tags": "tags",
    "source": "source_kind",
    "date": "observed_on",
    "lies": "related",
    "related": "related",
}


@submit.sub("modifier", aliases=["edit", "modify"], help="signaux.modifier.help")
async def edit(ctx: Context, id: SignalId, champ: str, valeur: Rest = "") -> Reply:
    from bot.text import fold

    signal = await get_signal(ctx, id)
    ensure_can_edit(ctx, signal)
    field = EDITABLE.get(fold(champ))
    if field is None:
        raise BadArgument(
            "signaux.errors.bad_field", value=champ, choices=", ".join(ctx.tr.list("signaux.fields"))
        )
    value = valeur.strip()
    cfg = settings(ctx)
    clearable = {"url", "observation", "why", "horizon", "territory", "tags", "source_kind", "related"}
    if not value and field not in clearable:
        raise UserError("signaux.errors.empty_value", field=champ)
    new: Any
    if not value:
        new = [] if field in ("tags", "related") else (None if field not in ("observation", "why") else "")
    elif field == "title":
        new = sp.check_title(value)
    elif field == "url":
        new = sp.clean_url(value)
        await ensure_new_link(ctx, new, except_id=signal.id)
        signal.url_key = sp.url_key(new)
    elif field == "observation":
        new = sp.check_text(value, sp.MAX_OBSERVATION, "observation")
    elif field == "why":
        new = sp.check_text(value, sp.MAX_WHY, "why")
    elif field == "category":
        new = sp.choice("category", value, labels(ctx, "categories"), cfg.categories)
    elif field == "nature":
        new = sp.choice("nature", value, labels(ctx, "natures"))
    elif field == "horizon":
        new = sp.choice("horizon", value, labels(ctx, "horizons"))
    elif field == "territory":
        new = sp.territory(value, cfg.territories)
    elif field == "tags":
        new = sp.parse_tags(value)
    elif field == "source_kind":
        new = sp.choice("source_kind", value, labels(ctx, "sources"))
    elif field == "observed_on":
        day = parse_date(value, ctx.now(), prefer="past")
        if day is None:
            raise UserError("signaux.errors.bad_date", value=value)
        new = day
    else:  # related
        ids = [sp.signal_id(v) for v in value.replace(",", " ").split()]
        known = await ctx.repos.signals.many(ids)
        missing = [i for i in ids if i not in known or i == signal.id]
        if missing:
            raise UserError("signaux.errors.unknown", id=missing[0])
        new = list(dict.fromkeys(ids))
    if field == "url" and new is None:
        signal.url_key = None
    setattr(signal, field, new)
    await ctx.repos.signals.reindex(signal)
    shown = _shown_value(ctx, field, new)
    return Reply("signaux.edited", id=signal.id, field=champ.lower(), value=shown)


def _shown_value(ctx: Context, field: str, value: Any) -> Any:
    if value in (None, "", []):
        return ctx.t("signaux.empty")
    kinds = {"category": "categories", "nature": "natures", "horizon": "horizons", "source_kind": "sources"}
    if field in kinds:
        return label(ctx, kinds[field], value)
    if field == "tags":
        return tags_text(value)
    if field == "related":
        return ", ".join(f"#{i}" for i in value)
    if isinstance(value, date):
        return value
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


# --- 👍 -----------------------------------------------------------------------------------------
def is_support_key(key: str) -> bool:
    """👍 in every skin tone, with or without the emoji variation selector."""
    base = "".join(ch for ch in key if ch not in "\ufe0f\ufe0e" and not 0x1F3FB <= ord(ch) <= 0x1F3FF)
    return base in SUPPORT_KEYS


@on_reaction
async def support_by_reaction(ctx: Context, reaction: Reaction) -> None:
    if not is_support_key(reaction.key) or reaction.sender == ctx.services.bot_user_id:
        return
    tag = await ctx.repos.outbox.tag_for_event(reaction.target)
    if not tag or not tag.startswith("signal:"):
        return
    signal = await ctx.repos.signals.get(int(tag.split(":", 1)[1]))
    if signal is None or signal.status == DISCARDED or signal.author_id == reaction.sender:
        return
    await ctx.repos.signals.support(signal, reaction.sender, reaction.event_id)


@on_redaction
async def withdraw_reaction(ctx: Context, redaction: Redaction) -> None:
    await ctx.repos.signals.withdraw_reaction(redaction.redacts)


# --- !signaux ---------------------------------------------------------------------------------
@command("signaux", aliases=["signals"], help="signaux.signaux.help")
async def search(ctx: Context, recherche: Rest = "") -> Reply:
    cfg = settings(ctx)
    q = sp.parse_query(
        recherche,
        ctx.now(),
        category_labels=labels(ctx, "categories"),
        nature_labels=labels(ctx, "natures"),
        categories=cfg.categories,
        territories=cfg.territories,
    )
    if q.status == DISCARDED and not is_animator(ctx):
        raise UserError("signaux.errors.discarded_hidden")
    statuses = (q.status,) if q.status else (PROPOSED, RETAINED, PUBLISHED)
    flt = SignalFilter(
        text=q.text,
        category=q.category,
        nature=q.nature,
        territory=q.territory,
        since=q.since,
        statuses=statuses,
    )
    page = await ctx.repos.signals.find(flt, limit=SEARCH_PAGE, offset=(q.page - 1) * SEARCH_PAGE)
    if not page.signals:
        if q.page > 1 and page.total:
            raise UserError("signaux.errors.no_such_page", page=q.page)
        if not recherche.strip():
            return Reply("signaux.search.empty")
        better = await _as_filter(ctx, cfg, flt, recherche)
        if better is not None:
            hint = ctx.rich("signaux.search.try_filter", suggestion=better)
            return Reply(rich=ctx.rich("signaux.search.none_words") + Rich("\n", "<br>") + hint)
        filtered = any(v is not None for v in (q.category, q.nature, q.territory, q.status)) or (
            q.since is not None and not q.week
        )
        return Reply("signaux.search.none" if filtered else "signaux.search.none_words")
    head_key = "signaux.search.found" if page.complete else "signaux.search.found_many"
    if not recherche.strip():
        head_key = "signaux.search.latest"
    parts = [ctx.rich(head_key, n=page.total, shown=len(page.signals))]
    parts.append(bullets(search_line(ctx, s) for s in page.signals))
    shown_until = (q.page - 1) * SEARCH_PAGE + len(page.signals)
    if page.total > shown_until:
        parts.append(ctx.rich("signaux.search.more", n=page.total - shown_until, page=q.page + 1))
    return Reply(rich=lines(parts))


async def _as_filter(ctx: Context, cfg: SignalsConfig, flt: SignalFilter, typed: str) -> str | None:
    """For a search that found nothing: the search to type instead when one of its words
    names a category or a nature (« social », « rupture »: neither is in a signal's
    searched text) and that filter finds something."""

    async def finds(word: str, rest: str) -> str | None:
        named = sp.vocabulary_word(word, labels(ctx, "categories"), labels(ctx, "natures"), cfg.categories)
        if named is None or getattr(flt, named[0]) is not None:  # that filter is given already
            return None
        facet, code = named
        as_filter = (
            replace(flt, text=rest, category=code)
            if facet == "category"
            else replace(flt, text=rest, nature=code)
        )
        if not (await ctx.repos.signals.find(as_filter, limit=1)).signals:
            return None
        return ctx.tr.t(f"signaux.search.filter_names.{facet}")

    return await offer_as_filter(typed, flt.text, finds)


def search_line(ctx: Context, signal: Signal) -> Rich:
    day = signal.created_at.astimezone(ctx.services.tz).date()
    bits: list[object] = [label(ctx, "categories", signal.category)]
    if signal.territory:
        bits.append(signal.territory)
    bits.append(ctx.tr.value(day, "day_month"))
    if signal.support_count:
        bits.append(f"👍 {signal.support_count}")
    if signal.status in (RETAINED, DISCARDED):
        bits.append(label(ctx, "statuses", signal.status))
    return short_title(signal) + " — " + join(bits, " · ")


# --- the step-by-step form (direct chat) --------------------------------------------------------
def _parse_title(raw: str, ctx: Context, data: dict[str, Any]) -> str:
    return sp.check_title(raw)


async def _parse_link(raw: str, ctx: Context, data: dict[str, Any]) -> str:
    url = sp.clean_url(raw)
    await ensure_new_link(ctx, url)
    return url


def _parse_observation(raw: str, ctx: Context, data: dict[str, Any]) -> str:
    return sp.check_text(raw, sp.MAX_OBSERVATION, "observation")


def _parse_why(raw: str, ctx: Context, data: dict[str, Any]) -> str:
    return sp.check_text(raw, sp.MAX_WHY, "why")


def _parse_category(raw: str, ctx: Context, data: dict[str, Any]) -> str:
    return sp.choice("category", raw, labels(ctx, "categories"), settings(ctx).categories)


def _parse_nature(raw: str, ctx: Context, data: dict[str, Any]) -> str:
    return sp.choice("nature", raw, labels(ctx, "natures"))


def _parse_horizon(raw: str, ctx: Context, data: dict[str, Any]) -> str:
    return sp.choice("horizon", raw, labels(ctx, "horizons"))


def _parse_territory(raw: str, ctx: Context, data: dict[str, Any]) -> str:
    return sp.territory(raw, settings(ctx).territories)


def _parse_tags(raw: str, ctx: Context, data: dict[str, Any]) -> list[str]:
    return sp.parse_tags(raw)


def _options(kind: str) -> Any:
    def params(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
        names = labels(ctx, kind)
        codes = allowed_codes(ctx) if kind == "categories" else list(names)
        return {"options": ", ".join(f"{i}. {names[c]}" for i, c in enumerate(codes, 1))}

    return params


def allowed_codes(ctx: Context) -> list[str]:
    return list(settings(ctx).categories)


def _territory_options(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return {"options": ", ".join(settings(ctx).territories)}


async def _default_territory(ctx: Context, data: dict[str, Any]) -> str | None:
    return await default_territory(ctx, ctx.sender)


def _default_category(ctx: Context, data: dict[str, Any]) -> str:
    return label(ctx, "categories", settings(ctx).default_category)


def _default_nature(ctx: Context, data: dict[str, Any]) -> str:
    return label(ctx, "natures", settings(ctx).default_nature)


async def _complete_form(ctx: Context, data: dict[str, Any]) -> Reply:
    cfg = settings(ctx)
    draft = sp.Draft(
        title=data["titre"],
        url=data.get("lien") or None,
        observation=data.get("observation") or "",
        why=data.get("pourquoi") or "",
        tags=list(data.get("tags") or []),
    )
    # Defaults kept with « passer » are labels in the member's language: read them back.
    category = sp.choice(
        "category", data.get("categorie") or cfg.default_category, labels(ctx, "categories"), cfg.categories
    )
    nature = sp.choice("nature", data.get("nature") or cfg.default_nature, labels(ctx, "natures"))
    try:
        signal = await record(
            ctx,
            draft,
            category=category,
            nature=nature,
            horizon=data.get("horizon") or None,
            territory=data.get("territoire") or None,
            use_default_territory=False,
        )
    except UserError as err:  # the link was shared meanwhile: say so, the form is over
        return Reply(err.key, **err.params)
    return recorded_reply(ctx, signal)


NEW_SIGNAL = form(
    "signaux.nouveau",
    intro_key="signaux.form.intro",
    questions=[
        Question("titre", "signaux.form.titre", parse=_parse_title, optional=False),
        Question("lien", "signaux.form.lien", parse=_parse_link),
        Question("observation", "signaux.form.observation", parse=_parse_observation),
        Question("pourquoi", "signaux.form.pourquoi", parse=_parse_why),
        Question(
            "categorie",
            "signaux.form.categorie",
            parse=_parse_category,
            default=_default_category,
            params=_options("categories"),
        ),
        Question(
            "nature",
            "signaux.form.nature",
            parse=_parse_nature,
            default=_default_nature,
            params=_options("natures"),
        ),
        Question("horizon", "signaux.form.horizon", parse=_parse_horizon, params=_options("horizons")),
        Question(
            "territoire",
            "signaux.form.territoire",
            parse=_parse_territory,
            default=_default_territory,
            params=_territory_options,
        ),
        Question("tags", "signaux.form.tags", parse=_parse_tags),
    ],
    on_complete=_complete_form,
    cancelled_key="signaux.form.cancelled",
)


# --- personal data ------------------------------------------------------------------------------
class SignalsData:
    """Signals a member shared, their comments and supports. Erasure keeps the content
    for the network, without the author, only when `signaux.keep_on_erase` is true.

    The erase hook gets no context: the policy is read from the config when the bot
    starts (`configure`, called by the digest's job source)."""

    name = "signaux"

    def __init__(self) -> None:
        self.keep_content = False

    def configure(self, config: Config) -> None:
        self.keep_content = config.section(SignalsConfig).keep_on_erase

    async def export(self, repos: Repos, user_id: str) -> dict[str, Any]:
        data = await repos.signals.export_member(user_id)
        data["decisions_de_veille"] = await repos.feeds.decided_by(user_id)
        data["digests_publies"] = await repos.digests.published_by(user_id)
        return data

    async def erase(self, repos: Repos, user_id: str) -> int:
        erased = await repos.signals.erase_member(user_id, keep_content=self.keep_content)
        erased += await repos.feeds.forget_decider(user_id)
        erased += await repos.digests.forget_publisher(user_id)
        return erased


SIGNALS_DATA = SignalsData()
personal_data(SIGNALS_DATA)
