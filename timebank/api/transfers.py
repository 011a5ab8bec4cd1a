"""POST /api/v1/transfers: give hours to a neighbour as a thank-you, or donate them to the
community fund, as the "Give hours" page does (the same service, the same rules).

The Idempotency-Key, if sent, also becomes the ledger's request key (per member), so even a retry
the stored answer no longer covers moves the hours once."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from timebank.api.auth import token_required
from timebank.api.common import BEARER, StrictInteger, Text, api_blueprint, documents_errors, id_field
from timebank.api.idempotency import ledger_key, writes
from timebank.exchanges.errors import ExchangeError
from timebank.exchanges.services import REASON_MAX
from timebank.exchanges.transfers import give_hours
from timebank.extensions import db
from timebank.ledger.errors import MAX_MINUTES, InvalidAmount
from timebank.members.models import Member

bp = api_blueprint("transfers", "Hours given outside an exchange: to a neighbour, or to the community fund.")

FUND = "community-fund"


class NewTransfer(Schema):
    to_member_id = id_field(metadata={"description": "An active member of the caller's community. Or give `to`."})
    to = fields.String(validate=validate.OneOf((FUND,)), metadata={"description": "The community fund."})
    minutes = StrictInteger(required=True, metadata={"description": f"Whole minutes, 1 to {MAX_MINUTES}."})
    memo = Text(load_default="", metadata={"description": f"A few words; at most {REASON_MAX} characters."})

    @validates_schema
    def one_receiver(self, data, **kwargs):
        if ("to_member_id" in data) == ("to" in data):
            raise ValidationError(
                str(_l('Please give one of to_member_id (a neighbour) or to: "community-fund".')), "to_member_id"
            )


class TransferSchema(Schema):
    transaction_id = fields.Integer(required=True, attribute="id")


@bp.route("/transfers", methods=["POST"])
@token_required
@writes
@bp.arguments(NewTransfer, example={"to_member_id": 2, "minutes": 30, "memo": "Thank you for the soup!"})
@bp.response(201, TransferSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 409, 422)
def give(body):
    """Give hours: one ledger transaction from the caller's balance.

    The neighbour gets a message. A balance limit that refuses (the caller's floor, or the
    neighbour's ceiling) is 409 `limit_exceeded`, saying the limit and how much still fits; a
    paused or closed account is 409 `account_closed`. Nothing moves then."""
    giver = current_user._get_current_object()
    to = None
    if "to_member_id" in body:
        to = db.session.get(Member, body["to_member_id"])
        if to is None or to.community_id != giver.community_id or to.status != "active":
            raise ExchangeError(_l("There is no member with this number in your neighbourhood."), "to_member_id")
    try:
        return give_hours(giver, to, body["minutes"], body["memo"], actor=giver, idempotency_key=ledger_key())
    except InvalidAmount as refusal:
        refusal.field = "minutes"
        raise
    except ExchangeError as refusal:
        if refusal.field == "to":
            refusal.field = "to_member_id"
        raise
