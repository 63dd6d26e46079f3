"""The welcome's share of a member's personal data (`!mes-donnees`, `!oublier-moi`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.unit import Repos


class WelcomeData:
    """Where and when a member was welcomed. Erased with the rest: if they come back
    after `!oublier-moi`, they are welcomed as new."""

    name = "accueil"

    async def export(self, repos: Repos, user_id: str) -> Any:
        return await repos.welcomes.export_member(user_id)

    async def erase(self, repos: Repos, user_id: str) -> int:
        return await repos.welcomes.erase_member(user_id)


WELCOME_DATA = WelcomeData()
