"""Per-member settings: language, and whether the bot may send them reminders on its own
(`!rappels non` turns off every such reminder: surveys, events…)."""

from __future__ import annotations

from collections.abc import Collection

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

    async def reminders(self, user_id: str) -> bool:
        value = await self.session.scalar(
            select(MemberSettings.reminders).where(MemberSettings.user_id == user_id)
        )
        return True if value is None else bool(value)

    async def set_reminders(self, user_id: str, on: bool) -> None:
        row = await self.session.get(MemberSettings, user_id)
        if row is None:
            self.session.add(MemberSettings(user_id=user_id, reminders=on))
        else:
            row.reminders = on

    async def without_reminders(self, user_ids: Collection[str]) -> set[str]:
        """Those of `user_ids` who turned reminders off."""
        if not user_ids:
            return set()
        rows = await self.session.scalars(
            select(MemberSettings.user_id).where(
                self._listed(MemberSettings.user_id, "users", MemberSettings.user_id.type),
                MemberSettings.reminders.is_(False),
            ),
            {"users": self._list_param(user_ids)},
        )
        return set(rows)

    async def get(self, user_id: str) -> MemberSettings | None:
        return await self.session.get(MemberSettings, user_id)

    async def erase(self, user_id: str) -> int:
        result = await self.session.execute(delete(MemberSettings).where(MemberSettings.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)
