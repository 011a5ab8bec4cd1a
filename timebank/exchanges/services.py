"""The life of an exchange: propose, accept or decline, record the minutes, confirm, dispute and
resolve, cancel; group exchanges; paper slips; the conversation and thank-you notes.

Every state change locks the exchange row first (PostgreSQL: SELECT … FOR UPDATE; SQLite: the
write lock) and checks the state again under that lock, so of two requests at once only one can
move it. Settling posts the ledger transaction in the same database transaction as the state
change, with the key "exchange:<id>:settle": even a confirm that slipped past the lock could
not post twice. Services flush, never commit; they raise ExchangeError (or the ledger's
LimitExceeded when a balance limit refuses the settlement, in which case nothing changed).

Who may act: the participant themself, or a coordinator acting for them (`actor` is who did it,
`on_behalf_of` the participant); such acts are audit-logged. `actor=None` is the time bank itself
(the auto-confirm command)."""
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.audit.services import ACTION_LABELS, record
from timebank.communities.models import Community
from timebank.db import take_write_lock, utcnow
from timebank.exchanges.errors import (AlreadyDone, ExchangeError, IllegalTransition, NotAllowed, NotAParty,
                                       PostUnavailable)
from timebank.exchanges.models import OPEN_STATES, ROLES, Exchange, Message, Participant, ThankYou
from timebank.extensions import db
from timebank.i18n import format_minutes, in_installation_language
from timebank.ledger import services as ledger
from timebank.ledger.errors import LimitExceeded
from timebank.stats.rollup import record_exchange
from timebank.market.models import Post
from timebank.members.export import register_exporter
from timebank.members.models import Member
from timebank.members.services import coordinators_of, register_eraser
from timebank.moderation.blocks import refuse_if_blocked
from timebank.moderation.models import hidden
from timebank.notifications.services import notify
from timebank.permissions import can_act_for, can_coordinate

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
    "proposed": _l("waiting for an answer"), "accepted": _l("accepted"), "completed": _l("completed"),
    "declined": _l("declined"), "cancelled": _l("cancelled"), "disputed": _l("with a coordinator"),
}

ACTION_LABELS.update({
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
})


def settle_key(exchange: Exchange) -> str:
    return f"exchange:{exchange.id}:settle"


# Checks --------------------------------------------------------------------------------------------

def _lock(exchange: Exchange) -> Exchange:
    """Lock the exchange and read it (and its participants) again: whatever a concurrent request
    changed first is seen before anything is decided."""
    take_write_lock(db.session)
    db.session.refresh(exchange, with_for_update=True)
    db.session.execute(sa.select(Participant).where(Participant.exchange_id == exchange.id)
                       .execution_options(populate_existing=True)).all()
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
        raise NotAllowed(_l("You take part in this exchange yourself, so another coordinator helps %(name)s "
                            "with it.", name=on_behalf_of.name))
    return participant


def _require_state(exchange: Exchange, allowed: tuple[str, ...], done: str | None = None) -> None:
    """Refuse unless the exchange is in one of the `allowed` states; a step already taken (the
    state it leads to is `done`) is said as such."""
    if exchange.state in allowed:
        return
    if done is not None and exchange.state == done:
        raise AlreadyDone()
    raise IllegalTransition(_l("This cannot be done now: the exchange is %(state)s.",
                               state=STATE_WORDS[exchange.state]))


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
        raise ExchangeError(_l("One exchange can be at most %(max)s in this neighbourhood. For more, make "
                               "several exchanges.", max=format_minutes(community.exchange_max_minutes)), field)
    return minutes


def clean_text(text: str | None, limit: int, field: str, *, required: bool = False) -> str:
    text = (text or "").strip().replace("\r\n", "\n")
    if required and not text:
        raise ExchangeError(_l("Please write a few words."), field)
    if len(text) > limit:
        raise ExchangeError(_l("Please keep this under %(max)d characters; it has %(num)d.", max=limit,
                               num=len(text)), field)
    return text


def _check_date(day: date | None) -> date | None:
    if day is not None and abs(day - utcnow().date()) > DATE_RANGE:
        raise ExchangeError(_l("Please choose a day within a year from today."), "date")
    return day


def _check_member(member: Member, community_id: int) -> None:
    if member.community_id != community_id:
        raise NotAllowed(_l("%(name)s is in another neighbourhood. Exchanges stay within one neighbourhood.",
                            name=member.name))
    if member.status != "active":
        raise ExchangeError(_l("%(name)s is not an active member now.", name=member.name))


# What happened: the thread, the audit log, the notifications ---------------------------------------

def _event(exchange: Exchange, event: str, *, author: Member | None, actor: Member | None, body: str = "",
           **details) -> Message:
    message = Message(exchange_id=exchange.id, author_id=author.id if author else None,
                      actor_id=actor.id if actor else None, event=event, body=body, details=details)
    db.session.add(message)
    db.session.flush()
    return message


def _audit_if_helped(action: str, exchange: Exchange, actor: Member | None, party: Member, **details) -> None:
    """What a coordinator does for a member is logged and shown to them; what members do
    themselves is in the exchange's own history."""
    if actor is not None and actor.id != party.id:
        record(action, actor=actor, on_behalf_of=party, community_id=exchange.community_id, subject=exchange,
               **details)


def _tell_others(exchange: Exchange, kind: str, party: Member | None, **details) -> None:
    for participant in exchange.participants:
        if party is None or participant.member_id != party.id:
            notify(participant.member, kind, actor=party, exchange=exchange, **details)


def _tell_coordinators(exchange: Exchange, kind: str, party: Member) -> None:
    for coordinator in coordinators_of(exchange.community_id):
        if exchange.participant(coordinator) is None:
            notify(coordinator, kind, actor=party, exchange=exchange)


# One-to-one exchanges -------------------------------------------------------------------------------

def propose(post: Post, responder: Member, minutes: int, *, actor: Member, message: str = "",
            date: date | None = None) -> Exchange:
    """Respond to a post: to an offer as the one who receives, to a request as the one who
    provides. A second proposal by the same member on the same post returns the open one."""
    take_write_lock(db.session)
    _check_actor(actor, responder)
    db.session.refresh(post, with_for_update=True)
    if post.community_id != responder.community_id:
        raise NotAllowed(_l("This post is in another neighbourhood. Exchanges stay within one neighbourhood."))
    if post.owner_id == responder.id:
        raise ExchangeError(_l("This is your own post. Wait for a neighbour to respond to it."))
    if post.owner_id == actor.id:
        raise NotAllowed(_l("This is your own post, so another coordinator helps %(name)s respond to it.",
                            name=responder.name))
    _check_member(responder, post.community_id)
    if post.state != "active" or post.owner.status != "active":
        raise PostUnavailable(_l("This post is no longer in the market, so you cannot respond to it."))
    if post.is_gift:
        raise ExchangeError(_l("This is a free gift: it costs no hours. Get in touch with %(name)s instead.",
                               name=post.owner.name))
    refuse_if_blocked(responder, [post.owner])
    minutes = check_minutes(minutes, responder.community)
    message = clean_text(message, MESSAGE_MAX, "message")
    date = _check_date(date)
    existing = db.session.scalar(sa.select(Exchange).where(
        Exchange.post_id == post.id, Exchange.proposer_id == responder.id, Exchange.state.in_(OPEN_STATES)))
    if existing is not None:
        return existing
    responder_role = "receiver" if post.kind == "offer" else "provider"
    owner_role = "provider" if responder_role == "receiver" else "receiver"
    exchange = Exchange(community_id=post.community_id, kind="single", post_id=post.id, title=post.title,
                        minutes=minutes, planned_on=date, proposer_id=responder.id, state="proposed",
                        answer_by=utcnow() + ANSWER_WITHIN,
                        participants=[Participant(member_id=post.owner_id, role=owner_role),
                                      Participant(member_id=responder.id, role=responder_role)])
    db.session.add(exchange)
    db.session.flush()
    _event(exchange, "proposed", author=responder, actor=actor, body=message, minutes=minutes)
    _audit_if_helped("exchange.proposed", exchange, actor, responder, minutes=minutes)
    notify(post.owner, "proposed", actor=responder, exchange=exchange, minutes=minutes)
    return exchange


def accept(exchange: Exchange, *, actor: Member, on_behalf_of: Member | None = None) -> Exchange:
    """The post's owner says yes to a proposal."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    _require_single(exchange)
    if party.member_id == exchange.proposer_id:
        raise NotAllowed(_l("You proposed this exchange, so the other person accepts or declines it."))
    _require_state(exchange, ("proposed",), done="accepted")
    exchange.state, exchange.answer_by = "accepted", None
    return _changed(exchange, "accepted", party.member, actor)


def decline(exchange: Exchange, *, actor: Member, on_behalf_of: Member | None = None, reason: str = "") -> Exchange:
    """Say no to a proposal; in a group, say that one does not take part."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    reason = clean_text(reason, REASON_MAX, "reason")
    if exchange.is_group:
        return _answer_part(exchange, party, "declined", actor, reason)
    if party.member_id == exchange.proposer_id:
        raise NotAllowed(_l("You proposed this exchange. To take it back, cancel it."))
    _require_state(exchange, ("proposed",), done="declined")
    exchange.state, exchange.reason, exchange.answer_by = "declined", reason, None
    return _changed(exchange, "declined", party.member, actor, body=reason)


def cancel(exchange: Exchange, reason: str, *, actor: Member, on_behalf_of: Member | None = None) -> Exchange:
    """Either side calls it off before it is settled (a group: its organiser), with a reason."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    reason = clean_text(reason, REASON_MAX, "reason", required=True)
    if exchange.is_group and party.member_id != exchange.proposer_id:
        raise NotAllowed(_l("Only the organiser can cancel a group exchange. You can decline your part."))
    _require_state(exchange, ("proposed",) if exchange.is_group else ("proposed", "accepted"), done="cancelled")
    exchange.state, exchange.reason, exchange.auto_confirm_at, exchange.answer_by = "cancelled", reason, None, None
    return _changed(exchange, "cancelled", party.member, actor, body=reason)


def dispute(exchange: Exchange, reason: str, *, actor: Member, on_behalf_of: Member | None = None) -> Exchange:
    """Either side asks a coordinator to decide; nothing settles by itself meanwhile."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    _require_single(exchange)
    reason = clean_text(reason, REASON_MAX, "reason", required=True)
    _require_state(exchange, ("accepted",), done="disputed")
    exchange.state, exchange.reason, exchange.auto_confirm_at = "disputed", reason, None
    _changed(exchange, "disputed", party.member, actor, body=reason)
    _tell_coordinators(exchange, "disputed", party.member)
    return exchange


def record_minutes(exchange: Exchange, minutes: int, *, actor: Member,
                   on_behalf_of: Member | None = None) -> Exchange:
    """The provider says how long it took. The receiver confirms, or it settles by itself after
    the community's number of days."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    if exchange.kind != "single":
        raise IllegalTransition(_l("The time of this exchange is set already."))
    if party.role != "provider":
        raise NotAllowed(_l("The one who helped records the time. You confirm it."))
    _require_state(exchange, ("accepted",))
    community = _community(exchange)
    minutes = check_minutes(minutes, community)
    now = utcnow()
    exchange.recorded_minutes, exchange.recorded_at, exchange.offered_minutes = minutes, now, None
    # Silence settles only what the receiver agreed to: the agreed time, within the community's margin.
    exchange.auto_confirm_at = (now + timedelta(days=community.exchange_auto_confirm_days)
                                if minutes <= silence_allows(exchange.minutes, community) else None)
    return _changed(exchange, "recorded", party.member, actor, minutes=minutes,
                    waits=exchange.auto_confirm_at is None)


def silence_allows(agreed: int, community: Community) -> int:
    """The most recorded minutes that settle when the receiver says nothing."""
    return agreed + agreed * community.exchange_silence_margin_percent // 100


def confirm(exchange: Exchange, *, actor: Member, on_behalf_of: Member | None = None, minutes: int | None = None,
            override_reason: str | None = None) -> Exchange:
    """The receiver agrees to pay: the hours move now (the minutes the provider recorded, or the
    ones given here, else the agreed ones). In a group, a member confirms their own part.
    Fewer minutes than the provider recorded move only when the provider agrees, says nothing
    for the community's number of days, or a coordinator decides (see `agree`).

    A coordinator (acting for the receiver) may let this one settlement go past a balance limit
    with `override_reason`. Raises LimitExceeded, with nothing changed, when a limit refuses."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    if exchange.is_group:
        if minutes is not None:
            raise ExchangeError(_l("In a group exchange the organiser sets the time."), "minutes")
        return _answer_part(exchange, party, "confirmed", actor)
    if party.role != "receiver":
        raise NotAllowed(_l("The one who was helped confirms. You can record how long it took."))
    _require_state(exchange, ("accepted",), done="completed")
    minutes = minutes if minutes is not None else exchange.recorded_minutes or exchange.minutes
    community = _community(exchange)
    minutes = check_minutes(minutes, community)
    if exchange.recorded_minutes is not None and minutes < exchange.recorded_minutes:
        if exchange.offered_minutes == minutes:
            raise AlreadyDone()
        exchange.offered_minutes = minutes
        exchange.auto_confirm_at = utcnow() + timedelta(days=community.exchange_auto_confirm_days)
        return _changed(exchange, "offered", party.member, actor, minutes=minutes,
                        recorded=exchange.recorded_minutes)
    on_behalf = party.member if actor is not None and actor.id != party.member_id else None
    _settle(exchange, minutes, actor=actor, on_behalf_of=on_behalf, override_reason=override_reason)
    _completed(exchange, party.member, actor)
    return exchange


def agree(exchange: Exchange, *, actor: Member, on_behalf_of: Member | None = None) -> Exchange:
    """The provider agrees to the fewer minutes the receiver confirmed: they move now. The receiver
    agreed to pay them, so the time bank settles what both agreed (the provider cannot authorise
    hours into their own account)."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    _require_single(exchange)
    if party.role != "provider":
        raise NotAllowed(_l("The one who helped answers this. You confirmed already."))
    _require_state(exchange, ("accepted",), done="completed")
    if exchange.offered_minutes is None:
        raise IllegalTransition(_l("There is nothing to agree to: %(name)s has not confirmed a time yet.",
                                   name=exchange.receiver.name))
    _settle(exchange, exchange.offered_minutes, actor=None, on_behalf_of=None)
    _completed(exchange, party.member, actor)
    return exchange


def ask_for_help(exchange: Exchange, *, actor: Member, on_behalf_of: Member | None = None) -> Exchange:
    """A party cannot settle (a balance limit, a question): the coordinators are told."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    _require_state(exchange, ("accepted", "proposed") if exchange.is_group else ("accepted",))
    if exchange.help_requested_at is not None:
        raise AlreadyDone()
    exchange.help_requested_at = utcnow()
    _event(exchange, "help", author=party.member, actor=actor)
    _audit_if_helped("exchange.help", exchange, actor, party.member)
    _tell_coordinators(exchange, "help", party.member)
    db.session.flush()
    return exchange


def resolve(exchange: Exchange, *, actor: Member, reason: str, minutes: int | None = None, cancel: bool = False,
            override_limits: bool = False) -> Exchange:
    """A coordinator of the community (not a party) decides a dispute: settled with the minutes
    they decide, or cancelled. With `override_limits` the settlement may pass a balance limit."""
    _lock(exchange)
    if not can_coordinate(actor, exchange.community_id):
        raise NotAllowed(_l("Only a coordinator of this neighbourhood can decide about a dispute."))
    if exchange.participant(actor) is not None:
        raise NotAllowed(_l("You take part in this exchange, so another coordinator decides."))
    reason = clean_text(reason, REASON_MAX, "reason", required=True)
    _require_state(exchange, ("disputed",))
    if cancel:
        exchange.state = "cancelled"
        outcome = dict(outcome="cancelled")
    else:
        minutes = check_minutes(minutes if minutes is not None else exchange.recorded_minutes or exchange.minutes,
                                _community(exchange))
        _settle(exchange, minutes, actor=actor, on_behalf_of=None,
                override_reason=reason if override_limits else None)
        outcome = dict(outcome="completed", minutes=minutes)
    exchange.reason = reason
    _event(exchange, "resolved", author=actor, actor=actor, body=reason, **outcome)
    for participant in exchange.participants:
        record("exchange.resolved", actor=actor, on_behalf_of=participant.member, community_id=exchange.community_id,
               subject=exchange, reason=reason, **outcome)
    _tell_others(exchange, "resolved", None, **outcome)
    db.session.flush()
    return exchange


def _community(exchange: Exchange) -> Community:
    return db.session.get(Community, exchange.community_id)


def _changed(exchange: Exchange, event: str, party: Member, actor: Member | None, body: str = "",
             **details) -> Exchange:
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
            notify(participant.member, "completed", actor=party, exchange=exchange, minutes=exchange.minutes,
                   direction="in" if participant.role == "provider" else "out")


def _settle(exchange: Exchange, minutes: int, *, actor: Member | None, on_behalf_of: Member | None,
            override_reason: str | None = None) -> None:
    """Receiver → provider (and the community's levy), in this database transaction."""
    receiver, provider = exchange.receiver, exchange.provider
    paying, paid = ledger.accounts_for(receiver, provider)
    transaction = ledger.transfer(paying, paid, minutes,
                                  kind="exchange", actor=actor, memo=exchange.title, on_behalf_of=on_behalf_of,
                                  idempotency_key=settle_key(exchange), override_reason=override_reason)
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


# Group exchanges -----------------------------------------------------------------------------------

def create_group(organiser: Member, role: str, title: str, minutes: int, members: list[Member], *,
                 actor: Member, date: date | None = None, message: str = "") -> Exchange:
    """One organiser and several others, each for `minutes`: a lesson (the organiser provides,
    each other member receives and pays) or a helping hand (the organiser receives and pays each
    helper). Each other member confirms or declines their part; it settles as one transaction
    when all have answered, when the organiser settles it, or after the community's number of
    days with those who did not answer (like a one-to-one exchange whose time was recorded)."""
    take_write_lock(db.session)
    _check_actor(actor, organiser)
    if role not in ROLES:
        raise ExchangeError(_l("Please choose whether you give or get the help."), "role")
    community = organiser.community
    title = " ".join((title or "").split())
    if not title:
        raise ExchangeError(_l("Please say in a few words what you do together."), "title")
    if len(title) > TITLE_MAX:
        raise ExchangeError(_l("Please keep this under %(max)d characters; it has %(num)d.", max=TITLE_MAX,
                               num=len(title)), "title")
    minutes = check_minutes(minutes, community)
    unique = list({m.id: m for m in members if m.id != organiser.id}.values())
    if not unique:
        raise ExchangeError(_l("Please choose at least one other member."), "members")
    if len(unique) > GROUP_MAX:
        raise ExchangeError(_l("A group exchange can have at most %(max)d members besides you.", max=GROUP_MAX),
                            "members")
    for member in unique:
        _check_member(member, organiser.community_id)
    refuse_if_blocked(organiser, unique)
    if actor.id != organiser.id and any(m.id == actor.id for m in unique):
        raise NotAllowed(_l("You take part in this exchange yourself, so another coordinator helps %(name)s "
                            "with it.", name=organiser.name), "members")
    now = utcnow()
    other_role = "receiver" if role == "provider" else "provider"
    exchange = Exchange(
        community_id=organiser.community_id, kind="group", title=title, minutes=minutes, planned_on=_check_date(date),
        proposer_id=organiser.id, state="proposed", recorded_minutes=minutes, recorded_at=now,
        auto_confirm_at=now + timedelta(days=community.exchange_auto_confirm_days),
        participants=[Participant(member_id=organiser.id, role=role, answer="confirmed", answered_at=now)]
        + [Participant(member_id=m.id, role=other_role) for m in unique])
    db.session.add(exchange)
    db.session.flush()
    _event(exchange, "group_created", author=organiser, actor=actor,
           body=clean_text(message, MESSAGE_MAX, "message"), minutes=minutes)
    _audit_if_helped("exchange.group_created", exchange, actor, organiser, minutes=minutes)
    _tell_others(exchange, "group_invited", organiser, minutes=minutes)
    return exchange


def settle_group(exchange: Exchange, *, actor: Member, on_behalf_of: Member | None = None) -> Exchange:
    """The organiser settles now, with the members who confirmed; those who did not answer are
    left out. Raises LimitExceeded (nothing changed) when a balance limit refuses."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    if not exchange.is_group or party.member_id != exchange.proposer_id:
        raise NotAllowed(_l("Only the organiser of a group exchange can settle it."))
    _require_state(exchange, ("proposed",), done="completed")
    if not any(p.answer == "confirmed" for p in exchange.others()):
        raise IllegalTransition(_l("Nobody has confirmed their part yet, so there is nothing to settle."))
    _settle_group(exchange, actor=actor, include_silent=False)
    _completed(exchange, party.member, actor)
    return exchange


def _answer_part(exchange: Exchange, party: Participant, answer: str, actor: Member | None,
                 reason: str = "") -> Exchange:
    if party.member_id == exchange.proposer_id:
        raise NotAllowed(_l("You organise this group exchange. You can settle or cancel it."))
    _require_state(exchange, ("proposed",), done="completed")
    if party.answer is not None:
        raise AlreadyDone()
    party.answer, party.answered_at = answer, utcnow()
    db.session.flush()
    _event(exchange, f"part_{answer}", author=party.member, actor=actor, body=reason)
    _audit_if_helped(f"exchange.part_{answer}", exchange, actor, party.member)
    organiser = exchange.participant(exchange.proposer_id)
    notify(organiser.member, "group_answered", actor=party.member, exchange=exchange, answer=answer)
    if all(p.answer is not None for p in exchange.others()):
        _close_group(exchange, actor=None)
    return exchange


def _taking_part(exchange: Exchange, include_silent: bool) -> list[Participant]:
    """Who settles: those who confirmed their part; when the days are up also the silent helpers
    the organiser agreed to pay. Silence never makes anyone pay."""
    return [p for p in exchange.others()
            if p.answer == "confirmed" or (include_silent and p.answer is None and p.role == "provider")]


def _close_group(exchange: Exchange, *, actor: Member | None, include_silent: bool = False) -> str:
    """Settle a group whose answers are in (or whose days are up); nobody to settle: cancelled.
    A balance limit that refuses leaves it open and tells the organiser and that member."""
    if not _taking_part(exchange, include_silent):
        exchange.state, exchange.auto_confirm_at = "cancelled", None
        _event(exchange, "nobody", author=None, actor=None)
        _tell_others(exchange, "cancelled", None)
        return "cancelled"
    try:
        _settle_group(exchange, actor=actor, include_silent=include_silent)
    except LimitExceeded as refusal:
        exchange.auto_confirm_at = None
        _event(exchange, "limit", author=None, actor=None, owner=refusal.owner, room=refusal.room)
        blocked = {ledger.account_for(p.member).id: p.member for p in exchange.participants}.get(refusal.account_id)
        for member in {exchange.proposer, blocked} - {None}:
            notify(member, "limit", exchange=exchange, reason="refused", owner=refusal.owner)
        db.session.flush()
        return "refused"
    _completed(exchange, None, actor)
    return "settled"


def _settle_group(exchange: Exchange, *, actor: Member | None, include_silent: bool) -> None:
    """One ledger transaction with every leg; the levy of the community goes to the fund."""
    community = _community(exchange)
    organiser = exchange.participant(exchange.proposer_id)
    taking = _taking_part(exchange, include_silent)
    minutes = exchange.minutes
    levy_each = minutes * community.ledger_levy_percent // 100
    everyone = [organiser, *taking]
    account = dict(zip([p.member_id for p in everyone], ledger.accounts_for(*(p.member for p in everyone))))
    if organiser.role == "provider":
        legs = [(account[p.member_id], -minutes) for p in taking]
        legs.append((account[organiser.member_id], (minutes - levy_each) * len(taking)))
    else:
        legs = [(account[organiser.member_id], -minutes * len(taking))]
        legs += [(account[p.member_id], minutes - levy_each) for p in taking]
    if levy_each:
        legs.append((ledger.fund_account(community.id), levy_each * len(taking)))
    transaction = ledger.post(community.id, "exchange", [(a, m) for a, m in legs if m], actor=actor,
                              memo=exchange.title, idempotency_key=settle_key(exchange), payers_consented=True)
    now = utcnow()
    for participant in taking:
        if participant.answer is None:
            participant.answer, participant.answered_at = "confirmed", now
    _mark_settled(exchange, transaction.id, minutes)
    for participant in [organiser, *taking]:
        if participant.role == "receiver":
            _warn_if_low(participant.member, exchange)


# The time bank itself: `flask exchanges auto-confirm` ------------------------------------------------

def due_for_auto_confirm(now=None) -> list[int]:
    """Exchanges whose days without objection are over: recorded one-to-one exchanges still
    accepted, and group exchanges still open."""
    now = now or utcnow()
    return list(db.session.scalars(sa.select(Exchange.id).where(
        Exchange.auto_confirm_at <= now,
        sa.or_(sa.and_(Exchange.kind == "single", Exchange.state == "accepted", Exchange.recorded_at.is_not(None)),
               sa.and_(Exchange.kind == "group", Exchange.state == "proposed"))).order_by(Exchange.id)))


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
    if minutes is None and exchange.kind == "single" \
            and exchange.recorded_minutes <= silence_allows(exchange.minutes, _community(exchange)):
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
    return list(db.session.scalars(sa.select(Exchange.id).where(
        Exchange.state == "proposed", Exchange.kind == "single", Exchange.answer_by <= (now or utcnow()))
        .order_by(Exchange.id)))


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


# Paper slips -----------------------------------------------------------------------------------------

def record_paper_slip(provider: Member, receiver: Member, minutes: int, *, actor: Member, title: str,
                      date: date | None = None, note: str = "", idempotency_key: str | None = None) -> Exchange:
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
    title = clean_text(title, TITLE_MAX, "title", required=True)
    note = clean_text(note, MESSAGE_MAX, "note")
    minutes = check_minutes(minutes, actor.community)
    now = utcnow()
    exchange = Exchange(community_id=actor.community_id, kind="slip", title=title, minutes=minutes,
                        planned_on=_check_date(date), proposer_id=actor.id, state="accepted", request_key=key,
                        recorded_minutes=minutes, recorded_at=now,
                        participants=[Participant(member_id=provider.id, role="provider"),
                                      Participant(member_id=receiver.id, role="receiver")])
    db.session.add(exchange)
    db.session.flush()
    if receiver.assisted:
        _settle(exchange, minutes, actor=actor, on_behalf_of=receiver)
    _event(exchange, "slip", author=actor, actor=actor, body=note, minutes=minutes,
           waits=exchange.state != "completed")
    for member in (provider, receiver):
        record("exchange.slip", actor=actor, on_behalf_of=member, community_id=exchange.community_id,
               subject=exchange, minutes=minutes, title=title)
        notify(member, "slip" if receiver.assisted or member is provider else "slip_confirm", actor=actor,
               exchange=exchange, minutes=minutes)
    return exchange


# The conversation and thank-you notes ----------------------------------------------------------------

def can_read_thread(viewer: Member | None, exchange: Exchange, acting: Member | None = None) -> bool:
    """The participants (a coordinator acting for one of them too); other coordinators of the
    community only while it is in dispute."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if exchange.participant(viewer) is not None:
        return True
    if acting is not None and exchange.participant(acting) is not None and can_act_for(viewer, acting):
        return True
    return exchange.state == "disputed" and can_coordinate(viewer, exchange.community_id)


def post_message(exchange: Exchange, author: Member, text: str, *, actor: Member | None = None) -> Message:
    """Write in the exchange's conversation; the other participants are told."""
    actor = actor or author
    _check_actor(actor, author)
    if not can_read_thread(author, exchange):
        raise NotAParty()
    refuse_if_blocked(author, [p.member for p in exchange.participants])
    text = clean_text(text, MESSAGE_MAX, "text", required=True)
    message = Message(exchange_id=exchange.id, author_id=author.id, actor_id=actor.id, body=text)
    db.session.add(message)
    db.session.flush()
    _tell_others(exchange, "message", author)
    return message


def thread(exchange: Exchange) -> list[Message]:
    """What was written and what happened, oldest first; without messages a coordinator hid."""
    return list(db.session.scalars(sa.select(Message).where(Message.exchange_id == exchange.id,
                                                            ~hidden("message", Message.id))
                                   .order_by(Message.id)))


def thank(exchange: Exchange, author: Member, text: str, *, actor: Member | None = None,
          to: Member | None = None) -> ThankYou:
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
    text = clean_text(text, THANKS_MAX, "text", required=True)
    existing = db.session.scalar(sa.select(ThankYou).where(
        ThankYou.exchange_id == exchange.id, ThankYou.author_id == author.id, ThankYou.member_id == to.id))
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
    done = set(db.session.scalars(sa.select(ThankYou.member_id).where(
        ThankYou.exchange_id == exchange.id, ThankYou.author_id == author.id)))
    return [m for m in _thank_candidates(exchange, author) or [] if m.id not in done]


def thanks_for(member: Member, limit: int = 10) -> list[ThankYou]:
    return list(db.session.scalars(sa.select(ThankYou).where(ThankYou.member_id == member.id,
                                                             ~hidden("thanks", ThankYou.id))
                                   .order_by(ThankYou.id.desc()).limit(limit)))


# Reading ---------------------------------------------------------------------------------------------

def exchanges_of(member: Member, *, states: tuple[str, ...] | None = None, limit: int | None = None) -> list[Exchange]:
    """The member's exchanges, most recently changed first."""
    query = exchanges_query(member, states=states)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def exchanges_query(member: Member, *, states: tuple[str, ...] | None = None) -> sa.Select:
    """The query behind `exchanges_of`, for callers that page through it (the API)."""
    query = (sa.select(Exchange).join(Participant, Participant.exchange_id == Exchange.id)
             .where(Participant.member_id == member.id).order_by(Exchange.updated_at.desc(), Exchange.id.desc()))
    if states is not None:
        query = query.where(Exchange.state.in_(states))
    return query


def open_disputes(community_id: int) -> list[Exchange]:
    return list(db.session.scalars(sa.select(Exchange).where(
        Exchange.community_id == community_id,
        sa.or_(Exchange.state == "disputed",
               sa.and_(Exchange.help_requested_at.is_not(None), Exchange.state.in_(("accepted", "proposed")))))
        .order_by(Exchange.updated_at)))


def set_exchange_settings(community: Community, *, auto_confirm_days: int | None, max_minutes: int | None,
                          silence_margin_percent: int | None, actor: Member) -> Community:
    """A coordinator sets the days before recorded time settles by itself, how far above the agreed
    time it still may (beyond that the receiver must confirm), and the most time one exchange may
    move. Exchanges under way keep their date."""
    if not can_coordinate(actor, community.id):
        raise NotAllowed(_l("Only a coordinator of this neighbourhood can change this."))
    for value, (low, high), field in ((auto_confirm_days, AUTO_CONFIRM_DAYS_RANGE, "auto_confirm_days"),
                                      (max_minutes, MAX_MINUTES_RANGE, "max_hours"),
                                      (silence_margin_percent, SILENCE_MARGIN_RANGE, "silence_margin_percent")):
        if value is None or not low <= value <= high:
            shown = (format_minutes(low), format_minutes(high)) if field == "max_hours" else (low, high)
            raise ExchangeError(_l("Please choose between %(low)s and %(high)s.", low=shown[0], high=shown[1]), field)
    before = [community.exchange_auto_confirm_days, community.exchange_max_minutes,
              community.exchange_silence_margin_percent]
    community.exchange_auto_confirm_days, community.exchange_max_minutes = auto_confirm_days, max_minutes
    community.exchange_silence_margin_percent = silence_margin_percent
    db.session.flush()
    record("exchange.settings_changed", actor=actor, community_id=community.id, subject=community, before=before,
           after=[auto_confirm_days, max_minutes, silence_margin_percent])
    return community


def export_member_exchanges(member: Member) -> list[dict]:
    """The member's exchanges, the messages they wrote and the thank-you notes to and from them."""
    exchanges = exchanges_of(member)
    messages = db.session.scalars(sa.select(Message).where(Message.author_id == member.id, Message.event.is_(None))
                                  .order_by(Message.id))
    notes = db.session.scalars(sa.select(ThankYou).where(
        sa.or_(ThankYou.author_id == member.id, ThankYou.member_id == member.id)).order_by(ThankYou.id))
    return [
        *({"record": "exchange", "id": e.id, "kind": e.kind, "title": e.title, "state": e.state,
           "role": e.participant(member).role, "minutes": e.minutes, "created_at": e.created_at,
           "completed_at": e.completed_at, "transaction_id": e.transaction_id} for e in reversed(exchanges)),
        *({"record": "message", "id": m.id, "exchange_id": m.exchange_id, "created_at": m.created_at,
           "text": m.body} for m in messages),
        *({"record": "thank_you", "id": t.id, "exchange_id": t.exchange_id, "created_at": t.created_at,
           "from": t.author.name, "to": t.member.name, "text": t.text} for t in notes),
    ]


register_exporter("exchanges", export_member_exchanges)


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


register_eraser("exchanges", let_go_of_exchanges)
