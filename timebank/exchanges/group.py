"""Group exchanges: one organiser and up to GROUP_MAX others, each confirming their own part;
settled once everyone answered or the organiser settles."""

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from timebank.db import take_write_lock, utcnow
from timebank.exchanges.errors import (
    AlreadyDone,
    ExchangeError,
    IllegalTransition,
    NotAllowed,
)
from timebank.exchanges.events import _audit_if_helped, _event, _tell_others
from timebank.exchanges.models import ROLES, Exchange, Participant
from timebank.exchanges.room import check_group_room
from timebank.exchanges.rules import (
    GROUP_MAX,
    MESSAGE_MAX,
    TITLE_MAX,
    _check_actor,
    _check_date,
    _check_member,
    _lock,
    _party,
    _require_state,
    check_minutes,
    settle_key,
)
from timebank.exchanges.settlement import _community, _completed, _mark_settled, _warn_if_low
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.errors import LimitExceeded
from timebank.members.models import Member
from timebank.moderation.blocks import refuse_if_blocked
from timebank.notifications.services import notify
from timebank.text import clean_text


def create_group(
    organiser: Member,
    role: str,
    title: str,
    minutes: int,
    members: list[Member],
    *,
    actor: Member,
    date: date | None = None,
    message: str = "",
) -> Exchange:
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
        raise ExchangeError(
            _l("Please keep this under %(max)d characters; it has %(num)d.", max=TITLE_MAX, num=len(title)), "title"
        )
    minutes = check_minutes(minutes, community)
    unique = list({m.id: m for m in members if m.id != organiser.id}.values())
    if not unique:
        raise ExchangeError(_l("Please choose at least one other member."), "members")
    if len(unique) > GROUP_MAX:
        raise ExchangeError(
            _l("A group exchange can have at most %(max)d members besides you.", max=GROUP_MAX), "members"
        )
    for member in unique:
        _check_member(member, organiser.community_id)
    refuse_if_blocked(organiser, unique)
    if actor.id != organiser.id and any(m.id == actor.id for m in unique):
        raise NotAllowed(
            _l(
                "You take part in this exchange yourself, so another coordinator helps %(name)s with it.",
                name=organiser.name,
            ),
            "members",
        )
    check_group_room(organiser, role, minutes, unique, organiser)
    now = utcnow()
    other_role = "receiver" if role == "provider" else "provider"
    exchange = Exchange(
        community_id=organiser.community_id,
        kind="group",
        title=title,
        minutes=minutes,
        planned_on=_check_date(date),
        proposer_id=organiser.id,
        state="proposed",
        recorded_minutes=minutes,
        recorded_at=now,
        auto_confirm_at=now + timedelta(days=community.exchange_auto_confirm_days),
        participants=[Participant(member_id=organiser.id, role=role, answer="confirmed", answered_at=now)]
        + [Participant(member_id=m.id, role=other_role) for m in unique],
    )
    db.session.add(exchange)
    db.session.flush()
    _event(
        exchange,
        "group_created",
        author=organiser,
        actor=actor,
        body=clean_text(message, MESSAGE_MAX, "message", refusal=ExchangeError),
        minutes=minutes,
    )
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


def _answer_part(
    exchange: Exchange, party: Participant, answer: str, actor: Member | None, reason: str = ""
) -> Exchange:
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
    return [
        p
        for p in exchange.others()
        if p.answer == "confirmed" or (include_silent and p.answer is None and p.role == "provider")
    ]


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
    accounts = ledger.accounts_for(*(p.member for p in everyone))
    account = dict(zip([p.member_id for p in everyone], accounts, strict=True))
    if organiser.role == "provider":
        legs = [(account[p.member_id], -minutes) for p in taking]
        legs.append((account[organiser.member_id], (minutes - levy_each) * len(taking)))
    else:
        legs = [(account[organiser.member_id], -minutes * len(taking))]
        legs += [(account[p.member_id], minutes - levy_each) for p in taking]
    if levy_each:
        legs.append((ledger.fund_account(community.id), levy_each * len(taking)))
    transaction = ledger.post(
        community.id,
        "exchange",
        [(a, m) for a, m in legs if m],
        actor=actor,
        memo=exchange.title,
        idempotency_key=settle_key(exchange),
        payers_consented=True,
    )
    now = utcnow()
    for participant in taking:
        if participant.answer is None:
            participant.answer, participant.answered_at = "confirmed", now
    _mark_settled(exchange, transaction.id, minutes)
    for participant in [organiser, *taking]:
        if participant.role == "receiver":
            _warn_if_low(participant.member, exchange)
