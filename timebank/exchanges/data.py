"""An exchange's part of a member's data: the export (GDPR art. 15 and 20) and what erasure lets go
of."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.exchanges.group import _answer_part
from timebank.exchanges.models import OPEN_STATES, Message, ThankYou
from timebank.exchanges.reading import exchanges_of
from timebank.exchanges.rules import _lock
from timebank.exchanges.settlement import _changed
from timebank.extensions import db
from timebank.i18n import in_installation_language
from timebank.members.models import Member


def export_member_exchanges(member: Member) -> list[dict]:
    """The member's exchanges, the messages they wrote and the thank-you notes to and from them."""
    exchanges = exchanges_of(member)
    messages = db.session.scalars(
        sa.select(Message).where(Message.author_id == member.id, Message.event.is_(None)).order_by(Message.id)
    )
    notes = db.session.scalars(
        sa.select(ThankYou)
        .where(sa.or_(ThankYou.author_id == member.id, ThankYou.member_id == member.id))
        .order_by(ThankYou.id)
    )
    return [
        *(
            {
                "record": "exchange",
                "id": e.id,
                "kind": e.kind,
                "title": e.title,
                "state": e.state,
                "role": e.participant(member).role,
                "minutes": e.minutes,
                "created_at": e.created_at,
                "completed_at": e.completed_at,
                "transaction_id": e.transaction_id,
            }
            for e in reversed(exchanges)
        ),
        *(
            {"record": "message", "id": m.id, "exchange_id": m.exchange_id, "created_at": m.created_at, "text": m.body}
            for m in messages
        ),
        *(
            {
                "record": "thank_you",
                "id": t.id,
                "exchange_id": t.exchange_id,
                "created_at": t.created_at,
                "from": t.author.name,
                "to": t.member.name,
                "text": t.text,
            }
            for t in notes
        ),
    ]


def let_go_of_exchanges(member: Member, actor: Member) -> None:
    """An erased member's open exchanges are called off (a group they were asked to join goes on
    without them), and the others are told."""
    reason = in_installation_language(_l("This member left the time bank."))
    for exchange in exchanges_of(member, states=OPEN_STATES):
        _lock(exchange)
        party = exchange.participant(member)
        if exchange.state not in OPEN_STATES:
            continue
        if exchange.is_group and member.id != exchange.proposer_id:
            if party.answer is None:
                _answer_part(exchange, party, "declined", actor, reason)
            continue
        exchange.state, exchange.reason, exchange.auto_confirm_at, exchange.answer_by = "cancelled", reason, None, None
        _changed(exchange, "cancelled", member, actor, body=reason)
