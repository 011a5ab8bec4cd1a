"""Settling an exchange: the ledger transaction posted in the same database transaction as the state
change, under the key "exchange:<id>:settle", so it can never post twice."""

from timebank.communities.models import Community
from timebank.db import utcnow
from timebank.exchanges.events import _audit_if_helped, _event, _tell_others
from timebank.exchanges.models import Exchange
from timebank.exchanges.rules import settle_key
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.members.models import Member
from timebank.notifications.services import notify
from timebank.stats.rollup import record_exchange


def _community(exchange: Exchange) -> Community:
    return db.session.get(Community, exchange.community_id)


def _changed(
    exchange: Exchange, event: str, party: Member, actor: Member | None, body: str = "", **details
) -> Exchange:
    """Write the step into the thread, the audit log (if a coordinator helped) and tell the others."""
    db.session.flush()
    _event(exchange, event, author=party, actor=actor, body=body, **details)
    _audit_if_helped(f"exchange.{event}", exchange, actor, party, **details)
    _tell_others(exchange, event, party, **details)
    return exchange


def _completed(exchange: Exchange, party: Member | None, actor: Member | None) -> None:
    """Settled: into the thread, and every participant but the one who settled it is told
    whether hours came in or went out. `party` None: the time bank settled it by itself."""
    _event(exchange, "completed", author=party, actor=actor, minutes=exchange.minutes)
    if party is not None:
        _audit_if_helped("exchange.completed", exchange, actor, party, minutes=exchange.minutes)
    for participant in exchange.participants:
        took_part = participant.answer == "confirmed" or not exchange.is_group
        if took_part and (party is None or participant.member_id != party.id):
            notify(
                participant.member,
                "completed",
                actor=party,
                exchange=exchange,
                minutes=exchange.minutes,
                direction="in" if participant.role == "provider" else "out",
            )


def _settle(
    exchange: Exchange,
    minutes: int,
    *,
    actor: Member | None,
    on_behalf_of: Member | None,
    override_reason: str | None = None,
) -> None:
    """Receiver → provider (and the community's levy), in this database transaction."""
    receiver, provider = exchange.receiver, exchange.provider
    paying, paid = ledger.accounts_for(receiver, provider)
    if receiver.community_id != provider.community_id:
        # Across a link: both communities' sides at once, the link's cap held like any limit.
        transaction, _provider_side = ledger.transfer_across(
            paying,
            paid,
            minutes,
            actor=actor,
            memo=exchange.title,
            on_behalf_of=on_behalf_of,
            idempotency_key=settle_key(exchange),
        )
    else:
        transaction = ledger.transfer(
            paying,
            paid,
            minutes,
            kind="exchange",
            actor=actor,
            memo=exchange.title,
            on_behalf_of=on_behalf_of,
            idempotency_key=settle_key(exchange),
            override_reason=override_reason,
        )
    _mark_settled(exchange, transaction.id, minutes)
    _warn_if_low(receiver, exchange)


def _mark_settled(exchange: Exchange, transaction_id: int, minutes: int) -> None:
    exchange.state, exchange.transaction_id, exchange.minutes = "completed", transaction_id, minutes
    exchange.completed_at, exchange.auto_confirm_at = utcnow(), None
    db.session.flush()
    record_exchange(transaction_id)


def _warn_if_low(member: Member, exchange: Exchange) -> None:
    position = ledger.summary(ledger.account_for(member))
    if position.is_low:
        notify(member, "limit", exchange=exchange, reason="low", balance=position.balance)
