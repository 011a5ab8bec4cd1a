"""A post in the market: an offer or a request, a timed service or a free gift."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.communities.models import Area, Category, Community
from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member
from timebank.uploads.models import Image

KINDS = ("offer", "request")
# Expired posts leave the listings but stay in history; the owner can renew them.
STATUSES = ("active", "paused", "closed", "expired")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_PARTS = ("morning", "afternoon", "evening")


class Post(db.Model):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    title: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    # Estimated time; None when the owner did not say, 0 for gifts.
    minutes: Mapped[int | None]
    is_gift: Mapped[bool] = mapped_column(default=False)
    available_days: Mapped[list] = mapped_column(sa.JSON, default=list)
    available_parts: Mapped[list] = mapped_column(sa.JSON, default=list)
    available_note: Mapped[str] = mapped_column(sa.String(200), default="")
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"))
    image_id: Mapped[int | None] = mapped_column(sa.ForeignKey("images.id"))
    status: Mapped[str] = mapped_column(sa.String(8), default="active")
    # Why and by whom a post was closed; a coordinator's reason is shown to the owner.
    closed_reason: Mapped[str] = mapped_column(sa.Text, default="")
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]

    owner: Mapped[Member] = relationship(foreign_keys=[owner_id])
    community: Mapped[Community] = relationship(viewonly=True)
    closed_by: Mapped[Member | None] = relationship(foreign_keys=[closed_by_id])
    category: Mapped[Category] = relationship()
    area: Mapped[Area | None] = relationship()
    image: Mapped[Image | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(sa.text("kind IN ('offer', 'request')"), name="kind"),
        sa.CheckConstraint(sa.text("status IN ('active', 'paused', 'closed', 'expired')"), name="status"),
        sa.CheckConstraint(sa.text("minutes IS NULL OR minutes >= 0"), name="minutes"),
        sa.CheckConstraint(sa.text("NOT is_gift OR minutes = 0"), name="gift_is_free"),
        # The listing: one community's active posts, newest (highest id) first.
        sa.Index("ix_posts_listing", "community_id", "status", "id"),
        # Counting what is online reads this index alone (migration 0225_speed).
        sa.Index("ix_posts_online", "community_id", "status", "expires_at", "owner_id"),
        # The statistics' requests posted in a period (migration 0290_requests).
        sa.Index("ix_posts_created", "community_id", "kind", "created_at"),
    )

    @property
    def state(self) -> str:
        """The status as people see it: a post past its date is expired even before
        `flask market expire` has marked it so."""
        if self.status in ("active", "paused") and self.expires_at <= utcnow():
            return "expired"
        return self.status

    @property
    def is_moderated(self) -> bool:
        """Closed by a coordinator rather than by its owner."""
        return self.status == "closed" and self.closed_by_id is not None and self.closed_by_id != self.owner_id

    def __repr__(self) -> str:
        return f"<Post {self.id} {self.kind} {self.title!r}>"
