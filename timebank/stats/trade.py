"""Trade across links, per linked community, read from the community's clearing accounts' postings.

A community's clearing account for a linked community takes +m when one of its members pays m to
a member of the other community (help came in: imported), and −m when one of its members is paid
m by a member of the other community (help went out: exported). Its balance is what this
community owes the other: hours the other community's residents earned here and were not yet
matched by help coming back. Only exchanges count as help; one that was undone counts nowhere, as
in the other statistics; the balance is the account's real balance at the end of the period."""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.communities.models import Community, CommunityLink
from timebank.extensions import db
from timebank.ledger.models import Account, Posting, Transaction
from timebank.stats.rollup import day_start

DEFINITIONS = {
    "exported": _l("Hours your members worked for residents of %(other)s, in exchanges completed in the period."),
    "imported": _l("Hours residents of %(other)s worked for your members, in exchanges completed in the period."),
    "exported_between": _l(
        "Hours residents of %(first)s worked for residents of %(other)s, in exchanges completed in the period."
    ),
    "imported_between": _l(
        "Hours residents of %(other)s worked for residents of %(first)s, in exchanges completed in the period."
    ),
    "balance": _l(
        "At the end of the period: what one neighbourhood owes the other in hours of help, all exchanges "
        "since the link began taken together."
    ),
    "balance_signed": _l(
        "Hours your neighbourhood owes %(other)s at the end of the period (below zero: what %(other)s owes "
        "your neighbourhood), all exchanges since the link began taken together."
    ),
    "cap": _l("The most hours either neighbourhood may owe the other; beyond it, hours move only back."),
}


@dataclass(frozen=True)
class Trade:
    """One linked community's trade with this one over a period."""

    peer_id: int
    peer_name: str
    exported: int  # minutes this community's members were paid by the peer's members
    exported_exchanges: int
    imported: int  # minutes this community's members paid to the peer's members
    imported_exchanges: int
    balance: int  # at the period's end; above zero: this community owes the peer
    cap: int | None
    state: str | None


def counted_exchange(transaction, start: date, end: date):
    """An exchange written in [start, end] (community-local dates) that was not undone."""
    reversal = sa.orm.aliased(Transaction)
    return sa.and_(
        transaction.kind == "exchange",
        transaction.created_at >= day_start(start),
        transaction.created_at < day_start(end + timedelta(days=1)),
        ~sa.exists().where(reversal.reverses_id == transaction.id),
    )


def trade_of(community: Community | int, start: date, end: date) -> list[Trade]:
    """Per linked community (every clearing account the community has): help out and in over
    [start, end], the balance at its end and the link's cap; by the other community's name."""
    cid = community if isinstance(community, int) else community.id
    counted = counted_exchange(Transaction, start, end)

    def summed(condition, value):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)

    out, into = sa.and_(counted, Posting.amount < 0), sa.and_(counted, Posting.amount > 0)
    rows = db.session.execute(
        sa.select(
            Account.peer_community_id,
            summed(out, -Posting.amount),
            summed(out, 1),
            summed(into, Posting.amount),
            summed(into, 1),
            summed(Transaction.created_at < day_start(end + timedelta(days=1)), Posting.amount),
        )
        .select_from(Account)
        .outerjoin(Posting, Posting.account_id == Account.id)
        .outerjoin(Transaction, Transaction.id == Posting.transaction_id)
        .where(Account.community_id == cid, Account.kind == "clearing")
        .group_by(Account.peer_community_id)
    ).all()
    if not rows:
        return []
    names = dict(db.session.execute(sa.select(Community.id, Community.name)).all())
    links = {
        link.other_id(cid): link
        for link in db.session.scalars(
            sa.select(CommunityLink).where(sa.or_(CommunityLink.proposer_id == cid, CommunityLink.accepter_id == cid))
        )
    }
    found = []
    for peer, exported, exported_n, imported, imported_n, balance in rows:
        link = links.get(peer)
        found.append(
            Trade(
                peer_id=peer,
                peer_name=names[peer],
                exported=int(exported),
                exported_exchanges=int(exported_n),
                imported=int(imported),
                imported_exchanges=int(imported_n),
                balance=int(balance),
                cap=link.cap_minutes if link is not None else None,
                state=link.state if link is not None else None,
            )
        )
    return sorted(found, key=lambda trade: trade.peer_name)
