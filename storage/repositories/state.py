"""Key/value facts of the bot itself (sync token, credentials)."""

from __future__ import annotations

from sqlalchemy import delete, select

from storage.base import utcnow
from storage.models.runtime import BotState
from storage.repositories.base import Repository


class BotStateRepository(Repository):
    async def get(self, key: str) -> str | None:
        return await self.session.scalar(select(BotState.value).where(BotState.key == key))

    async def set(self, key: str, value: str) -> None:
        row = {"key": key, "value": value, "updated_at": utcnow()}
        await self.upsert(BotState.__table__, row, "key")  # type: ignore[arg-type]

    async def delete(self, key: str) -> None:
        await self.session.execute(delete(BotState).where(BotState.key == key))
