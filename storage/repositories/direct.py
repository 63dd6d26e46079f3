"""Direct chats the bot has with people."""

from __future__ import annotations

from sqlalchemy import delete, select

from storage.models.runtime import DirectRoom
from storage.repositories.base import Repository


class DirectRoomRepository(Repository):
    async def room_for(self, user_id: str) -> str | None:
        return await self.session.scalar(select(DirectRoom.room_id).where(DirectRoom.user_id == user_id))

    async def user_for(self, room_id: str) -> str | None:
        return await self.session.scalar(select(DirectRoom.user_id).where(DirectRoom.room_id == room_id))

    async def set(self, user_id: str, room_id: str) -> None:
        row = await self.session.get(DirectRoom, user_id)
        if row is None:
            self.session.add(DirectRoom(user_id=user_id, room_id=room_id))
        else:
            row.room_id = room_id

    async def forget_room(self, room_id: str) -> None:
        await self.session.execute(delete(DirectRoom).where(DirectRoom.room_id == room_id))

    async def forget_user(self, user_id: str) -> int:
        result = await self.session.execute(delete(DirectRoom).where(DirectRoom.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)
