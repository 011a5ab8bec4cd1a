"""Roll-up tables: what the statistics need, per community-local day, kept up to date in the same
database transaction as every ledger posting (timebank/stats/rollup.py) and rebuilt from the
postings by `flask --app timebank stats rebuild`.

A reversal takes its original's activity away on the original's day (an exchange that was undone
never happened, for the statistics), while the balance change lands on the day of the reversal."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from timebank.extensions import db

# Category id used for exchanges without a category (group exchanges, paper slips).
NO_CATEGORY = 0


class StatsDay(db.Model):
    """One community's day: exchanges, gifts and the community fund's flows."""

    __tablename__ = "stats_days"

    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    exchanges: Mapped[int] = mapped_column(default=0)
    exchange_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    gifts: Mapped[int] = mapped_column(default=0)
    gift_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    donation_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    levy_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    grant_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # From the exchange behind the transaction (timebank/stats/rollup.py, record_exchange).
    group_exchanges: Mapped[int] = mapped_column(default=0)
    group_people: Mapped[int] = mapped_column(default=0)
    assisted_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class StatsAccountDay(db.Model):
    """One account's day: its balance change, and its part in exchanges (member accounts)."""

    __tablename__ = "stats_account_days"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_accounts.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    # The sum of the account's postings that day (every kind).
    net: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Exchanges: minutes received for helping, minutes paid for help, and how many of each.
    earned: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    gave: Mapped[int] = mapped_column(default=0)
    received: Mapped[int] = mapped_column(default=0)

    # By community and day, with the figures the statistics read: a period's partial months read the
    # index alone (migration 0285_stats_days_figures).
    __table_args__ = (
        sa.Index(
            "ix_stats_account_days_figures",
            "community_id",
            "day",
            "member_id",
            "gave",
            "received",
            "earned",
            "paid",
        ),
    )


class StatsAccountMonth(db.Model):
    """StatsAccountDay summed per calendar month (`month` is its first day): a year is twelve rows
    per member however busy they are, so the statistics of whole months (and the balances at a
    month's end) read these and the day rows only for a period's partial months. Kept by database
    triggers on stats_account_days (migration 0210_stats), so a posting costs no extra statement."""

    __tablename__ = "stats_account_months"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_accounts.id"), primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    earned: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    gave: Mapped[int] = mapped_column(default=0)
    received: Mapped[int] = mapped_column(default=0)
    net: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")

    # By community and month, with the figures the statistics read: whole months read the index
    # alone (migration 0245_stats_speed).
    __table_args__ = (
        sa.Index(
            "ix_stats_account_months_figures",
            "community_id",
            "month",
            "member_id",
            "gave",
            "received",
            "earned",
            "paid",
        ),
    )


class StatsPairDay(db.Model):
    """A member who helped another on a day (in exchanges), and how often."""

    __tablename__ = "stats_pair_days"

    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    helper_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    helped_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    exchanges: Mapped[int] = mapped_column(default=0)

    # A member's own impact looks their pairs up from either side.
    __table_args__ = (
        sa.Index("ix_stats_pair_days_helper_id", "helper_id"),
        sa.Index("ix_stats_pair_days_helped_id", "helped_id"),
    )


class StatsPairMonth(db.Model):
    """StatsPairDay summed per calendar month: in a neighbourhood the same neighbours help each other
    again and again, so a year of pairs is far fewer rows than a year of exchanges. Kept by database
    triggers on stats_pair_days (migration 0210_stats)."""

    __tablename__ = "stats_pair_months"

    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    helper_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    helped_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    exchanges: Mapped[int] = mapped_column(default=0)

    # The key and the count: the distinct pairs of whole months read the index alone.
    __table_args__ = (
        sa.Index("ix_stats_pair_months_exchanges", "community_id", "month", "helper_id", "helped_id", "exchanges"),
    )


class StatsCategoryDay(db.Model):
    """Exchanges and their minutes per category of the post they came from (0: none)."""

    __tablename__ = "stats_category_days"

    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    category_id: Mapped[int] = mapped_column(primary_key=True)
    exchanges: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class StatsFundDay(db.Model):
    """What came into a community's fund and what went out of it on a day, by the kind of
    transaction, for the common pot's page: a year of these instead of every posting of the fund.
    Unlike the figures above, a reversal is a kind of its own on its own day, as the page shows it."""

    __tablename__ = "stats_fund_days"

    community_id: Mapped[int] = mapped_column(sa.ForeignKey("communities.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    came_in: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    went_out: Mapped[int] = mapped_column(sa.BigInteger, default=0)


ROLLUPS = (
    StatsDay,
    StatsAccountDay,
    StatsPairDay,
    StatsCategoryDay,
    StatsAccountMonth,
    StatsPairMonth,
    StatsFundDay,
)
# Kept by the database from the day rows (the month table: the day table it sums).
MONTHLY = {StatsAccountMonth: StatsAccountDay, StatsPairMonth: StatsPairDay}
