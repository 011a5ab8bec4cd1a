"""An exchange between neighbours, its participants, its conversation and thank-you notes.

A one-to-one exchange has two participants, a provider and a receiver. A group exchange has an
organiser on one side (the teacher of a lesson, or the one helped to move a sofa) and several
members on the other side, each for the same number of minutes. Either way it settles as ONE
ledger transaction, whose id the exchange keeps."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.db import utcnow
from timebank.extensions import db
from timebank.ledger.models import Transaction
from timebank.market.models import Post
from timebank.members.models import Member

KINDS = ("single", "group", "slip")
STATES = ("proposed", "accepted", "completed", "declined", "cancelled", "disputed")
OPEN_STATES = ("proposed", "accepted", "disputed")
ROLES = ("provider", "receiver")
ANSWERS = ("confirmed", "declined")


def _in(column: str, values) -> sa.TextClause:
    return sa.text(f"{column} IN ({', '.join(repr(v) for v in values)})")


class Exchange(db.Model):
    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    # single: from a market post; group: one organiser and several others; slip: a coordinator
    # recorded a paper slip of an exchange that already happened.
    kind: Mapped[str] = mapped_column(sa.String(8), default="single")
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    state: Mapped[str] = mapped_column(sa.String(10), default="proposed")
    # The agreed minutes; in a group, the minutes of each member on the organiser's other side.
    minutes: Mapped[int]
    planned_on: Mapped[date | None] = mapped_column(sa.Date)
    # Who proposed (single) or organised (group) it.
    proposer_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    # A proposal not answered by then ends (`flask exchanges expire-proposals`). Cleared by an
    # answer, so it stays set only on a proposal that waits, or that ended unanswered.
    answer_by: Mapped[datetime | None]
    # The provider said how long it really took; unless the receiver objects, it settles on
    # auto_confirm_at (`flask exchanges auto-confirm`). Groups settle then with those who did not answer.
    recorded_minutes: Mapped[int | None]
    recorded_at: Mapped[datetime | None]
    auto_confirm_at: Mapped[datetime | None]
    # The receiver confirmed fewer minutes than recorded: the provider agrees (or stays silent
    # until auto_confirm_at) and these minutes move, or asks a coordinator to decide.
    offered_minutes: Mapped[int | None]
    # A coordinator's paper slip: the form's key, so sending the form twice records it once.
    request_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    # Why it was declined, cancelled, disputed or how a dispute was resolved.
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    help_requested_at: Mapped[datetime | None]
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None]

    post: Mapped[Post | None] = relationship()
    proposer: Mapped[Member] = relationship()
    transaction: Mapped[Transaction | None] = relationship()
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="exchange", order_by="Participant.id", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(_in("kind", KINDS), name="kind"),
        sa.CheckConstraint(_in("state", STATES), name="state"),
        sa.CheckConstraint(sa.text("minutes > 0"), name="minutes"),
        sa.CheckConstraint(sa.text("recorded_minutes IS NULL OR recorded_minutes > 0"), name="recorded_minutes"),
        sa.CheckConstraint(sa.text("offered_minutes IS NULL OR offered_minutes > 0"), name="offered_minutes"),
        sa.CheckConstraint(sa.text("(state = 'completed') = (transaction_id IS NOT NULL)"), name="settled"),
        # One open proposal per post and responder: a second click finds the first.
        sa.Index(
            "uq_exchanges_open_per_post",
            "post_id",
            "proposer_id",
            unique=True,
            sqlite_where=_in("state", OPEN_STATES),
            postgresql_where=_in("state", OPEN_STATES),
        ),
        sa.Index("ix_exchanges_due", "state", "auto_confirm_at"),
        sa.Index("ix_exchanges_community_state", "community_id", "state"),
    )

    @property
    def ended_unanswered(self) -> bool:
        """A proposal that ended because nobody answered it by `answer_by`."""
        return self.state == "cancelled" and self.answer_by is not None

    def side(self, role: str) -> list["Participant"]:
        return [p for p in self.participants if p.role == role]

    @property
    def provider(self) -> Member | None:
        """The provider of a one-to-one exchange (or of a group lesson)."""
        providers = self.side("provider")
        return providers[0].member if len(providers) == 1 else None

    @property
    def receiver(self) -> Member | None:
        receivers = self.side("receiver")
        return receivers[0].member if len(receivers) == 1 else None

    @property
    def provider_id(self) -> int | None:
        return self.provider.id if self.provider else None

    @property
    def receiver_id(self) -> int | None:
        return self.receiver.id if self.receiver else None

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def participant(self, member: Member | int | None) -> "Participant | None":
        member_id = member if isinstance(member, int) or member is None else member.id
        return next((p for p in self.participants if p.member_id == member_id), None)

    def others(self) -> list["Participant"]:
        """In a group: everyone but the organiser."""
        return [p for p in self.participants if p.member_id != self.proposer_id]

    def __repr__(self) -> str:
        return f"<Exchange {self.id} {self.kind} {self.state}>"


class Participant(db.Model):
    """A member in an exchange, as provider or receiver. In a group, each member on the
    organiser's other side answers for their own part (confirmed or declined)."""

    __tablename__ = "exchange_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(8))
    answer: Mapped[str | None] = mapped_column(sa.String(10))
    answered_at: Mapped[datetime | None]

    exchange: Mapped[Exchange] = relationship(back_populates="participants")
    member: Mapped[Member] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("exchange_id", "member_id"),
        # A member's exchanges from the index alone: the desk's "quiet for 90 days" (0240_speed2).
        sa.Index("ix_exchange_participants_member_exchange", "member_id", "exchange_id"),
        sa.CheckConstraint(_in("role", ROLES), name="role"),
        sa.CheckConstraint(sa.text("answer IS NULL OR answer IN ('confirmed', 'declined')"), name="answer"),
    )


class Message(db.Model):
    """One line of an exchange's thread: something a party wrote, or (`event` set) something
    that happened to the exchange, so the page tells its story in order."""

    __tablename__ = "exchange_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id", ondelete="CASCADE"))
    # In whose name (a party), and who really did it (a coordinator helping them, or the system: None).
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    event: Mapped[str | None] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[Member | None] = relationship(foreign_keys=[author_id], lazy="joined")
    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id], lazy="joined")

    __table_args__ = (sa.Index("ix_exchange_messages_exchange_id_id", "exchange_id", "id"),)


class ThankYou(db.Model):
    """A short thank-you note after a completed exchange, shown on the receiver's profile: an
    endorsement in words, never a star rating."""

    __tablename__ = "exchange_thanks"

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    exchange: Mapped[Exchange] = relationship()
    author: Mapped[Member] = relationship(foreign_keys=[author_id], lazy="joined")
    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    __table_args__ = (
        sa.UniqueConstraint("exchange_id", "author_id", "member_id"),
        sa.CheckConstraint(sa.text("author_id <> member_id"), name="not_self"),
        sa.Index("ix_exchange_thanks_member_id_id", "member_id", "id"),
    )
