"""GET /api/v1/accounts/me and GET /api/v1/accounts/me/entries: the caller's hours, as on the
"My account" page. A member who never exchanged has no account yet; these calls answer as if it
were empty and create nothing (a GET writes nothing)."""

import sqlalchemy as sa
from flask_login import current_user
from marshmallow import Schema, fields, validate

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PageArgs, api_blueprint, documents_errors, envelope, page_of
from timebank.extensions import db
from timebank.ledger.models import ACCOUNT_STATUSES, TRANSACTION_KINDS, Posting
from timebank.ledger.position import member_account
from timebank.ledger.services import account_for, statement, summary

bp = api_blueprint("accounts", "The caller's balance, limits and statement, in minutes.")


class AccountSchema(Schema):
    id = fields.Integer(required=True, allow_none=True, metadata={"description": "null until the first hours move."})
    balance_minutes = fields.Integer(required=True)
    floor_minutes = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The balance may not go below this (usually negative); null: no limit."},
    )
    ceiling_minutes = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The balance may not go above this; null: no limit."}
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(ACCOUNT_STATUSES),
        metadata={"description": "Only an `open` account takes and gives hours."},
    )


class EntrySchema(Schema):
    transaction_id = fields.Integer(required=True)
    amount_minutes = fields.Integer(
        required=True, attribute="amount", metadata={"description": "Positive: received; negative: paid."}
    )
    balance_after_minutes = fields.Integer(required=True, attribute="balance_after")
    kind = fields.String(required=True, validate=validate.OneOf(TRANSACTION_KINDS))
    memo = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    counterparties = fields.List(
        fields.String(),
        required=True,
        attribute="others",
        metadata={"description": "Who was on the other side: member names, or the community fund."},
    )
    reverses_transaction_id = fields.Integer(
        required=True,
        allow_none=True,
        attribute="reverses_id",
        metadata={"description": "This entry undoes that transaction."},
    )
    reversed_by_transaction_id = fields.Integer(
        required=True,
        allow_none=True,
        attribute="reversed_by_id",
        metadata={"description": "That transaction undid this one."},
    )


@bp.route("/accounts/me")
@token_required
@bp.response(200, AccountSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401)
def my_account():
    """The caller's balance and the limits it must stay within."""
    account = member_account(current_user._get_current_object())
    position = summary(account)
    return {
        "id": account.id,
        "balance_minutes": position.balance,
        "floor_minutes": position.floor,
        "ceiling_minutes": position.ceiling,
        "status": account.status,
    }


@bp.route("/accounts/me/entries")
@token_required
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_of(EntrySchema))
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 422)
def my_entries(args):
    """The caller's statement, newest first: one entry per transaction that moved their hours."""
    account = account_for(current_user, create=False)
    if account is None:
        return envelope([], args, 0)
    postings = sa.select(Posting.id).where(Posting.account_id == account.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(postings.subquery()))
    skip = (args["page"] - 1) * args["per_page"]
    if skip >= total:
        return envelope([], args, total)
    # The ledger's own statement, from just below the last entry of the page before.
    before = db.session.scalar(postings.order_by(Posting.id.desc()).offset(skip - 1).limit(1)) if skip else None
    return envelope(statement(account, before=before, limit=args["per_page"]), args, total)
