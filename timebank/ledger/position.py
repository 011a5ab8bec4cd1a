"""What the pages and the API show about an account: its balance and limits. An account with
nothing on it yet is shown as an empty one without being created, so looking writes nothing."""

import sqlalchemy as sa

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger.models import Account
from timebank.ledger.services import Summary, account_for, fund_account, summary
from timebank.members.models import Member


def member_account(member: Member) -> Account:
    """The member's account, or an empty one that is not stored."""
    return account_for(member, create=False) or Account(
        member=member, community=member.community, kind="member", status="open", balance=0
    )


def fund_of(community: Community) -> Account:
    """The community fund, or an empty one that is not stored."""
    return fund_account(community.id, create=False) or Account(
        community_id=community.id, community=community, kind="fund", status="open", balance=0
    )


def position_of(member: Member) -> Summary:
    """Balance, limits and the low-balance warning of a member's account."""
    return summary(member_account(member))


def balance_of(member: Member) -> int:
    """A member's balance in minutes, for pages that show it where `can_see_balance` allows."""
    account = account_for(member, create=False)
    return account.balance if account else 0


def balances_of(members: list[Member]) -> dict[int, int]:
    """The balances of a page of members in one query, by member id (no account: 0, not listed)."""
    ids = [member.id for member in members]
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Account.member_id, Account.balance).where(Account.member_id.in_(ids), Account.kind == "member")
    )
    return {member_id: balance for member_id, balance in rows}
