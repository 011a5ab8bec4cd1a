"""Hours given directly, outside an exchange: a thank-you to a neighbour, a donation to the
community fund, and a coordinator's grant from the fund. Each is one ledger transaction; the
form's request key makes a second submit return the first transaction."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.db import take_write_lock
from timebank.exchanges.errors import ExchangeError, NotAllowed
from timebank.exchanges.rules import REASON_MAX, _check_actor, _check_member
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Transaction
from timebank.members.models import Member
from timebank.notifications.services import notify
from timebank.permissions import can_coordinate
from timebank.text import clean_text


def _earlier(community_id: int, key: str | None) -> Transaction | None:
    """The transaction a first submit of the same form made: a second one changes and tells nothing.
    (The ledger itself would never write it twice; this spares the second notification.)"""
    take_write_lock(db.session)
    if key is None:
        return None
    return db.session.scalar(
        sa.select(Transaction).where(Transaction.community_id == community_id, Transaction.idempotency_key == key)
    )


def give_hours(
    from_member: Member,
    to_member: Member | None,
    minutes: int,
    memo: str = "",
    *,
    actor: Member,
    idempotency_key: str | None = None,
) -> Transaction:
    """Give hours to a neighbour as a thank-you, or (`to_member` None) donate them to the
    community fund. Raises LimitExceeded (nothing written) when a balance limit refuses.
    `idempotency_key` is the form's (or API call's) own key; see `ledger.request_key`."""
    key = ledger.request_key(actor, "give", idempotency_key)
    if (earlier := _earlier(from_member.community_id, key)) is not None:
        return earlier
    _check_actor(actor, from_member)
    memo = clean_text(memo, REASON_MAX, "memo", refusal=ExchangeError)
    if to_member is not None:
        _check_member(to_member, from_member.community_id)
        if to_member.id == from_member.id:
            raise ExchangeError(_l("You cannot give hours to yourself."), "to")
    if to_member is not None:
        source, target = ledger.accounts_for(from_member, to_member)
    else:
        source, target = ledger.account_for(from_member), ledger.fund_account(from_member.community_id)
    transaction = ledger.transfer(
        source,
        target,
        minutes,
        kind="gift" if to_member else "donation",
        actor=actor,
        memo=memo,
        on_behalf_of=from_member if actor.id != from_member.id else None,
        idempotency_key=key,
    )
    if actor.id != from_member.id:
        record(
            "hours.given",
            actor=actor,
            on_behalf_of=from_member,
            subject=transaction,
            minutes=minutes,
            to=to_member.id if to_member else "fund",
        )
    if to_member is not None:
        notify(to_member, "gift", actor=from_member, minutes=minutes, memo=memo)
    return transaction


def grant_from_fund(
    member: Member, minutes: int, reason: str, *, actor: Member, idempotency_key: str | None = None
) -> Transaction:
    """A coordinator gives a member hours from the community fund, with a reason the member sees."""
    if not can_coordinate(actor, member.community_id):
        raise NotAllowed(_l("Only a coordinator of this neighbourhood can give hours from the fund."))
    key = ledger.request_key(actor, "grant", idempotency_key)
    if (earlier := _earlier(member.community_id, key)) is not None:
        return earlier
    _check_member(member, actor.community_id)
    reason = clean_text(reason, REASON_MAX, "reason", required=True, refusal=ExchangeError)
    transaction = ledger.transfer(
        ledger.fund_account(member.community_id),
        ledger.account_for(member),
        minutes,
        kind="grant",
        actor=actor,
        memo=reason,
        idempotency_key=key,
    )
    record("hours.granted", actor=actor, on_behalf_of=member, subject=transaction, reason=reason, minutes=minutes)
    notify(member, "grant", actor=actor, minutes=minutes, memo=reason)
    return transaction
