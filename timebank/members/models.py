"""A member of one community: a resident, a coordinator, or someone a coordinator assists."""
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.communities.models import Area, Category, Community
from timebank.db import utcnow
from timebank.extensions import db

ROLES = ("member", "coordinator")
STATUSES = ("pending", "active", "suspended", "rejected", "erased")

member_skills = sa.Table(
    "member_skills",
    db.Model.metadata,
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("categories.id"), primary_key=True),
)


class Member(UserMixin, db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), index=True)
    # Assisted members may have no email address and no password: a coordinator acts for them.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    email_confirmed_at: Mapped[datetime | None]
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(80))
    role: Mapped[str] = mapped_column(sa.String(12), default="member")
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    is_admin: Mapped[bool] = mapped_column(default=False)
    assisted: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"))
    # Bumped to end every session at once (password change, "log out everywhere", suspension).
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # market: the opt-in digest of new requests that match one's skills or offers.
    market_digest: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    market_digest_sent_until: Mapped[datetime | None]

    community: Mapped[Community] = relationship()
    area: Mapped[Area | None] = relationship()
    skills: Mapped[list[Category]] = relationship(secondary=member_skills, order_by=Category.position)

    __table_args__ = (
        sa.CheckConstraint(sa.text("role IN ('member', 'coordinator')"), name="role"),
        sa.CheckConstraint(
            sa.text("status IN ('pending', 'active', 'suspended', 'rejected', 'erased')"), name="status"),
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.name!r}>"
