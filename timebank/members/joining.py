"""Joining: registering and confirming the email address, the coordinators' decision on a join
request, and members made by operators and coordinators (assisted members)."""

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from timebank.audit.services import record
from timebank.communities.models import Area, Community
from timebank.db import utcnow
from timebank.extensions import db
from timebank.mail.services import queue_mail
from timebank.members.models import JoinRequest, Member
from timebank.members.passwords import hash_password
from timebank.members.profiles import _check_area, _clean_phone
from timebank.members.rules import (
    BIO_MAX,
    REASON_MAX,
    MemberError,
    _add_member,
    _email_taken,
    _ensure_email_free,
    _require_coordinator,
    _tell_coordinators,
    check_new_password,
    clean_email,
    clean_name,
)
from timebank.members.tokens import issue_token, use_token
from timebank.text import clean_text


def register_member(community: Community | None, *, name: str, email: str, password: str, locale: str | None,
                    accepted_rules: bool) -> Member | None:
    """A resident asks to join: a pending member, a join request and a confirmation email.

    Order: (1) register, (2) confirm the email address with the emailed link, then (3) an
    open community lets them in at once; an approval community puts the request on its
    coordinators' list and tells them; (4) the applicant gets an email with the decision.

    An address that has an account already gets an email saying so (log in, or ask for a new
    password) and None is returned: the page says "check your email" either way, so joining
    never tells a stranger whether someone is a member."""
    if community is None:
        raise MemberError(_l("We do not know this neighbourhood. Please choose one from the list."), "community")
    name = clean_name(name)
    email = clean_email(email)
    check_new_password(password, name=name, email=email)
    if not accepted_rules:
        raise MemberError(_l("Please read the house rules and tick the box to accept them."), "accept_rules")
    if _email_taken(email):
        _tell_address_taken(email)
        return None
    member = _add_member(Member(community_id=community.id, name=name, email=email, status="pending",
                                password_hash=hash_password(password), locale=locale))
    db.session.add(JoinRequest(member_id=member.id, community_id=community.id, house_rules=community.house_rules))
    record("member.registered", actor=member, subject=member)
    send_confirmation(member)
    return member


def _tell_address_taken(email: str) -> None:
    member = db.session.scalar(sa.select(Member).where(Member.email == email))
    queue_mail(member, "join_address_taken", login=url_for("members.login", _external=True),
               forgot=url_for("members.forgot_password", _external=True))


def send_confirmation(member: Member) -> None:
    link = url_for("members.confirm", token=issue_token(member, "confirm"), _external=True)
    queue_mail(member, "confirm_email", link=link, hours=current_app.config["CONFIRM_LINK_HOURS"])


def resend_confirmation(email: str) -> None:
    """Send a new link if this address waits for confirmation; say nothing about others."""
    member = db.session.scalar(sa.select(Member).where(Member.email == (email or "").strip().lower()))
    if member is not None and member.status == "pending" and member.email_confirmed_at is None:
        send_confirmation(member)


def pending_join_request(member: Member) -> JoinRequest | None:
    """The member's latest join request."""
    return db.session.scalar(sa.select(JoinRequest).where(JoinRequest.member_id == member.id)
                             .order_by(JoinRequest.id.desc()).limit(1))


def confirm_email(raw_token: str) -> Member:
    """Confirm the address; then the join request goes on (see `register_member`)."""
    member = use_token(raw_token, "confirm")
    member.email_confirmed_at = utcnow()
    request = pending_join_request(member)
    if request is None or request.state != "unconfirmed" or member.status != "pending":
        return member
    community = request.community
    if community.join_policy == "open":
        request.state, request.submitted_at, request.decided_at = "approved", utcnow(), utcnow()
        member.status = "active"
        record("member.joined", actor=member, subject=member)
        queue_mail(member, "join_welcome", community=community, link=url_for("members.login", _external=True))
    else:
        request.state, request.submitted_at = "waiting", utcnow()
        record("member.join_requested", actor=member, subject=member)
        _tell_coordinators(community.id, "join_request", applicant=member, community=community,
                           link=url_for("coordinate.requests", _external=True))
    db.session.flush()
    return member


def decide_join_request(request: JoinRequest, *, actor: Member, approve: bool, reason: str = "") -> JoinRequest:
    """Approve or reject a waiting request; the applicant and the other coordinators get an email.
    Decided once: a second click or a second coordinator gets a clear refusal."""
    _require_coordinator(actor, request.community_id)
    reason = clean_text(reason, REASON_MAX, "reason", refusal=MemberError)
    decided = db.session.execute(
        sa.update(JoinRequest).where(JoinRequest.id == request.id, JoinRequest.state == "waiting")
        .values(state="approved" if approve else "rejected", decided_at=utcnow(), decided_by_id=actor.id,
                reason=reason))
    if decided.rowcount != 1:
        raise MemberError(_l("This request was decided already."))
    db.session.refresh(request)
    member = request.member
    member.status = "active" if approve else "rejected"
    record("member.approved" if approve else "member.rejected", actor=actor, subject=member, reason=reason,
           community_id=request.community_id)
    queue_mail(member, "join_approved" if approve else "join_rejected", community=request.community,
               reason=reason, link=url_for("members.login", _external=True))
    _tell_coordinators(request.community_id, "join_decided", besides=actor, applicant=member, decider=actor,
                       approved=approve, reason=reason, community=request.community)
    db.session.flush()
    return request


def waiting_join_requests(community_id: int) -> list[JoinRequest]:
    return list(db.session.scalars(
        sa.select(JoinRequest).where(JoinRequest.community_id == community_id, JoinRequest.state == "waiting")
        .options(joinedload(JoinRequest.member)).order_by(JoinRequest.submitted_at, JoinRequest.id)))


def create_member(community: Community, *, email: str, name: str, password: str, role: str = "member",
                  is_admin: bool = False) -> Member:
    """An active, approved member made by an operator (command line)."""
    if role not in ("member", "coordinator"):
        raise MemberError(_l("The role must be member or coordinator."), "role")
    name = clean_name(name)
    email = clean_email(email)
    check_new_password(password, name=name, email=email)
    _ensure_email_free(email)
    member = _add_member(Member(community_id=community.id, name=name, email=email, role=role, is_admin=is_admin,
                                status="active", email_confirmed_at=utcnow(), password_hash=hash_password(password)))
    record("member.created", actor=None, subject=member, community_id=community.id, role=role, is_admin=is_admin)
    return member


def register_assisted_member(community: Community, *, actor: Member, name: str, phone: str = "",
                             area: Area | None = None, locale: str | None = None, bio: str = "") -> Member:
    """A resident without phone or computer, registered by a coordinator who will act for them."""
    _require_coordinator(actor, community.id)
    member = Member(community_id=community.id, name=clean_name(name), phone=_clean_phone(phone),
                    area_id=_check_area(community.id, area), locale=locale,
                    bio=clean_text(bio, BIO_MAX, "bio", refusal=MemberError),
                    status="active", assisted=True)
    db.session.add(member)
    db.session.flush()
    record("member.registered_assisted", actor=actor, on_behalf_of=member, subject=member)
    return member
