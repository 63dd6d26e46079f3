"""Surveys, their answers and the recurring pulses.

An answer is written only when it is newer than the one kept (the homeserver's timestamp
decides, so responses handled out of order still leave each person's latest); the close
and the reminder of a survey are claimed by one atomic update each, so a command and a job
racing for them cannot both act."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.models.sondages import PulseSchedule, Survey, SurveyResponse
from storage.repositories.base import Repository


class SurveyRepository(Repository):
    # --- surveys ------------------------------------------------------------------------
    async def add(self, survey: Survey) -> Survey:
        self.session.add(survey)
        await self.session.flush()  # the id is the survey's short number
        return survey

    async def add_for_occurrence(self, survey: Survey) -> Survey | None:
        """Add a recurring pulse's survey; None when its occurrence already has one (two
        runs racing: exactly one poll per occurrence)."""
        try:
            async with self.session.begin_nested():
                self.session.add(survey)
                await self.session.flush()
        except IntegrityError:
            return None
        return survey

    async def get(self, survey_id: int) -> Survey | None:
        return await self.session.get(Survey, survey_id)

    async def latest(self, room_id: str, *, open_only: bool = False) -> Survey | None:
        stmt = select(Survey).where(Survey.room_id == room_id)
        if open_only:
            stmt = stmt.where(Survey.closed_at.is_(None))
        return await self.session.scalar(stmt.order_by(Survey.id.desc()).limit(1))

    async def in_rooms(
        self, room_ids: Collection[str], *, closed_since: datetime, limit: int = 10
    ) -> list[Survey]:
        """The open surveys of these rooms and those closed since `closed_since`, newest
        first."""
        if not room_ids:
            return []
        stmt = (
            select(Survey)
            .where(
                Survey.room_id.in_(list(room_ids)),
                or_(Survey.closed_at.is_(None), Survey.closed_at >= closed_since),
            )
            .order_by(Survey.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def open_surveys(self) -> list[Survey]:
        stmt = select(Survey).where(Survey.closed_at.is_(None)).order_by(Survey.id)
        return list((await self.session.scalars(stmt)).all())

    async def for_occurrence(self, schedule_id: int, occurrence: str) -> Survey | None:
        return await self.session.scalar(
            select(Survey).where(Survey.schedule_id == schedule_id, Survey.occurrence == occurrence)
        )

    async def closed_between(self, start: datetime, end: datetime) -> list[Survey]:
        """Surveys closed in [start, end), oldest first (what an evaluation period counts)."""
        stmt = (
            select(Survey)
            .where(Survey.closed_at >= start, Survey.closed_at < end)
            .order_by(Survey.closed_at, Survey.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def results_between(self, start: datetime, end: datetime) -> list[tuple[str, dict[str, Any]]]:
        """The kind and final figures of the surveys closed in [start, end) (the
        evaluation: no survey loaded whole)."""
        rows = await self.session.execute(
            select(Survey.kind, Survey.results).where(Survey.closed_at >= start, Survey.closed_at < end)
        )
        return [(kind, results or {}) for kind, results in rows]

    async def claim_close(self, survey_id: int, at: datetime, by: str | None) -> bool:
        """Mark the survey closed; False when it already was (someone else closed it)."""
        result = await self.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.closed_at.is_(None))
            .values(closed_at=at, closed_by=by)
            .execution_options(synchronize_session=False)
        )
        claimed = int(getattr(result, "rowcount", 0) or 0) == 1
        if claimed:
            survey = await self.session.get(Survey, survey_id)
            if survey is not None:
                await self.session.refresh(survey)
        return claimed

    async def claim_reminder(self, survey_id: int, at: datetime) -> bool:
        """Mark the survey's reminder sent; False when it already was."""
        result = await self.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.reminded_at.is_(None), Survey.closed_at.is_(None))
            .values(reminded_at=at)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    # --- answers ------------------------------------------------------------------------
    async def record(
        self, survey_id: int, voter: str, *, choices: int, spoiled: bool, origin_ts: int, via: str
    ) -> bool:
        """Keep this answer if it is the voter's latest (a later or equal timestamp than
        the one kept); False when an answer sent later is already kept."""
        table: Any = SurveyResponse.__table__
        row = {
            "survey_id": survey_id,
            "voter": voter,
            "choices": choices,
            "spoiled": spoiled,
            "origin_ts": origin_ts,
            "via": via,
        }
        stmt = self._insert(table).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["survey_id", "voter"],
            set_={k: stmt.excluded[k] for k in ("choices", "spoiled", "origin_ts", "via")},
            where=table.c.origin_ts <= stmt.excluded.origin_ts,
        )
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def response(self, survey_id: int, voter: str) -> SurveyResponse | None:
        return await self.session.get(SurveyResponse, (survey_id, voter))

    async def tally(self, survey_id: int) -> dict[int, int]:
        """How many people chose each combination of answers (bit masks; no answer, a
        vote taken back and a spoiled vote are left out)."""
        rows = await self.session.execute(
            select(SurveyResponse.choices, func.count())
            .where(SurveyResponse.survey_id == survey_id, SurveyResponse.choices != 0)
            .group_by(SurveyResponse.choices)
        )
        return {int(mask): int(n) for mask, n in rows}

    async def respondents(self, survey_id: int) -> set[str]:
        """The voters (IDs, or hashes in an anonymous survey) whose answer counts."""
        rows = await self.session.scalars(
            select(SurveyResponse.voter).where(
                SurveyResponse.survey_id == survey_id, SurveyResponse.choices != 0
            )
        )
        return set(rows)

    async def voters_between(self, start_ms: int, end_ms: int) -> set[str]:
        """Who answered a survey that is not anonymous in [start, end) (ms): the people
        active in surveys over a period (anonymous answers name nobody)."""
        rows = await self.session.scalars(
            select(SurveyResponse.voter)
            .where(
                SurveyResponse.origin_ts >= start_ms,
                SurveyResponse.origin_ts < end_ms,
                SurveyResponse.choices != 0,
            )
            .distinct()
        )
        return {voter for voter in rows if not voter.startswith("h:")}

    async def drop_answers(self, survey_id: int) -> int:
        result = await self.session.execute(
            delete(SurveyResponse).where(SurveyResponse.survey_id == survey_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def drop_answer(self, survey_id: int, voter: str) -> int:
        result = await self.session.execute(
            delete(SurveyResponse).where(SurveyResponse.survey_id == survey_id, SurveyResponse.voter == voter)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- recurring pulses ---------------------------------------------------------------
    async def add_schedule(self, schedule: PulseSchedule) -> PulseSchedule:
        self.session.add(schedule)
        await self.session.flush()
        return schedule

    async def schedule(self, schedule_id: int) -> PulseSchedule | None:
        return await self.session.get(PulseSchedule, schedule_id)

    async def active_schedules(self, room_ids: Collection[str] | None = None) -> list[PulseSchedule]:
        stmt = select(PulseSchedule).where(PulseSchedule.stopped_at.is_(None))
        if room_ids is not None:
            stmt = stmt.where(PulseSchedule.room_id.in_(list(room_ids)))
        return list((await self.session.scalars(stmt.order_by(PulseSchedule.id))).all())

    async def stop_schedule(self, schedule_id: int, at: datetime, by: str) -> bool:
        result = await self.session.execute(
            update(PulseSchedule)
            .where(PulseSchedule.id == schedule_id, PulseSchedule.stopped_at.is_(None))
            .values(stopped_at=at, stopped_by=by)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    # --- personal data ------------------------------------------------------------------
    async def answers_of(self, user_id: str) -> list[tuple[Survey, SurveyResponse]]:
        """A person's answers to surveys that are not anonymous (anonymous ones are
        kept under a hash and cannot be found from their ID)."""
        rows = await self.session.execute(
            select(Survey, SurveyResponse)
            .join(SurveyResponse, SurveyResponse.survey_id == Survey.id)
            .where(SurveyResponse.voter == user_id)
            .order_by(Survey.id)
        )
        return [(s, r) for s, r in rows]

    async def authored_by(self, user_id: str) -> tuple[Sequence[Survey], Sequence[PulseSchedule]]:
        surveys = await self.session.scalars(
            select(Survey).where(Survey.author_id == user_id).order_by(Survey.id)
        )
        schedules = await self.session.scalars(
            select(PulseSchedule).where(PulseSchedule.author_id == user_id).order_by(PulseSchedule.id)
        )
        return surveys.all(), schedules.all()

    async def closed_or_stopped_by(self, user_id: str) -> tuple[Sequence[Survey], Sequence[PulseSchedule]]:
        """Surveys an animator closed and pulses they stopped (personal data export)."""
        surveys = await self.session.scalars(
            select(Survey).where(Survey.closed_by == user_id).order_by(Survey.id)
        )
        schedules = await self.session.scalars(
            select(PulseSchedule).where(PulseSchedule.stopped_by == user_id).order_by(PulseSchedule.id)
        )
        return surveys.all(), schedules.all()

    async def erase_user(self, user_id: str) -> int:
        """Delete the person's answers (not anonymous ones: they hold no ID) and remove
        their name from what they created or closed; returns how many records changed."""
        result = await self.session.execute(delete(SurveyResponse).where(SurveyResponse.voter == user_id))
        count = int(getattr(result, "rowcount", 0) or 0)
        for model, columns in (
            (Survey, (Survey.author_id, Survey.closed_by)),
            (PulseSchedule, (PulseSchedule.author_id, PulseSchedule.stopped_by)),
        ):
            result = await self.session.execute(
                update(model)
                .where(or_(*(c == user_id for c in columns)))
                .values({c.key: case((c == user_id, None), else_=c) for c in columns})
                .execution_options(synchronize_session=False)
            )
            count += int(getattr(result, "rowcount", 0) or 0)
        return count
