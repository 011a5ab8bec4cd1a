"""Opening pots, moving hours into and out of them, spending from them, and the automatic share.

Every move is a ledger transaction, so the ledger's rules hold: a pot never goes below zero, the
member's floor and ceiling apply to their main account, nothing moves twice for one request key."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.db import take_write_lock, utcnow
from timebank.errors import DomainError
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Account, Transaction
from timebank.members.models import Member
from timebank.notifications.services import notify
from timebank.pots.models import MAX_SHARE_PERCENT, Pot

NAME_MAX, MEMO_MAX = 100, 500
MAX_OPEN_POTS = 10
MAX_GOAL_MINUTES = 1000 * 60

AUDIT_LABELS = {
    "pots.opened": _l("opened a pot"),
    "pots.share_set": _l("changed the share of exchanges that goes into a pot"),
    "pots.closed": _l("closed a pot"),
}


class PotError(DomainError):
    """A pot action the rules do not allow; nothing was changed."""


class NotAllowed(PotError):
    code = "forbidden"
    status = 403


class PotNotFound(PotError):
    """Someone else's pot is, for this member, a pot that does not exist."""

    code = "not_found"
    status = 404


def _name(value: str | None) -> str:
    name = (value or "").replace("\x00", "").strip()
    if not name:
        raise PotError(_l("Please give the pot a name, e.g. “a sewing course”."), "name")
    if len(name) > NAME_MAX:
        raise PotError(_l("Please use at most %(num)d characters.", num=NAME_MAX), "name")
    return name


def _goal(minutes) -> int:
    if not (isinstance(minutes, int) and not isinstance(minutes, bool) and 0 < minutes <= MAX_GOAL_MINUTES):
        raise PotError(
            _l("Please give a goal of more than 0 and at most %(num)d hours.", num=MAX_GOAL_MINUTES // 60),
            "goal_minutes",
        )
    return minutes


def _owner(member: Member) -> None:
    if member is None or member.status != "active":
        raise NotAllowed(_l("Only active members can save in pots."))


def pots_of(member: Member) -> list[Pot]:
    """The member's open pots, oldest first."""
    return list(
        db.session.scalars(sa.select(Pot).where(Pot.member_id == member.id, Pot.closed_at.is_(None)).order_by(Pot.id))
    )


def pot_for(member: Member, pot_id: int) -> Pot:
    pot = db.session.get(Pot, pot_id)
    if pot is None or member is None or pot.member_id != member.id or pot.closed_at is not None:
        raise PotNotFound(_l("You have no pot with this number."))
    return pot


def open_pot(member: Member, name: str, goal_minutes: int) -> Pot:
    _owner(member)
    name, goal_minutes = _name(name), _goal(goal_minutes)
    take_write_lock(db.session)
    if len(pots_of(member)) >= MAX_OPEN_POTS:
        raise PotError(
            _l("You can have at most %(num)d pots. Close one you no longer need first.", num=MAX_OPEN_POTS), "name"
        )
    account = Account(community_id=member.community_id, member_id=member.id, kind="pot", status="open", balance=0)
    db.session.add(account)
    db.session.flush()
    pot = Pot(
        community_id=member.community_id,
        member_id=member.id,
        account_id=account.id,
        name=name,
        goal_minutes=goal_minutes,
    )
    db.session.add(pot)
    db.session.flush()
    record("pots.opened", actor=member, subject=pot, goal_minutes=goal_minutes)
    return pot


def _move(pot: Pot, member: Member, minutes: int, *, into_pot: bool, request_key: str | None) -> Transaction:
    main = ledger.account_for(member)
    legs = [(main, -minutes), (pot.account, minutes)] if into_pot else [(pot.account, -minutes), (main, minutes)]
    return ledger.post(
        member.community_id,
        "saving",
        legs,
        actor=member,
        memo=pot.name,
        idempotency_key=ledger.request_key(member, "pot", request_key),
    )


def deposit(pot: Pot, member: Member, minutes: int, *, request_key: str | None = None) -> Transaction:
    """Put hours from the member's account into the pot (the account's floor applies)."""
    _owner(member)
    return _move(pot, member, _minutes(minutes), into_pot=True, request_key=request_key)


def withdraw(pot: Pot, member: Member, minutes: int, *, request_key: str | None = None) -> Transaction:
    """Take hours out of the pot back into the member's account (the account's ceiling applies)."""
    _owner(member)
    return _move(pot, member, _minutes(minutes), into_pot=False, request_key=request_key)


def _minutes(minutes) -> int:
    if not (isinstance(minutes, int) and not isinstance(minutes, bool) and 0 < minutes <= MAX_GOAL_MINUTES):
        raise PotError(_l("Please give a time of more than 0 minutes."), "minutes")
    return minutes


def spend(
    pot: Pot, member: Member, minutes: int, to: Member | None, memo: str = "", *, request_key: str | None = None
) -> Transaction:
    """Pay a neighbour (a gift) or the community fund (a donation) straight from the pot."""
    _owner(member)
    minutes = _minutes(minutes)
    memo = (memo or "").replace("\x00", "").strip()
    if len(memo) > MEMO_MAX:
        raise PotError(_l("Please use at most %(num)d characters.", num=MEMO_MAX), "memo")
    if to is not None:
        if to.id == member.id:
            raise PotError(_l("To use the hours yourself, take them out of the pot."), "to")
        if to.community_id != member.community_id or to.status != "active":
            raise PotError(_l("Please choose an active member of your neighbourhood."), "to")
        target = ledger.account_for(to)
    else:
        target = ledger.fund_account(member.community_id)
    transaction = ledger.post(
        member.community_id,
        "gift" if to else "donation",
        [(pot.account, -minutes), (target, minutes)],
        actor=member,
        memo=memo or pot.name,
        idempotency_key=ledger.request_key(member, "pot", request_key),
    )
    if to is not None:
        notify(to, "gift", actor=member, minutes=minutes, memo=memo or pot.name)
    return transaction


def set_share(pot: Pot, member: Member, percent) -> Pot:
    """The share of every exchange the member is paid for that goes into this pot."""
    _owner(member)
    if not (isinstance(percent, int) and not isinstance(percent, bool) and 0 <= percent <= MAX_SHARE_PERCENT):
        raise PotError(_l("Please give a share from 0 to %(num)d percent.", num=MAX_SHARE_PERCENT), "share_percent")
    take_write_lock(db.session)
    others = sum(p.share_percent for p in pots_of(member) if p.id != pot.id)
    if others + percent > MAX_SHARE_PERCENT:
        raise PotError(
            _l(
                "Your pots together can take at most %(num)d percent of what you are paid; the others "
                "take %(others)d already.",
                num=MAX_SHARE_PERCENT,
                others=others,
            ),
            "share_percent",
        )
    pot.share_percent = percent
    db.session.flush()
    record("pots.share_set", actor=member, subject=pot, share_percent=percent)
    return pot


def close_pot(pot: Pot, member: Member) -> Pot:
    """Close a pot; what it holds goes back to the member's account first."""
    _owner(member)
    take_write_lock(db.session)
    db.session.refresh(pot.account, with_for_update=True)
    if pot.account.balance:
        _move(pot, member, pot.account.balance, into_pot=False, request_key=None)
    # The owner closes it, not a coordinator (ledger.set_status is a coordinator's power).
    pot.account.status, pot.closed_at, pot.share_percent = "closed", utcnow(), 0
    db.session.flush()
    record("pots.closed", actor=member, subject=pot)
    return pot


def split_to_pots(amounts: dict[int, int]) -> dict[int, int]:
    """The ledger's hook for exchanges: of what a member's account receives, each of their pots
    takes its share (rounded down), in the same ledger transaction."""
    paid = [account_id for account_id, amount in amounts.items() if amount > 0]
    main = sa.orm.aliased(Account)
    shares = db.session.execute(
        sa.select(main.id, Pot.account_id, Pot.share_percent)
        .join(Pot, sa.and_(Pot.member_id == main.member_id, Pot.closed_at.is_(None), Pot.share_percent > 0))
        .where(main.id.in_(paid), main.kind == "member")
        .order_by(Pot.id)
    ).all()
    if not shares:
        return amounts
    split = dict(amounts)
    for account_id, pot_account_id, percent in shares:
        share = amounts[account_id] * percent // 100
        if share:
            split[account_id] -= share
            split[pot_account_id] = share
    return dict(sorted((account_id, amount) for account_id, amount in split.items() if amount))


def export_pots(member: Member) -> list[dict]:
    return [
        {
            "name": pot.name,
            "goal_minutes": pot.goal_minutes,
            "share_percent": pot.share_percent,
            "balance_minutes": pot.account.balance,
            "created_at": pot.created_at,
            "closed_at": pot.closed_at,
        }
        for pot in db.session.scalars(sa.select(Pot).where(Pot.member_id == member.id).order_by(Pot.id))
    ]


def forget_pots(member: Member, actor: Member) -> None:
    """An erased member's pot names go; their hours were settled to the fund before."""
    db.session.execute(
        sa.update(Pot)
        .where(Pot.member_id == member.id)
        .values(name="", share_percent=0, closed_at=sa.func.coalesce(Pot.closed_at, utcnow()))
    )
    db.session.execute(
        sa.update(Account)
        .where(Account.member_id == member.id, Account.kind == "pot", Account.balance == 0)
        .values(status="closed")
    )
