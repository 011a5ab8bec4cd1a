"""Joining: registering and confirming the email address, the coordinators' decision on a join
request, and members made by operators and coordinators (assisted members)."""

import math

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import get_locale
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
    MemberErrors,
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

# What an applicant writes about themselves, and their answer to the join question.
MOTIVATION_MAX = 1000


def join_problems(
    community: Community,
    *,
    name: str,
    email: str,
    password: str,
    accepted_rules: bool,
    answer: str = "",
    motivation: str = "",
) -> list[MemberError]:
    """Every mistake in a join form at once, so nobody fixes them one try at a time. Says nothing
    about whether the address has an account (see `register_member`)."""
    problems = []
    checks = [
        lambda: clean_name(name),
        lambda: clean_email(email),
        lambda: check_new_password(password, name=" ".join((name or "").split()), email=(email or "").strip().lower()),
        lambda: clean_text(motivation, MOTIVATION_MAX, "motivation", refusal=MemberError),
        lambda: clean_text(answer, MOTIVATION_MAX, "answer", refusal=MemberError),
    ]
    for check in checks:
        try:
            check()
        except MemberError as problem:
            problems.append(problem)
    if _join_question(community) and not (answer or "").strip():
        problems.append(MemberError(_l("Please answer the question of the neighbourhood."), "answer"))
    if not accepted_rules:
        problems.append(MemberError(_l("Please read the house rules and tick the box to accept them."), "accept_rules"))
    return problems


def _join_question(community: Community) -> str:
    """The join question as the applicant reads it (their language, else the fallback shown)."""
    shown = community.text("join_question", str(get_locale() or ""), community_languages())
    return shown.text if shown else ""


def community_languages() -> list[str]:
    """The languages a community text may fall back to, the default language first."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return [default, *(code for code in current_app.config["LANGUAGES"] if code != default)]


def register_member(
    community: Community | None,
    *,
    name: str,
    email: str,
    password: str,
    locale: str | None,
    accepted_rules: bool,
    motivation: str = "",
    answer: str = "",
) -> Member | None:
    """A resident asks to join: a pending member, a join request and a confirmation email.

    Order: (1) register, (2) confirm the email address with the emailed link, then (3) an
    open community lets them in at once; an approval community puts the request on its
    coordinators' list and tells them; (4) the applicant gets an email with the decision.

    An address that has an account already gets an email saying so (log in, or ask for a new
    password) and None is returned: the page says "check your email" either way, so joining
    never tells a stranger whether someone is a member."""
    if community is None:
        raise MemberError(_l("We do not know this neighbourhood. Please choose one from the list."), "community")
    problems = join_problems(
        community,
        name=name,
        email=email,
        password=password,
        accepted_rules=accepted_rules,
        answer=answer,
        motivation=motivation,
    )
    if problems:
        raise MemberErrors(problems)
    name = clean_name(name)
    email = clean_email(email)
    if _email_taken(email):
        _tell_address_taken(email)
        return None
    member = _add_member(
        Member(
            community_id=community.id,
            name=name,
            email=email,
            status="pending",
            password_hash=hash_password(password),
            locale=locale,
        )
    )
    locale_now = str(get_locale() or "")
    rules = community.text("house_rules", locale_now, community_languages())
    question = _join_question(community)
    db.session.add(
        JoinRequest(
            member_id=member.id,
            community_id=community.id,
            house_rules=rules.text if rules else "",
            motivation=(motivation or "").strip(),
            question=question,
            answer=(answer or "").strip() if question else "",
        )
    )
    record("member.registered", actor=member, subject=member)
    send_confirmation(member)
    return member


def _tell_address_taken(email: str) -> None:
    member = db.session.scalar(sa.select(Member).where(Member.email == email))
    queue_mail(
        member,
        "join_address_taken",
        login=url_for("members.login", _external=True),
        forgot=url_for("members.forgot_password", _external=True),
    )


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
    return db.session.scalar(
        sa.select(JoinRequest).where(JoinRequest.member_id == member.id).order_by(JoinRequest.id.desc()).limit(1)
    )


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
        _tell_coordinators(
            community.id,
            "join_request",
            applicant=member,
            community=community,
            join_request=request,
            link=url_for("coordinate.requests", _external=True),
        )
    db.session.flush()
    return member


def decide_join_request(request: JoinRequest, *, actor: Member, approve: bool, reason: str = "") -> JoinRequest:
    """Approve or reject a waiting request; the applicant and the other coordinators get an email.
    Decided once: a second click or a second coordinator gets a clear refusal."""
    _require_coordinator(actor, request.community_id)
    reason = clean_text(reason, REASON_MAX, "reason", refusal=MemberError)
    decided = db.session.execute(
        sa.update(JoinRequest)
        .where(JoinRequest.id == request.id, JoinRequest.state == "waiting")
        .values(state="approved" if approve else "rejected", decided_at=utcnow(), decided_by_id=actor.id, reason=reason)
    )
    if decided.rowcount != 1:
        raise MemberError(_l("This request was decided already."))
    db.session.refresh(request)
    member = request.member
    member.status = "active" if approve else "rejected"
    record(
        "member.approved" if approve else "member.rejected",
        actor=actor,
        subject=member,
        reason=reason,
        community_id=request.community_id,
    )
    queue_mail(
        member,
        "join_approved" if approve else "join_rejected",
        community=request.community,
        reason=reason,
        link=url_for("members.login", _external=True),
    )
    _tell_coordinators(
        request.community_id,
        "join_decided",
        besides=actor,
        applicant=member,
        decider=actor,
        approved=approve,
        reason=reason,
        community=request.community,
    )
    db.session.flush()
    return request


def usual_wait_days(community_id: int, *, recent: int = 20, default: int = 7) -> int:
    """Roughly how long an applicant waits: the middle of the community's last decisions, in whole
    days (at least one), or `default` before there are any."""
    decided = db.session.execute(
        sa.select(JoinRequest.submitted_at, JoinRequest.decided_at)
        .where(
            JoinRequest.community_id == community_id,
            JoinRequest.decided_by_id.is_not(None),
            JoinRequest.submitted_at.is_not(None),
            JoinRequest.decided_at.is_not(None),
        )
        .order_by(JoinRequest.decided_at.desc())
        .limit(recent)
    ).all()
    if not decided:
        return default
    waits = sorted((done - asked).total_seconds() for asked, done in decided)
    return max(1, math.ceil(waits[len(waits) // 2] / 86400))


def waiting_join_requests(community_id: int) -> sa.Select:
    """The requests waiting for a coordinator's answer, longest waiting first."""
    return (
        sa.select(JoinRequest)
        .where(JoinRequest.community_id == community_id, JoinRequest.state == "waiting")
        .options(joinedload(JoinRequest.member))
        .order_by(JoinRequest.submitted_at, JoinRequest.id)
    )


def create_member(
    community: Community, *, email: str, name: str, password: str, role: str = "member", is_admin: bool = False
) -> Member:
    """An active, approved member made by an operator (command line)."""
    if role not in ("member", "coordinator"):
        raise MemberError(_l("The role must be member or coordinator."), "role")
    name = clean_name(name)
    email = clean_email(email)
    check_new_password(password, name=name, email=email)
    _ensure_email_free(email)
    member = _add_member(
        Member(
            community_id=community.id,
            name=name,
            email=email,
            role=role,
            is_admin=is_admin,
            status="active",
            email_confirmed_at=utcnow(),
            password_hash=hash_password(password),
        )
    )
    record("member.created", actor=None, subject=member, community_id=community.id, role=role, is_admin=is_admin)
    return member


def register_assisted_member(
    community: Community,
    *,
    actor: Member,
    name: str,
    phone: str = "",
    area: Area | None = None,
    locale: str | None = None,
    bio: str = "",
) -> Member:
    """A resident without phone or computer, registered by a coordinator who will act for them."""
    _require_coordinator(actor, community.id)
    member = Member(
        community_id=community.id,
        name=clean_name(name),
        phone=_clean_phone(phone),
        area_id=_check_area(community.id, area),
        locale=locale,
        bio=clean_text(bio, BIO_MAX, "bio", refusal=MemberError),
        status="active",
        assisted=True,
    )
    db.session.add(member)
    db.session.flush()
    record("member.registered_assisted", actor=actor, on_behalf_of=member, subject=member)
    return member
