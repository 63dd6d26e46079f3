"""The bot device's encryption keys: read all at start, written as changes.

The key store in memory (`bot.crypto_store`) collects what matrix-nio saves while it
decrypts and encrypts, and hands it here as upserts and deletions by primary key, to be
committed with the sync token of the events that caused them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, delete, select

from storage.models.crypto import (
    CryptoAccount,
    CryptoDevice,
    CryptoGroupSession,
    CryptoKeyRequest,
    CryptoOlmSession,
    CryptoRoom,
)
from storage.repositories.base import Repository

TABLES: dict[str, Table] = {
    m.__tablename__: m.__table__  # type: ignore[misc]
    for m in (CryptoAccount, CryptoOlmSession, CryptoGroupSession, CryptoDevice, CryptoRoom, CryptoKeyRequest)
}


@dataclass
class CryptoKeys:
    """Everything stored for one device of the bot."""

    account: CryptoAccount | None
    olm_sessions: list[CryptoOlmSession] = field(default_factory=list)
    group_sessions: list[CryptoGroupSession] = field(default_factory=list)
    devices: list[CryptoDevice] = field(default_factory=list)
    rooms: list[str] = field(default_factory=list)
    key_requests: list[CryptoKeyRequest] = field(default_factory=list)


@dataclass
class CryptoChanges:
    """Rows to write (`upserts`, whole rows) and to remove (`deletes`, primary keys),
    by table name."""

    upserts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deletes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.upserts.values()) or any(self.deletes.values())

    def count(self) -> int:
        return sum(map(len, self.upserts.values())) + sum(map(len, self.deletes.values()))


class CryptoRepository(Repository):
    async def load(self, user_id: str, device_id: str) -> CryptoKeys:
        account = await self.session.get(CryptoAccount, (user_id, device_id))
        keys = CryptoKeys(account)
        if account is None:
            return keys
        keys.olm_sessions = list(
            await self.session.scalars(select(CryptoOlmSession).where(CryptoOlmSession.account == device_id))
        )
        keys.group_sessions = list(
            await self.session.scalars(
                select(CryptoGroupSession).where(CryptoGroupSession.account == device_id)
            )
        )
        keys.devices = list(
            await self.session.scalars(select(CryptoDevice).where(CryptoDevice.account == device_id))
        )
        keys.rooms = list(
            await self.session.scalars(select(CryptoRoom.room_id).where(CryptoRoom.account == device_id))
        )
        keys.key_requests = list(
            await self.session.scalars(select(CryptoKeyRequest).where(CryptoKeyRequest.account == device_id))
        )
        return keys

    async def apply(self, changes: CryptoChanges) -> None:
        for name, rows in changes.upserts.items():
            if rows:
                await self._upsert_many(TABLES[name], rows)
        for name, keys in changes.deletes.items():
            table = TABLES[name]
            for key in keys:
                await self.session.execute(
                    delete(table).where(and_(*(table.c[k] == v for k, v in key.items())))
                )

    async def _upsert_many(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        keys = [c.name for c in table.primary_key.columns]
        # One statement per shape: rows of one table may carry different columns.
        by_shape: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for row in rows:
            by_shape.setdefault(tuple(row), []).append(row)
        for shape, same in by_shape.items():
            for start in range(0, len(same), 200):
                stmt = self._insert(table).values([dict(r) for r in same[start : start + 200]])
                updated = {c: stmt.excluded[c] for c in shape if c not in keys}
                if updated:
                    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=updated)
                else:
                    stmt = stmt.on_conflict_do_nothing(index_elements=keys)
                await self.session.execute(stmt)
