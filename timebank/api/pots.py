"""Personal pots over the API, with the same services and rules as the pots pages."""

from flask_login import current_user
from marshmallow import Schema, fields

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PATH_ID, StrictInteger, Text, api_blueprint, documents_errors
from timebank.api.idempotency import ledger_key, writes
from timebank.pots import services
from timebank.pots.common import common_pot
from timebank.pots.services import MAX_GOAL_MINUTES, NAME_MAX

bp = api_blueprint("api-pots", "Personal pots: hours a member saves towards a goal of their own.")


class NewPot(Schema):
    name = Text(required=True, metadata={"description": f"What the member saves for; at most {NAME_MAX} characters."})
    goal_minutes = StrictInteger(required=True, metadata={"description": f"1 to {MAX_GOAL_MINUTES} minutes."})


class Minutes(Schema):
    minutes = StrictInteger(required=True, metadata={"description": "Whole minutes, more than 0."})


class PotSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    goal_minutes = fields.Integer(required=True)
    balance_minutes = fields.Integer(required=True, attribute="balance")
    share_percent = fields.Integer(metadata={"description": "Share of each payment that goes in by itself."})


class GrantSchema(Schema):
    created_at = fields.DateTime(required=True, attribute="when")
    to = fields.String(allow_none=True, metadata={"description": "The member's name; null for a former member."})
    minutes = fields.Integer(required=True)
    memo = fields.String(required=True)
    proposal_id = fields.Function(
        lambda grant: grant.proposal.id if grant.proposal else None,
        allow_none=True,
        metadata={"description": "The members' decision that granted it; null when a coordinator gave it."},
    )


BY_KIND = (
    "Minutes by the kind of ledger transaction: exchange (the community's share of each exchange), donation, "
    "levy (a contribution to the fund), grant, reversal, adjustment (a leaving member's balance settled)."
)


class CommonPotSchema(Schema):
    balance_minutes = fields.Integer(required=True, attribute="balance")
    since = fields.Date(
        required=True, metadata={"description": "The first day of the twelve months counted (the community's days)."}
    )
    came_in = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": BY_KIND})
    went_out = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": BY_KIND})
    grants = fields.List(fields.Nested(GrantSchema), metadata={"description": "The latest twenty, newest first."})


@bp.route("/pots/common", methods=["GET"])
@token_required
@bp.response(200, CommonPotSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401)
def common():
    """The community fund as every member sees it: what it holds, what came in and went out over the
    last twelve months, and what was granted, by whose decision."""
    return common_pot(current_user.community_id)


@bp.route("/pots", methods=["GET"])
@token_required
@bp.response(200, PotSchema(many=True))
@bp.doc(security=BEARER)
@documents_errors(bp, 401)
def list_pots():
    """The caller's open pots, oldest first."""
    return services.pots_of(current_user)


@bp.route("/pots", methods=["POST"])
@token_required
@writes
@bp.arguments(NewPot, example={"name": "A sewing course", "goal_minutes": 600})
@bp.response(201, PotSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 422)
def create(body):
    """Open a pot (at most ten at a time)."""
    return services.open_pot(current_user._get_current_object(), body["name"], body["goal_minutes"])


def _moved(pot_id: int, minutes: int, service):
    member = current_user._get_current_object()
    pot = services.pot_for(member, pot_id)
    service(pot, member, minutes, request_key=ledger_key())
    return pot


@bp.route(f"/pots/<{PATH_ID}:pot_id>/deposit", methods=["POST"])
@token_required
@writes
@bp.arguments(Minutes, example={"minutes": 60})
@bp.response(200, PotSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def deposit(body, pot_id):
    """Move minutes from the caller's account into the pot. The account's floor applies (409)."""
    return _moved(pot_id, body["minutes"], services.deposit)


@bp.route(f"/pots/<{PATH_ID}:pot_id>/withdraw", methods=["POST"])
@token_required
@writes
@bp.arguments(Minutes, example={"minutes": 30})
@bp.response(200, PotSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def withdraw(body, pot_id):
    """Move minutes from the pot back to the caller's account. A pot never goes below zero and the
    account's ceiling applies (409 `limit_exceeded`)."""
    return _moved(pot_id, body["minutes"], services.withdraw)
