"""The `[veille]` section: the feeds followed and how politely they are polled."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from bot.config import Section


class FeedSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    url: str
    # Keywords for this feed; not set: the section's. An empty list keeps every item.
    keywords: list[str] | None = None
    interval_minutes: int | None = Field(default=None, ge=15, le=10080)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise PydanticCustomError("url", "not an http(s) URL: {value}", {"value": v})
        return v


class VeilleConfig(Section):
    # An item enters the queue when its title or summary holds one of these words
    # (accents and case ignored; « inondation » also finds « inondations »).
    keywords: list[str] = Field(
        default_factory=lambda: ["climat", "adaptation", "sécheresse", "canicule", "inondation"]
    )
    # Polite polling: every feed at most this often (15 minutes at least).
    interval_minutes: int = Field(default=60, ge=15, le=10080)
    # A feed that does not answer within this time is retried later.
    timeout_seconds: int = Field(default=20, ge=1, le=120)
    # A larger answer is refused (a feed is a few hundred kilobytes).
    max_bytes: int = Field(default=2_000_000, ge=10_000, le=50_000_000)
    # Items older than this are ignored (the first poll of a feed brings its history).
    max_age_days: int = Field(default=30, ge=1, le=365)
    # At most this many new items enter the queue per poll of one feed.
    max_new_per_poll: int = Field(default=20, ge=1, le=200)
    # Unreviewed items leave the queue after this many days.
    queue_days: int = Field(default=30, ge=1, le=365)
    sources: list[FeedSource] = Field(default_factory=list)
