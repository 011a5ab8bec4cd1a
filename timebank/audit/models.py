"""One row per action that someone may later need to account for."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member


class AuditEvent(db.Model):
    """An action, its actor, and the member it was done on behalf of or to (if any).

    `action` is a dotted name such as "member.approved" or "ledger.limit_override"; `subject_type`
    and `subject_id` point at the thing acted on; `details` holds what a reader needs to
    understand the event without joining other tables.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communities.id"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    on_behalf_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    subject_type: Mapped[str | None] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None]
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id])
    on_behalf_of: Mapped[Member | None] = relationship(foreign_keys=[on_behalf_of_id])

    # A member's history ("done for you", the coordinators' view of a member, the data export)
    # asks for events on behalf of them or about them: both sides of that OR need an index, or the
    # whole log is read.
    # A page of one community's log, newest first, read in the index's order (migration 0295).
    __table_args__ = (
        sa.Index("ix_audit_events_subject", "subject_type", "subject_id"),
        sa.Index("ix_audit_events_community_newest", "community_id", "created_at", "id"),
    )
