"""What the time bank does by itself (`flask exchanges auto-confirm`): confirming after the agreed
silence, and ending proposals nobody answered."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.db import utcnow
from timebank.exchanges.events import _event, _tell_others
from timebank.exchanges.group import _close_group
from timebank.exchanges.models import Exchange
from timebank.exchanges.rules import _lock
from timebank.exchanges.settlement import _community, _completed, _settle
from timebank.exchanges.single import silence_allows
from timebank.extensions import db
from timebank.i18n import in_installation_language
from timebank.ledger.errors import LimitExceeded


def due_for_auto_confirm(now=None) -> list[int]:
    """Exchanges whose days without objection are over: recorded one-to-one exchanges still
    accepted, and group exchanges still open."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Exchange.id)
            .where(
                Exchange.auto_confirm_at <= now,
                sa.or_(
                    sa.and_(Exchange.kind == "single", Exchange.state == "accepted", Exchange.recorded_at.is_not(None)),
                    sa.and_(Exchange.kind == "group", Exchange.state == "proposed"),
                ),
            )
            .order_by(Exchange.id)
        )
    )


def auto_confirm(exchange: Exchange, now=None) -> str:
    """Settle one exchange whose time is up: 'settled', 'refused' (a balance limit; both sides
    are told and it waits for them), or 'skipped' (someone acted first)."""
    now = now or utcnow()
    _lock(exchange)
    if exchange.auto_confirm_at is None or exchange.auto_confirm_at > now:
        return "skipped"
    if exchange.is_group:
        if exchange.state != "proposed":
            return "skipped"
        return _close_group(exchange, actor=None, include_silent=True)
    if exchange.state != "accepted" or exchange.recorded_minutes is None:
        return "skipped"
    minutes = exchange.offered_minutes
    if (
        minutes is None
        and exchange.kind == "single"
        and exchange.recorded_minutes <= silence_allows(exchange.minutes, _community(exchange))
    ):
        minutes = exchange.recorded_minutes
    if minutes is None:  # more than agreed, or a paper slip: only the receiver can say yes
        exchange.auto_confirm_at = None
        return "skipped"
    try:
        _settle(exchange, minutes, actor=None, on_behalf_of=None)
    except LimitExceeded as refusal:
        exchange.auto_confirm_at = None
        _event(exchange, "limit", author=None, actor=None, owner=refusal.owner, room=refusal.room)
        _tell_others(exchange, "limit", None, reason="refused", owner=refusal.owner)
        db.session.flush()
        return "refused"
    _completed(exchange, None, None)
    return "settled"


def due_for_expiry(now=None) -> list[int]:
    """Proposals nobody answered in time."""
    return list(
        db.session.scalars(
            sa.select(Exchange.id)
            .where(Exchange.state == "proposed", Exchange.kind == "single", Exchange.answer_by <= (now or utcnow()))
            .order_by(Exchange.id)
        )
    )


def expire(exchange: Exchange, now=None) -> bool:
    """End one unanswered proposal and tell both members; False if someone answered first."""
    _lock(exchange)
    if exchange.state != "proposed" or exchange.answer_by is None or exchange.answer_by > (now or utcnow()):
        return False
    exchange.reason = in_installation_language(_l("Nobody answered in time."))
    exchange.state = "cancelled"
    db.session.flush()
    _event(exchange, "expired", author=None, actor=None)
    _tell_others(exchange, "expired", None)
    return True
