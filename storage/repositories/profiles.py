"""Profiles (the directory), their facets and their share of the search index.

Only listed profiles — visible (opt-in) and confirmed — are in the search index and have
facets: hidden ones cannot be found by construction, and a search or a filter never
needs a visibility test. `save()` keeps both in step with the row; call it after every
change of a profile."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import aliased

from bot.text import facet_value, words
from storage.base import utcnow
from storage.models.directory import Profile, ProfileFacet
from storage.models.search import SearchTerm
from storage.repositories.base import Repository, fetch_prepared
from storage.repositories.search import Restrict, SearchRepository

KIND = "profile"  # the profiles' documents in the shared search index
TERRITORY, STRUCTURE_KIND, TAG = "territory", "kind", "tag"
# Filters matching at most this many profiles are read first, and the search looks its
# words up among them; broader ones are applied inside the search's bounded read (the
# crossover measured at 100 000 profiles: a filtered read probes about
# `FILTERED_CANDIDATES_PER_RESULT` × page ÷ selectivity postings).
FEW_FILTERED = 2000
# Filters found broad are remembered for a while (per process), so the next searches with
# them skip reading their first `FEW_FILTERED` ids. Only the way of searching depends on
# it, never the result: a stale entry costs time, not correctness.
BROAD_FOR_S = 600.0
_broad: dict[tuple[tuple[str, str], ...], float] = {}


@dataclass(frozen=True)
class DirectoryQuery:
    """What `!annuaire` asks for: words, and filters on exact (folded) facet values."""

    text: str = ""
    territory: str | None = None
    kind: str | None = None
    tag: str | None = None

    def facets(self) -> list[tuple[str, str]]:
        wanted = [(TERRITORY, self.territory), (STRUCTURE_KIND, self.kind), (TAG, self.tag)]
        return [(f, facet_value(v)) for f, v in wanted if v]


@dataclass
class ProfilePage:
    profiles: list[Profile]
    total: int
    complete: bool = True  # False: `total` is a lower bound (a very common word)
    matched: dict[int, tuple[str, ...]] = field(default_factory=dict)  # profile id → terms


@dataclass
class ImportOutcome:
    """What `import_contacts` did, by Matrix ID."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # pending profiles refreshed
    kept: list[str] = field(default_factory=list)  # made or confirmed by their owner: untouched


def search_fields(p: Profile) -> list[tuple[str, int]]:
    """What of a profile is searchable, and how much each part weighs."""
    return [
        (p.shown_name, 3),
        (" ".join(p.tags or []), 3),
        (p.structure or "", 2),
        (p.role or "", 2),
        (p.kind or "", 1),
        (" ".join(p.territories or []), 1),
        (p.bio or "", 1),
    ]


def facets_of(p: Profile) -> set[tuple[str, str]]:
    found = {(TERRITORY, facet_value(t)) for t in p.territories or []}
    found |= {(TAG, facet_value(t)) for t in p.tags or []}
    if p.kind:
        found.add((STRUCTURE_KIND, facet_value(p.kind)))
    return {(f, v) for f, v in found if v}


def is_listed(p: Profile) -> bool:
    return bool(p.visible) and not p.pending


class ProfileRepository(Repository):
    @property
    def _search(self) -> SearchRepository:
        return SearchRepository(self.session)

    # --- one profile ----------------------------------------------------------------
    async def get(self, user_id: str) -> Profile | None:
        return await self.session.scalar(select(Profile).where(Profile.user_id == user_id))

    async def get_or_create(self, user_id: str, display_name: str | None = None) -> Profile:
        """The member's profile, created hidden and empty if they have none."""
        profile = await self.get(user_id)
        if profile is None:
            profile = Profile(
                user_id=user_id,
                display_name=display_name,
                territories=[],
                tags=[],
                visible=False,
                pending=False,
                source="member",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            self.session.add(profile)
            await self.session.flush()
        elif display_name and profile.display_name != display_name:
            profile.display_name = display_name
        return profile

    async def save(self, profile: Profile) -> None:
        """Flush the profile and bring its index postings and facets in step with it."""
        profile.updated_at = utcnow()
        profile.territories = list(profile.territories or [])
        profile.tags = list(profile.tags or [])
        self.session.add(profile)
        await self.session.flush()
        await self.reindex([profile])

    async def reindex(self, profiles: Sequence[Profile]) -> None:
        listed = [p for p in profiles if is_listed(p)]
        hidden = [p for p in profiles if not is_listed(p)]
        for p in hidden:
            await self._search.remove(KIND, p.id)
        await self._search.index_many(KIND, {p.id: search_fields(p) for p in listed})
        ids = [p.id for p in profiles]
        for i in range(0, len(ids), 500):
            await self.session.execute(
                delete(ProfileFacet).where(ProfileFacet.profile_id.in_(ids[i : i + 500]))
            )
        rows = [{"facet": f, "value": v, "profile_id": p.id} for p in listed for f, v in facets_of(p)]
        await self.bulk_insert(ProfileFacet.__table__, rows)  # type: ignore[arg-type]

    async def delete(self, user_id: str) -> bool:
        """Erase a profile, its facets and its postings. True if there was one."""
        profile = await self.get(user_id)
        if profile is None:
            return False
        await self._search.remove(KIND, profile.id)
        await self.session.execute(delete(ProfileFacet).where(ProfileFacet.profile_id == profile.id))
        await self.session.delete(profile)
        await self.session.flush()
        return True

    async def many(self, ids: Sequence[int]) -> dict[int, Profile]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Profile).where(Profile.id.in_(list(ids))))
        return {p.id: p for p in rows}

    async def by_user_ids(self, user_ids: Sequence[str]) -> dict[str, Profile]:
        out: dict[str, Profile] = {}
        ids = list(user_ids)
        for i in range(0, len(ids), 500):
            rows = await self.session.scalars(select(Profile).where(Profile.user_id.in_(ids[i : i + 500])))
            out.update({p.user_id: p for p in rows})
        return out

    # --- the directory ----------------------------------------------------------------
    async def search(self, query: DirectoryQuery, *, limit: int = 10, offset: int = 0) -> ProfilePage:
        """`!annuaire`: words through the shared index, filters applied inside its bounded
        read; without words, the listed profiles matching the filters, by name."""
        facets = query.facets()
        if query.text.strip():
            restrict = None
            within = await self._few_filtered(facets) if facets else None
            if facets and within is None:  # a broad filter: applied inside the bounded read
                restrict = _facets_restrict(facets)

            result = await self._search.search(
                KIND,
                query.text,
                limit=limit,
                offset=offset,
                restrict=restrict,
                within=within,
                short_read=True,  # the filters, when joined, are broad ones
                words_together=True,  # topics, roles and structures: words that go together
            )
            by_id = await self.snapshots(Profile, [h.doc_id for h in result.hits])
            profiles = [by_id[h.doc_id] for h in result.hits if h.doc_id in by_id]
            return ProfilePage(
                profiles, result.total, result.complete, {h.doc_id: h.matched for h in result.hits}
            )
        ids = select(Profile.id).where(Profile.visible.is_(True), Profile.pending.is_(False))
        for f, v in facets:
            pf = aliased(ProfileFacet)
            ids = ids.join(pf, pf.profile_id == Profile.id).where(pf.facet == f, pf.value == v)
        total = int(await self.session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
        sort_name = func.lower(func.coalesce(Profile.name, Profile.display_name, Profile.user_id))
        rows = await self.session.scalars(
            select(Profile)
            .where(Profile.id.in_(ids))
            .order_by(sort_name, Profile.id)
            .limit(limit)
            .offset(offset)
        )
        return ProfilePage(list(rows), total)

    async def listed_named(self, typed: str, *, limit: int = 6) -> list[Profile]:
        """Listed profiles whose shown name fits `typed`: the same words (accents and case
        aside), else names whose words start with the typed ones, in order (« cam mar »
        for Camille Martin). Found through the search index (only listed profiles are
        in it), then checked on the names."""
        wanted = words(typed)
        if not wanted:
            return []
        page = await self.search(DirectoryQuery(text=typed), limit=50)
        exact = [p for p in page.profiles if words(p.shown_name) == wanted]
        if exact:
            return exact[:limit]
        return [p for p in page.profiles if _starts_in_order(words(p.shown_name), wanted)][:limit]

    async def _few_filtered(self, facets: Sequence[tuple[str, str]]) -> list[int] | None:
        """The profiles passing every filter, when they are few (`FEW_FILTERED`): the
        search then looks its words up among them. None when the filters are broad (the
        search applies them inside its bounded read, where they cost little)."""

        def build() -> Any:
            first, *rest = [aliased(ProfileFacet) for _ in facets]
            q = select(first.profile_id).where(first.facet == bindparam("f0"), first.value == bindparam("v0"))
            for i, pf in enumerate(rest, 1):
                on = (pf.facet == bindparam(f"f{i}")) & (pf.value == bindparam(f"v{i}"))
                q = q.join(pf, (pf.profile_id == first.profile_id) & on)
            return q.limit(FEW_FILTERED + 1)

        key = tuple(sorted(facets))
        if time.monotonic() - _broad.get(key, -BROAD_FOR_S) < BROAD_FOR_S:
            return None
        params: dict[str, str] = {}
        for i, (f, v) in enumerate(facets):
            params[f"f{i}"], params[f"v{i}"] = f, v
        connection = await self.session.connection()
        ids = [row[0] for row in await fetch_prepared(connection, ("facets", len(facets)), build, params)]
        if len(ids) <= FEW_FILTERED:
            return ids
        if len(_broad) >= 1000:  # filters are a few dozen values: only a flood gets here
            _broad.clear()
        _broad[key] = time.monotonic()
        return None

    async def counts(self, facet: str) -> dict[str, int]:
        """Listed profiles per folded facet value (`!annuaire` alone)."""
        rows = await self.session.execute(
            select(ProfileFacet.value, func.count())
            .where(ProfileFacet.facet == facet)
            .group_by(ProfileFacet.value)
        )
        return {value: int(n) for value, n in rows}

    async def tag_values(self, tag: str, limit: int = 8) -> list[str]:
        """Topics of listed profiles a topic filter may mean (folded): the exact one if
        some member has it, else those starting with it (an index range: facet values
        sort bytewise on both engines)."""
        wanted = facet_value(tag)
        exact = await self.session.scalar(
            select(ProfileFacet.value).where(ProfileFacet.facet == TAG, ProfileFacet.value == wanted).limit(1)
        )
        if exact is not None:
            return [exact]
        rows = await self.session.scalars(
            select(ProfileFacet.value)
            .where(
                ProfileFacet.facet == TAG,
                ProfileFacet.value >= wanted,
                ProfileFacet.value < wanted + "\uffff",
                ProfileFacet.value.startswith(wanted, autoescape=True),
            )
            .distinct()
            .order_by(ProfileFacet.value)
            .limit(limit)
        )
        return list(rows)

    async def count_listed(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Profile)
                .where(Profile.visible.is_(True), Profile.pending.is_(False))
            )
            or 0
        )

    async def all(self, *, listed_only: bool = False) -> list[Profile]:
        """Every profile, by name (exports)."""
        q = select(Profile)
        if listed_only:
            q = q.where(Profile.visible.is_(True), Profile.pending.is_(False))
        return list(
            await self.session.scalars(
                q.order_by(func.lower(func.coalesce(Profile.name, Profile.display_name, Profile.user_id)))
            )
        )

    # --- the contact book ----------------------------------------------------------------
    async def import_contacts(self, contacts: Mapping[str, Mapping[str, Any]]) -> ImportOutcome:
        """Create or refresh imported profiles (Matrix ID → field values), in bulk: they
        are created pending and hidden, so they are neither indexed nor faceted until
        their owner confirms them. A profile its owner made or confirmed
        (`pending=False`) is never touched; a pending one is refreshed from the file, so
        importing the same file twice changes nothing."""
        outcome = ImportOutcome()
        existing: dict[str, tuple[int, bool]] = {}
        ids = list(contacts)
        for i in range(0, len(ids), 500):
            rows = await self.session.execute(
                select(Profile.user_id, Profile.id, Profile.pending).where(
                    Profile.user_id.in_(ids[i : i + 500])
                )
            )
            existing.update({user_id: (pid, bool(pending)) for user_id, pid, pending in rows})
        now = utcnow()
        new_rows: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for user_id, values in contacts.items():
            known = existing.get(user_id)
            if known is None:
                outcome.created.append(user_id)
                new_rows.append(
                    {
                        **_import_values(values),
                        "user_id": user_id,
                        "display_name": None,
                        "visible": False,
                        "pending": True,
                        "source": "import",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            elif known[1]:
                outcome.updated.append(user_id)
                updates.append({**_import_values(values), "id": known[0], "updated_at": now})
            else:
                outcome.kept.append(user_id)
        table = Profile.__table__
        for i in range(0, len(new_rows), 2000):
            await self.session.execute(insert(table), new_rows[i : i + 2000])  # type: ignore[arg-type]
        if updates:
            # ORM bulk UPDATE by primary key: one executemany; no pending profile is in
            # the index, so there is nothing to reindex.
            await self.session.execute(update(Profile), updates)
        return outcome

    # --- personal data ----------------------------------------------------------------
    async def export_member(self, user_id: str) -> dict[str, Any] | None:
        p = await self.get(user_id)
        return None if p is None else profile_dict(p)

    async def erase_member(self, user_id: str) -> int:
        return int(await self.delete(user_id))


def _facets_restrict(facets: Sequence[tuple[str, str]]) -> Restrict:
    """The postings read limited to listed profiles with every facet value."""

    def apply(q: Any) -> Any:
        for i in range(len(facets)):
            pf = aliased(ProfileFacet)
            q = q.join(pf, pf.profile_id == SearchTerm.doc_id).where(
                pf.facet == bindparam(f"facet{i}"), pf.value == bindparam(f"value{i}")
            )
        return q

    params: dict[str, str] = {}
    for i, (f, v) in enumerate(facets):
        params[f"facet{i}"], params[f"value{i}"] = f, v
    return Restrict(apply, ("facets", len(facets)), params)


def _starts_in_order(name: list[str], typed: list[str]) -> bool:
    """Each typed word starts a word of the name, in the name's order."""
    i = 0
    for word in typed:
        while i < len(name) and not name[i].startswith(word):
            i += 1
        if i == len(name):
            return False
        i += 1
    return True


def profile_dict(p: Profile) -> dict[str, Any]:
    return {
        "identifiant_matrix": p.user_id,
        "nom_matrix": p.display_name,
        "nom": p.name,
        "email": p.email,
        "structure": p.structure,
        "type_structure": p.kind,
        "fonction": p.role,
        "territoires": list(p.territories or []),
        "competences": list(p.tags or []),
        "presentation": p.bio,
        "visible": p.visible,
        "a_confirmer": p.pending,
        "origine": p.source,
        "cree_le": p.created_at,
        "modifie_le": p.updated_at,
    }


IMPORTED_FIELDS = ("name", "email", "structure", "kind", "role", "territories", "tags", "bio")


def _import_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every imported field, absent ones as empty: the file is the truth for a pending profile."""
    out = {k: values.get(k) for k in IMPORTED_FIELDS}
    out["territories"] = list(out["territories"] or [])
    out["tags"] = list(out["tags"] or [])
    return out


def apply_fields(p: Profile, values: Mapping[str, Any]) -> None:
    """Set validated field values on a profile (keys are Profile attributes)."""
    for key, value in values.items():
        setattr(p, key, value)
