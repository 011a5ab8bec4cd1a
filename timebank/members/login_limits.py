"""Failed sign-ins, on the web and in the API alike.

Per address, a limit (Flask-Limiter): one address guessing passwords is stopped. Per account, a
growing delay kept in the database (shared by every worker and server): after a few wrong
passwords each next try must wait longer — but the right password from a browser the member has
signed in with before (a known device) always passes, so guessing from many addresses can slow a
thief down without locking the real member out."""

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from timebank.db import utcnow
from timebank.extensions import db, limiter
from timebank.i18n import format_minutes
from timebank.members.models import LoginFailures, Member

FREE_FAILURES = 5  # wrong passwords before the account asks to wait
FIRST_DELAY = timedelta(minutes=1)  # doubling with every further wrong password
MAX_DELAY = timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)  # a day without wrong passwords starts the count afresh
DEVICE_COOKIE = "tb_device"
DEVICE_COOKIE_DAYS = 365


def _key(email: str) -> str:
    return hashlib.sha256(f"login:{email.strip().lower()}".encode()).hexdigest()


def wait_before_trying(email: str) -> timedelta | None:
    """How long this account still asks to wait before another password may be tried, if at all."""
    row = db.session.get(LoginFailures, _key(email))
    if row is None or row.failures < FREE_FAILURES:
        return None
    delay = min(FIRST_DELAY * 2 ** min(row.failures - FREE_FAILURES, 10), MAX_DELAY)
    left = row.last_failed_at + delay - utcnow()
    return left if left > timedelta(0) else None


def record_failed_login(email: str | None = None) -> None:
    """A wrong password: counts towards the address's limit and, for `email`, the account's delay
    (flushed; the caller commits, also when it then refuses)."""
    g.login_failed = True
    if not email:
        return
    now = utcnow()
    key = _key(email)
    row = db.session.get(LoginFailures, key, with_for_update=True)
    if row is None:
        db.session.add(LoginFailures(key_hash=key, failures=1, last_failed_at=now))
    else:
        row.failures = 1 if now - row.last_failed_at > FORGET_AFTER else row.failures + 1
        row.last_failed_at = now
    db.session.flush()


def forget_failures(email: str) -> None:
    """The right password: the account's count starts afresh."""
    db.session.execute(sa.delete(LoginFailures).where(LoginFailures.key_hash == _key(email)))


def please_wait(left: timedelta) -> str:
    return _(
        "Too many wrong passwords for this account. Please wait %(time)s and try again, or ask for a new password.",
        time=format_minutes(max(1, -(-int(left.total_seconds()) // 60))),
    )


# Known devices: a browser the member signed in with gets a long-lived signed cookie.


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="known-device")


def is_known_device(member: Member | None) -> bool:
    if member is None:
        return False
    try:
        return _devices().loads(request.cookies.get(DEVICE_COOKIE, "")) == member.id
    except BadSignature:
        return False


def remember_device(response, member: Member):
    response.set_cookie(
        DEVICE_COOKIE,
        _devices().dumps(member.id),
        max_age=DEVICE_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response


# Per address (and, on settings pages, per logged-in member), with Flask-Limiter.


def _failed(_response) -> bool:
    return g.get("login_failed", False)


def _limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


def _too_many_attempts() -> str:
    return _("Too many failed attempts to log in. Please wait 15 minutes and try again, or ask for a new password.")


def _logged_in_member_key() -> str:
    return f"member:{getattr(current_user, 'id', '')}"


def limit_failed_logins(view):
    """Wrong passwords per address; the account's delay is the view's (see `wait_before_trying`)."""
    return limiter.shared_limit(
        _limit,
        "login-address",
        key_func=get_remote_address,
        methods=["POST"],
        deduct_when=_failed,
        error_message=_too_many_attempts,
    )(view)


def limit_failed_password_checks(view):
    """For pages where a logged-in member types their password again: wrong guesses count per
    address and per member (only the member's own session can use up the latter)."""
    for key_func, scope in ((_logged_in_member_key, "password-check-member"), (get_remote_address, "login-address")):
        view = limiter.shared_limit(
            _limit, scope, key_func=key_func, methods=["POST"], deduct_when=_failed, error_message=_too_many_attempts
        )(view)
    return view
