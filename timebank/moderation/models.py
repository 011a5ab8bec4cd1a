"""Reports of content, grouped into one case per reported item, and blocks between members."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member

ITEM_TYPES = ("post", "message", "profile", "thanks")
REASONS = ("spam", "rude", "unsafe", "private", "other")
CASE_STATES = ("open", "decided")
DECISIONS = ("hide", "restore", "warn", "suspend", "dismiss")


def _in(column: str, values) -> sa.TextClause:
    return sa.text(f"{column} IN ({', '.join(repr(v) for v in values)})")


class ModerationCase(db.Model):
    """One reported item (a post, a message, a profile or a thank-you note) and what coordinators
    decided about it. Every report of the same item joins its case; a report after a decision
    opens the case again. The author may reply once to each decision."""

    __tablename__ = "moderation_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    item_type: Mapped[str] = mapped_column(sa.String(10))
    item_id: Mapped[int]
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(10), default="open")
    # When it (last) started to wait for a coordinator.
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str | None] = mapped_column(sa.String(10))
    # In plain words, for the author.
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    is_hidden: Mapped[bool] = mapped_column(default=False)
    reply: Mapped[str | None] = mapped_column(sa.Text)
    replied_at: Mapped[datetime | None]

    author: Mapped[Member] = relationship(foreign_keys=[author_id])
    decided_by: Mapped[Member | None] = relationship(foreign_keys=[decided_by_id])
    reports: Mapped[list["Report"]] = relationship(back_populates="case", order_by="Report.id")

    __table_args__ = (
        sa.UniqueConstraint("item_type", "item_id"),
        sa.CheckConstraint(_in("item_type", ITEM_TYPES), name="item_type"),
        sa.CheckConstraint(_in("state", CASE_STATES), name="state"),
        sa.CheckConstraint(sa.text("decision IS NULL OR " + str(_in("decision", DECISIONS))), name="decision"),
        sa.Index("ix_moderation_cases_community_state", "community_id", "state"),
    )


class Report(db.Model):
    """One member's report of an item: why, and (once decided) what the reporter was told."""

    __tablename__ = "moderation_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("moderation_cases.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(10))
    text: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str | None] = mapped_column(sa.String(10))
    decided_at: Mapped[datetime | None]

    case: Mapped[ModerationCase] = relationship(back_populates="reports")
    reporter: Mapped[Member] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("reason", REASONS), name="reason"),
        sa.CheckConstraint(sa.text("outcome IS NULL OR " + str(_in("outcome", DECISIONS))), name="outcome"),
    )


class Block(db.Model):
    """`blocker` no longer wants to deal with `blocked`: neither sees the other's posts, proposes
    an exchange to the other or writes to them. Exchanges under way can still be finished."""

    __tablename__ = "member_blocks"

    blocker_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    blocked: Mapped[Member] = relationship(foreign_keys=[blocked_id])

    __table_args__ = (sa.CheckConstraint(sa.text("blocker_id <> blocked_id"), name="not_self"),)


def _hid(item_type: str) -> list[sa.ColumnElement]:
    return [ModerationCase.item_type == item_type, ModerationCase.is_hidden.is_(True)]


def hidden(item_type: str, id_column) -> sa.ColumnElement:
    """True for content a coordinator hid: `~hidden("message", Message.id)` keeps it out of a list."""
    return sa.exists().where(*_hid(item_type), ModerationCase.item_id == id_column)


def is_hidden(item_type: str, item_id: int) -> bool:
    return bool(db.session.scalar(sa.select(hidden(item_type, item_id))))


def hidden_ids(item_type: str, item_ids: list[int]) -> set[int]:
    """Which of these items a coordinator hid, in one query for a whole list."""
    if not item_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(ModerationCase.item_id).where(*_hid(item_type), ModerationCase.item_id.in_(item_ids))
        )
    )
