"""Changing the email address: a link to the new address, and a "this was not me" link to the old
one that undoes it."""

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from timebank.audit.services import record
from timebank.db import take_write_lock, utcnow
from timebank.extensions import db
from timebank.mail.services import queue_mail
from timebank.members.models import Member, MemberToken
from timebank.members.rules import MemberError, _email_taken, _ensure_email_free, _tell_coordinators, clean_email
from timebank.members.sessions import _check_current_password, end_all_sessions
from timebank.members.tokens import check_token, issue_token, use_token


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
    link = url_for(
        "members.confirm_email_change", token=issue_token(member, "email", new_email=new_email), _external=True
    )
    queue_mail(
        member,
        "email_change_confirm",
        address=new_email,
        new_email=new_email,
        link=link,
        hours=current_app.config["EMAIL_CHANGE_LINK_HOURS"],
    )
    queue_mail(member, "email_change_requested", new_email=new_email, **_undo_link(member, member.email))
    record("member.email_change_requested", actor=member, subject=member)
    return new_email


def _undo_link(member: Member, old_email: str) -> dict:
    """The "this was not me" link for a notice to `old_email`, and how many days it works."""
    return {
        "undo_link": url_for(
            "members.undo_email_change", _external=True, token=issue_token(member, "undo_email", new_email=old_email)
        ),
        "days": current_app.config["UNDO_EMAIL_CHANGE_LINK_DAYS"],
    }


def pending_email_change(member: Member) -> MemberToken | None:
    """The member's link for a new address that can still be used, if any."""
    return db.session.scalar(
        sa.select(MemberToken)
        .where(
            MemberToken.member_id == member.id,
            MemberToken.purpose == "email",
            MemberToken.used_at.is_(None),
            MemberToken.expires_at > utcnow(),
        )
        .order_by(MemberToken.id.desc())
        .limit(1)
    )


def confirm_email_change(raw_token: str) -> Member:
    """Move the account to the address the link was sent to, unless someone took it meanwhile.
    The addresses stay out of the audit log: it outlives an erasure."""
    take_write_lock(db.session)
    token = check_token(raw_token, "email")
    member, new_email, old_email = token.member, token.new_email, token.member.email
    taken = MemberError(
        _l("Meanwhile another account uses %(email)s, so your address stays as it was.", email=new_email)
    )
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
    """ "This was not me", from a notice to the old address: cancel the change asked for, or put the
    old address back unless another account took it meanwhile. Whoever asked had the password and
    a session, so either way every session ends, the password stops working and the coordinators
    are told. Returns the member and a password reset token: the link proved the mailbox is theirs.

    Other "this was not me" links of the member that lead back to the same address, or were sent
    after this one, stop working; older ones to other addresses still lead further back."""
    take_write_lock(db.session)
    token = check_token(raw_token, "undo_email")
    member, old_email = token.member, token.new_email
    restore = member.email != old_email
    taken = MemberError(
        _l(
            "Meanwhile another account uses %(email)s, so we cannot put it back. "
            "Please ask a coordinator of your neighbourhood for help.",
            email=old_email,
        )
    )
    if restore and _email_taken(old_email):
        raise taken
    use_token(raw_token, "undo_email")
    now = utcnow()
    db.session.execute(
        sa.update(MemberToken)
        .where(
            MemberToken.member_id == member.id,
            MemberToken.used_at.is_(None),
            sa.or_(
                MemberToken.purpose == "email",
                sa.and_(
                    MemberToken.purpose == "undo_email",
                    sa.or_(MemberToken.id > token.id, MemberToken.new_email == old_email),
                ),
            ),
        )
        .values(used_at=now, new_email=None)
    )
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
    _tell_coordinators(
        member.community_id,
        "email_change_disowned",
        besides=member,
        owner=member,
        link=url_for("coordinate.member", member_id=member.id, _external=True),
    )
    return member, issue_token(member, "reset")
