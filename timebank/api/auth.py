"""Bearer-token authentication for the API. The API ignores session cookies, so a page in a
browser can never make API calls with a member's cookie (no CSRF through the API)."""

import hashlib
import secrets
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, request
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy.orm import joinedload

from timebank.api.models import ApiToken
from timebank.db import utcnow
from timebank.errors import error_response
from timebank.extensions import db
from timebank.members.models import Member

TOKEN_PREFIX = "tb_"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(member: Member) -> tuple[ApiToken, str]:
    """A new token for `member`; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        member=member,
        token_hash=token_hash(raw),
        session_version=member.session_version,
        expires_at=utcnow() + current_app.config["API_TOKEN_LIFETIME"],
    )
    db.session.add(token)
    db.session.flush()
    return token, raw


# Built once, with the member: every API request asks it first.
_TOKEN = (
    sa.select(ApiToken).where(ApiToken.token_hash == sa.bindparam("token_hash")).options(joinedload(ApiToken.member))
)


def valid_token(raw: str) -> ApiToken | None:
    token = db.session.scalar(_TOKEN, {"token_hash": token_hash(raw)})
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    if not token.member.is_active or token.member.session_version != token.session_version:
        return None
    return token


def revoke(token: ApiToken) -> None:
    token.revoked_at = utcnow()
    db.session.flush()


def bearer_token() -> ApiToken | None:
    """The valid token this request carries, if any; looked up once, by whichever asks first
    (the rate limiter runs before the authentication hook)."""
    if "api_token" not in g:
        scheme, _sep, raw = (request.headers.get("Authorization") or "").partition(" ")
        raw = raw.strip()
        g.api_token = valid_token(raw) if scheme.lower() == "bearer" and raw else None
    return g.api_token


def authenticate():
    """Before every API request: the bearer token decides who is calling, never a cookie."""
    g._login_user = AnonymousUserMixin()
    token = bearer_token()
    if token is None:
        return unauthorized() if request.headers.get("Authorization") else None
    g._login_user = token.member
    return None


def unauthorized():
    return error_response(401, headers={"WWW-Authenticate": 'Bearer realm="timebank"'})


def token_required(view):
    """Refuse anonymous calls with 401."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return unauthorized()
        return view(*args, **kwargs)

    return wrapper


def rate_limit_key() -> str:
    """API rate limits count per token, or per address for calls without a valid one."""
    token = bearer_token()
    return f"token:{token.id}" if token else f"address:{request.remote_addr}"
