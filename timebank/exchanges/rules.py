"""The rules every exchange step checks: limits on text and time, the lock taken before a change,
who may act, and the words for each state."""

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.communities.models import Community
from timebank.db import take_write_lock, utcnow
from timebank.exchanges.errors import (
    AlreadyDone,
    ExchangeError,
    IllegalTransition,
    NotAllowed,
    NotAParty,
)
from timebank.exchanges.models import Exchange, Participant
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.members.models import Member
from timebank.permissions import can_act_for

TITLE_MAX = 100
MESSAGE_MAX = 2000
REASON_MAX = 500
THANKS_MAX = 500
GROUP_MAX = 30
DATE_RANGE = timedelta(days=366)
AUTO_CONFIRM_DAYS_RANGE = (1, 60)
# A proposal is answered within this, or it ends: nobody is left waiting without knowing (ux.md).
ANSWER_WITHIN = timedelta(days=7)
MAX_MINUTES_RANGE = (60, 24 * 60)
SILENCE_MARGIN_RANGE = (0, 100)
STATE_WORDS = {
    "proposed": _l("waiting for an answer"),
    "accepted": _l("accepted"),
    "completed": _l("completed"),
    "declined": _l("declined"),
    "cancelled": _l("cancelled"),
    "disputed": _l("with a coordinator"),
}


# What these actions mean to the member they touched (listed in timebank/registry.py).
AUDIT_LABELS = {
    "exchange.proposed": _l("proposed an exchange"),
    "exchange.accepted": _l("accepted an exchange"),
    "exchange.declined": _l("declined an exchange"),
    "exchange.cancelled": _l("cancelled an exchange"),
    "exchange.disputed": _l("asked a coordinator to decide about an exchange"),
    "exchange.recorded": _l("recorded how long an exchange took"),
    "exchange.completed": _l("confirmed an exchange, so the hours moved"),
    "exchange.help": _l("asked a coordinator for help with an exchange"),
    "exchange.resolved": _l("decided about a disputed exchange"),
    "exchange.group_created": _l("organised a group exchange"),
    "exchange.part_confirmed": _l("confirmed taking part in a group exchange"),
    "exchange.part_declined": _l("declined taking part in a group exchange"),
    "exchange.thanked": _l("wrote a thank-you note"),
    "exchange.slip": _l("recorded an exchange from a paper slip"),
    "exchange.settings_changed": _l("changed the exchange settings"),
    "hours.given": _l("gave hours"),
    "hours.granted": _l("gave hours from the community fund"),
}


def settle_key(exchange: Exchange) -> str:
    return f"exchange:{exchange.id}:settle"


def _lock(exchange: Exchange) -> Exchange:
    """Lock the exchange and read it (and its participants) again: whatever a concurrent request
    changed first is seen before anything is decided."""
    take_write_lock(db.session)
    db.session.refresh(exchange, with_for_update=True)
    db.session.execute(
        sa.select(Participant).where(Participant.exchange_id == exchange.id).execution_options(populate_existing=True)
    ).all()
    return exchange


def _party(exchange: Exchange, actor: Member | None, on_behalf_of: Member | None) -> Participant:
    """The participant this act is for: the actor, or the member a coordinator acts for."""
    member = on_behalf_of or actor
    if member is None or (on_behalf_of is not None and not can_act_for(actor, on_behalf_of)):
        raise NotAParty()
    participant = exchange.participant(member)
    if participant is None:
        raise NotAParty()
    if on_behalf_of is not None and actor.id != on_behalf_of.id and exchange.participant(actor) is not None:
        raise NotAllowed(
            _l(
                "You take part in this exchange yourself, so another coordinator helps %(name)s with it.",
                name=on_behalf_of.name,
            )
        )
    return participant


def _require_state(exchange: Exchange, allowed: tuple[str, ...], done: str | None = None) -> None:
    """Refuse unless the exchange is in one of the `allowed` states; a step already taken (the
    state it leads to is `done`) is said as such."""
    if exchange.state in allowed:
        return
    if done is not None and exchange.state == done:
        raise AlreadyDone()
    raise IllegalTransition(
        _l("This cannot be done now: the exchange is %(state)s.", state=STATE_WORDS[exchange.state])
    )


def _require_single(exchange: Exchange) -> None:
    if exchange.is_group:
        raise IllegalTransition(_l("This cannot be done in a group exchange."))


def _check_actor(actor: Member | None, member: Member) -> None:
    if not can_act_for(actor, member):
        raise NotAParty(_l("You cannot do this in the name of %(name)s.", name=member.name))


def check_minutes(minutes, community: Community, field: str = "minutes") -> int:
    """A whole number of minutes above zero and not above the community's maximum per exchange."""
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise ExchangeError(_l("Please fill in how long it takes: more than 0 minutes."), field)
    if minutes > community.exchange_max_minutes:
        raise ExchangeError(
            _l(
                "One exchange can be at most %(max)s in this neighbourhood. For more, make several exchanges.",
                max=format_minutes(community.exchange_max_minutes),
            ),
            field,
        )
    return minutes


def _check_date(day: date | None) -> date | None:
    if day is not None and abs(day - utcnow().date()) > DATE_RANGE:
        raise ExchangeError(_l("Please choose a day within a year from today."), "date")
    return day


def _check_member(member: Member, community_id: int) -> None:
    if member.community_id != community_id:
        raise NotAllowed(
            _l("%(name)s is in another neighbourhood. Exchanges stay within one neighbourhood.", name=member.name)
        )
    if member.status != "active":
        raise ExchangeError(_l("%(name)s is not an active member now.", name=member.name))
