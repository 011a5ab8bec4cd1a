"""GET /api/v1/links: the communities the caller's community trades with (its coordinators).

Links are made and changed on the coordinators' pages and by administrators at the command line;
the API reads them, with what each community owes the other, as the clearing accounts hold it."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate

from timebank.api.auth import token_required
from timebank.api.common import BEARER, api_blueprint, documents_errors
from timebank.communities.models import LINK_STATES
from timebank.communities.services import links_of
from timebank.errors import DomainError
from timebank.ledger import services as ledger
from timebank.permissions import can_coordinate

bp = api_blueprint("api-links", "Links with other communities, for trade between them (coordinators).")


class NotCoordinator(DomainError):
    code = "forbidden"
    status = 403


class LinkedCommunitySchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)


class LinkSchema(Schema):
    id = fields.Integer(required=True)
    community = fields.Nested(
        LinkedCommunitySchema, required=True, metadata={"description": "The community on the other side."}
    )
    state = fields.String(
        required=True,
        validate=validate.OneOf(LINK_STATES),
        metadata={
            "description": "`proposed`: waits for the other side's answer; `active`: members trade; `paused` or "
            "`ended`: no new exchanges, those agreed before still settle."
        },
    )
    proposed_by_us = fields.Boolean(required=True)
    see_posts = fields.Boolean(required=True, metadata={"description": "Members see each other's posts."})
    cap_minutes = fields.Integer(
        required=True, metadata={"description": "The most minutes either community may owe the other on balance."}
    )
    owed_minutes = fields.Integer(
        required=True,
        metadata={
            "description": "What the caller's community owes the other now (negative: what it is owed), in minutes."
        },
    )
    proposal_reason = fields.String(required=True)
    state_reason = fields.String(required=True, metadata={"description": "Why it was last paused, resumed or ended."})
    changed_at = fields.DateTime(required=True)


class LinkListSchema(Schema):
    items = fields.List(fields.Nested(LinkSchema), required=True)


def _shown(link, community_id: int) -> dict:
    clearing = ledger.clearing_account(community_id, link.other_id(community_id))
    return {
        "id": link.id,
        "community": link.other(community_id),
        "state": link.state,
        "proposed_by_us": link.proposer_id == community_id,
        "see_posts": link.see_posts,
        "cap_minutes": link.cap_minutes,
        "owed_minutes": ledger.balance(clearing) if clearing else 0,
        "proposal_reason": link.proposal_reason,
        "state_reason": link.state_reason,
        "changed_at": link.changed_at,
    }


@bp.route("/links")
@token_required
@bp.response(200, LinkListSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403)
def list_links():
    """The caller's community's links, those waiting for an answer first. Coordinators only."""
    community_id = current_user.community_id
    if not can_coordinate(current_user, community_id):
        raise NotCoordinator(_l("Only a coordinator of this community can do this."))
    return {"items": [_shown(link, community_id) for link in links_of(community_id)]}
