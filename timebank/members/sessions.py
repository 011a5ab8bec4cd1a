"""Signing in and out: one row per logged-in browser, passwords and password resets."""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from timebank.audit.services import record
from timebank.communities.models import Community
from timebank.db import MAX_ID, utcnow
from timebank.extensions import db
from timebank.mail.services import queue_mail
from timebank.members.models import Member, MemberToken, SignIn
from timebank.members.passwords import hash_password, verify_password
from timebank.members.rules import WrongPassword, check_new_password
from timebank.members.tokens import check_token, issue_token, use_token


def start_session(member: Member) -> None:
    """A new sign-in for this browser (flushes): `member.get_id()` now names it. Sign-ins older
    than a "keep me logged in" cookie lives are forgotten on the way."""
    secret = secrets.token_urlsafe(24)
    db.session.execute(
        sa.delete(SignIn).where(SignIn.member_id == member.id, SignIn.created_at < utcnow() - _sign_in_lifetime())
    )
    db.session.add(SignIn(member_id=member.id, secret_hash=_secret_hash(secret)))
    db.session.flush()
    member.session_secret = secret


def end_session(member: Member) -> None:
    """Log out this browser only: its session and its "keep me logged in" cookie stop working."""
    db.session.execute(
        sa.delete(SignIn).where(
            SignIn.member_id == member.id, SignIn.secret_hash == _secret_hash(member.session_secret)
        )
    )
    member.session_secret = ""


# Built once: every request of a logged-in member runs it, and building it cost as much as running it.
# The member's community comes in the same row: nearly every page reads `member.community`, which is
# set from it without asking the database again. (Selected beside the member and set by hand, not a
# loader option: a locking refresh of the member would repeat such an option, joins and all.)
_MEMBER_OF_SESSION = (
    sa.select(Member, Community)
    .join(Community, Community.id == Member.community_id)
    .join(SignIn, SignIn.member_id == Member.id)
    .where(
        Member.id == sa.bindparam("member_id"),
        Member.session_version == sa.bindparam("version"),
        SignIn.secret_hash == sa.bindparam("secret_hash"),
        SignIn.created_at >= sa.bindparam("since"),
    )
)


def member_of_session(session_id: str) -> Member | None:
    """The member a session or "keep me logged in" cookie belongs to, while its sign-in exists, is
    not too old, and the member is active and has not ended all sessions since."""
    member_id, version, secret = (session_id.split(":") + ["", ""])[:3]
    if not (member_id.isdigit() and version.isdigit() and secret) or int(member_id) > MAX_ID:
        return None
    row = db.session.execute(
        _MEMBER_OF_SESSION,
        {
            "member_id": int(member_id),
            "version": int(version),
            "secret_hash": _secret_hash(secret),
            "since": utcnow() - _sign_in_lifetime(),
        },
    ).first()
    if row is None or not row.Member.is_active:
        return None
    member = row.Member
    set_committed_value(member, "community", row.Community)
    member.session_secret = secret
    return member


def forget_expired_sign_ins() -> int:
    """Delete the sign-ins no cookie can use any more; returns how many. `start_session` does it
    for one member; this catches the members who never sign in again."""
    result = db.session.execute(sa.delete(SignIn).where(SignIn.created_at < utcnow() - _sign_in_lifetime()))
    return result.rowcount or 0


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
    db.session.execute(
        sa.update(MemberToken)
        .where(MemberToken.member_id == member.id, MemberToken.purpose == "reset", MemberToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
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
