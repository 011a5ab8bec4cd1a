"""A member of one community: a resident, a coordinator, or someone a coordinator assists."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.communities.models import Area, Category, Community
from timebank.db import utcnow
from timebank.extensions import db
from timebank.uploads.models import Image

ROLES = ("member", "coordinator")
STATUSES = ("pending", "active", "suspended", "rejected", "erased")
# Who sees a member's email, phone and balance: coordinators only (the default) or all members of
# their community. The member themself always does.
AUDIENCES = ("coordinators", "community")
# Who may act on others: the condition of the partial index ix_members_staff, as SQL.
STAFF = "role = 'coordinator' OR is_admin"

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
    # The newest news of the member's exchanges or posts (NULL: none yet), for the desk's "quiet for
    # 90 days". Kept by the database's triggers (migration 0260_quiet), never written by the app.
    last_active_at: Mapped[datetime | None]
    # Language codes the member speaks, e.g. ["nl", "ar"]: neighbours look for a common language.
    languages: Mapped[list] = mapped_column(sa.JSON, default=list)
    # use_alter: images.owner_id points back at members, so one of the two keys is added afterwards.
    photo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("images.id", use_alter=True, ondelete="SET NULL"))
    show_email_to: Mapped[str] = mapped_column(sa.String(12), default="coordinators")
    show_phone_to: Mapped[str] = mapped_column(sa.String(12), default="coordinators")
    show_balance_to: Mapped[str] = mapped_column(sa.String(12), default="coordinators")
    # The member asked to be erased; a coordinator settles their hours and carries it out.
    erasure_requested_at: Mapped[datetime | None]
    # market: the opt-in digest of new requests that match one's skills or offers.
    market_digest: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    market_digest_sent_until: Mapped[datetime | None]
    # The first-steps card on the home page: the steps done ({"offer": true, …}) or {"dismissed": true}.
    first_steps: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    # notifications: email about each event right away, in one daily digest, or not at all.
    notify_email: Mapped[str] = mapped_column(sa.String(12), default="immediately", server_default="immediately")
    notify_digest_sent_at: Mapped[datetime | None]

    community: Mapped[Community] = relationship()
    area: Mapped[Area | None] = relationship()
    skills: Mapped[list[Category]] = relationship(secondary=member_skills, order_by=Category.position)
    photo: Mapped[Image | None] = relationship(foreign_keys=[photo_id])

    __table_args__ = (
        sa.CheckConstraint(sa.text("role IN ('member', 'coordinator')"), name="role"),
        sa.CheckConstraint(
            sa.text("status IN ('pending', 'active', 'suspended', 'rejected', 'erased')"), name="status"
        ),
        *(
            sa.CheckConstraint(sa.text(f"{column} IN ('coordinators', 'community')"), name=column)
            for column in ("show_email_to", "show_phone_to", "show_balance_to")
        ),
        sa.CheckConstraint(sa.text("notify_email IN ('immediately', 'daily', 'off')"), name="notify_email"),
        # The desk's "quiet for 90 days" reads this index alone (0260_quiet).
        sa.Index("ix_members_quiet", "community_id", "status", "created_at", "last_active_at"),
        # ... and its "asked to be erased" the few members who did (0260_quiet).
        sa.Index(
            "ix_members_erasure_requested",
            "community_id",
            sqlite_where=sa.text("erasure_requested_at IS NOT NULL"),
            postgresql_where=sa.text("erasure_requested_at IS NOT NULL"),
        ),
        # The directory reads its page of members in name order from this index (0255_speed3) instead
        # of sorting the whole neighbourhood for every page.
        sa.Index("ix_members_directory", "community_id", "status", sa.text("lower(name)"), "id"),
        # A neighbourhood's few coordinators, asked for on post pages and with every notice to them
        # (0275_roles): without it, every member of the neighbourhood was read.
        sa.Index("ix_members_role", "community_id", "role", "status"),
        # The coordinators and administrators of every neighbourhood, whom the audit log offers as
        # "who did it" (0300_staff); a query must name the same condition, `STAFF`, to use it.
        sa.Index("ix_members_staff", "id", sqlite_where=sa.text(STAFF), postgresql_where=sa.text(STAFF)),
    )

    # The secret of the sign-in this request belongs to (see SignIn); set by `start_session` and
    # by the user loader, never stored on the member.
    session_secret: str = ""

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}:{self.session_secret}"

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.name!r}>"


class MemberToken(db.Model):
    """A single-use link sent by email (confirm the address, reset the password, change the address,
    undo a change of address: "this was not me").

    Only a hash of the token is kept, so a copy of the database opens no accounts."""

    __tablename__ = "member_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(10))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # The address the link moves the account to: the one asked for (purpose "email") or the old one
    # to go back to (purpose "undo_email"). Cleared once the link is used or replaced.
    new_email: Mapped[str | None] = mapped_column(sa.String(254))

    member: Mapped[Member] = relationship()

    __table_args__ = (
        sa.CheckConstraint(sa.text("purpose IN ('confirm', 'reset', 'email', 'undo_email')"), name="purpose"),
    )


class JoinRequest(db.Model):
    """Someone asking to join a community: made on registration, visible to the coordinators once
    the email address is confirmed, decided once (approved or rejected, with a reason)."""

    __tablename__ = "join_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(12), default="unconfirmed", index=True)
    # The house rules as the applicant saw and accepted them.
    house_rules: Mapped[str] = mapped_column(sa.Text, default="")
    # In the applicant's words, for the coordinators who decide: why they join, what they offer;
    # and the community's join question as it was asked, with their answer.
    motivation: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    question: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    answer: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    decided_by: Mapped[Member | None] = relationship(foreign_keys=[decided_by_id])
    community: Mapped[Community] = relationship()

    __table_args__ = (
        sa.CheckConstraint(sa.text("state IN ('unconfirmed', 'waiting', 'approved', 'rejected')"), name="state"),
    )


class SignIn(db.Model):
    """One logged-in browser. Its session and its "keep me logged in" cookie carry this row's
    secret, so logging out deletes the row and both stop working at once, on the server; "log out
    everywhere" deletes them all. Only a hash of the secret is kept."""

    __tablename__ = "member_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginFailures(db.Model):
    """Wrong passwords typed for one email address, for the account's growing delay (see
    members/login_limits.py). Keyed by a hash, so the table says nothing about who was tried."""

    __tablename__ = "login_failures"

    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime]
