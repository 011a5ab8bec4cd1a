"""A member's own impact: the help they gave and got, how many neighbours, the thanks they received,
month by month over the last year. From the roll-ups, so it costs two indexed queries."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from timebank.exchanges.models import ThankYou
from timebank.extensions import db
from timebank.ledger.models import Account
from timebank.stats.indicators import month_column, months_of, recent_months
from timebank.stats.models import StatsAccountMonth, StatsPairDay


@dataclass(frozen=True)
class Month:
    month: str
    given: int
    received: int


@dataclass(frozen=True)
class Impact:
    minutes_given: int
    minutes_received: int
    exchanges: int
    neighbours_helped: int
    helped_by: int
    thanks_received: int
    months: list[Month]


def impact_of(member, today: date) -> Impact:
    """Everything since the member joined; the months are the last twelve. Read from the month
    rows by the member's accounts (their own and their pots; the roll-up's primary key), so a
    long-standing member costs twelve rows a year, in two statements: the account page shows it."""
    M, P = StatsAccountMonth, StatsPairDay
    mine = M.account_id.in_(sa.select(Account.id).where(Account.member_id == member.id, Account.kind != "fund"))

    def partners(me, other):
        found = sa.select(other).where(me == member.id).group_by(other).having(sa.func.sum(P.exchanges) > 0).subquery()
        return sa.select(sa.func.count()).select_from(found).scalar_subquery()

    given, received, count, helped, helped_by, thanks = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(M.earned), 0),
            sa.func.coalesce(sa.func.sum(M.paid), 0),
            sa.func.coalesce(sa.func.sum(M.gave + M.received), 0),
            partners(P.helper_id, P.helped_id),
            partners(P.helped_id, P.helper_id),
            sa.select(sa.func.count(ThankYou.id)).where(ThankYou.member_id == member.id).scalar_subquery(),
        ).where(mine)
    ).one()
    start, end = recent_months(today)
    month = month_column(M.month)
    by_month = {
        m: (int(g), int(r))
        for m, g, r in db.session.execute(
            sa.select(month, sa.func.sum(M.earned), sa.func.sum(M.paid))
            .where(mine, M.month.between(start, end))
            .group_by(month)
        )
    }
    return Impact(
        int(given),
        int(received),
        int(count),
        int(helped),
        int(helped_by),
        int(thanks),
        [Month(m, *by_month.get(m, (0, 0))) for m in months_of(start, end)],
    )
