"""The umbrella: the statistics of several communities side by side and added up, for the
installation's administrator.

Each community's own figures come from `indicators.compute`, unchanged. Adding them up must not
count an exchange between two of the chosen communities twice: it is in both communities' books
(the payer's side and the provider's side, through their clearing accounts). In the payer's book
it counts as an exchange with the minutes paid; in the provider's book as an exchange in which a
member helped, with no minutes paid by a member there. So the minutes add up as they are, the
exchanges less one per such exchange, and the pairs of neighbours gain the pairs across the
border (each community counts only its own pairs). Those exchanges are read, in SQL, from the
payer sides' clearing postings. Hours that moved through clearing accounts between two chosen
communities stay inside the umbrella: they are nobody's debt to the outside."""

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger.models import Account, Posting, Transaction
from timebank.stats.indicators import Statistics, compute, month_column, months_of
from timebank.stats.rollup import local_day_sql
from timebank.stats.trade import Trade, counted_exchange, trade_of

# Figures that add up as they are: every member belongs to one community, each fund is its own,
# and an exchange's minutes, category, request and assisted member are counted in one book only.
SUMMED = (
    "minutes_exchanged",
    "members_total",
    "new_members",
    "active_members",
    "members_at_floor",
    "members_at_ceiling",
    "dormant_members",
    "fund_inflow",
    "fund_outflow",
    "fund_donations",
    "fund_levy",
    "fund_grants",
    "fund_balance",
    "gifts",
    "gift_minutes",
    "requests_posted",
    "requests_met",
    "group_activities",
    "group_people_reached",
    "assisted_minutes",
)
# Figures that cannot be added up from the communities' own: shown per community only.
NOT_ADDED = ("turnover_gini", "median_days_to_accept")

_ADDED_UP = _l("Added up over the neighbourhoods: every member belongs to one of them.")
_FUNDS = _l("The community funds of the neighbourhoods added up.")
_NOT_ADDED = _l("Not added up: this figure cannot be added over neighbourhoods; see each neighbourhood's own.")
# What each total means, in words, next to it.
TOTAL_DEFINITIONS = {
    **{key: _ADDED_UP for key in SUMMED},
    **{key: _FUNDS for key in SUMMED if key.startswith("fund_")},
    **{key: _NOT_ADDED for key in NOT_ADDED},
    "minutes_exchanged": _l(
        "All time paid for help in the neighbourhoods together. An exchange between two of them counts "
        "once, with the hours the member who received help paid."
    ),
    "exchanges_completed": _l(
        "The neighbourhoods' exchanges added up, less the exchanges between two of them: those are in "
        "both neighbourhoods' books and count once here."
    ),
    "distinct_pairs": _l(
        "Pairs of neighbours within each neighbourhood added up, plus the pairs from two different "
        "neighbourhoods who exchanged with each other."
    ),
    "participation_rate": _l("Active members as a share of all members, of all the neighbourhoods together."),
    "partners_per_active_member": _l(
        "On average, with how many different neighbours an active member exchanged, across borders too."
    ),
    "reciprocity_rate": _l("Share of all active members who both gave and received help in the period."),
    "velocity": _l("All hours exchanged divided by all the hours members of the neighbourhoods had saved at the end."),
    "requests_met_rate": _l("Share of all requests posted in the period that led to a completed exchange."),
}
CROSSING_DEFINITIONS = {
    "exchanges": _l(
        "Exchanges in which a member of one of these neighbourhoods helped a member of another one of them."
    ),
    "minutes": _l(
        "The hours paid in those exchanges. They moved through the clearing accounts between the "
        "neighbourhoods, so they stay inside the umbrella: counted once in the hours of all of them together."
    ),
    "pairs": _l("Different pairs of neighbours from two of these neighbourhoods who exchanged with each other."),
}


@dataclass(frozen=True)
class Crossing:
    """Exchanges between two of the chosen communities in a period (each counted once)."""

    exchanges: int
    minutes: int
    pairs: int
    by_month: dict[str, tuple[int, int]]  # 'YYYY-MM': (exchanges, minutes)


@dataclass(frozen=True)
class MonthTotal:
    month: str
    minutes: int
    exchanges: int


@dataclass(frozen=True)
class TradeLine:
    """A link between two chosen communities (or one chosen and one outside), seen from `first`."""

    first: str
    trade: Trade
    inside: bool


@dataclass(frozen=True)
class Umbrella:
    communities: list[Community]
    each: list[Statistics]
    total: dict
    crossing: Crossing
    by_month: list[MonthTotal]  # named as Statistics.by_month: present.months_chart draws either
    trade: list[TradeLine]
    start: date
    end: date


def crossing(community_ids: list[int], start: date, end: date) -> Crossing:
    """The exchanges between two of these communities in [start, end], from the payer's side: the
    transaction whose clearing account for a chosen community received the minutes. Their pairs
    join that side's paying member to the provider on the other side (same key, peer community)."""
    payer_side, clearing, paid = Transaction, sa.orm.aliased(Account), sa.orm.aliased(Posting)
    # From the clearing accounts (their partial index: the kind written into the statement) to their
    # postings and transactions, which the ledger keeps in the account's community: found from the
    # transactions' side, SQLite read every transaction of the communities (30 ms for one year of the
    # large demo, twice a page) to find the few that cross.
    scope = (
        counted_exchange(payer_side, start, end),
        clearing.kind == sa.literal("clearing", literal_execute=True),
        clearing.community_id.in_(community_ids),
        clearing.peer_community_id.in_(community_ids),
        paid.amount > 0,
    )
    across = (
        sa.select(
            payer_side.id, payer_side.created_at, payer_side.idempotency_key, clearing.peer_community_id, paid.amount
        )
        .join(paid, paid.transaction_id == payer_side.id)
        .join(clearing, clearing.id == paid.account_id)
        .where(*scope)
        .subquery()
    )
    month = month_column(local_day_sql(across.c.created_at, db.session.get_bind().dialect.name))
    by_month = {
        m: (int(n), int(minutes))
        for m, n, minutes in db.session.execute(
            sa.select(month, sa.func.count(), sa.func.sum(across.c.amount)).group_by(month)
        )
    }
    payer_posting, payer_account = sa.orm.aliased(Posting), sa.orm.aliased(Account)
    provider_side, provider_posting, provider_account = (
        sa.orm.aliased(Transaction),
        sa.orm.aliased(Posting),
        sa.orm.aliased(Account),
    )
    payer, provider = payer_account.member_id, provider_account.member_id
    low = sa.case((payer < provider, payer), else_=provider)
    high = sa.case((payer < provider, provider), else_=payer)
    pairs = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(low.label("lo"), high.label("hi"))
            .select_from(across)
            .join(payer_posting, sa.and_(payer_posting.transaction_id == across.c.id, payer_posting.amount < 0))
            .join(payer_account, sa.and_(payer_account.id == payer_posting.account_id, payer_account.kind == "member"))
            .join(
                provider_side,
                sa.and_(
                    provider_side.community_id == across.c.peer_community_id,
                    provider_side.idempotency_key == across.c.idempotency_key,
                ),
            )
            .join(
                provider_posting,
                sa.and_(provider_posting.transaction_id == provider_side.id, provider_posting.amount > 0),
            )
            .join(
                provider_account,
                sa.and_(provider_account.id == provider_posting.account_id, provider_account.kind == "member"),
            )
            .group_by(low, high)
            .subquery()
        )
    )
    return Crossing(
        exchanges=sum(n for n, _m in by_month.values()),
        minutes=sum(m for _n, m in by_month.values()),
        pairs=int(pairs or 0),
        by_month=by_month,
    )


def _ratio(numerator, denominator) -> float | None:
    return None if not denominator else float(Fraction(numerator) / Fraction(denominator))


def added_up(each: list[Statistics], across: Crossing) -> dict:
    """The umbrella's figure for every indicator (None where it cannot be added up)."""
    total = {key: sum(getattr(stats, key) for stats in each) for key in SUMMED}
    total["exchanges_completed"] = sum(stats.exchanges_completed for stats in each) - across.exchanges
    total["distinct_pairs"] = sum(stats.distinct_pairs for stats in each) + across.pairs
    active = total["active_members"]
    total["participation_rate"] = _ratio(active, total["members_total"])
    total["partners_per_active_member"] = _ratio(2 * total["distinct_pairs"], active)
    total["reciprocity_rate"] = _ratio(sum(stats.reciprocal_members for stats in each), active)
    total["velocity"] = _ratio(total["minutes_exchanged"], sum(stats.saved_minutes for stats in each))
    total["requests_met_rate"] = _ratio(total["requests_met"], total["requests_posted"])
    total.update({key: None for key in NOT_ADDED})
    return total


def umbrella(communities: list[Community], start: date, end: date, *, locale: str = "en") -> Umbrella:
    """Every chosen community's statistics over [start, end], their umbrella totals, the exchanges
    between them, and each link's trade (those to communities outside the choice marked so)."""
    ids = [community.id for community in communities]
    each = [compute(community, start, end, locale=locale) for community in communities]
    across = crossing(ids, start, end)
    months = [
        MonthTotal(
            month,
            sum(m.minutes for stats in each for m in stats.by_month if m.month == month),
            sum(m.exchanges for stats in each for m in stats.by_month if m.month == month)
            - across.by_month.get(month, (0, 0))[0],
        )
        for month in months_of(start, end)
    ]
    trade = [
        TradeLine(community.name, line, line.peer_id in ids)
        for community in communities
        for line in trade_of(community, start, end)
        if line.peer_id not in ids or community.id < line.peer_id
    ]
    return Umbrella(communities, each, added_up(each, across), across, months, trade, start, end)
