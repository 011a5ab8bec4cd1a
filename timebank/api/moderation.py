"""Reporting content and blocking members over the API, with the same services and rules as the
pages: a report joins the item's case for the coordinators; a block hides each other's posts and
stops new exchanges and messages between the two."""

from flask import abort
from flask_login import current_user
from marshmallow import Schema, fields, validate

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PATH_ID, Text, api_blueprint, documents_errors, id_field
from timebank.api.idempotency import writes
from timebank.extensions import db
from timebank.members.models import Member
from timebank.moderation import blocks, services
from timebank.moderation.models import ITEM_TYPES, REASONS
from timebank.permissions import is_member_of

bp = api_blueprint("api-moderation", "Reporting content to the coordinators, and blocking a member.")


class NewReport(Schema):
    item_type = fields.String(required=True, validate=validate.OneOf(ITEM_TYPES))
    item_id = id_field(required=True, metadata={"description": "The post, message, member or thank-you note."})
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    text = Text(
        load_default="",
        metadata={"description": f"At most {services.TEXT_MAX} characters; needed when the reason is `other`."},
    )


class ReportSchema(Schema):
    id = fields.Integer(required=True)
    item_type = fields.String(required=True)
    reason = fields.String(required=True)
    outcome = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "null until a coordinator decided: then hide, restore, warn, suspend or dismiss."},
    )


class BlockSchema(Schema):
    member_id = fields.Integer(required=True)
    blocked = fields.Boolean(required=True)


@bp.route("/reports", methods=["POST"])
@token_required
@writes
@bp.arguments(NewReport, example={"item_type": "post", "item_id": 7, "reason": "spam", "text": ""})
@bp.response(201, ReportSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 404, 422)
def report(body):
    """Report something of a neighbour's that the caller can see; 404 for anything else."""
    filed = services.report(
        current_user._get_current_object(), body["item_type"], body["item_id"], body["reason"], body["text"]
    )
    return {"id": filed.id, "item_type": filed.case.item_type, "reason": filed.reason, "outcome": filed.outcome}


def _neighbour(member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None or not is_member_of(current_user, member.community_id) or member.status == "erased":
        abort(404)
    return member


@bp.route(f"/members/<{PATH_ID}:member_id>/block", methods=["POST"])
@token_required
@writes
@bp.response(200, BlockSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 404, 422)
def block(member_id: int):
    """Block a member of the caller's community; they are not told."""
    blocks.block(current_user._get_current_object(), _neighbour(member_id))
    return {"member_id": member_id, "blocked": True}


@bp.route(f"/members/<{PATH_ID}:member_id>/block", methods=["DELETE"])
@token_required
@writes
@bp.response(200, BlockSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 404)
def unblock(member_id: int):
    blocks.unblock(current_user._get_current_object(), _neighbour(member_id).id)
    return {"member_id": member_id, "blocked": False}
