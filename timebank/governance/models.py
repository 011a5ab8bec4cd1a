"""Proposals the members of a community vote on, one member one vote, and what was decided.

Open ballots keep who chose what (`Vote`). Secret ballots keep *that* a member voted (`Voter`) apart
from *what* was chosen (`Ballot`): a ballot has no member, no time and a random id, so nothing in
the database, an export or a backup links a choice to a person. The voter alone holds the receipt
that lets them change their secret vote before the period ends."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member

STATES = ("support", "open", "closed", "withdrawn")
KINDS = ("advisory", "grant", "rule")
RESULTS = ("adopted", "rejected", "tie", "no_quorum", "chosen")
YES_NO = ("yes", "no", "abstain")
# Community rules a binding proposal may change, and the column each one is kept in.
RULES = ("ledger_floor", "ledger_ceiling", "ledger_levy_percent", "post_expiry_weeks", "join_policy")


class Proposal(db.Model):
    __tablename__ = "governance_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[str] = mapped_column(sa.String(10), default="advisory")
    secret: Mapped[bool] = mapped_column(default=False)
    # Share of the members (percent) who must vote for the result to count.
    quorum_percent: Mapped[int] = mapped_column(default=0)
    # How long voting lasts once the proposal opens (a member's proposal opens when supported).
    voting_days: Mapped[int] = mapped_column(default=7)
    state: Mapped[str] = mapped_column(sa.String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    # Binding kinds: the grant (to whom, how much) or the rule and its new value.
    grant_member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    grant_minutes: Mapped[int | None]
    rule: Mapped[str | None] = mapped_column(sa.String(30))
    rule_value: Mapped[str | None] = mapped_column(sa.String(30))
    # Withdrawn: by whom and why.
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    withdrawn_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    # The result, computed once when voting ends and never again.
    closed_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(sa.String(10))
    turnout: Mapped[int | None]
    electorate: Mapped[int | None]
    quorum_met: Mapped[bool | None]
    # What the app did with an adopted binding proposal: "done", or why it could not.
    carried_out: Mapped[str | None] = mapped_column(sa.String(500))
    grant_transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"))

    author: Mapped[Member] = relationship(foreign_keys=[author_id])
    grant_member: Mapped[Member | None] = relationship(foreign_keys=[grant_member_id])
    withdrawn_by: Mapped[Member | None] = relationship(foreign_keys=[withdrawn_by_id])
    options: Mapped[list["Option"]] = relationship(
        back_populates="proposal",
        order_by="Option.position",
        cascade="all, delete-orphan",
        foreign_keys="Option.proposal_id",
    )

    __table_args__ = (
        sa.CheckConstraint(sa.text("state IN ('support', 'open', 'closed', 'withdrawn')"), name="state"),
        sa.CheckConstraint(sa.text("kind IN ('advisory', 'grant', 'rule')"), name="kind"),
        sa.CheckConstraint(sa.text("quorum_percent BETWEEN 0 AND 100"), name="quorum"),
        sa.CheckConstraint(sa.text("voting_days BETWEEN 1 AND 90"), name="voting_days"),
        sa.CheckConstraint(
            sa.text("kind <> 'grant' OR (grant_member_id IS NOT NULL AND grant_minutes > 0)"), name="grant"
        ),
        sa.CheckConstraint(sa.text("kind <> 'rule' OR (rule IS NOT NULL AND rule_value IS NOT NULL)"), name="rule"),
        sa.Index("ix_governance_proposals_community_id_state", "community_id", "state"),
    )

    @property
    def is_yes_no(self) -> bool:
        return all(option.key in YES_NO for option in self.options)


class Option(db.Model):
    """One answer a member can choose. `key` is yes/no/abstain (shown in the reader's language) or
    None for a choice the author wrote."""

    __tablename__ = "governance_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("governance_proposals.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    key: Mapped[str | None] = mapped_column(sa.String(10))
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    # The final count, written once when voting ends.
    votes: Mapped[int | None]

    proposal: Mapped[Proposal] = relationship(back_populates="options", foreign_keys=[proposal_id])

    __table_args__ = (sa.UniqueConstraint("proposal_id", "position"),)


class Supporter(db.Model):
    """A member who wants a neighbour's proposal put to the vote."""

    __tablename__ = "governance_supporters"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("governance_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Vote(db.Model):
    """An open ballot: who chose what. One per member and proposal; voting again replaces it."""

    __tablename__ = "governance_votes"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("governance_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("governance_options.id"))
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
    option: Mapped[Option] = relationship()


class Voter(db.Model):
    """A secret ballot: only that this member voted. No time, nothing about the choice."""

    __tablename__ = "governance_voters"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("governance_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)


class Ballot(db.Model):
    """A secret ballot: only what was chosen. No member, no time; the id is random, so the order of
    ids says nothing about who voted when. `receipt_hash` is the SHA-256 of the receipt that the
    voter alone was given, so they (and only they) can change this ballot."""

    __tablename__ = "governance_ballots"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("governance_proposals.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("governance_options.id"))
    receipt_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_governance_ballots_proposal_id", "proposal_id"),)


class Comment(db.Model):
    """A member's word on a proposal. A coordinator can hide one, with a reason, as with messages."""

    __tablename__ = "governance_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("governance_proposals.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    hidden_reason: Mapped[str] = mapped_column(sa.String(500), default="")

    author: Mapped[Member] = relationship(foreign_keys=[author_id])

    __table_args__ = (sa.Index("ix_governance_comments_proposal_id_id", "proposal_id", "id"),)
