"""A pot is a ledger account of its own (kind "pot", owned by the member), with a name and a goal.
Its hours move only by ledger transactions, so `ledger verify` covers them like any balance."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.db import utcnow
from timebank.extensions import db
from timebank.ledger.models import Account

# A member's pots together take at most this share of each exchange they are paid for.
MAX_SHARE_PERCENT = 50


class Pot(db.Model):
    __tablename__ = "pots"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_accounts.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    goal_minutes: Mapped[int]
    # The share (percent) of every exchange the member is paid for that goes into this pot.
    share_percent: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()

    __table_args__ = (
        sa.CheckConstraint(sa.text("goal_minutes > 0"), name="goal"),
        sa.CheckConstraint(sa.text(f"share_percent BETWEEN 0 AND {MAX_SHARE_PERCENT}"), name="share"),
        sa.Index("ix_pots_member_id", "member_id"),
    )

    @property
    def balance(self) -> int:
        return self.account.balance

    @property
    def filled_percent(self) -> int:
        """How full the thermometer is, 0 to 100 (a pot may hold more than its goal)."""
        return min(100, self.balance * 100 // self.goal_minutes)
