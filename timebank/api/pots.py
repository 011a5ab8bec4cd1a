"""Personal pots over the API, with the same services and rules as the pots pages."""

import hashlib

from flask import request
from flask_login import current_user
from marshmallow import Schema, fields

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PATH_ID, StrictInteger, Text, api_blueprint, documents_errors
from timebank.api.idempotency import writes
from timebank.pots import services
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


def _ledger_key() -> str | None:
    """The caller's Idempotency-Key as the ledger's request key: a retry moves the hours once."""
    key = request.headers.get("Idempotency-Key")
    return f"api-{hashlib.sha256(key.encode()).hexdigest()[:40]}" if key else None


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
    service(pot, member, minutes, request_key=_ledger_key())
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
