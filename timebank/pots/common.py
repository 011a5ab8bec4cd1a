"""The common pot as every member sees it: the community fund's balance, what came in and what
went out over the last twelve months by kind, and the latest grants with the vote that decided
each (if one did). The sums are computed in SQL over the fund's day roll-ups (stats_fund_days,
kept with every posting), so the page reads a year of days however old the fund is."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from timebank.db import utcnow
from timebank.extensions import db
from timebank.governance.models import Proposal
from timebank.ledger.models import Account, Posting, Transaction
from timebank.ledger.services import fund_account
from timebank.members.models import Member
from timebank.stats.models import StatsFundDay
from timebank.stats.rollup import local_day

PERIOD = timedelta(days=365)
LATEST_GRANTS = 20


@dataclass(frozen=True)
class Grant:
    when: datetime
    to: str | None
    minutes: int
    memo: str
    proposal: Proposal | None


@dataclass(frozen=True)
class CommonPot:
    balance: int
    since: date  # the first community-local day the twelve months count
    came_in: dict[str, int]
    went_out: dict[str, int]
    grants: list[Grant]

    @property
    def total_in(self) -> int:
        return sum(self.came_in.values())

    @property
    def total_out(self) -> int:
        return sum(self.went_out.values())


def common_pot(community_id: int, *, now: datetime | None = None) -> CommonPot:
    # Today and the 364 community-local days before it.
    since = local_day((now or utcnow()) - PERIOD) + timedelta(days=1)
    fund = fund_account(community_id, create=False)
    if fund is None:
        return CommonPot(0, since, {}, {}, [])
    F = StatsFundDay
    rows = db.session.execute(
        sa.select(F.kind, sa.func.sum(F.came_in), sa.func.sum(F.went_out))
        .where(F.community_id == community_id, F.day >= since)
        .group_by(F.kind)
    ).all()
    came_in = {kind: int(inflow) for kind, inflow, _out in rows if inflow}
    went_out = {kind: int(outflow) for kind, _in, outflow in rows if outflow}
    receiver = sa.orm.aliased(Account)
    grants = db.session.execute(
        sa.select(Transaction.created_at, Member.name, Posting.amount, Transaction.memo, Proposal)
        .join(Posting, sa.and_(Posting.transaction_id == Transaction.id, Posting.amount > 0))
        .join(receiver, receiver.id == Posting.account_id)
        .outerjoin(Member, Member.id == receiver.member_id)
        .outerjoin(Proposal, Proposal.grant_transaction_id == Transaction.id)
        # The kind written into the statement, so that both databases may use the partial index of
        # grants (a bound parameter could be any kind).
        .where(Transaction.community_id == community_id, Transaction.kind == sa.literal("grant", literal_execute=True))
        .order_by(Transaction.id.desc())
        .limit(LATEST_GRANTS)
    ).all()
    return CommonPot(fund.balance, since, came_in, went_out, [Grant(*row) for row in grants])
