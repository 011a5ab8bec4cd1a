"""Accounts, transactions and postings: a double-entry journal of minutes.

Transactions and postings are written once and never changed: triggers in the migration refuse
UPDATE and DELETE on both tables. Only an account's cached balance and its settings change."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.communities.models import Community
from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member

ACCOUNT_KINDS = ("member", "fund", "pot", "clearing")
ACCOUNT_STATUSES = ("open", "suspended", "closed")
# "saving": hours a member moves between their own account and one of their pots.
TRANSACTION_KINDS = ("exchange", "gift", "donation", "grant", "levy", "reversal", "adjustment", "saving")

# The community fund can give away what it holds and no more, unless a coordinator sets another
# floor on it; it has no ceiling. A member's pot can never go below zero and has no ceiling.
FUND_FLOOR = 0
POT_FLOOR = 0


class Account(db.Model):
    """One member's hours in their community (kind "member", one per member), one of their pots
    (kind "pot", see timebank.pots), the community fund (member_id is NULL), or the community's
    clearing account for a linked community (kind "clearing": what the other community's members
    are owed here, always the mirror of that community's clearing account for this one)."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    peer_community_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(sa.String(10), default="member")
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    # The sum of the account's postings, kept up to date by every posting (`ledger verify` checks it).
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Overrides of the community's limits for this account alone (None: the community's).
    floor_override: Mapped[int | None]
    ceiling_override: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    community: Mapped[Community] = relationship(foreign_keys=[community_id])
    peer_community: Mapped[Community | None] = relationship(foreign_keys=[peer_community_id])
    member: Mapped[Member | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(sa.text("kind IN ('member', 'fund', 'pot', 'clearing')"), name="kind"),
        sa.CheckConstraint(sa.text("status IN ('open', 'suspended', 'closed')"), name="status"),
        sa.CheckConstraint(sa.text("(kind IN ('fund', 'clearing')) = (member_id IS NULL)"), name="owner"),
        sa.CheckConstraint(sa.text("(kind = 'clearing') = (peer_community_id IS NOT NULL)"), name="peer"),
        # One fund per community.
        sa.Index(
            "uq_ledger_accounts_fund",
            "community_id",
            unique=True,
            sqlite_where=sa.text("kind = 'fund'"),
            postgresql_where=sa.text("kind = 'fund'"),
        ),
        # One main account per member; pots are extra accounts of the same member.
        sa.Index(
            "uq_ledger_accounts_member",
            "member_id",
            unique=True,
            sqlite_where=sa.text("kind = 'member'"),
            postgresql_where=sa.text("kind = 'member'"),
        ),
        sa.Index("ix_ledger_accounts_community_id", "community_id"),
        # All of a member's accounts, pots included (the partial index above holds main accounts only).
        sa.Index("ix_ledger_accounts_member_id", "member_id"),
        # One clearing account per community per linked community.
        sa.Index(
            "uq_ledger_accounts_clearing",
            "community_id",
            "peer_community_id",
            unique=True,
            sqlite_where=sa.text("kind = 'clearing'"),
            postgresql_where=sa.text("kind = 'clearing'"),
        ),
    )

    @property
    def is_fund(self) -> bool:
        return self.kind == "fund"

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.kind} {self.member_id or self.community_id}: {self.balance}>"


class Transaction(db.Model):
    """The header of one movement of hours: what kind, why, who did it, when."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(sa.String(12))
    memo: Mapped[str] = mapped_column(sa.String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    # Assigned by the server; the id gives the order in which transactions were written.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(100))
    # A reversal points at the transaction it undoes; unique, so nothing is reversed twice.
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"), unique=True)

    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id], viewonly=True)
    on_behalf_of: Mapped[Member | None] = relationship(foreign_keys=[on_behalf_of_id], viewonly=True)
    postings: Mapped[list["Posting"]] = relationship(viewonly=True, order_by="Posting.id")

    __table_args__ = (
        sa.UniqueConstraint("community_id", "idempotency_key"),
        sa.CheckConstraint(
            sa.text("kind IN ('exchange', 'gift', 'donation', 'grant', 'levy', 'reversal', 'adjustment', 'saving')"),
            name="kind",
        ),
        sa.CheckConstraint(sa.text("(kind = 'reversal') = (reverses_id IS NOT NULL)"), name="reversal"),
        # One community's transactions from the index alone on PostgreSQL: `ledger verify --community`
        # (migration 0250_verify).
        sa.Index(
            "ix_ledger_transactions_community_id_id", "community_id", "id", postgresql_include=["kind", "reverses_id"]
        ),
        # The common pot's latest grants: one in a hundred transactions, and often old ones (0280_grants).
        sa.Index(
            "ix_ledger_transactions_grants",
            "community_id",
            "id",
            sqlite_where=sa.text("kind = 'grant'"),
            postgresql_where=sa.text("kind = 'grant'"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Transaction {self.id} {self.kind}>"


class Posting(db.Model):
    """One account's side of a transaction, with the account's balance right after it."""

    __tablename__ = "ledger_postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transactions.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_accounts.id"))
    amount: Mapped[int]
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    # The limit this posting was checked against: the floor for a payment, the ceiling for a
    # receipt; None when no limit applied (a reversal, a coordinator's override, a settlement).
    bound: Mapped[int | None]

    account: Mapped[Account] = relationship(viewonly=True)

    __table_args__ = (
        sa.UniqueConstraint("transaction_id", "account_id"),
        sa.CheckConstraint(sa.text("amount <> 0"), name="amount"),
        # Covering on PostgreSQL: an account's postings are read from the index alone (migration 0205_ops).
        sa.Index(
            "ix_ledger_postings_account_id_id",
            "account_id",
            "id",
            postgresql_include=["transaction_id", "amount", "balance_after", "bound"],
        ),
    )
