"""One-to-one exchanges: propose, accept or decline, record the minutes, confirm (or agree to a
smaller amount), dispute, ask for help, and a coordinator's decision."""

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.communities.models import Community
from timebank.db import take_write_lock, utcnow
from timebank.exchanges.errors import (
    AlreadyDone,
    ExchangeError,
    IllegalTransition,
    NotAllowed,
    PostUnavailable,
)
from timebank.exchanges.events import _audit_if_helped, _event, _tell_coordinators, _tell_others
from timebank.exchanges.group import _answer_part
from timebank.exchanges.models import OPEN_STATES, Exchange, Participant
from timebank.exchanges.room import check_room
from timebank.exchanges.rules import (
    ANSWER_WITHIN,
    MESSAGE_MAX,
    REASON_MAX,
    _check_actor,
    _check_date,
    _check_member,
    _lock,
    _party,
    _require_single,
    _require_state,
    check_minutes,
)
from timebank.exchanges.settlement import _changed, _community, _completed, _settle
from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.moderation.blocks import refuse_if_blocked
from timebank.notifications.services import notify
from timebank.permissions import coordinates_a_side, shares_posts
from timebank.text import clean_text


def propose(
    post: Post, responder: Member, minutes: int, *, actor: Member, message: str = "", date: date | None = None
) -> Exchange:
    """Respond to a post: to an offer as the one who receives, to a request as the one who
    provides. A second proposal by the same member on the same post returns the open one."""
    take_write_lock(db.session)
    _check_actor(actor, responder)
    db.session.refresh(post, with_for_update=True)
    across = post.community_id != responder.community_id
    if across and not shares_posts(responder.community_id, post.community_id):
        raise NotAllowed(_l("This post is in another neighbourhood. Exchanges stay within one neighbourhood."))
    if post.owner_id == responder.id:
        raise ExchangeError(_l("This is your own post. Wait for a neighbour to respond to it."))
    if post.owner_id == actor.id:
        raise NotAllowed(
            _l("This is your own post, so another coordinator helps %(name)s respond to it.", name=responder.name)
        )
    _check_member(responder, responder.community_id)
    if post.state != "active" or post.owner.status != "active":
        raise PostUnavailable(_l("This post is no longer in the market, so you cannot respond to it."))
    if post.is_gift:
        raise ExchangeError(
            _l("This is a free gift: it costs no hours. Get in touch with %(name)s instead.", name=post.owner.name)
        )
    refuse_if_blocked(responder, [post.owner])
    minutes = check_minutes(minutes, responder.community)
    payer, provider = (responder, post.owner) if post.kind == "offer" else (post.owner, responder)
    check_room(payer, provider, minutes, responder, proposing=True)
    if across:
        minutes = check_minutes(minutes, post.community)
    message = clean_text(message, MESSAGE_MAX, "message", refusal=ExchangeError)
    date = _check_date(date)
    existing = db.session.scalar(
        sa.select(Exchange).where(
            Exchange.post_id == post.id, Exchange.proposer_id == responder.id, Exchange.state.in_(OPEN_STATES)
        )
    )
    if existing is not None:
        return existing
    responder_role = "receiver" if post.kind == "offer" else "provider"
    owner_role = "provider" if responder_role == "receiver" else "receiver"
    exchange = Exchange(
        community_id=post.community_id,
        kind="single",
        post_id=post.id,
        title=post.title,
        minutes=minutes,
        planned_on=date,
        proposer_id=responder.id,
        state="proposed",
        answer_by=utcnow() + ANSWER_WITHIN,
        participants=[
            Participant(member_id=post.owner_id, role=owner_role),
            Participant(member_id=responder.id, role=responder_role),
        ],
    )
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
    check_room(exchange.receiver, exchange.provider, exchange.minutes, party.member, proposing=False)
    exchange.state, exchange.answer_by = "accepted", None
    return _changed(exchange, "accepted", party.member, actor)


def decline(exchange: Exchange, *, actor: Member, on_behalf_of: Member | None = None, reason: str = "") -> Exchange:
    """Say no to a proposal; in a group, say that one does not take part."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    reason = clean_text(reason, REASON_MAX, "reason", refusal=ExchangeError)
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
    reason = clean_text(reason, REASON_MAX, "reason", required=True, refusal=ExchangeError)
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
    reason = clean_text(reason, REASON_MAX, "reason", required=True, refusal=ExchangeError)
    _require_state(exchange, ("accepted",), done="disputed")
    exchange.state, exchange.reason, exchange.auto_confirm_at = "disputed", reason, None
    _changed(exchange, "disputed", party.member, actor, body=reason)
    _tell_coordinators(exchange, "disputed", party.member)
    return exchange


def record_minutes(exchange: Exchange, minutes: int, *, actor: Member, on_behalf_of: Member | None = None) -> Exchange:
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
    exchange.auto_confirm_at = (
        now + timedelta(days=community.exchange_auto_confirm_days)
        if minutes <= silence_allows(exchange.minutes, community)
        else None
    )
    return _changed(exchange, "recorded", party.member, actor, minutes=minutes, waits=exchange.auto_confirm_at is None)


def silence_allows(agreed: int, community: Community) -> int:
    """The most recorded minutes that settle when the receiver says nothing."""
    return agreed + agreed * community.exchange_silence_margin_percent // 100


def confirm(
    exchange: Exchange,
    *,
    actor: Member,
    on_behalf_of: Member | None = None,
    minutes: int | None = None,
    override_reason: str | None = None,
) -> Exchange:
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
        return _changed(exchange, "offered", party.member, actor, minutes=minutes, recorded=exchange.recorded_minutes)
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
        raise IllegalTransition(
            _l("There is nothing to agree to: %(name)s has not confirmed a time yet.", name=exchange.receiver.name)
        )
    _settle(exchange, exchange.offered_minutes, actor=None, on_behalf_of=None)
    _completed(exchange, party.member, actor)
    return exchange


def ask_for_help(exchange: Exchange, *, actor: Member, on_behalf_of: Member | None = None) -> Exchange:
    """A party cannot settle (a balance limit, a question): the coordinators are told."""
    _lock(exchange)
    party = _party(exchange, actor, on_behalf_of)
    # A proposal too: when it does not fit between the balances, help is needed before accepting.
    _require_state(exchange, ("accepted", "proposed"))
    if exchange.help_requested_at is not None:
        raise AlreadyDone()
    exchange.help_requested_at = utcnow()
    _event(exchange, "help", author=party.member, actor=actor)
    _audit_if_helped("exchange.help", exchange, actor, party.member)
    _tell_coordinators(exchange, "help", party.member)
    db.session.flush()
    return exchange


def resolve(
    exchange: Exchange,
    *,
    actor: Member,
    reason: str,
    minutes: int | None = None,
    cancel: bool = False,
    override_limits: bool = False,
) -> Exchange:
    """A coordinator of the community (not a party) decides a dispute: settled with the minutes
    they decide, or cancelled. Across a link the coordinators of either member's community may: each
    community's coordinators handle disputes for their own member. With `override_limits` the
    settlement may pass a balance limit."""
    _lock(exchange)
    if not coordinates_a_side(actor, exchange):
        raise NotAllowed(_l("Only a coordinator of this neighbourhood can decide about a dispute."))
    if override_limits and exchange.receiver.community_id != exchange.provider.community_id:
        raise NotAllowed(_l("Between linked neighbourhoods no balance limit or cap can be passed."))
    if exchange.participant(actor) is not None:
        raise NotAllowed(_l("You take part in this exchange, so another coordinator decides."))
    reason = clean_text(reason, REASON_MAX, "reason", required=True, refusal=ExchangeError)
    _require_state(exchange, ("disputed",))
    if cancel:
        exchange.state = "cancelled"
        outcome = dict(outcome="cancelled")
    else:
        minutes = check_minutes(
            minutes if minutes is not None else exchange.recorded_minutes or exchange.minutes, _community(exchange)
        )
        _settle(exchange, minutes, actor=actor, on_behalf_of=None, override_reason=reason if override_limits else None)
        outcome = dict(outcome="completed", minutes=minutes)
    exchange.reason = reason
    _event(exchange, "resolved", author=actor, actor=actor, body=reason, **outcome)
    for participant in exchange.participants:
        record(
            "exchange.resolved",
            actor=actor,
            on_behalf_of=participant.member,
            community_id=participant.member.community_id,  # across a link: in each member's own log
            subject=exchange,
            reason=reason,
            **outcome,
        )
    _tell_others(exchange, "resolved", None, **outcome)
    db.session.flush()
    return exchange
