"""Step-by-step conversations in direct chats."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from storage.base import utcnow
from storage.models.runtime import Conversation
from storage.repositories.base import Repository


class ConversationRepository(Repository):
    async def get(self, user_id: str) -> Conversation | None:
        return await self.session.get(Conversation, user_id)

    async def start(self, user_id: str, room_id: str, form: str, data: dict[str, Any]) -> Conversation:
        await self.end(user_id)
        row = Conversation(
            user_id=user_id,
            room_id=room_id,
            form=form,
            step=0,
            data=data,
            started_at=utcnow(),
            updated_at=utcnow(),
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def save(self, row: Conversation, step: int, data: dict[str, Any]) -> None:
        row.step = step
        row.data = dict(data)  # a new dict so the JSON column sees the change
        row.updated_at = utcnow()

    async def end(self, user_id: str) -> int:
        result = await self.session.execute(delete(Conversation).where(Conversation.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)
