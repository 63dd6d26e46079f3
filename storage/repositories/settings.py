"""Per-member settings (language)."""

from __future__ import annotations

from sqlalchemy import delete, select

from storage.models.runtime import MemberSettings
from storage.repositories.base import Repository


class SettingsRepository(Repository):
    async def language(self, user_id: str) -> str | None:
        return await self.session.scalar(
            select(MemberSettings.language).where(MemberSettings.user_id == user_id)
        )

    async def set_language(self, user_id: str, language: str) -> None:
        row = await self.session.get(MemberSettings, user_id)
        if row is None:
            self.session.add(MemberSettings(user_id=user_id, language=language))
        else:
            row.language = language

    async def get(self, user_id: str) -> MemberSettings | None:
        return await self.session.get(MemberSettings, user_id)

    async def erase(self, user_id: str) -> int:
        result = await self.session.execute(delete(MemberSettings).where(MemberSettings.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)
