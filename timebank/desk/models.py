"""Who took up a waiting task, and coordinators' internal notes on members."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member


class Assignment(db.Model):
    """ "I'll call her": one coordinator took up a waiting task, so another does not do it too.
    `task` names the task, e.g. "join:12", "dispute:5", "report:3", "member:7"."""

    __tablename__ = "desk_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    task: Mapped[str] = mapped_column(sa.String(40))
    coordinator_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    coordinator: Mapped[Member] = relationship()

    __table_args__ = (sa.UniqueConstraint("community_id", "task"),)


class MemberNote(db.Model):
    """A short note coordinators keep about a member ("prefers a call after 10"); only coordinators
    of the member's community read it, and the member finds it in their data export."""

    __tablename__ = "member_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[Member | None] = relationship(foreign_keys=[author_id])
