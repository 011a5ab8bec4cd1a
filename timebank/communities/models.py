"""A community (neighbourhood) and what belongs to it alone: its areas and its service categories."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.db import utcnow
from timebank.extensions import db

JOIN_POLICIES = ("approval", "open")
LINK_STATES = ("proposed", "active", "paused", "ended")

# The community's own texts: the house rules newcomers accept, the question the join form asks
# (optional), and how an applicant reaches a coordinator.
TEXT_KINDS = ("house_rules", "join_question", "contact")


@dataclass(frozen=True)
class CommunityText:
    """A community text as a reader gets it: `locale` is the language it is in, which differs from
    the reader's when no translation exists yet (`fallback`: the page says so)."""

    text: str
    locale: str
    fallback: bool


class Community(db.Model):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # New members wait for a coordinator's approval unless the community chose open joining.
    join_policy: Mapped[str] = mapped_column(sa.String(10), default="approval")
    # What the coordinators write for newcomers, per kind (TEXT_KINDS) and per language:
    # {"house_rules": {"nl": "…", "en": "…"}, …}. Read with `text`, which falls back visibly.
    texts: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # market
    post_expiry_weeks: Mapped[int] = mapped_column(default=8, server_default="8")
    # ledger: the limits every member account has unless it has its own, in minutes; members whose
    # balance falls below the warning threshold are gently told (None: no warning); the levy is the
    # percentage of each exchange that goes to the community fund.
    ledger_floor: Mapped[int] = mapped_column(default=-600, server_default="-600")
    ledger_ceiling: Mapped[int] = mapped_column(default=2400, server_default="2400")
    ledger_warning: Mapped[int | None]
    ledger_levy_percent: Mapped[int] = mapped_column(default=0, server_default="0")
    # exchanges: days after the provider recorded the minutes before an exchange settles by itself
    # (unless the receiver objects), and the most minutes one exchange may move.
    exchange_auto_confirm_days: Mapped[int] = mapped_column(default=14, server_default="14")
    exchange_max_minutes: Mapped[int] = mapped_column(default=480, server_default="480")
    # Recorded time settles by itself only within this share above the agreed time; more needs the payer.
    exchange_silence_margin_percent: Mapped[int] = mapped_column(default=25, server_default="25")
    # stats: coordinators may show headline figures on a public page, readable without logging in.
    stats_public: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # governance: how many neighbours must support a member's proposal before it goes to the vote.
    proposal_supporters: Mapped[int] = mapped_column(default=3, server_default="3")

    areas: Mapped[list["Area"]] = relationship(
        back_populates="community", order_by="Area.name", cascade="all, delete-orphan"
    )
    categories: Mapped[list["Category"]] = relationship(
        back_populates="community", order_by="Category.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(sa.text("join_policy IN ('approval', 'open')"), name="join_policy"),
        # ledger
        sa.CheckConstraint(sa.text("ledger_floor <= 0 AND ledger_ceiling >= 0"), name="ledger_limits"),
        sa.CheckConstraint(sa.text("ledger_levy_percent BETWEEN 0 AND 100"), name="ledger_levy_percent"),
        # exchanges
        sa.CheckConstraint(
            sa.text("exchange_auto_confirm_days > 0 AND exchange_max_minutes > 0"), name="exchange_settings"
        ),
    )

    def __repr__(self) -> str:
        return f"<Community {self.slug}>"

    def text(self, kind: str, locale: str, fallbacks: list[str]) -> CommunityText | None:
        """The text in the reader's language, else in the first of `fallbacks` that has one."""
        versions = (self.texts or {}).get(kind) or {}
        for candidate in [locale, *fallbacks]:
            if versions.get(candidate):
                return CommunityText(versions[candidate], candidate, candidate != locale)
        return None


class Area(db.Model):
    """A part of the neighbourhood that members say they live in: never a street address."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))

    community: Mapped[Community] = relationship(back_populates="areas")

    __table_args__ = (sa.UniqueConstraint("community_id", "name"),)


class Category(db.Model):
    """A kind of service. Names are data, kept per language, because coordinators edit them."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), index=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    names: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None]
    # market: a category merged into another is retired and its posts moved to the other.
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))

    community: Mapped[Community] = relationship(back_populates="categories")

    __table_args__ = (sa.UniqueConstraint("community_id", "key"),)

    def name(self, locale: str) -> str:
        """The name in the reader's language, else English, else any we have."""
        return self.names.get(locale) or self.names.get("en") or next(iter(self.names.values()), self.key)


class CommunityLink(db.Model):
    """Two communities that trade with each other: one proposed, the other accepted (or an
    administrator set it up). The cap is the most minutes either community may owe the other on
    balance; it is the limit of both clearing accounts (timebank.ledger), so the ledger enforces it.
    Paused or ended links take no new exchanges, but exchanges agreed before still settle."""

    __tablename__ = "community_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposer_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    accepter_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), index=True)
    # "low-high" community ids: one link per pair of communities, whoever proposed it.
    pair: Mapped[str] = mapped_column(sa.String(40), unique=True)
    state: Mapped[str] = mapped_column(sa.String(10), default="proposed")
    see_posts: Mapped[bool] = mapped_column(default=True)
    cap_minutes: Mapped[int]
    # Why the link was proposed, and why it was last paused, ended or resumed.
    proposal_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    state_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    # The community whose coordinator made the last change (None: an administrator): a pause is
    # lifted by the side that paused.
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communities.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposer: Mapped[Community] = relationship(foreign_keys=[proposer_id])
    accepter: Mapped[Community] = relationship(foreign_keys=[accepter_id])

    __table_args__ = (
        sa.CheckConstraint(sa.text("state IN ('proposed', 'active', 'paused', 'ended')"), name="state"),
        sa.CheckConstraint(sa.text("proposer_id <> accepter_id"), name="two_communities"),
        sa.CheckConstraint(sa.text("cap_minutes > 0"), name="cap"),
        sa.CheckConstraint(
            sa.text("changed_by_id IS NULL OR changed_by_id IN (proposer_id, accepter_id)"), name="changed_by"
        ),
    )

    @staticmethod
    def pair_of(first_id: int, second_id: int) -> str:
        return f"{min(first_id, second_id)}-{max(first_id, second_id)}"

    def other(self, community_id: int) -> Community:
        """The community on the other side from `community_id`."""
        return self.accepter if community_id == self.proposer_id else self.proposer

    def other_id(self, community_id: int) -> int:
        return self.accepter_id if community_id == self.proposer_id else self.proposer_id

    def __repr__(self) -> str:
        return f"<CommunityLink {self.pair} {self.state}>"
