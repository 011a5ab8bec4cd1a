"""The sign-in log: who signed in, or typed a wrong password, on the web or through the API.

Kept apart from the audit log on purpose: it is about security, not about what coordinators did,
and it is pruned after `KEEP_DAYS` (`flask members prune-sign-ins`, run daily), while the audit
log is never pruned. A failed attempt for an address nobody has is logged without a member; the
address itself is never stored."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member

KEEP_DAYS = 90
OUTCOMES = ("signed_in", "failed", "refused")


class SignInEvent(db.Model):
    __tablename__ = "sign_in_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communities.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(sa.String(20))
    channel: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (sa.CheckConstraint(sa.text("outcome IN ('signed_in', 'failed', 'refused')"), name="outcome"),)


def log_sign_in(member: Member | None, outcome: str, channel: str = "web") -> None:
    """Add one line (flushed; the caller commits, also when it then refuses)."""
    assert outcome in OUTCOMES and channel in ("web", "api")
    db.session.add(
        SignInEvent(
            member_id=member.id if member else None,
            community_id=member.community_id if member else None,
            outcome=outcome,
            channel=channel,
        )
    )
    db.session.flush()


def prune_sign_ins(now: datetime | None = None) -> int:
    """Delete lines older than KEEP_DAYS; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=KEEP_DAYS)
    result = db.session.execute(sa.delete(SignInEvent).where(SignInEvent.created_at < cutoff))
    return result.rowcount or 0


def sign_ins_of(member: Member, limit: int = 50) -> list[SignInEvent]:
    return list(
        db.session.scalars(
            sa.select(SignInEvent)
            .where(SignInEvent.member_id == member.id)
            .order_by(SignInEvent.created_at.desc(), SignInEvent.id.desc())
            .limit(limit)
        )
    )


def export_sign_ins(member: Member) -> list[dict]:
    return [{"at": e.created_at, "outcome": e.outcome, "channel": e.channel} for e in sign_ins_of(member, 10_000)]


def forget_sign_ins(member: Member, _actor: Member) -> None:
    db.session.execute(sa.delete(SignInEvent).where(SignInEvent.member_id == member.id))
