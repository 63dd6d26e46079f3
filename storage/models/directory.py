"""The member directory (annuaire): one profile per member, the facets that filters and
counts read (territory, kind of structure, topic), and who has been welcomed where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime, utcnow


class Profile(Base):
    """A member's directory entry. Everything here is personal data: `!mes-donnees`
    exports it, `!oublier-moi` deletes the row (facets and search postings with it).

    A profile is searchable only when `visible` (opt-in) and not `pending` (imported
    from the contact book and not yet confirmed by its owner)."""

    __tablename__ = "profiles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), unique=True)  # the Matrix ID
    # The Matrix display name as last seen, and the member's own override of it.
    display_name: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))  # from the contact book only
    structure: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(100))  # a configured kind of structure
    role: Mapped[str | None] = mapped_column(String(200))  # fonction
    territories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)  # compétences / sujets
    bio: Mapped[str | None] = mapped_column(Text)  # présentation, ≤ 500 characters
    visible: Mapped[bool] = mapped_column(Boolean, default=False)
    pending: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="member")  # member | import
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def shown_name(self) -> str:
        return self.name or self.display_name or self.user_id

    __table_args__ = (Index("ix_profiles_listed", "visible", "pending"),)


FacetValue = String(200).with_variant(String(200, collation="C"), "postgresql")


class ProfileFacet(Base):
    """One filterable value of a listed profile: `facet` is « territory », « kind » or
    « tag », `value` the folded value. Only searchable profiles have facets, so a filter
    or a count is a plain index lookup with no visibility test."""

    __tablename__ = "profile_facets"
    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Byte order on PostgreSQL, so a topic filter's prefix (« numer » → « numérique
    # responsable ») is an index range whatever the database's locale.
    value: Mapped[str] = mapped_column(FacetValue, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_profile_facets_profile", "profile_id"), {"sqlite_with_rowid": False})


class Welcome(Base):
    """A member welcomed in a group of rooms (a group is a configured set of rooms, or a
    room alone). Kept after they leave, so a member who comes back is not welcomed as new.
    `posted` is False while their welcome waits in the batching window."""

    __tablename__ = "welcomes"
    group_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    posted: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_welcomes_waiting", "posted", "joined_at"),
        Index("ix_welcomes_user", "user_id"),
    )
