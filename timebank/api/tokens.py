"""POST /api/v1/tokens and DELETE /api/v1/tokens/current."""

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from timebank.api.auth import issue_token, revoke, token_required
from timebank.api.common import BEARER, api_blueprint, documents_errors
from timebank.api.idempotency import writes
from timebank.errors import DomainError
from timebank.extensions import db
from timebank.members.login_limits import (
    forget_failures,
    limit_failed_logins,
    please_wait,
    record_failed_login,
    wait_before_trying,
)
from timebank.members.models import Member
from timebank.members.passwords import verify_password
from timebank.members.sign_in_log import log_sign_in

bp = api_blueprint("tokens", "Sign in: exchange an email address and password for a bearer token.")


class Credentials(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class NewToken(Schema):
    token = fields.String(required=True, metadata={"description": "Send as `Authorization: Bearer <token>`."})
    expires_at = fields.DateTime(required=True)


class LoginRefused(DomainError):
    code = "invalid_credentials"
    status = 401


class TooManyAttempts(DomainError):
    code = "too_many_requests"
    status = 429


@bp.route("/tokens", methods=["POST"])
@limit_failed_logins
@bp.arguments(Credentials)
@bp.response(201, NewToken)
@documents_errors(bp, 400, 401, 422)
def create_token(credentials):
    """Get a bearer token. Wrong credentials count towards a limit per account and per address.

    An Idempotency-Key header is ignored here: every call signs in anew and gets a token of its
    own. Replaying a stored answer would mean keeping a usable token in the database, and handing
    it to whoever sends the same key."""
    email = credentials["email"].strip().lower()
    member = db.session.scalar(sa.select(Member).where(Member.email == email))
    if (wait := wait_before_trying(email)) is not None:
        log_sign_in(member, "refused", "api")
        db.session.commit()
        raise TooManyAttempts(please_wait(wait))
    if member is None or not verify_password(member.password_hash, credentials["password"]):
        record_failed_login(email)
        log_sign_in(member, "failed", "api")
        db.session.commit()  # the count stays, though the call is refused
        raise LoginRefused(_("That email address and password do not match."))
    if not member.is_active:
        raise LoginRefused(_("This account cannot log in. Please contact a coordinator."))
    forget_failures(email)
    log_sign_in(member, "signed_in", "api")
    token, raw = issue_token(member)
    db.session.commit()
    return {"token": raw, "expires_at": token.expires_at}


@bp.route("/tokens/current", methods=["DELETE"])
@token_required
@writes
@bp.response(204)
@bp.doc(security=BEARER)
@documents_errors(bp, 401)
def revoke_current_token():
    """Sign out: this token stops working at once."""
    revoke(g.api_token)
