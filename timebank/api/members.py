"""GET /api/v1/members/{id}: a member's profile, as the profile page shows it to the caller.

Email, phone and balance follow the member's privacy choices (the predicates of
timebank/permissions.py): always present, null when the caller may not see them. Members of
other communities, and members who are not active, are 404 as if they did not exist."""

from flask import abort
from flask_babel import get_locale
from flask_login import current_user
from marshmallow import Schema, fields, validate

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PATH_ID, api_blueprint, documents_errors
from timebank.api.images import photo_url
from timebank.api.me import AreaSchema
from timebank.extensions import db
from timebank.ledger.position import balance_of
from timebank.members.models import ROLES, Member
from timebank.moderation.models import is_hidden
from timebank.permissions import can_see_balance, can_see_email, can_see_phone, is_member_of

bp = api_blueprint("profiles", "Profiles of the members of the caller's community.")


class SkillSchema(Schema):
    id = fields.Integer(required=True, metadata={"description": "A category id."})
    name = fields.String(required=True, metadata={"description": "In the caller's language."})


class ProfileSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    area = fields.Nested(AreaSchema, required=True, allow_none=True)
    bio = fields.String(required=True)
    skills = fields.List(fields.Nested(SkillSchema), required=True, metadata={"description": "Can help with."})
    languages = fields.List(fields.String(), required=True, metadata={"description": "Language codes, e.g. `nl`."})
    photo_url = fields.String(
        required=True, allow_none=True, metadata={"description": "GET it with the bearer token; null without a photo."}
    )
    email = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "null unless the member shows it to the caller (themself and their coordinators "
            "always; the community if the member chose so) and has one."
        },
    )
    phone = fields.String(required=True, allow_none=True, metadata={"description": "As `email`."})
    balance_minutes = fields.Integer(required=True, allow_none=True, metadata={"description": "As `email`."})


@bp.route(f"/members/<{PATH_ID}:member_id>")
@token_required
@bp.response(200, ProfileSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 404)
def member_profile(member_id: int):
    """A member of the caller's community."""
    member = db.get_or_404(Member, member_id)
    if not is_member_of(current_user, member.community_id) or member.status != "active":
        abort(404)
    locale = str(get_locale())
    hidden = member.id != current_user.id and is_hidden("profile", member.id)  # a coordinator hid it
    return {
        "id": member.id,
        "name": member.name,
        "role": member.role,
        "area": member.area,
        "bio": "" if hidden else member.bio,
        "skills": [{"id": c.id, "name": c.name(locale)} for c in member.skills],
        "languages": member.languages,
        "photo_url": None if hidden else photo_url(member.photo_id),
        "email": member.email if can_see_email(current_user, member) else None,
        "phone": member.phone if can_see_phone(current_user, member) else None,
        "balance_minutes": balance_of(member) if can_see_balance(current_user, member) else None,
    }
