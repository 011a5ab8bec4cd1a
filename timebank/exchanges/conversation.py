"""The conversation of an exchange and the thank-you notes afterwards."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.exchanges.errors import (
    AlreadyDone,
    ExchangeError,
    NotAParty,
)
from timebank.exchanges.events import _audit_if_helped, _tell_others
from timebank.exchanges.models import Exchange, Message, ThankYou
from timebank.exchanges.rules import MESSAGE_MAX, THANKS_MAX, _check_actor, _require_state
from timebank.extensions import db
from timebank.members.models import Member
from timebank.moderation.blocks import refuse_if_blocked
from timebank.moderation.models import hidden
from timebank.notifications.services import notify
from timebank.permissions import can_read_thread
from timebank.text import clean_text


def post_message(exchange: Exchange, author: Member, text: str, *, actor: Member | None = None) -> Message:
    """Write in the exchange's conversation; the other participants are told."""
    actor = actor or author
    _check_actor(actor, author)
    if not can_read_thread(author, exchange):
        raise NotAParty()
    refuse_if_blocked(author, [p.member for p in exchange.participants])
    text = clean_text(text, MESSAGE_MAX, "text", required=True, refusal=ExchangeError)
    message = Message(exchange_id=exchange.id, author_id=author.id, actor_id=actor.id, body=text)
    db.session.add(message)
    db.session.flush()
    _tell_others(exchange, "message", author)
    return message


def thread(exchange: Exchange) -> list[Message]:
    """What was written and what happened, oldest first; without messages a coordinator hid."""
    return list(
        db.session.scalars(
            sa.select(Message)
            .where(Message.exchange_id == exchange.id, ~hidden("message", Message.id))
            .order_by(Message.id)
        )
    )


def thank(
    exchange: Exchange, author: Member, text: str, *, actor: Member | None = None, to: Member | None = None
) -> ThankYou:
    """A short note of thanks after a completed exchange, shown on the profile of the one thanked
    (the other side; in a group, the organiser, or whom the organiser chooses)."""
    actor = actor or author
    _check_actor(actor, author)
    candidates = _thank_candidates(exchange, author)
    if candidates is None:
        raise NotAParty()
    _require_state(exchange, ("completed",))
    if to is None and len(candidates) == 1:
        to = candidates[0]
    if to is None or to not in candidates:
        raise ExchangeError(_l("Please choose whom you thank."), "to")
    text = clean_text(text, THANKS_MAX, "text", required=True, refusal=ExchangeError)
    existing = db.session.scalar(
        sa.select(ThankYou).where(
            ThankYou.exchange_id == exchange.id, ThankYou.author_id == author.id, ThankYou.member_id == to.id
        )
    )
    if existing is not None:
        if existing.text != text:
            raise AlreadyDone()
        return existing
    note = ThankYou(exchange_id=exchange.id, author_id=author.id, member_id=to.id, text=text)
    db.session.add(note)
    db.session.flush()
    _audit_if_helped("exchange.thanked", exchange, actor, author)
    notify(to, "thanked", actor=author, exchange=exchange)
    return note


def _thank_candidates(exchange: Exchange, author: Member) -> list[Member] | None:
    """The other side of the exchange among those who took part; None if `author` did not."""
    took_part = [p for p in exchange.participants if not exchange.is_group or p.answer == "confirmed"]
    mine = next((p for p in took_part if p.member_id == author.id), None)
    return None if mine is None else [p.member for p in took_part if p.role != mine.role]


def thankable(exchange: Exchange, author: Member | None) -> list[Member]:
    """Whom `author` may still thank: the other side of a completed exchange, not thanked yet."""
    if author is None or exchange.state != "completed":
        return []
    done = set(
        db.session.scalars(
            sa.select(ThankYou.member_id).where(ThankYou.exchange_id == exchange.id, ThankYou.author_id == author.id)
        )
    )
    return [m for m in _thank_candidates(exchange, author) or [] if m.id not in done]


def thanks_for(member: Member, limit: int = 10) -> list[ThankYou]:
    return list(
        db.session.scalars(
            sa.select(ThankYou)
            .options(sa.orm.joinedload(ThankYou.exchange))  # the profile names each note's exchange
            .where(ThankYou.member_id == member.id, ~hidden("thanks", ThankYou.id))
            .order_by(ThankYou.id.desc())
            .limit(limit)
        )
    )
