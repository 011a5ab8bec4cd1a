"""The circulation indicators of one community over a period of community-local dates (both ends
included), computed in SQL from the roll-up tables (and, for members and requests, from their own
tables): one call, one typed result. Every figure has its definition in words (DEFINITIONS),
shown next to it on every page and in every report.

Rates are fractions from 0 to 1 (None when there is nothing to divide by); minutes and counts are
whole numbers. An exchange that was reversed counts nowhere: the reversal and its original cancel."""

import calendar
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from fractions import Fraction

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.communities.models import Category, Community
from timebank.db import utcnow
from timebank.exchanges.models import Exchange, Message
from timebank.extensions import db
from timebank.ledger.models import Account, Transaction
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.stats.models import (
    NO_CATEGORY,
    StatsAccountDay,
    StatsAccountMonth,
    StatsCategoryDay,
    StatsDay,
    StatsPairDay,
    StatsPairMonth,
)
from timebank.stats.rollup import FUND, MEMBER, day_start, local_day, local_day_sql

DORMANT_DAYS = 90

# Balance histogram: (key, lowest minutes included or None, highest included or None).
BALANCE_BUCKETS = (
    ("owes_over_10", None, -601),
    ("owes_5_10", -600, -301),
    ("owes_up_to_5", -300, -1),
    ("zero", 0, 0),
    ("has_up_to_5", 1, 300),
    ("has_5_10", 301, 600),
    ("has_10_20", 601, 1200),
    ("has_over_20", 1201, None),
)
BUCKET_LABELS = {
    "owes_over_10": _l("owes more than 10 hours"),
    "owes_5_10": _l("owes 5 to 10 hours"),
    "owes_up_to_5": _l("owes up to 5 hours"),
    "zero": _l("exactly zero"),
    "has_up_to_5": _l("has up to 5 hours"),
    "has_5_10": _l("has 5 to 10 hours"),
    "has_10_20": _l("has 10 to 20 hours"),
    "has_over_20": _l("has more than 20 hours"),
}

LABELS = {
    "minutes_exchanged": _l("Hours exchanged"),
    "exchanges_completed": _l("Exchanges completed"),
    "members_total": _l("Members"),
    "new_members": _l("New members"),
    "active_members": _l("Active members"),
    "participation_rate": _l("Taking part"),
    "distinct_pairs": _l("Pairs of neighbours"),
    "partners_per_active_member": _l("Neighbours per active member"),
    "reciprocity_rate": _l("Both gave and received"),
    "velocity": _l("Circulation speed"),
    "turnover_gini": _l("Spread of the exchange (Gini)"),
    "members_at_floor": _l("At their lowest balance"),
    "members_at_ceiling": _l("At their highest balance"),
    "dormant_members": _l("Quiet members"),
    "fund_inflow": _l("Into the community fund"),
    "fund_outflow": _l("Out of the community fund"),
    "fund_donations": _l("Donations to the fund"),
    "fund_levy": _l("Levy on exchanges"),
    "fund_grants": _l("Grants from the fund"),
    "fund_balance": _l("Community fund balance"),
    "gifts": _l("Gifts of hours"),
    "gift_minutes": _l("Hours given as gifts"),
    "requests_posted": _l("Requests posted"),
    "requests_met": _l("Requests met"),
    "requests_met_rate": _l("Requests met"),
    "median_days_to_accept": _l("Days until a request is taken up"),
    "group_activities": _l("Group activities"),
    "group_people_reached": _l("People reached by group activities"),
    "assisted_minutes": _l("Hours of help for assisted members"),
    "balance_histogram": _l("Balances at the end of the period"),
    "by_category": _l("By kind of help"),
    "by_month": _l("By month"),
}

DEFINITIONS = {
    "minutes_exchanged": _l(
        "All time paid for help in exchanges completed in the period. Gifts, donations, "
        "grants and corrections are not counted; an exchange that was undone is not counted."
    ),
    "exchanges_completed": _l("Exchanges (one-to-one, group and paper slips) whose hours moved in the period."),
    "members_total": _l(
        "Members who had joined by the end of the period and are members in good standing now, "
        "and anyone who took part in an exchange in the period."
    ),
    "new_members": _l("People who joined in the period and were accepted (also if they left later)."),
    "active_members": _l("Members who gave or received help in an exchange completed in the period."),
    "participation_rate": _l("Active members as a share of all members."),
    "distinct_pairs": _l(
        "Different pairs of neighbours who exchanged with each other in the period; a pair "
        "counts once however often they exchanged."
    ),
    "partners_per_active_member": _l("On average, with how many different neighbours an active member exchanged."),
    "reciprocity_rate": _l("Share of active members who both gave and received help in the period."),
    "velocity": _l(
        "Hours exchanged in the period divided by all the hours members had saved at its end. "
        "Higher: saved hours are used again quickly."
    ),
    "turnover_gini": _l(
        "How evenly the exchange is spread over all members (hours given plus received): "
        "0 means everyone equally, 1 means one person does everything."
    ),
    "members_at_floor": _l(
        "Members whose balance at the end of the period was at the lowest it may go: "
        "they cannot ask for more help until they give some."
    ),
    "members_at_ceiling": _l(
        "Members whose balance at the end of the period was at the highest it may go: "
        "they cannot earn more until they use some."
    ),
    "dormant_members": _l(
        "Members who joined more than 90 days before the end of the period and took no part "
        "in an exchange in those last 90 days."
    ),
    "fund_inflow": _l("Hours that came into the community fund: donations and the levy on exchanges."),
    "fund_outflow": _l("Hours the community fund gave out as grants to members."),
    "fund_donations": _l("Hours members donated to the community fund."),
    "fund_levy": _l("The share of each exchange that goes to the community fund."),
    "fund_grants": _l("Hours coordinators gave members from the community fund."),
    "fund_balance": _l("What the community fund held at the end of the period."),
    "gifts": _l("Hours given to a neighbour as a thank-you, outside an exchange."),
    "gift_minutes": _l("The hours given in those gifts."),
    "requests_posted": _l("Requests for help posted in the period."),
    "requests_met": _l("Of those requests, how many led to a completed exchange."),
    "requests_met_rate": _l("Share of the requests posted in the period that led to a completed exchange."),
    "median_days_to_accept": _l(
        "For requests posted in the period that someone took up: the middle number of "
        "days from posting the request to the agreed exchange."
    ),
    "group_activities": _l("Group exchanges (a lesson, a helping hand) completed in the period."),
    "group_people_reached": _l("The members who took part in those group activities, besides the organiser."),
    "assisted_minutes": _l(
        "Time paid in exchanges by members whom a coordinator assists (people without a phone "
        "or computer): help that reached them."
    ),
    "balance_histogram": _l("How many members had how many hours at the end of the period."),
    "by_category": _l("Exchanges and hours by the kind of help of the post they came from."),
    "by_month": _l("Hours, exchanges, active and new members in each month of the period."),
}


@dataclass(frozen=True)
class CategoryFigure:
    category_id: int | None
    name: str
    exchanges: int
    minutes: int


@dataclass(frozen=True)
class MonthFigure:
    month: str  # YYYY-MM
    minutes: int
    exchanges: int
    active_members: int
    new_members: int


@dataclass(frozen=True)
class Bucket:
    key: str
    low: int | None
    high: int | None
    members: int


@dataclass(frozen=True)
class Statistics:
    """Every indicator of one community over one period."""

    community_id: int
    start: date
    end: date
    minutes_exchanged: int
    exchanges_completed: int
    members_total: int
    new_members: int
    active_members: int
    participation_rate: float | None
    distinct_pairs: int
    partners_per_active_member: float | None
    reciprocity_rate: float | None
    velocity: float | None
    turnover_gini: float | None
    members_at_floor: int
    members_at_ceiling: int
    dormant_members: int
    fund_inflow: int
    fund_outflow: int
    fund_donations: int
    fund_levy: int
    fund_grants: int
    fund_balance: int
    gifts: int
    gift_minutes: int
    requests_posted: int
    requests_met: int
    requests_met_rate: float | None
    median_days_to_accept: float | None
    group_activities: int
    group_people_reached: int
    assisted_minutes: int
    balance_histogram: list[Bucket] = field(default_factory=list)
    by_category: list[CategoryFigure] = field(default_factory=list)
    by_month: list[MonthFigure] = field(default_factory=list)
    # What other figures are worked out from, for adding communities up (timebank/stats/umbrella.py).
    saved_minutes: int = 0  # the positive balances at the end of the period, summed
    reciprocal_members: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class InvalidPeriod(ValueError):
    pass


MAX_PERIOD_DAYS = 366 * 10


def check_period(start: date, end: date) -> None:
    if start > end:
        raise InvalidPeriod("start_after_end")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidPeriod("too_long")


def _ratio(numerator, denominator) -> float | None:
    return None if not denominator else float(Fraction(numerator) / Fraction(denominator))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def month_column(column):
    """'YYYY-MM' of a date column."""
    if _dialect() == "postgresql":
        return sa.func.to_char(column, sa.literal_column("'YYYY-MM'"))
    return sa.func.strftime(sa.literal_column("'%Y-%m'"), column)


def _days_between(later, earlier):
    if _dialect() == "postgresql":
        return sa.extract("epoch", later - earlier) / 86400.0
    return sa.func.julianday(later) - sa.func.julianday(earlier)


def months_of(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def compute(
    community: Community | int, start: date, end: date, *, locale: str = "en", breakdowns: bool = True
) -> Statistics:
    """Every indicator for the community over [start, end] (community-local dates, both included).
    Without `breakdowns`, by_category and by_month stay empty: the period a page compares with is
    compared figure by figure, and they were a tenth of the statistics page."""
    check_period(start, end)
    cid = community if isinstance(community, int) else community.id
    community = db.session.get(Community, cid)
    D = StatsDay
    since, until = day_start(start), day_start(end + timedelta(days=1))
    rows = _account_rows(cid, start, end)

    # Day totals.
    columns = (
        "exchanges",
        "exchange_minutes",
        "gifts",
        "gift_minutes",
        "donation_minutes",
        "levy_minutes",
        "grant_minutes",
        "group_exchanges",
        "group_people",
        "assisted_minutes",
    )
    totals = db.session.execute(
        sa.select(*(sa.func.coalesce(sa.func.sum(getattr(D, c)), 0) for c in columns)).where(
            D.community_id == cid, D.day.between(start, end)
        )
    ).one()
    day = {c: int(v) for c, v in zip(columns, totals, strict=True)}

    # One statement for everything about members and balances: each member's part in the period's
    # exchanges (turnover) and the members of the statistics (population) are worked out once, as
    # CTEs, and shared by the headline figures, the Gini, the balance histogram and the quiet members.
    turnover = (
        sa.select(
            rows.c.member_id,
            sa.func.sum(rows.c.earned).label("earned"),
            sa.func.sum(rows.c.paid).label("paid"),
            sa.func.sum(rows.c.gave).label("gave"),
            sa.func.sum(rows.c.received).label("received"),
        )
        .where(rows.c.member_id.is_not(None))
        .group_by(rows.c.member_id)
        .cte("turnover")
    )
    took_part = turnover.c.gave + turnover.c.received > 0
    population = (
        _members(cid, until, sa.select(turnover.c.member_id).where(took_part))
        .add_columns(Member.created_at)
        .cte("population")
    )

    # Gini of (given + received) over all members: (2 Σ i·x_i) / (n Σ x) − (n + 1) / n, x ascending.
    # Only members with turnover are ranked: the z others are zeros below all of them, which adds z to
    # each rank, so Σ i·x = Σ j·y_j + z Σ y. (Ranking every member with their turnover joined made
    # SQLite compare every member with every row of turnover: 0.8 s with 5,000 members.)
    x = sa.func.coalesce(turnover.c.earned + turnover.c.paid, 0)
    ranked = (
        sa.select(x.label("x"), sa.func.row_number().over(order_by=x).label("i"))
        .where(turnover.c.member_id.in_(sa.select(population.c.id)))
        .cte("ranked")
    )

    # Balances at the end of the period: today's balance minus what changed after the end (the day
    # rows of the rest of the end's month, then whole months), each account's worked out once (it
    # was four subqueries per account, repeated for balance and own balance: most of the time at any
    # size on PostgreSQL). A member's savings pots count in their balance; limits apply to their own
    # account.
    at_end = _balances_at_end(cid, end)
    own = at_end.c.kind == MEMBER
    accounts = (
        sa.select(
            at_end.c.member_id,
            sa.func.sum(at_end.c.balance).label("balance"),
            sa.func.sum(sa.case((own, at_end.c.balance), else_=0)).label("own"),
            sa.func.max(sa.case((own, sa.func.coalesce(at_end.c.floor_override, community.ledger_floor)))).label(
                "floor"
            ),
            sa.func.max(sa.case((own, sa.func.coalesce(at_end.c.ceiling_override, community.ledger_ceiling)))).label(
                "ceiling"
            ),
        )
        .where(at_end.c.member_id.is_not(None), at_end.c.kind != FUND)
        .group_by(at_end.c.member_id)
        .subquery()
    )
    balance = sa.func.coalesce(accounts.c.balance, 0)
    own_balance = sa.func.coalesce(accounts.c.own, 0)
    floor = sa.func.coalesce(accounts.c.floor, community.ledger_floor)
    ceiling = sa.func.coalesce(accounts.c.ceiling, community.ledger_ceiling)
    bucket = sa.case(
        *(
            (
                sa.and_(
                    *([balance >= low_] if low_ is not None else []), *([balance <= high_] if high_ is not None else [])
                ),
                key,
            )
            for key, low_, high_ in BALANCE_BUCKETS
        )
    )

    # Dormant: joined more than 90 days before the end, no exchange in the last 90 days.
    window = end - timedelta(days=DORMANT_DAYS - 1)
    recent = _active_ids(_account_rows(cid, window, end))

    def count(*where, table=turnover):
        return sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery()

    # The first row: the headline figures (bucket NULL); then one row per bucket of the histogram
    # with its members, their savings, and how many are at their floor or ceiling.
    headline = sa.select(
        sa.null(),
        count(took_part),
        count(turnover.c.gave > 0, turnover.c.received > 0),
        count(table=population),
        count(table=ranked),
        sa.select(sa.func.coalesce(sa.func.sum(ranked.c.x), 0)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.sum(ranked.c.i * ranked.c.x), 0)).scalar_subquery(),
        count(population.c.created_at < day_start(window), population.c.id.not_in(recent), table=population),
        sa.select(sa.func.coalesce(sa.func.sum(at_end.c.balance), 0)).where(at_end.c.kind == FUND).scalar_subquery(),
    )
    buckets = (
        sa.select(
            bucket,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((balance > 0, balance), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((own_balance <= floor, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((own_balance >= ceiling, 1), else_=0)), 0),
            sa.null(),
            sa.null(),
            sa.null(),
            sa.null(),
        )
        .select_from(population.outerjoin(accounts, accounts.c.member_id == population.c.id))
        .group_by(bucket)
    )
    found = db.session.execute(sa.union_all(headline, buckets)).all()
    by_bucket = [row for row in found if row[0] is not None]
    headline_row = next(row for row in found if row[0] is None)
    _, active, reciprocal, members_total, with_turnover, total, weighted, dormant, fund_balance = headline_row
    active, reciprocal, members_total, dormant = (int(v) for v in (active, reciprocal, members_total, dormant))
    gini = None
    if members_total and total:
        n, zeros = members_total, members_total - int(with_turnover)
        weighted = int(weighted) + zeros * int(total)
        gini = float(Fraction(2 * weighted, n * int(total)) - Fraction(n + 1, n))
    histogram = {row[0]: int(row[1]) for row in by_bucket}
    saved, at_floor, at_ceiling = (sum(int(row[i]) for row in by_bucket) for i in (2, 3, 4))

    # Pairs: two members who exchanged at least once, either way round, counted once. An undone
    # exchange nets to zero in its own direction, so a pair whose sum is above zero exchanged.
    P = _pair_rows(cid, start, end)
    smaller, larger = (sa.func.least, sa.func.greatest) if _dialect() == "postgresql" else (sa.func.min, sa.func.max)
    low, high = smaller(P.c.helper_id, P.c.helped_id), larger(P.c.helper_id, P.c.helped_id)
    pairs = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(low.label("lo"), high.label("hi"))
            .group_by(low, high)
            .having(sa.func.sum(P.c.exchanges) > 0)
            .subquery()
        )
    )

    joined = (
        Member.community_id == cid,
        Member.created_at >= since,
        Member.created_at < until,
        Member.status.not_in(("pending", "rejected")),
    )
    new_members = db.session.scalar(sa.select(sa.func.count(Member.id)).where(*joined))

    requests = _requests(cid, since, until)
    return Statistics(
        community_id=cid,
        start=start,
        end=end,
        minutes_exchanged=day["exchange_minutes"],
        exchanges_completed=day["exchanges"],
        members_total=members_total,
        new_members=new_members,
        active_members=active,
        participation_rate=_ratio(active, members_total),
        distinct_pairs=pairs,
        partners_per_active_member=_ratio(2 * pairs, active),
        reciprocity_rate=_ratio(reciprocal, active),
        velocity=_ratio(day["exchange_minutes"], int(saved)),
        turnover_gini=gini,
        members_at_floor=int(at_floor),
        members_at_ceiling=int(at_ceiling),
        dormant_members=dormant,
        fund_inflow=day["donation_minutes"] + day["levy_minutes"],
        fund_outflow=day["grant_minutes"],
        fund_donations=day["donation_minutes"],
        fund_levy=day["levy_minutes"],
        fund_grants=day["grant_minutes"],
        fund_balance=int(fund_balance),
        gifts=day["gifts"],
        gift_minutes=day["gift_minutes"],
        **requests,
        group_activities=day["group_exchanges"],
        group_people_reached=day["group_people"],
        assisted_minutes=day["assisted_minutes"],
        balance_histogram=[Bucket(key, low_, high_, histogram.get(key, 0)) for key, low_, high_ in BALANCE_BUCKETS],
        by_category=_by_category(cid, start, end, locale) if breakdowns else [],
        by_month=_by_month(cid, start, end, since, until) if breakdowns else [],
        saved_minutes=int(saved),
        reciprocal_members=int(reciprocal),
    )


def _balances_at_end(cid: int, end: date) -> sa.CTE:
    """Every account of the community with its balance at the end of `end`: today's balance less the
    day rows after `end` in its month and the month rows after that, read by each account's key
    (a scan by month would read every month row of a busy community). A period that ends today needs
    neither: a balance changes on the day its transaction is written, never later. Worked out once
    per account, in a CTE the histogram and the fund's balance share. Columns: id, member_id, kind,
    floor_override, ceiling_override, balance."""
    A, M, next_month = StatsAccountDay, StatsAccountMonth, _month_after(end)
    balance = Account.balance
    if end < local_day(utcnow()):
        balance -= (
            sa.select(sa.func.coalesce(sa.func.sum(M.net), 0))
            .where(M.account_id == Account.id, M.month >= next_month)
            .correlate(Account)
            .scalar_subquery()
        )
        if end < next_month - timedelta(days=1):  # a period that ends within its month
            balance -= (
                sa.select(sa.func.coalesce(sa.func.sum(A.net), 0))
                .where(A.account_id == Account.id, A.day > end, A.day < next_month)
                .correlate(Account)
                .scalar_subquery()
            )
    return (
        sa.select(
            Account.id,
            Account.member_id,
            Account.kind,
            Account.floor_override,
            Account.ceiling_override,
            balance.label("balance"),
        )
        .where(Account.community_id == cid)
        .cte("at_end")
    )


def _month_after(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _whole_months(start: date, end: date) -> tuple[date, date]:
    """(first day of the first whole month in [start, end], the day after the last whole month);
    the first is not before the second when there is no whole month."""
    first = start if start.day == 1 else _month_after(start)
    after = _month_after(end)
    return first, after if end == after - timedelta(days=1) else end.replace(day=1)


def _pair_rows(cid: int, start: date, end: date) -> sa.Subquery:
    """The pairs' exchange counts over [start, end]: month rows for the whole months, day rows for
    the partial months at the edges. Columns: helper_id, helped_id, exchanges."""
    P, M = StatsPairDay, StatsPairMonth
    first, last = _whole_months(start, end)

    def part(table, when):
        return sa.select(table.helper_id, table.helped_id, table.exchanges).where(table.community_id == cid, when)

    if first >= last:
        return part(P, P.day.between(start, end)).subquery()
    parts = [part(M, sa.and_(M.month >= first, M.month < last))]
    if start < first:
        parts.append(part(P, P.day.between(start, first - timedelta(days=1))))
    if last <= end:
        parts.append(part(P, P.day.between(last, end)))
    return sa.union_all(*parts).subquery()


def _account_rows(cid: int, start: date, end: date, *, with_month: bool = False) -> sa.Subquery:
    """Every account's exchange figures over [start, end]: the month rows of the whole months in
    it and the day rows of the partial months at its edges, so a year reads about twelve rows per
    member. Columns: member_id, earned, paid, gave, received (and month, 'YYYY-MM')."""
    A, M = StatsAccountDay, StatsAccountMonth
    first, last = _whole_months(start, end)

    def part(table, when, moment):
        columns = [table.member_id, table.earned, table.paid, table.gave, table.received]
        if with_month:
            columns.append(month_column(moment).label("month"))
        return sa.select(*columns).where(table.community_id == cid, when)

    if first >= last:
        return part(A, A.day.between(start, end), A.day).subquery()
    parts = [part(M, sa.and_(M.month >= first, M.month < last), M.month)]
    if start < first:
        parts.append(part(A, A.day.between(start, first - timedelta(days=1)), A.day))
    if last <= end:
        parts.append(part(A, A.day.between(last, end), A.day))
    return sa.union_all(*parts).subquery()


def _active_ids(rows: sa.Subquery) -> sa.Select:
    """The members who gave or received help in these rows. A reversal takes its exchange away on the
    exchange's own day, so no row is below zero and one row above zero is enough: no sum per member
    (grouping the ninety days' rows by member was half of the statement that reads them)."""
    return sa.select(rows.c.member_id).where(rows.c.member_id.is_not(None), rows.c.gave + rows.c.received > 0)


def _members(cid: int, until, active_ids) -> sa.Select:
    """The members of the statistics: joined by the end and in good standing now, or active in the period."""
    return sa.select(Member.id).where(
        Member.community_id == cid,
        Member.created_at < until,
        sa.or_(Member.status == "active", Member.id.in_(active_ids)),
    )


def _requests(cid: int, since, until) -> dict:
    reversal = sa.orm.aliased(Transaction)
    completed = (
        sa.select(Exchange.id)
        .join(Transaction, Transaction.id == Exchange.transaction_id)
        .where(
            Exchange.post_id == Post.id,
            Exchange.state == "completed",
            ~sa.exists().where(reversal.reverses_id == Transaction.id),
        )
    )
    scope = (Post.community_id == cid, Post.kind == "request", Post.created_at >= since, Post.created_at < until)
    posted, met = db.session.execute(
        sa.select(
            sa.func.count(Post.id), sa.func.coalesce(sa.func.sum(sa.case((sa.exists(completed), 1), else_=0)), 0)
        ).where(*scope)
    ).one()
    accepted = (
        sa.select(_days_between(sa.func.min(Message.created_at), Post.created_at).label("days"))
        .join(Exchange, Exchange.post_id == Post.id)
        .join(Message, Message.exchange_id == Exchange.id)
        .where(*scope, Message.event == "accepted")
        .group_by(Post.id, Post.created_at)
        .subquery()
    )
    # The median in one reading of the requests: the middle row, or the two middle rows' average.
    ranked = sa.select(
        accepted.c.days,
        sa.func.row_number().over(order_by=accepted.c.days).label("n"),
        sa.func.count().over().label("total"),
    ).subquery()
    middle = db.session.scalar(
        sa.select(sa.func.avg(ranked.c.days)).where(
            ranked.c.n.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2])
        )
    )
    median = None if middle is None else round(float(middle), 1)
    return dict(
        requests_posted=posted,
        requests_met=int(met),
        requests_met_rate=_ratio(int(met), posted),
        median_days_to_accept=median,
    )


def _by_category(cid: int, start: date, end: date, locale: str) -> list[CategoryFigure]:
    C = StatsCategoryDay
    rows = db.session.execute(
        sa.select(C.category_id, sa.func.sum(C.exchanges), sa.func.sum(C.minutes))
        .where(C.community_id == cid, C.day.between(start, end))
        .group_by(C.category_id)
        .having(sa.func.sum(C.exchanges) != 0)
    ).all()
    categories = {c.id: c for c in db.session.scalars(sa.select(Category).where(Category.community_id == cid))}
    merged: dict[int, list[int]] = {}
    for category_id, exchanges, minutes in rows:
        target = categories.get(category_id)
        while target is not None and target.merged_into_id and target.merged_into_id in categories:
            target = categories[target.merged_into_id]
        key = target.id if target is not None else NO_CATEGORY
        found = merged.setdefault(key, [0, 0])
        found[0] += int(exchanges)
        found[1] += int(minutes)
    figures = [
        CategoryFigure(
            None if key == NO_CATEGORY else key,
            categories[key].name(locale) if key in categories else str(_l("No category")),
            exchanges,
            minutes,
        )
        for key, (exchanges, minutes) in merged.items()
    ]
    return sorted(figures, key=lambda f: (-f.minutes, f.name))


def _by_month(cid: int, start: date, end: date, since, until) -> list[MonthFigure]:
    D = StatsDay
    month = month_column(D.day)
    days = {
        m: (int(minutes), int(exchanges))
        for m, minutes, exchanges in db.session.execute(
            sa.select(month, sa.func.sum(D.exchange_minutes), sa.func.sum(D.exchanges))
            .where(D.community_id == cid, D.day.between(start, end))
            .group_by(month)
        )
    }
    # A reversal takes its exchange away on the exchange's own day, so a day's row shows activity
    # only if an exchange of that day still stands: no need to sum per member first.
    rows = _account_rows(cid, start, end, with_month=True)
    active = dict(
        db.session.execute(
            sa.select(rows.c.month, sa.func.count(sa.distinct(rows.c.member_id)))
            .where(rows.c.member_id.is_not(None), rows.c.gave + rows.c.received > 0)
            .group_by(rows.c.month)
        ).all()
    )
    joined_month = month_column(local_day_sql(Member.created_at, _dialect()))
    new = dict(
        db.session.execute(
            sa.select(joined_month, sa.func.count(Member.id))
            .where(
                Member.community_id == cid,
                Member.created_at >= since,
                Member.created_at < until,
                Member.status.not_in(("pending", "rejected")),
            )
            .group_by(joined_month)
        ).all()
    )
    return [MonthFigure(m, *days.get(m, (0, 0)), active.get(m, 0), new.get(m, 0)) for m in months_of(start, end)]


# Periods ---------------------------------------------------------------------------------------------

PERIODS = {
    "this_month": _l("This month"),
    "last_month": _l("Last month"),
    "this_year": _l("This year"),
    "last_12_months": _l("Last 12 months"),
    "custom": _l("Other dates"),
}


def _months_back(day: date, months: int) -> date:
    """The same day `months` months earlier, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period(name: str, today: date) -> tuple[date, date]:
    """The dates of a named period, as of `today` (community-local). "Last 12 months" is the twelve
    whole months before the current one, so it compares with the twelve before those."""
    if name == "this_month":
        return today.replace(day=1), today
    if name == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if name == "this_year":
        return today.replace(month=1, day=1), today
    if name == "last_12_months":
        first = today.replace(day=1)
        return _months_back(first, 12), first - timedelta(days=1)
    raise InvalidPeriod(name)


def recent_months(today: date, months: int = 12) -> tuple[date, date]:
    """The current month so far and the `months` - 1 before it: a member's own figures over time."""
    return _months_back(today.replace(day=1), months - 1), today


def previous(start: date, end: date) -> tuple[date, date]:
    """The period just before, like for like. A period that starts on the first of a month moves back
    by the months it touches, to the same day of the month (this month so far compares with the same
    days of last month, whole months with as many whole months), except that the year so far
    compares with the same dates a year earlier; any other period moves back by its number of days."""
    if start.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        last_day = calendar.monthrange(end.year, end.month)[1]
        if start.month == 1 and end.year == start.year and end.day != last_day:
            months = 12  # the year so far: the same dates a year earlier
        before_end = start - timedelta(days=1)
        if end.day != last_day:
            before_end = min(_months_back(end, months), before_end)
        return _months_back(start, months), before_end
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)
