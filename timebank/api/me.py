"""GET /api/v1/me and GET /api/v1/categories."""

import sqlalchemy as sa
from flask_babel import get_locale
from flask_login import current_user
from marshmallow import Schema, fields

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PageArgs, api_blueprint, documents_errors, page_of, paginate
from timebank.communities.models import Category

bp = api_blueprint("me", "Who is calling, and the categories of their community.")


class CommunitySchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)


class AreaSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ["member", "coordinator"]})
    locale = fields.String(required=True, allow_none=True)
    community = fields.Nested(CommunitySchema, required=True)


class CategorySchema(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.Method("localised_name", required=True, metadata={"description": "In the caller's language."})
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    retired = fields.Method("is_retired", required=True)

    def localised_name(self, category: Category) -> str:
        return category.name(str(get_locale()))

    def is_retired(self, category: Category) -> bool:
        return category.retired_at is not None


@bp.route("/me")
@token_required
@bp.response(200, MeSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401)
def me():
    """The calling member and their community."""
    return current_user


@bp.route("/categories")
@token_required
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_of(CategorySchema))
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 422)
def categories(args):
    """The service categories of the caller's community, in their order; retired ones last."""
    query = (
        sa.select(Category)
        .where(Category.community_id == current_user.community_id)
        .order_by(Category.retired_at.is_not(None), Category.position, Category.id)
    )
    return paginate(query, args)
