"""Paper slips: a coordinator records an exchange for members without a phone."""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.db import take_write_lock, utcnow
from timebank.exchanges.errors import ExchangeError, NotAllowed
from timebank.exchanges.events import _event
from timebank.exchanges.models import Exchange, Participant
from timebank.exchanges.room import check_slip_room
from timebank.exchanges.rules import MESSAGE_MAX, TITLE_MAX, _check_date, _check_member, check_minutes
from timebank.exchanges.settlement import _settle
from timebank.extensions import db
from timebank.members.models import Member
from timebank.notifications.services import notify
from timebank.permissions import can_coordinate
from timebank.text import clean_text


def record_paper_slip(
    provider: Member,
    receiver: Member,
    minutes: int,
    *,
    actor: Member,
    title: str,
    date: date | None = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> Exchange:
    """A coordinator records an exchange that happened on paper. For a receiver who cannot use the
    app (an assisted member) the coordinator confirms in their name: it settles at once. Anyone
    else confirms it themselves: nothing moves until they do, and silence never settles it. Both
    are told; it is audit-logged. The form's key records it once, however often it is sent."""
    take_write_lock(db.session)
    if not can_coordinate(actor, provider.community_id):
        raise NotAllowed(_l("Only a coordinator of this neighbourhood can record a paper slip."))
    key = f"slip:{actor.id}:{idempotency_key}" if idempotency_key else None
    if key is not None and (earlier := db.session.scalar(sa.select(Exchange).where(Exchange.request_key == key))):
        return earlier
    for member in (provider, receiver):
        _check_member(member, actor.community_id)
    if provider.id == receiver.id:
        raise ExchangeError(_l("Please choose two different members."), "receiver")
    title = clean_text(title, TITLE_MAX, "title", required=True, refusal=ExchangeError)
    note = clean_text(note, MESSAGE_MAX, "note", refusal=ExchangeError)
    minutes = check_minutes(minutes, actor.community)
    check_slip_room(provider, receiver, minutes, actor)
    now = utcnow()
    exchange = Exchange(
        community_id=actor.community_id,
        kind="slip",
        title=title,
        minutes=minutes,
        planned_on=_check_date(date),
        proposer_id=actor.id,
        state="accepted",
        request_key=key,
        recorded_minutes=minutes,
        recorded_at=now,
        participants=[
            Participant(member_id=provider.id, role="provider"),
            Participant(member_id=receiver.id, role="receiver"),
        ],
    )
    db.session.add(exchange)
    db.session.flush()
    if receiver.assisted:
        _settle(exchange, minutes, actor=actor, on_behalf_of=receiver)
    _event(exchange, "slip", author=actor, actor=actor, body=note, minutes=minutes, waits=exchange.state != "completed")
    for member in (provider, receiver):
        record(
            "exchange.slip",
            actor=actor,
            on_behalf_of=member,
            community_id=exchange.community_id,
            subject=exchange,
            minutes=minutes,
            title=title,
        )
        notify(
            member,
            "slip" if receiver.assisted or member is provider else "slip_confirm",
            actor=actor,
            exchange=exchange,
            minutes=minutes,
        )
    return exchange
