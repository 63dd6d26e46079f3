"""The directory's share of a member's personal data (`!mes-donnees`, `!oublier-moi`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.unit import Repos


class ProfileData:
    """The member's directory profile. (Their last searches, held in memory only, go with
    `!oublier-moi`'s `Services.forget_member`: `RecentSearches` is a `MemberMemory`.)"""

    name = "profil"

    async def export(self, repos: Repos, user_id: str) -> dict[str, Any] | None:
        return await repos.profiles.export_member(user_id)

    async def erase(self, repos: Repos, user_id: str) -> int:
        return await repos.profiles.erase_member(user_id)


PROFILE_DATA = ProfileData()
