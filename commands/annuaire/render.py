"""How the directory reads in chat: a profile card, a line of search results, the
counts of `!annuaire` alone. Pure functions of a translator and profiles; every piece of
member text goes through `Rich.text` (escaped) and people are linked with matrix.to
links that never notify them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.formatting import Rich, bold, bullets, code, join, lines, user_link
from bot.i18n import Translator
from bot.text import facet_value, words
from storage.models.directory import Profile

# The fields in the order a card shows them (attributes of `Profile`).
CARD_FIELDS = ("structure", "kind", "role", "territories", "tags", "bio")
# Fields whose absence `!profil` points out (the name always has a value).
WANTED_FIELDS = ("structure", "kind", "role", "territories", "tags")
MAX_LINE_TAGS = 4


def field_label(tr: Translator, attr: str) -> str:
    return tr.t(f"profil.fields.{attr}")


def typed_name(tr: Translator, attr: str) -> str:
    """The name a member types for a field, in their language (« territoire »)."""
    return tr.t(f"profil.typed.{attr}")


def typed_names(tr: Translator) -> str:
    return ", ".join(typed_name(tr, a) for a in ("name", *CARD_FIELDS))


def shown_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def missing_fields(p: Profile) -> list[str]:
    return [a for a in WANTED_FIELDS if not getattr(p, a)]


def name_link(p: Profile) -> Rich:
    return user_link(p.user_id, p.shown_name)


def profile_card(tr: Translator, p: Profile, *, with_email: bool = False) -> Rich:
    """The fields of a profile, one per line, empty ones left out."""
    parts: list[Rich] = [bold(name_link(p))]
    for attr in CARD_FIELDS:
        value = shown_value(getattr(p, attr))
        if value:
            parts.append(tr.rich("profil.card.line", label=field_label(tr, attr), value=value))
    if with_email and p.email:
        parts.append(tr.rich("profil.card.line", label=field_label(tr, "email"), value=p.email))
    parts.append(tr.rich("profil.card.line", label=field_label(tr, "matrix"), value=code(p.user_id)))
    return lines(parts)


def own_profile(tr: Translator, p: Profile, *, matrix_name: str | None, in_direct: bool) -> Rich:
    """`!profil`: the card, whether it is listed, and what to do next."""
    parts: list[Rich] = [tr.rich("profil.own.title"), profile_card(tr, p, with_email=in_direct)]
    if not p.name:
        parts.append(tr.rich("profil.own.matrix_name", name=matrix_name or p.shown_name))
    if p.pending:
        parts.append(tr.rich("profil.own.pending"))
    elif p.visible:
        parts.append(tr.rich("profil.own.visible"))
    else:
        parts.append(tr.rich("profil.own.hidden"))
    missing = missing_fields(p)
    if missing:
        parts.append(
            tr.rich(
                "profil.own.missing",
                fields=", ".join(typed_name(tr, a) for a in missing),
                example=code(tr.t(f"profil.examples_by_field.{missing[0]}")),
            )
        )
    parts.append(tr.rich("profil.own.edit", fields=typed_names(tr)))
    return lines(parts)


# --- search results ------------------------------------------------------------------
def shown_tags(p: Profile, matched: Iterable[str], tag_filter: str | None) -> list[str]:
    """The member's topics that matched the search (words or tag filter), else their
    first few: what makes a result line useful at a glance."""
    terms = set(matched)
    wanted = facet_value(tag_filter) if tag_filter else None
    tags = list(p.tags or [])
    hits = [t for t in tags if (wanted and facet_value(t) == wanted) or terms & set(words(t))]
    return (hits or tags)[:MAX_LINE_TAGS]


def result_line(tr: Translator, p: Profile, matched: Iterable[str], tag_filter: str | None) -> Rich:
    bits: list[object] = []
    if p.structure:
        bits.append(p.structure)
    elif p.kind:
        bits.append(p.kind)
    if p.territories:
        bits.append(", ".join(p.territories))
    tags = shown_tags(p, matched, tag_filter)
    if tags:
        bits.append(tr.rich("annuaire.results.topics", tags=", ".join(tags)))
    line = bold(name_link(p))
    return line + " — " + join(bits, " · ") if bits else line


def named(tr: Translator, profiles: Sequence[Profile], *, typed: str, more: bool) -> Rich:
    """`!profil <nom>` when several listed members fit the name."""
    parts: list[Rich] = [
        tr.rich("profil.named.several", typed=typed),
        bullets(result_line(tr, p, (), None) for p in profiles),
    ]
    if more:
        parts.append(tr.rich("profil.named.more"))
    parts.append(tr.rich("profil.named.how"))
    return lines(parts)


def results(
    tr: Translator,
    profiles: Sequence[Profile],
    *,
    total: int,
    complete: bool,
    offset: int,
    matched: Mapping[int, Sequence[str]],
    tag_filter: str | None,
) -> Rich:
    """A page of `!annuaire`: a header with the count, one line per member, and how to
    see the next page when there is one."""
    first, last = offset + 1, offset + len(profiles)
    if not complete:
        head = tr.rich("annuaire.results.found_many", n=total, first=first, last=last)
    elif first == 1 and last >= total:
        head = tr.rich("annuaire.results.found", n=total)
    else:
        head = tr.rich("annuaire.results.found_page", n=total, first=first, last=last)
    parts: list[Rich] = [
        head,
        bullets(result_line(tr, p, matched.get(p.id, ()), tag_filter) for p in profiles),
    ]
    if not complete:
        parts.append(tr.rich("annuaire.results.more_many"))
    elif last < total:
        parts.append(tr.rich("annuaire.results.more", n=total - last))
    return lines(parts)


# --- counts --------------------------------------------------------------------------
def display_counts(counts: Mapping[str, int], names: Iterable[str]) -> list[tuple[str, int]]:
    """Folded facet values mapped back to their configured names (a value no longer in
    the config is shown as stored), most frequent first, then in the config's order."""
    order = {facet_value(n): (i, n) for i, n in enumerate(names)}
    rows = [
        (order.get(value, (len(order), value))[0], order.get(value, (0, value))[1], n)
        for value, n in counts.items()
        if n > 0
    ]
    rows.sort(key=lambda r: (-r[2], r[0], r[1]))
    return [(name, n) for _, name, n in rows]


def counts_summary(
    tr: Translator,
    *,
    total: int,
    kinds: Sequence[tuple[str, int]],
    territories: Sequence[tuple[str, int]],
) -> Rich:
    if total == 0:
        return tr.rich("annuaire.counts.empty")
    parts: list[Rich] = [tr.rich("annuaire.counts.title", n=total)]
    unknown_kind = total - sum(n for _, n in kinds)
    kind_items = [tr.rich("annuaire.counts.item", name=name, n=n) for name, n in kinds]
    if unknown_kind > 0:
        kind_items.append(tr.rich("annuaire.counts.item_unknown", n=unknown_kind))
    parts.append(tr.rich("annuaire.counts.by_kind", items=join(kind_items, " · ")))
    if territories:
        territory_items = [tr.rich("annuaire.counts.item", name=name, n=n) for name, n in territories]
        parts.append(tr.rich("annuaire.counts.by_territory", items=join(territory_items, " · ")))
    parts.append(tr.rich("annuaire.counts.how"))
    return lines(parts)
