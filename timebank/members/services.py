"""Joining, signing in, profiles, roles and the end of a membership.

Services flush, never commit; the view or command that called them commits once. They raise
MemberError with a plain-language message (and the form field it belongs to, if any)."""
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from timebank.audit.models import AuditEvent
from timebank.audit.services import record
from timebank.communities.models import Area, Category, Community
from timebank.db import MAX_ID, take_write_lock, utcnow
from timebank.errors import DomainError
from timebank.extensions import db
from timebank.i18n import in_installation_language
from timebank.mail.models import OutboxMessage
from timebank.mail.services import queue_mail
from timebank.members.models import AUDIENCES, JoinRequest, Member, MemberToken, SignIn
from timebank.members.passwords import hash_password, password_problem, verify_password
from timebank.members.tokens import check_token, issue_token, use_token
from timebank.permissions import can_administer, can_coordinate, can_manage_member
from timebank.text import clean_text
from timebank.uploads.services import ImageError, delete_image, save_image

NAME_MAX = 80
BIO_MAX = 1000
REASON_MAX = 1000
# Markup, control characters and the invisible signs that reverse text direction.
UNSAFE_IN_NAMES = re.compile(r"[<>\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{6,25}$")


# What these actions mean to the member they touched (listed in timebank/registry.py).
AUDIT_LABELS = {
    "member.registered": _l("asked to join"),
    "member.joined": _l("joined the neighbourhood"),
    "member.join_requested": _l("confirmed the email address; the request went to the coordinators"),
    "member.approved": _l("accepted the request to join"),
    "member.rejected": _l("did not accept the request to join"),
    "member.created": _l("made the account"),
    "member.registered_assisted": _l("made the account, to help the member"),
    "member.profile_updated": _l("changed the profile"),
    "member.privacy_updated": _l("changed who may see contact details and hours"),
    "member.password_changed": _l("changed the password"),
    "member.password_reset": _l("chose a new password with an emailed link"),
    "member.email_change_requested": _l("asked to change the email address"),
    "member.email_changed": _l("changed the email address with an emailed link"),
    "member.email_change_cancelled": _l("said the email change asked for was not theirs; it was cancelled"),
    "member.email_change_undone": _l("said the email change was not theirs; the old address is back"),
    "member.logged_out_everywhere": _l("logged out on all devices"),
    "member.suspended": _l("paused the account"),
    "member.reactivated": _l("let the account back in"),
    "member.coordinator_appointed": _l("made the member a coordinator"),
    "member.coordinator_removed": _l("ended the member's role as coordinator"),
    "member.erasure_requested": _l("asked to erase the account"),
    "member.erased": _l("erased the account"),
    "member.acting_started": _l("started to act in the member's name"),
    "member.data_exported": _l("downloaded the data"),
}


class MemberError(DomainError):
    """Something asked of a member service cannot be done; `field` names the form field at fault."""


class WrongPassword(MemberError):
    """The password typed to confirm a change is not the member's; counts as a failed login."""


class NotAllowed(MemberError):
    """The actor may not do this (e.g. a coordinator acting outside their own community)."""

    code = "forbidden"
    status = 403


# Checking what people type


def clean_name(name: str | None, field: str = "name") -> str:
    name = " ".join((name or "").split())
    if not name:
        raise MemberError(_l("Please fill in a name."), field)
    if len(name) > NAME_MAX:
        raise MemberError(_l("Please use a name of at most %(num)d characters.", num=NAME_MAX), field)
    if UNSAFE_IN_NAMES.search(name):
        raise MemberError(_l("A name cannot contain the signs < and > or other special signs."), field)
    return name


def clean_email(email: str | None) -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise MemberError(_l("Please fill in a valid email address, like name@example.org."), "email") from None


def check_new_password(password: str, *, name: str = "", email: str = "", field: str = "password") -> None:
    problem = password_problem(password or "", name=name, email=email or "")
    if problem:
        raise MemberError(problem, field)


def _email_taken(email: str) -> bool:
    return db.session.scalar(sa.select(Member.id).where(Member.email == email)) is not None


def _ensure_email_free(email: str) -> None:
    if _email_taken(email):
        raise MemberError(_l("There is already an account with this email address. "
                             "Log in, or ask for a new password if you forgot it."), "email")


def _add_member(member: Member) -> Member:
    """Add a member; a second registration with the same address at the same moment is refused."""
    try:
        with db.session.begin_nested():
            db.session.add(member)
            db.session.flush()
    except IntegrityError:
        raise MemberError(_l("There is already an account with this email address. "
                             "Log in, or ask for a new password if you forgot it."), "email") from None
    return member


def _require_coordinator(actor: Member, community_id: int) -> None:
    if not can_coordinate(actor, community_id):
        raise NotAllowed(_l("Only a coordinator of this neighbourhood can do this."))


def coordinators_of(community_id: int, *, besides: Member | None = None) -> list[Member]:
    stmt = sa.select(Member).where(Member.community_id == community_id, Member.role == "coordinator",
                                   Member.status == "active").order_by(Member.id)
    if besides is not None:
        stmt = stmt.where(Member.id != besides.id)
    return list(db.session.scalars(stmt))


def _tell_coordinators(community_id: int, template: str, besides: Member | None = None, **context) -> None:
    for coordinator in coordinators_of(community_id, besides=besides):
        queue_mail(coordinator, template, **context)


# Joining


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
        .order_by(JoinRequest.submitted_at, JoinRequest.id)))


# Members made by operators and coordinators


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
                    area_id=_check_area(community.id, area), locale=locale, bio=clean_text(bio, BIO_MAX, "bio", refusal=MemberError),
                    status="active", assisted=True)
    db.session.add(member)
    db.session.flush()
    record("member.registered_assisted", actor=actor, on_behalf_of=member, subject=member)
    return member


# Profile and privacy


def _clean_phone(phone: str | None) -> str | None:
    phone = (phone or "").strip()
    if phone and not PHONE_RE.match(phone):
        raise MemberError(_l("Please write a phone number with digits only, like 06 12345678."), "phone")
    return phone or None


def _check_area(community_id: int, area: Area | None) -> int | None:
    if area is not None and area.community_id != community_id:
        raise MemberError(_l("Please choose an area from the list."), "area")
    return area.id if area else None


def _on_behalf(actor: Member, member: Member) -> Member | None:
    return member if actor.id != member.id else None


def update_profile(member: Member, *, actor: Member, name: str, bio: str = "", phone: str = "",
                   area: Area | None = None, skills: Iterable[Category] = (), languages: Iterable[str] = (),
                   locale: str | None = None, photo: FileStorage | None = None,
                   remove_photo: bool = False) -> Member:
    """Change what neighbours see about a member; done by the member or for them by a coordinator."""
    skills, languages = list(skills), list(languages)
    if any(c.community_id != member.community_id or c.retired_at for c in skills):
        raise MemberError(_l("Please choose from the list of skills."), "skills")
    if not set(languages) <= set(current_app.config["SPOKEN_LANGUAGES"]):
        raise MemberError(_l("Please choose from the list of languages."), "languages")
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        raise MemberError(_l("Please choose from the list of languages."), "locale")
    member.name = clean_name(name)
    member.bio = clean_text(bio, BIO_MAX, "bio", refusal=MemberError)
    member.phone = _clean_phone(phone)
    member.area_id = _check_area(member.community_id, area)
    member.skills = skills
    member.languages = languages
    member.locale = locale or member.locale
    if photo is not None or remove_photo:
        old = member.photo
        try:
            member.photo = save_image(photo, community_id=member.community_id, owner_id=member.id) if photo else None
        except ImageError as error:
            raise MemberError(str(error), "photo") from None
        if old is not None:
            db.session.flush()
            delete_image(old)
    db.session.flush()
    record("member.profile_updated", actor=actor, on_behalf_of=_on_behalf(actor, member), subject=member)
    return member


def update_privacy(member: Member, *, actor: Member, email_to: str, phone_to: str, balance_to: str) -> Member:
    if not {email_to, phone_to, balance_to} <= set(AUDIENCES):
        raise MemberError(_l("Please choose one of the options."))
    member.show_email_to, member.show_phone_to, member.show_balance_to = email_to, phone_to, balance_to
    db.session.flush()
    record("member.privacy_updated", actor=actor, on_behalf_of=_on_behalf(actor, member), subject=member,
           email=email_to, phone=phone_to, balance=balance_to)
    return member


def directory(community_id: int, *, query: str = "", skill_id: int | None = None, area_id: int | None = None,
              status: str = "active") -> sa.Select:
    """Members of a community matching a name (part), a skill and an area, by name."""
    stmt = sa.select(Member).where(Member.community_id == community_id, Member.status == status)
    query = " ".join((query or "").split())[:NAME_MAX]
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Member.name.ilike(f"%{escaped}%", escape="\\"))
    if skill_id:
        stmt = stmt.where(Member.skills.any(Category.id == skill_id))
    if area_id:
        stmt = stmt.where(Member.area_id == area_id)
    return stmt.order_by(sa.func.lower(Member.name), Member.id)


def done_for(member: Member) -> sa.Select:
    """What others did in the member's name, and what they decided about the member, newest first."""
    return sa.select(AuditEvent).where(sa.or_(
        AuditEvent.on_behalf_of_id == member.id,
        sa.and_(AuditEvent.subject_type == "members", AuditEvent.subject_id == member.id,
                sa.or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != member.id)),
    )).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


# Passwords and sessions


def start_session(member: Member) -> None:
    """A new sign-in for this browser (flushes): `member.get_id()` now names it. Sign-ins older
    than a "keep me logged in" cookie lives are forgotten on the way."""
    secret = secrets.token_urlsafe(24)
    db.session.execute(sa.delete(SignIn).where(SignIn.member_id == member.id,
                                               SignIn.created_at < utcnow() - _sign_in_lifetime()))
    db.session.add(SignIn(member_id=member.id, secret_hash=_secret_hash(secret)))
    db.session.flush()
    member.session_secret = secret


def end_session(member: Member) -> None:
    """Log out this browser only: its session and its "keep me logged in" cookie stop working."""
    db.session.execute(sa.delete(SignIn).where(SignIn.member_id == member.id,
                                               SignIn.secret_hash == _secret_hash(member.session_secret)))
    member.session_secret = ""


def member_of_session(session_id: str) -> Member | None:
    """The member a session or "keep me logged in" cookie belongs to, while its sign-in exists, is
    not too old, and the member is active and has not ended all sessions since."""
    member_id, version, secret = (session_id.split(":") + ["", ""])[:3]
    if not (member_id.isdigit() and version.isdigit() and secret) or int(member_id) > MAX_ID:
        return None
    member = db.session.scalar(sa.select(Member).join(SignIn, SignIn.member_id == Member.id).where(
        Member.id == int(member_id), Member.session_version == int(version), SignIn.secret_hash == _secret_hash(secret),
        SignIn.created_at >= utcnow() - _sign_in_lifetime()))
    if member is None or not member.is_active:
        return None
    member.session_secret = secret
    return member


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _sign_in_lifetime() -> timedelta:
    config = current_app.config
    return max(config["REMEMBER_COOKIE_DURATION"], config["PERMANENT_SESSION_LIFETIME"])


def end_all_sessions(member: Member) -> None:
    """Every session and "keep me logged in" cookie of the member stops working, and so does any
    password-reset link sent before (a changed password must not be changed back with it)."""
    member.session_version += 1
    member.session_secret = ""
    db.session.execute(sa.delete(SignIn).where(SignIn.member_id == member.id))
    db.session.execute(sa.update(MemberToken).where(
        MemberToken.member_id == member.id, MemberToken.purpose == "reset", MemberToken.used_at.is_(None))
        .values(used_at=utcnow()))
    db.session.flush()


def _check_current_password(member: Member, password: str | None) -> None:
    if not verify_password(member.password_hash, password or ""):
        raise WrongPassword(_l("This is not your current password."), "current_password")


def change_password(member: Member, *, current: str, new: str) -> None:
    _check_current_password(member, current)
    check_new_password(new, name=member.name, email=member.email or "", field="new_password")
    member.password_hash = hash_password(new)
    end_all_sessions(member)
    record("member.password_changed", actor=member, subject=member)
    queue_mail(member, "password_changed")


def log_out_everywhere(member: Member) -> None:
    end_all_sessions(member)
    record("member.logged_out_everywhere", actor=member, subject=member)


def request_password_reset(email: str) -> None:
    """Email a reset link if the address belongs to someone who can log in; say nothing otherwise."""
    member = db.session.scalar(sa.select(Member).where(Member.email == (email or "").strip().lower()))
    if member is None or member.status not in ("active", "pending"):
        return
    link = url_for("members.reset_password", token=issue_token(member, "reset"), _external=True)
    queue_mail(member, "password_reset", link=link, minutes=current_app.config["RESET_LINK_MINUTES"])


def reset_password(raw_token: str, new: str) -> Member:
    """Set a new password from an emailed link; a password that is refused leaves the link usable."""
    member = check_token(raw_token, "reset").member
    check_new_password(new, name=member.name, email=member.email or "")
    use_token(raw_token, "reset")
    member.password_hash = hash_password(new)
    end_all_sessions(member)
    record("member.password_reset", actor=member, subject=member)
    queue_mail(member, "password_changed")
    return member


# Changing the email address


def request_email_change(member: Member, new_email: str, password: str) -> str:
    """Send a link to the new address; the account moves only when it is used, which proves the
    address works and is theirs. The old address is told at once, so that a stranger with a
    borrowed session and password cannot move the account away unnoticed."""
    take_write_lock(db.session)
    new_email = clean_email(new_email)
    _check_current_password(member, password)
    if new_email == member.email:
        raise MemberError(_l("This is your email address already."), "email")
    _ensure_email_free(new_email)
    link = url_for("members.confirm_email_change", token=issue_token(member, "email", new_email=new_email),
                   _external=True)
    queue_mail(member, "email_change_confirm", address=new_email, new_email=new_email, link=link,
               hours=current_app.config["EMAIL_CHANGE_LINK_HOURS"])
    queue_mail(member, "email_change_requested", new_email=new_email, **_undo_link(member, member.email))
    record("member.email_change_requested", actor=member, subject=member)
    return new_email


def _undo_link(member: Member, old_email: str) -> dict:
    """The "this was not me" link for a notice to `old_email`, and how many days it works."""
    return {"undo_link": url_for("members.undo_email_change", _external=True,
                                 token=issue_token(member, "undo_email", new_email=old_email)),
            "days": current_app.config["UNDO_EMAIL_CHANGE_LINK_DAYS"]}


def pending_email_change(member: Member) -> MemberToken | None:
    """The member's link for a new address that can still be used, if any."""
    return db.session.scalar(sa.select(MemberToken).where(
        MemberToken.member_id == member.id, MemberToken.purpose == "email", MemberToken.used_at.is_(None),
        MemberToken.expires_at > utcnow()).order_by(MemberToken.id.desc()).limit(1))


def confirm_email_change(raw_token: str) -> Member:
    """Move the account to the address the link was sent to, unless someone took it meanwhile.
    The addresses stay out of the audit log: it outlives an erasure."""
    take_write_lock(db.session)
    token = check_token(raw_token, "email")
    member, new_email, old_email = token.member, token.new_email, token.member.email
    taken = MemberError(_l("Meanwhile another account uses %(email)s, so your address stays as it was.",
                           email=new_email))
    if _email_taken(new_email):
        raise taken
    use_token(raw_token, "email")
    try:
        with db.session.begin_nested():
            member.email, member.email_confirmed_at = new_email, utcnow()
    except IntegrityError:
        raise taken from None
    record("member.email_changed", actor=member, subject=member)
    queue_mail(member, "email_changed", address=old_email, new_email=new_email, **_undo_link(member, old_email))
    return member


def undo_email_change(raw_token: str) -> tuple[Member, str]:
    """"This was not me", from a notice to the old address: cancel the change asked for, or put the
    old address back unless another account took it meanwhile. Whoever asked had the password and
    a session, so either way every session ends, the password stops working and the coordinators
    are told. Returns the member and a password reset token: the link proved the mailbox is theirs.

    Other "this was not me" links of the member that lead back to the same address, or were sent
    after this one, stop working; older ones to other addresses still lead further back."""
    take_write_lock(db.session)
    token = check_token(raw_token, "undo_email")
    member, old_email = token.member, token.new_email
    restore = member.email != old_email
    taken = MemberError(_l("Meanwhile another account uses %(email)s, so we cannot put it back. "
                           "Please ask a coordinator of your neighbourhood for help.", email=old_email))
    if restore and _email_taken(old_email):
        raise taken
    use_token(raw_token, "undo_email")
    now = utcnow()
    db.session.execute(sa.update(MemberToken).where(
        MemberToken.member_id == member.id, MemberToken.used_at.is_(None),
        sa.or_(MemberToken.purpose == "email",
               sa.and_(MemberToken.purpose == "undo_email",
                       sa.or_(MemberToken.id > token.id, MemberToken.new_email == old_email))),
    ).values(used_at=now, new_email=None))
    if restore:
        try:
            with db.session.begin_nested():
                member.email, member.email_confirmed_at = old_email, now
        except IntegrityError:
            raise taken from None
        record("member.email_change_undone", actor=member, subject=member)
    else:
        record("member.email_change_cancelled", actor=member, subject=member)
    member.password_hash = None
    end_all_sessions(member)
    _tell_coordinators(member.community_id, "email_change_disowned", besides=member, owner=member,
                       link=url_for("coordinate.member", member_id=member.id, _external=True))
    return member, issue_token(member, "reset")


# Coordinators' decisions about members


def _require_power_over(actor: Member, member: Member) -> None:
    if not can_manage_member(actor, member):
        if member.role == "coordinator" or member.is_admin:
            raise NotAllowed(_l("%(name)s is a coordinator or administrator: only an administrator can do this.",
                                name=member.name))
        raise NotAllowed(_l("Only another coordinator of this neighbourhood can do this."))


def suspend_member(member: Member, *, actor: Member, reason: str) -> Member:
    """Pause a membership: the member is logged out everywhere and told why."""
    _require_power_over(actor, member)
    reason = clean_text(reason, REASON_MAX, "reason", refusal=MemberError)
    if not reason:
        raise MemberError(_l("Please write down why. The member will see it."), "reason")
    if member.status != "active":
        raise MemberError(_l("Only active members can be paused."))
    member.status = "suspended"
    end_all_sessions(member)
    record("member.suspended", actor=actor, subject=member, reason=reason)
    queue_mail(member, "suspended", reason=reason, community=member.community)
    return member


def reactivate_member(member: Member, *, actor: Member, reason: str = "") -> Member:
    _require_power_over(actor, member)
    reason = clean_text(reason, REASON_MAX, "reason", refusal=MemberError)
    if member.status != "suspended":
        raise MemberError(_l("Only paused members can be let back in."))
    member.status = "active"
    db.session.flush()
    record("member.reactivated", actor=actor, subject=member, reason=reason)
    queue_mail(member, "reactivated", reason=reason, community=member.community,
               link=url_for("members.login", _external=True))
    return member


def set_coordinator(member: Member, *, actor: Member, coordinator: bool) -> Member:
    """The administrator appoints or removes a coordinator. Appointing someone who is still
    waiting to join (with a confirmed address) lets them in: a new community has nobody else."""
    if not can_administer(actor):
        raise NotAllowed(_l("Only an administrator can appoint coordinators."))
    if coordinator:
        if member.status == "pending" and member.email_confirmed_at is not None:
            member.status = "active"
            request = pending_join_request(member)
            if request is not None and request.state in ("unconfirmed", "waiting"):
                request.state, request.decided_at, request.decided_by_id = "approved", utcnow(), actor.id
        if member.status != "active" or member.assisted:
            raise MemberError(_l("Only active members who can log in can become coordinators."), "email")
    member.role = "coordinator" if coordinator else "member"
    db.session.flush()
    record("member.coordinator_appointed" if coordinator else "member.coordinator_removed", actor=actor,
           subject=member, community_id=member.community_id)
    queue_mail(member, "coordinator_appointed" if coordinator else "coordinator_removed", community=member.community)
    return member


# The end of a membership (GDPR art. 17)


def request_erasure(member: Member) -> None:
    """The member asks to be erased; their coordinators get an email and carry it out."""
    if member.erasure_requested_at is not None:
        return
    member.erasure_requested_at = utcnow()
    db.session.flush()
    record("member.erasure_requested", actor=member, subject=member)
    queue_mail(member, "erasure_received", community=member.community)
    _tell_coordinators(member.community_id, "erasure_requested", member_to_erase=member,
                       link=url_for("coordinate.member", member_id=member.id, _external=True))


# What an erased member leaves in other domains (open exchanges, posts, notifications) is let go
# by a hook of each domain, `fn(member, actor)`, listed in timebank/registry.py; they run before
# the profile is wiped.
ERASERS: dict[str, Callable[[Member, Member], None]] = {}


def register_eraser(name: str, eraser: Callable[[Member, Member], None]) -> None:
    """Add a step to every erasure; registering a name again replaces it."""
    ERASERS[name] = eraser


def erase_member(member: Member, *, actor: Member, reason: str = "") -> Member:
    """Delete a member's contact data and profile; the name becomes "former member #N".

    The member's place in the ledger and the audit log stays (by id), so the books still add up;
    what they wrote to others (messages, thank-you notes) stays under the new name. Settling a non-zero balance to the community fund is the caller's step, before this one."""
    _require_power_over(actor, member)
    if member.status == "erased":
        raise MemberError(_l("This member has been erased already."))
    reason = clean_text(reason, REASON_MAX, "reason", refusal=MemberError)
    for eraser in ERASERS.values():
        eraser(member, actor)
    photo = member.photo
    member.name = in_installation_language(_l("Former member #%(number)d", number=member.id))
    member.email = member.email_confirmed_at = member.password_hash = member.phone = None
    member.bio, member.area_id, member.skills, member.languages = "", None, [], []
    member.locale, member.photo, member.erasure_requested_at = None, None, None
    member.show_email_to = member.show_phone_to = member.show_balance_to = "coordinators"
    member.role, member.is_admin, member.status = "member", False, "erased"
    end_all_sessions(member)
    if photo is not None:
        delete_image(photo)
    db.session.execute(sa.delete(MemberToken).where(MemberToken.member_id == member.id))
    db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.member_id == member.id))
    db.session.execute(sa.update(JoinRequest).where(JoinRequest.member_id == member.id).values(reason=""))
    record("member.erased", actor=actor, subject=member, reason=reason)
    return member
