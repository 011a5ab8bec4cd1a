"""What the app tells a member: one row per event, read in the app and emailed as they chose."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.db import utcnow
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.members.models import Member


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    # Who caused it and what it is about; names are looked up when shown, so they are current.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    exchange_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exchanges.id", ondelete="CASCADE"))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # Put in an email (at once or in a digest): never mailed twice.
    emailed_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    exchange: Mapped[Exchange | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.Index("ix_notifications_member_id_id", "member_id", "id"),
        sa.Index("ix_notifications_unread", "member_id", "read_at"),
        sa.Index("ix_notifications_exchange_id", "exchange_id"),
        sa.Index("ix_notifications_kind_created", "kind", "created_at"),  # the desk's requests for room
    )


class EmailChoice(db.Model):
    """How a member wants email about one kind of event, where it differs from their overall
    choice (members.notify_email). No row: the overall choice applies."""

    __tablename__ = "notification_email_choices"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    choice: Mapped[str] = mapped_column(sa.String(12))

    __table_args__ = (sa.CheckConstraint(sa.text("choice IN ('immediately', 'daily', 'off')"), name="choice"),)
