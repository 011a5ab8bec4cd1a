"""How many minutes an exchange can still move between two members, said before anyone does the
work: at proposing and at accepting, not only when the hours fail to move at confirmation."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.db import utcnow
from timebank.exchanges.errors import AlreadyDone, ExchangeError
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.ledger.position import position_of
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.members.services import coordinators_of
from timebank.notifications.models import Notification
from timebank.notifications.services import notify


@dataclass(frozen=True)
class Room:
    """Minutes left above the payer's floor and below the provider's ceiling (None: no limit)."""

    payer: Member
    provider: Member
    payer_can_pay: int | None
    provider_can_receive: int | None
    levy_percent: int

    @property
    def fits(self) -> int | None:
        """The most minutes an exchange between them can move now."""
        most = most_paid_for(self.provider_can_receive, self.levy_percent)
        return _least(self.payer_can_pay, most)

    def tight_side(self) -> Member:
        """Whose limit decides how much fits."""
        if self.payer_can_pay is not None and self.fits == self.payer_can_pay:
            return self.payer
        return self.provider


def most_paid_for(can_receive: int | None, levy_percent: int) -> int | None:
    """The most minutes a provider can be paid for: they receive them less the fund's share, so
    their ceiling allows a little more than its room (None: no ceiling)."""
    if can_receive is None or levy_percent >= 100:
        return None
    most = can_receive * 100 // (100 - levy_percent) + 1
    while most - most * levy_percent // 100 > can_receive:
        most -= 1
    return most


def _least(*limits: int | None) -> int | None:
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


def room_between(payer: Member, provider: Member) -> Room:
    return Room(
        payer, provider, position_of(payer).can_pay, position_of(provider).can_earn, payer.community.ledger_levy_percent
    )


def side_words(member: Member, fits: int, reader: Member, *, paying: bool):
    """One side's room, to the reader: about their own balance, or another's without its figures."""
    time = format_minutes(fits)
    if member.id != reader.id:
        return _l("The balance of %(name)s allows at most %(fits)s now.", name=member.name, fits=time)
    if paying:
        return _l("Your balance may not go lower: you can pay for at most %(fits)s of help now.", fits=time)
    return _l("Your balance may not go higher: you can be paid for at most %(fits)s of help now.", fits=time)


class NoRoom(ExchangeError):
    """More minutes than the balances allow now; the message is addressed to `reader`. `fits` is
    the most that would fit (each, in a group), also in the API's error so a client can offer it."""

    code = "limit_exceeded"
    status = 409

    def __init__(self, why: list, then, fits: int):
        self.fits = fits
        super().__init__(" ".join(str(part) for part in [*why, then]), "minutes", fits=fits)


def check_room(payer: Member, provider: Member, minutes: int, reader: Member, *, proposing: bool) -> Room:
    """Refuse (NoRoom, nothing changed) when the minutes would not fit between the two balances."""
    room = room_between(payer, provider)
    if room.fits is None or minutes <= room.fits:
        return room
    fits, side = room.fits, room.tight_side()
    why = side_words(side, fits, reader, paying=side.id == room.payer.id)
    if not fits:
        then = _l("Ask a coordinator: they can help with hours from the community fund or a decision.")
    elif proposing:
        then = _l("Propose %(fits)s or less, or ask a coordinator for help first.", fits=format_minutes(fits))
    else:
        then = _l(
            "Decline and ask for a proposal of at most %(fits)s, or ask a coordinator for help.",
            fits=format_minutes(fits),
        )
    raise NoRoom([why], then, fits)


def check_slip_room(provider: Member, receiver: Member, minutes: int, reader: Member) -> None:
    """A paper slip must fit too: refused at recording, not when the receiver confirms weeks later."""
    room = room_between(receiver, provider)
    if room.fits is None or minutes <= room.fits:
        return
    side = room.tight_side()
    why = side_words(side, room.fits, reader, paying=side.id == receiver.id)
    then = (
        _l("Record %(fits)s or less, or give hours from the community fund first.", fits=format_minutes(room.fits))
        if room.fits
        else _l("Give hours from the community fund first, or talk it over with both neighbours.")
    )
    raise NoRoom([why], then, room.fits)


def check_group_room(organiser: Member, role: str, minutes: int, others: list[Member], reader: Member) -> None:
    """Each side of a group exchange must have room: a lesson's pupils pay `minutes` each and the
    teacher receives it from all of them (less the fund's share); a helping hand's organiser pays
    every helper. Names every side that has too little, and how much each could be."""
    levy = organiser.community.ledger_levy_percent
    own = position_of(organiser)
    count = len(others)
    short, each = [], []
    for member in others:
        position = position_of(member)
        most = position.can_pay if role == "provider" else most_paid_for(position.can_earn, levy)
        each.append(most)
        if most is not None and minutes > most:
            short.append(side_words(member, most, reader, paying=role == "provider"))
    if role == "provider":
        own_room = own.can_earn
        own_each = most_paid_for(own_room // count, levy) if own_room is not None else None
        needed = (minutes - minutes * levy // 100) * count
    else:
        own_room = own.can_pay
        own_each = own_room // count if own_room is not None else None
        needed = minutes * count
    each.append(own_each)
    if own_room is not None and needed > own_room:
        shown = own_room if role == "receiver" else most_paid_for(own_room, levy)
        short.insert(0, side_words(organiser, shown, reader, paying=role == "receiver"))
    if not short:
        return
    fits = _least(*each)
    then = (
        _l(
            "Choose at most %(fits)s for each person, or leave out whom it does not fit, or ask a coordinator "
            "for help first.",
            fits=format_minutes(fits),
        )
        if fits
        else _l("Ask a coordinator: they can help with hours from the community fund or a decision.")
    )
    raise NoRoom(short, then, fits)


# One request for help per member and post in this time: a second click tells nobody twice.
ASK_AGAIN_AFTER = timedelta(days=1)


def ask_coordinators(post: Post, member: Member, minutes: int, *, actor: Member) -> list[Notification]:
    """A member who wants more minutes than fit between the two balances asks their coordinators
    (before proposing: there is no exchange yet). Each coordinator gets a notification that says
    how much was wanted and how much fits, and leads to the member's page (balance, limits, a
    grant from the fund). Refused when it fits anyway, and told once a day per post."""
    if post.owner_id == member.id or post.is_gift:
        raise ExchangeError(_l("There is nothing to ask: this post costs you no hours."))
    payer, provider = (member, post.owner) if post.kind == "offer" else (post.owner, member)
    room = room_between(payer, provider)
    if room.fits is None or minutes <= room.fits:
        raise ExchangeError(_l("This fits between both balances now: you can propose it."), "minutes")
    since = utcnow() - ASK_AGAIN_AFTER
    asked = db.session.scalars(
        sa.select(Notification.details).where(
            Notification.kind == "room_help", Notification.actor_id == member.id, Notification.created_at >= since
        )
    )
    if any((details or {}).get("post_id") == post.id for details in asked):
        raise AlreadyDone()
    coordinators = [c for c in coordinators_of(member.community_id) if c.id != member.id]
    if not coordinators:
        raise ExchangeError(_l("Your neighbourhood has no other coordinator to ask yet."))
    details = dict(title=post.title, minutes=minutes, fits=room.fits, post_id=post.id, helped_by=actor.id)
    return [notify(coordinator, "room_help", actor=member, **details) for coordinator in coordinators]
