"""The unit of work: one session, the repositories over it, one commit."""

from __future__ import annotations

from functools import cached_property
from typing import TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories.annonces import AnnouncementRepository
from storage.repositories.base import Repository
from storage.repositories.conversations import ConversationRepository
from storage.repositories.crypto import CryptoRepository
from storage.repositories.digests import DigestRepository
from storage.repositories.direct import DirectRoomRepository
from storage.repositories.evenements import EventRepository
from storage.repositories.feeds import FeedRepository
from storage.repositories.inbox import InboxRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.profiles import ProfileRepository
from storage.repositories.ressources import ResourceRepository
from storage.repositories.search import SearchRepository
from storage.repositories.settings import SettingsRepository
from storage.repositories.signals import SignalRepository
from storage.repositories.state import BotStateRepository
from storage.repositories.welcome import WelcomeRepository

R = TypeVar("R", bound=Repository)


class Repos:
    """Repositories sharing one session: the runtime's as properties, a feature's with
    `repos.of(ItsRepository)` (nothing to add here for a new feature)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._features: dict[type[Repository], Repository] = {}

    def of(self, kind: type[R]) -> R:
        """The unit's `kind` repository (one per unit of work)."""
        found = self._features.get(kind)
        if found is None:
            found = self._features[kind] = kind(self.session)
        return cast(R, found)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    @cached_property
    def state(self) -> BotStateRepository:
        return BotStateRepository(self.session)

    @cached_property
    def settings(self) -> SettingsRepository:
        return SettingsRepository(self.session)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @cached_property
    def crypto(self) -> CryptoRepository:
        return CryptoRepository(self.session)

    @cached_property
    def direct(self) -> DirectRoomRepository:
        return DirectRoomRepository(self.session)

    @cached_property
    def conversations(self) -> ConversationRepository:
        return ConversationRepository(self.session)

    @cached_property
    def search(self) -> SearchRepository:
        return SearchRepository(self.session)

    @cached_property
    def profiles(self) -> ProfileRepository:
        return ProfileRepository(self.session)

    @cached_property
    def welcomes(self) -> WelcomeRepository:
        return WelcomeRepository(self.session)

    @cached_property
    def signals(self) -> SignalRepository:
        return SignalRepository(self.session)

    @cached_property
    def feeds(self) -> FeedRepository:
        return FeedRepository(self.session)

    @cached_property
    def digests(self) -> DigestRepository:
        return DigestRepository(self.session)

    @cached_property
    def events(self) -> EventRepository:
        return EventRepository(self.session)

    @cached_property
    def announcements(self) -> AnnouncementRepository:
        return AnnouncementRepository(self.session)

    @cached_property
    def resources(self) -> ResourceRepository:
        return ResourceRepository(self.session)
