"""Surveys (sondages): the questions asked, each person's answer, and the recurring pulses.

A survey's short number is its id (« sondage n° 4 »). An answer is kept as a bit mask of
the answers chosen (bit i: the (i+1)-th answer), so a tally is one grouped count. In an
anonymous survey the voter is a keyed hash of the person (`h:` + hex), never their ID; the
key is dropped when the survey closes and the answers are then reduced to their totals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime, utcnow


class PulseSchedule(Base):
    """A recurring pulse: a poll posted in `room_id` at each occurrence of `cadence` (the
    French text typed, read with the shared recurrence grammar)."""

    __tablename__ = "pulse_schedules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(255))
    cadence: Mapped[str] = mapped_column(String(200))
    # The rule read from `cadence` when it was typed (`Recurrence.to_json`): read again, a
    # phrase like « chaque mois » would start from another day.
    recurrence: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))  # pouls | nps
    question: Mapped[str | None] = mapped_column(Text)  # None: the configured question
    audience: Mapped[str] = mapped_column(String(16), default="salon")  # salon | gouvernance
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_s: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_by: Mapped[str | None] = mapped_column(String(255))


class Survey(Base):
    """One survey. `results` holds the final totals, written when it closes:
    `{"counts": [...], "respondents": n, "eligible": m}` (`counts` left out of an anonymous
    survey that closed below the threshold: what cannot be shown is not kept)."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(255))
    question: Mapped[str] = mapped_column(Text)
    answers: Mapped[list[str]] = mapped_column(JSONType)
    kind: Mapped[str] = mapped_column(String(16), default="question")  # question | pouls | nps
    max_selections: Mapped[int] = mapped_column(Integer, default=1)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # results only at the end
    audience: Mapped[str] = mapped_column(String(16), default="salon")  # salon | gouvernance
    author_id: Mapped[str | None] = mapped_column(String(255), index=True)
    schedule_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("pulse_schedules.id", ondelete="SET NULL")
    )
    occurrence: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(255))
    # Anonymous surveys: the key of the voters' hashes while the survey is open.
    voter_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    results: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (
        # Exactly one poll per occurrence of a recurring pulse.
        UniqueConstraint("schedule_id", "occurrence", name="uq_surveys_occurrence"),
        Index("ix_surveys_room", "room_id", "id"),
        Index("ix_surveys_open", "closed_at", "closes_at"),
        Index("ix_surveys_closed_at", "closed_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class SurveyResponse(Base):
    """Someone's answer to a survey: the latest response they sent (by the homeserver's
    timestamp) before the end. `choices` is 0 when they took their vote back or spoiled
    it (an unknown answer), which counts as no answer."""

    __tablename__ = "survey_responses"
    survey_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    voter: Mapped[str] = mapped_column(String(255), primary_key=True)  # user id, or h:<hash>
    choices: Mapped[int] = mapped_column(Integer, default=0)
    spoiled: Mapped[bool] = mapped_column(Boolean, default=False)
    # ms, of the response that counts (no event id: in an anonymous survey it would lead
    # back to the sender on the homeserver).
    origin_ts: Mapped[int] = mapped_column(BigInteger)
    via: Mapped[str] = mapped_column(String(8), default="poll")  # poll | vote

    __table_args__ = (
        # The tally reads (survey, choices) from the index alone.
        Index("ix_survey_responses_tally", "survey_id", "choices"),
        Index("ix_survey_responses_voter", "voter"),
        # Who answered over a period (the evaluation), read from the index alone.
        Index("ix_survey_responses_time", "origin_ts", "voter", "choices"),
    )
