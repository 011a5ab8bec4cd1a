"""What an exchange page says for each state and reader: what has happened, and what happens
next, and who does it (ux.md: predictability beats features)."""

from dataclasses import dataclass

from flask_babel import gettext as _

from timebank.exchanges.models import Exchange
from timebank.i18n import format_day as day
from timebank.i18n import format_minutes
from timebank.members.models import Member


@dataclass(frozen=True)
class Status:
    happened: str
    next: str
    needs_you: bool = False


def status(exchange: Exchange, me: Member | None) -> Status:
    """The two sentences for `me` (a participant), or for a coordinator looking on (None)."""
    if exchange.is_group:
        return _group(exchange, me)
    provider, receiver = exchange.provider, exchange.receiver
    mine = exchange.participant(me) if me is not None else None
    other = (receiver if mine.role == "provider" else provider) if mine else None
    values = dict(
        name=other.name if other else "",
        provider=provider.name,
        receiver=receiver.name,
        time=format_minutes(exchange.minutes),
        recorded=format_minutes(exchange.recorded_minutes),
        date=day(exchange.auto_confirm_at) if exchange.auto_confirm_at else "",
        answer_by=day(exchange.answer_by) if exchange.answer_by else "",
    )
    state = exchange.state
    if state == "completed":
        values["when"] = day(exchange.completed_at)
        return Status(
            _("Done: %(time)s went from %(receiver)s to %(provider)s on %(when)s.", **values),
            _("You can thank %(name)s with a short note. It shows on their profile.", **values)
            if mine
            else _("Nothing more to do."),
        )
    if state in ("declined", "cancelled"):
        happened = (
            _("%(name)s declined.", **values)
            if state == "declined" and mine and me.id == exchange.proposer_id
            else _("This exchange was declined.")
            if state == "declined"
            else _("Nobody answered in time, so the proposal ended.")
            if exchange.ended_unanswered
            else _("This exchange was cancelled.")
        )
        return Status(happened, _("No hours moved. Nothing more to do."))
    if state == "disputed":
        return Status(
            _("A coordinator was asked to decide about this exchange."),
            _(
                "A coordinator looks at it and decides: the hours move, or the exchange is cancelled. "
                "You both get a message. Until then no hours move."
            )
            if mine
            else _("Please decide: settle it with the time you think is right, or cancel it."),
            needs_you=mine is None,
        )
    if mine is None:
        return _looking_on(exchange, values)
    if state == "proposed":
        if me.id == exchange.proposer_id:
            return Status(
                _("You proposed %(time)s to %(name)s.", **values),
                _(
                    "%(name)s has until %(answer_by)s to accept or decline. You get a message when they "
                    "answer, or when nobody did.",
                    **values,
                )
                if exchange.answer_by
                else _("%(name)s accepts or declines. You get a message when they answer.", **values),
            )
        return Status(
            _("%(name)s proposes %(time)s.", **values),
            _(
                "Please accept or decline by %(answer_by)s. %(name)s waits for your answer; after that day "
                "the proposal ends.",
                **values,
            )
            if exchange.answer_by
            else _("Please accept or decline. %(name)s waits for your answer.", **values),
            needs_you=True,
        )
    # accepted
    if exchange.recorded_minutes is None:
        if mine.role == "provider":
            return Status(
                _("You and %(name)s agreed on %(time)s.", **values),
                _(
                    "Help %(name)s as agreed. Afterwards, record how long it took: %(name)s then confirms, "
                    "and you receive the hours.",
                    **values,
                ),
                needs_you=True,
            )
        return Status(
            _("You and %(name)s agreed on %(time)s.", **values),
            _(
                "When %(name)s has helped you, confirm the time here. Then the hours go from your balance to %(name)s.",
                **values,
            ),
            needs_you=True,
        )
    if exchange.offered_minutes is not None:
        values["offered"] = format_minutes(exchange.offered_minutes)
        if mine.role == "provider":
            return Status(
                _("%(name)s confirmed %(offered)s instead of the %(recorded)s you recorded.", **values),
                _(
                    "If you agree, press Agree: %(offered)s move now. If not, ask a coordinator to decide. "
                    "If you do nothing, %(offered)s move by themselves on %(date)s.",
                    **values,
                ),
                needs_you=True,
            )
        return Status(
            _("You confirmed %(offered)s instead of the %(recorded)s %(name)s recorded.", **values),
            _(
                "%(name)s agrees or asks a coordinator to decide. If %(name)s does nothing, %(offered)s move "
                "by themselves on %(date)s.",
                **values,
            ),
        )
    if exchange.kind == "slip":
        if mine.role == "provider":
            return Status(
                _("A coordinator recorded a paper slip: you helped %(name)s for %(recorded)s.", **values),
                _("%(name)s confirms it. Then you receive the hours.", **values),
            )
        return Status(
            _("A coordinator recorded a paper slip: %(name)s helped you for %(recorded)s.", **values),
            _(
                "Please confirm it if it is right; the hours move only when you do. If it is not right, ask "
                "a coordinator."
            ),
            needs_you=True,
        )
    if exchange.auto_confirm_at is None and exchange.recorded_minutes > exchange.minutes:
        later = _(
            "Because more time was recorded than agreed (%(time)s), the hours move only when %(receiver)s confirms.",
            **values,
        )
    elif exchange.auto_confirm_at is None:
        later = _("It could not settle by itself, because a balance limit was in the way. A coordinator can help.")
    elif mine.role == "provider":
        later = _("If %(name)s does nothing, the hours move by themselves on %(date)s.", **values)
    else:
        later = _("If you do nothing, the hours move by themselves on %(date)s.", **values)
    if mine.role == "provider":
        return Status(
            _("You recorded %(recorded)s.", **values), _("%(name)s confirms the time.", **values) + " " + later
        )
    return Status(
        _("%(name)s recorded %(recorded)s.", **values),
        _("Please confirm, or change the time if it is not right.") + " " + later,
        needs_you=True,
    )


def _looking_on(exchange: Exchange, values: dict) -> Status:
    """A coordinator looking on an exchange under way is told which member it waits for."""
    happened = _("%(provider)s helps %(receiver)s: %(time)s.", **values)
    if exchange.state == "proposed":
        answering = exchange.receiver if exchange.proposer_id == exchange.provider.id else exchange.provider
        if exchange.answer_by:
            return Status(
                happened,
                _("%(name)s accepts or declines by %(answer_by)s.", name=answering.name, answer_by=values["answer_by"]),
            )
        return Status(happened, _("%(name)s accepts or declines.", name=answering.name))
    if exchange.recorded_minutes is None:
        return Status(
            happened, _("%(provider)s records how long it took, or %(receiver)s confirms the time.", **values)
        )
    values = dict(values, name=values["receiver"])
    if exchange.offered_minutes is not None:
        return Status(
            happened,
            _(
                "%(receiver)s confirmed %(offered)s instead of %(recorded)s; %(provider)s agrees "
                "or asks a coordinator.",
                offered=format_minutes(exchange.offered_minutes),
                **values,
            ),
        )
    later = (
        _("If %(name)s does nothing, the hours move by themselves on %(date)s.", **values)
        if exchange.auto_confirm_at
        else _("The hours move only when %(name)s confirms.", **values)
        if exchange.kind == "slip" or exchange.recorded_minutes > exchange.minutes
        else _("It could not settle by itself, because a balance limit was in the way. A coordinator can help.")
    )
    return Status(happened, _("%(name)s confirms the time.", **values) + " " + later)


def _group(exchange: Exchange, me: Member | None) -> Status:
    others = exchange.others()
    confirmed = sum(p.answer == "confirmed" for p in others)
    values = dict(
        organiser=exchange.proposer.name,
        time=format_minutes(exchange.minutes),
        confirmed=confirmed,
        total=len(others),
        date=day(exchange.auto_confirm_at) if exchange.auto_confirm_at else "",
    )
    if exchange.state == "completed":
        values["when"] = day(exchange.completed_at)
        return Status(
            _("Done on %(when)s: %(confirmed)d of %(total)d took part, %(time)s each.", **values),
            _("You can thank the others with a short note.") if me else _("Nothing more to do."),
        )
    if exchange.state == "cancelled":
        return Status(_("This group exchange was cancelled."), _("No hours moved. Nothing more to do."))
    happened = _("%(confirmed)d of %(total)d confirmed their part.", **values)
    when = (
        _("It settles when everyone has answered, or by itself on %(date)s with those who did not answer.", **values)
        if exchange.auto_confirm_at
        else _("It could not settle, because a balance limit was in the way. A coordinator can help.")
    )
    mine = exchange.participant(me) if me is not None else None
    if mine is None:
        return Status(happened, when)
    if me.id == exchange.proposer_id:
        return Status(happened, when + " " + _("You can also settle it now with those who confirmed."))
    if mine.answer is None:
        return Status(
            _("%(organiser)s added you: %(time)s.", **values),
            _("Please confirm your part, or decline it if you do not take part."),
            needs_you=True,
        )
    answered = _("You confirmed your part.") if mine.answer == "confirmed" else _("You declined your part.")
    return Status(answered + " " + happened, when)


def event_text(message) -> str:
    """One step in an exchange's history, for its thread."""
    details = message.details or {}
    values = dict(
        name=message.author.name if message.author else _("The time bank"),
        time=format_minutes(details.get("minutes")),
        owner=details.get("owner", ""),
    )
    if message.event == "resolved":
        return (
            _("%(name)s (coordinator) decided: cancelled, no hours move.", **values)
            if details.get("outcome") == "cancelled"
            else _("%(name)s (coordinator) decided: settled with %(time)s.", **values)
        )
    if message.event == "completed" and message.author is None:
        return _("The time bank settled it by itself: %(time)s moved.", **values)
    texts = {
        "proposed": _("%(name)s proposed %(time)s."),
        "accepted": _("%(name)s accepted."),
        "declined": _("%(name)s declined."),
        "cancelled": _("%(name)s cancelled."),
        "disputed": _("%(name)s asked a coordinator to decide."),
        "recorded": _("%(name)s recorded %(time)s."),
        "completed": _("%(name)s confirmed: %(time)s moved."),
        "help": _("%(name)s asked the coordinators for help."),
        "group_created": _("%(name)s organised this group exchange: %(time)s each."),
        "part_confirmed": _("%(name)s confirmed taking part."),
        "part_declined": _("%(name)s does not take part."),
        "nobody": _("Nobody took part, so it is cancelled."),
        "expired": _("Nobody answered in time, so the proposal ended."),
        "limit": _("It could not settle: %(owner)s reached the limit of their balance."),
        "slip": _("%(name)s (coordinator) recorded this from a paper slip: %(time)s."),
        "offered": _("%(name)s confirmed %(time)s, less than was recorded."),
    }
    return texts.get(message.event, message.event) % values
