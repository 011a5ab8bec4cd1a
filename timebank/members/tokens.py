"""Single-use links sent by email: only a hash is stored, each works once and expires."""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member, MemberToken

# Each notice to an old address keeps its "this was not me" link for the link's whole life: a
# second change of address must not silence the notice about the first.
OUTLIVE_NEWER_LINKS = {"undo_email"}


class TokenError(ValueError):
    """The link cannot be used; the message says why in plain words."""


def _lifetime(purpose: str) -> timedelta:
    if purpose == "confirm":
        return timedelta(hours=current_app.config["CONFIRM_LINK_HOURS"])
    if purpose == "email":
        return timedelta(hours=current_app.config["EMAIL_CHANGE_LINK_HOURS"])
    if purpose == "undo_email":
        return timedelta(days=current_app.config["UNDO_EMAIL_CHANGE_LINK_DAYS"])
    return timedelta(minutes=current_app.config["RESET_LINK_MINUTES"])


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def issue_token(member: Member, purpose: str, *, new_email: str | None = None) -> str:
    """A new link for `member`; older unused links for the same purpose stop working and forget
    the address they were for (except OUTLIVE_NEWER_LINKS)."""
    now = utcnow()
    if purpose not in OUTLIVE_NEWER_LINKS:
        db.session.execute(
            sa.update(MemberToken)
            .where(MemberToken.member_id == member.id, MemberToken.purpose == purpose, MemberToken.used_at.is_(None))
            .values(used_at=now, new_email=None)
        )
    raw = secrets.token_urlsafe(32)
    db.session.add(
        MemberToken(
            member_id=member.id,
            purpose=purpose,
            token_hash=_digest(raw),
            new_email=new_email,
            created_at=now,
            expires_at=now + _lifetime(purpose),
        )
    )
    db.session.flush()
    return raw


def check_token(raw: str, purpose: str) -> MemberToken:
    """The token behind a link that can still be used; TokenError otherwise. Uses nothing up."""
    token = db.session.scalar(
        sa.select(MemberToken).where(MemberToken.token_hash == _digest(raw), MemberToken.purpose == purpose)
    )
    if token is None:
        raise TokenError(_l("This link does not work. Please check that you used the whole link from the email."))
    if token.used_at is not None:
        raise TokenError(_l("This link was used already. Each link works only once."))
    if token.expires_at <= utcnow():
        raise TokenError(_l("This link has expired."))
    return token


def use_token(raw: str, purpose: str) -> Member:
    """Use a link up and return its member. Of two clicks at the same moment, only one succeeds."""
    token = check_token(raw, purpose)
    used = db.session.execute(
        sa.update(MemberToken)
        .where(MemberToken.id == token.id, MemberToken.used_at.is_(None))
        .values(used_at=utcnow(), new_email=None)
    )
    if used.rowcount != 1:
        raise TokenError(_l("This link was used already. Each link works only once."))
    return db.session.get(Member, token.member_id)


def forget_old_links(keep_days: int) -> int:
    """Expired links forget the address they were for at once, and are deleted `keep_days` after
    they expired (until then an old link still says "expired" rather than "does not work").
    Returns how many were deleted."""
    now = utcnow()
    db.session.execute(
        sa.update(MemberToken)
        .where(MemberToken.expires_at <= now, MemberToken.new_email.is_not(None))
        .values(new_email=None)
    )
    result = db.session.execute(sa.delete(MemberToken).where(MemberToken.expires_at < now - timedelta(days=keep_days)))
    return result.rowcount or 0
