"""The rules of profiles: every change to a profile goes through `_save`, which flushes it
and brings its search postings and facets in step (`ProfileRepository.save`), so what
`!annuaire` finds is right in the same unit of work and no handler has to remember it.
Outcomes are results, not exceptions: the handler says what happened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.context import Context
from commands.annuaire.search import RecentSearches
from storage.models.directory import Profile
from storage.repositories.profiles import is_listed

Outcome = Literal["none", "unchanged", "done", "done_confirmed"]


@dataclass(frozen=True)
class Change:
    profile: Profile | None
    outcome: Outcome


async def _save(ctx: Context, profile: Profile) -> None:
    await ctx.repos.profiles.save(profile)  # flush + reindex


async def own(ctx: Context, *, create: bool) -> Profile | None:
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
        await _save(ctx, profile)
    return profile


async def edit(ctx: Context, profile: Profile, **values: Any) -> Profile:
    """Set these attributes of the profile."""
    for attr, value in values.items():
        setattr(profile, attr, value)
    await _save(ctx, profile)
    return profile


async def clear(ctx: Context, attr: str) -> Profile | None:
    """Empty one field of the sender's profile (None: they have none)."""
    profile = await own(ctx, create=False)
    if profile is None:
        return None
    return await edit(ctx, profile, **{attr: [] if attr in ("territories", "tags") else None})


async def make_visible(ctx: Context) -> Change:
    """Listed in the directory (an imported profile is confirmed by it: `done_confirmed`)."""
    profile = await own(ctx, create=True)
    assert profile is not None
    if is_listed(profile):
        return Change(profile, "unchanged")
    confirmed = profile.pending
    await edit(ctx, profile, visible=True, pending=False)
    return Change(profile, "done_confirmed" if confirmed else "done")


async def hide(ctx: Context) -> Change:
    profile = await own(ctx, create=False)
    if profile is None:
        return Change(None, "none")
    if not profile.visible:
        return Change(profile, "unchanged")
    await edit(ctx, profile, visible=False)
    return Change(profile, "done")


async def confirm(ctx: Context) -> Change:
    """An imported profile, confirmed by its owner."""
    profile = await own(ctx, create=False)
    if profile is None:
        return Change(None, "none")
    if not profile.pending:
        return Change(profile, "unchanged")
    await edit(ctx, profile, pending=False)
    return Change(profile, "done")


async def rename(ctx: Context, user_id: str, display_name: str) -> None:
    """A member's new Matrix name, the default name of their profile."""
    profile = await ctx.repos.profiles.get(user_id)
    if profile is not None and profile.display_name != display_name:
        await edit(ctx, profile, display_name=display_name)


async def save_answers(ctx: Context, values: dict[str, Any], *, visible: bool) -> Profile:
    """The onboarding's answers: the sender's profile filled in, confirmed, listed if they
    said so."""
    profile = await ctx.repos.profiles.get_or_create(ctx.sender, ctx.display_name(ctx.sender))
    filled = {attr: v for attr, v in values.items() if v not in (None, "", [])}
    return await edit(ctx, profile, **filled, pending=False, visible=visible)


async def delete(ctx: Context) -> bool:
    """The sender's profile erased (and their last searches). False: they had none."""
    ctx.services.state(RecentSearches).forget_user(ctx.sender)
    return await ctx.repos.profiles.delete(ctx.sender)
