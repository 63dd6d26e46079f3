"""What the features' indicators read, on both engines: arrivals of members, signals
shared / supported / commented and by whom, digests published, events held and who came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.models.directory import Welcome
from storage.models.evenements import Event, EventRsvp
from storage.models.signals import Digest, Signal, SignalComment, SignalSupport

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def signal(n: int, author: str | None, at: datetime, origin: str = "member") -> Signal:
    return Signal(
        id=n,
        theme="climat",
        title=f"Signal {n}",
        category="environnemental",
        nature="signal_faible",
        author_id=author,
        origin=origin,
        created_at=at,
        updated_at=at,
    )


async def test_arrivals_signals_and_digests_over_a_period(db: Database) -> None:
    start, end = T0, T0 + timedelta(days=30)
    async with db.unit() as repos:
        for user, group, at in [
            ("@old:x", "g1", T0 - timedelta(days=40)),
            ("@old:x", "g2", T0 + timedelta(days=2)),  # a second group: not a new member
            ("@new:x", "g1", T0 + timedelta(days=3)),
            ("@late:x", "g1", end + timedelta(days=1)),  # after the period
        ]:
            repos.session.add(
                Welcome(group_key=group, user_id=user, room_id="!r:x", posted=True, joined_at=at)
            )
        repos.session.add_all(
            [
                signal(1, "@a:x", T0 + timedelta(days=1)),
                signal(2, "@a:x", T0 + timedelta(days=2)),
                signal(3, None, T0 + timedelta(days=2), origin="veille:flux"),  # not a member's
                signal(4, "@b:x", T0 - timedelta(days=1)),  # before
            ]
        )
        await repos.session.flush()
        repos.session.add_all(
            [
                SignalSupport(signal_id=4, user_id="@c:x", created_at=T0 + timedelta(days=5)),
                SignalSupport(signal_id=1, user_id="@b:x", created_at=T0 - timedelta(days=5)),
                SignalComment(signal_id=1, author_id="@d:x", text="vu", created_at=T0 + timedelta(days=6)),
            ]
        )
        for week, at in (("2026-W10", T0 + timedelta(days=1)), ("2026-W09", T0 - timedelta(days=6))):
            repos.session.add(
                Digest(week=week, period_start=at, period_end=at, items=[], total=0, rooms=[], created_at=at)
            )
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.welcomes.arrivals(start, end) == (2, 1)
        assert await repos.welcomes.arrivals(start - timedelta(days=30), start) == (1, 0)
        shared, supports, comments, people = await repos.signals.activity(start, end)
        assert (shared, supports, comments) == (2, 1, 1) and people == {"@a:x", "@c:x", "@d:x"}
        assert await repos.digests.count_between(start, end) == 1


async def test_events_held_and_their_participants_over_a_period(db: Database) -> None:
    start, end = T0, T0 + timedelta(days=30)
    async with db.unit() as repos:
        events = {
            name: await repos.events.add(
                Event(kind="webinaire", title=name, starts_at=at, status=status, rooms=["!r:x"])
            )
            for name, at, status in [
                ("held", T0 + timedelta(days=2), "scheduled"),
                ("also held", T0 + timedelta(days=9), "scheduled"),
                ("cancelled", T0 + timedelta(days=3), "cancelled"),
                ("before", T0 - timedelta(days=1), "scheduled"),
                ("after", end, "scheduled"),  # the end is not in the period
            ]
        }
        for name, user, status in [
            ("held", "@a:x", "going"),
            ("held", "@b:x", "going"),
            ("held", "@c:x", "waiting"),  # on the waiting list: not a seat
            ("also held", "@a:x", "going"),  # the same person twice: one participant
            ("cancelled", "@d:x", "going"),
            ("before", "@e:x", "going"),
        ]:
            repos.session.add(EventRsvp(event_id=events[name].id, user_id=user, status=status))
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.events.held_between(start, end) == (2, 3, 2)
        assert await repos.events.held_between(end, end + timedelta(days=1)) == (1, 0, 0)
