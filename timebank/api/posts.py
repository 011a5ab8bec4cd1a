"""The market: GET/POST /api/v1/posts, GET/PATCH /api/v1/posts/{id}, POST /api/v1/posts/{id}/close.

The same services and predicates as the market pages. The API always acts as the token's member
(acting for an assisted member is a thing of the web pages). A post of another community, or
one a coordinator took down (except for its owner and the coordinators), is 404 as if it did
not exist."""

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate

from timebank.api.auth import token_required
from timebank.api.common import (
    BEARER,
    ID_RANGE,
    PATH_ID,
    PageArgs,
    StrictBoolean,
    StrictInteger,
    Text,
    api_blueprint,
    documents_errors,
    envelope,
    id_field,
    page_of,
)
from timebank.api.idempotency import writes
from timebank.api.images import photo_url
from timebank.api.me import AreaSchema
from timebank.communities.models import Area
from timebank.communities.services import linked_community_ids
from timebank.extensions import db
from timebank.market import services
from timebank.market.models import DAY_PARTS, DAYS, KINDS, STATUSES, Post
from timebank.market.search import MAX_QUERY_LENGTH
from timebank.market.services import (
    DESCRIPTION_MAX,
    MAX_MINUTES,
    NOTE_MAX,
    TITLE_MAX,
    Filters,
    MarketError,
    PostDetails,
)
from timebank.permissions import can_manage_post, can_see_post

bp = api_blueprint("posts", "Offers and requests in the caller's community: find, place, change and close them.")


class OwnerSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


def _community_slug(post: Post) -> str:
    """Nearly every post is of the caller's own community, which the caller holds already: no
    lazy load per post for it."""
    own = current_user.community
    return own.slug if post.community_id == own.id else post.community.slug


class PostSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    description = fields.String(required=True)
    category_id = fields.Integer(required=True, metadata={"description": "See GET /api/v1/categories."})
    minutes = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Estimated time in minutes: null when the owner did not say, 0 for a gift."},
    )
    gift = fields.Boolean(
        required=True,
        attribute="is_gift",
        metadata={"description": "A free gift: a thing to give away or to get, for 0 minutes."},
    )
    status = fields.String(
        required=True,
        attribute="state",
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "`active`: in the market. `paused` by its owner. `closed` for good. `expired`: past "
            "`expires_at` (the owner can renew it on the web pages)."
        },
    )
    owner = fields.Nested(OwnerSchema, required=True)
    community = fields.Function(
        _community_slug,
        required=True,
        metadata={"type": "string", "description": "The slug of the post's community: the caller's, or a linked one."},
    )
    area = fields.Nested(
        AreaSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The part of the neighbourhood, if the owner gave one."},
    )
    available_days = fields.List(fields.String(validate=validate.OneOf(DAYS)), required=True)
    available_parts = fields.List(
        fields.String(validate=validate.OneOf(DAY_PARTS)), required=True, metadata={"description": "Times of day."}
    )
    available_note = fields.String(required=True, metadata={"description": "Anything else about when."})
    photo_url = fields.Function(
        lambda post: photo_url(post.image_id),
        required=True,
        allow_none=True,
        metadata={"type": "string", "description": "GET it with the bearer token; null without a photo."},
    )
    closed_reason = fields.String(
        required=True, metadata={"description": "Why a coordinator took the post out of the market; empty otherwise."}
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True, metadata={"description": "When it leaves the market."})


class PostFilterArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(KINDS))
    category = fields.Integer(
        validate=ID_RANGE,
        metadata={"description": "A category id; a merged category finds the posts it was merged into."},
    )
    area = fields.Integer(validate=ID_RANGE, metadata={"description": "An area id of the caller's community."})
    gift = fields.Boolean(metadata={"description": "true: only free gifts. false or left out: everything."})
    q = fields.String(
        validate=validate.Length(max=MAX_QUERY_LENGTH),
        metadata={
            "description": "Words in the title or description; accents and case do not matter, word beginnings match."
        },
    )
    scope = fields.String(
        load_default="community",
        validate=validate.OneOf(("community", "linked")),
        metadata={
            "description": "`community` (the default): the caller's community. `linked`: also the posts of the "
            "communities linked with it that show their posts; a category then matches theirs of "
            "the same kind."
        },
    )


class PostChanges(Schema):
    """What a member fills in. The rules are the web form's, checked by the same service, and its
    messages come back per field in the caller's language."""

    title = Text(metadata={"description": f"Required, at most {TITLE_MAX} characters."})
    description = Text(metadata={"description": f"At most {DESCRIPTION_MAX} characters."})
    category_id = id_field(metadata={"description": "A category of the caller's community that is still in use."})
    minutes = StrictInteger(
        allow_none=True,
        metadata={
            "description": f"Estimated time, 1 to {MAX_MINUTES} minutes; null or 0: not given. Leave it out for a gift."
        },
    )
    gift = StrictBoolean(metadata={"description": "A free gift: a thing to give away or to get, for 0 minutes."})
    area_id = id_field(allow_none=True, metadata={"description": "An area of the caller's community, or null."})
    available_days = fields.List(fields.String(validate=validate.OneOf(DAYS)))
    available_parts = fields.List(fields.String(validate=validate.OneOf(DAY_PARTS)))
    available_note = Text(metadata={"description": f"At most {NOTE_MAX} characters."})


class NewPost(PostChanges):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = Text(required=True, metadata={"description": f"At most {TITLE_MAX} characters."})
    category_id = id_field(
        required=True, metadata={"description": "A category of the caller's community that is still in use."}
    )
    area_id = id_field(
        allow_none=True,
        metadata={"description": "An area of the caller's community, or null. Left out: the caller's own area."},
    )


# Posts -----------------------------------------------------------------------------------------


@bp.route("/posts")
@token_required
@bp.arguments(PostFilterArgs, location="query")
@bp.response(200, page_of(PostSchema))
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 422)
def list_posts(args):
    """The market: posts online in the caller's community (and with `scope=linked` in the linked
    communities'), newest first.

    An unknown category or area is 422, naming the parameter."""
    community_id = current_user.community_id
    category_id = None
    if "category" in args:
        category = services.resolve_category(community_id, args["category"])
        if category is None:
            raise MarketError(_l("Please choose one of the categories in the list."), "category")
        category_id = category.id
    if "area" in args and getattr(db.session.get(Area, args["area"]), "community_id", None) != community_id:
        raise MarketError(_l("Please choose one of the areas in the list."), "area")
    linked = tuple(linked_community_ids(community_id, posts=True)) if args["scope"] == "linked" else ()
    filters = Filters(
        kind=args.get("kind"),
        category_id=category_id,
        area_id=args.get("area"),
        gifts_only=args.get("gift", False),
        text=args.get("q", "").strip(),
        linked=linked,
    )
    page = services.find_posts(
        community_id, filters, page=args["page"], per_page=args["per_page"], exact_total=True, viewer_id=current_user.id
    )
    return envelope(page.items, args, page.total)


@bp.route("/posts", methods=["POST"])
@token_required
@writes
@bp.arguments(
    NewPost,
    example={
        "kind": "offer",
        "title": "Soup for two evenings",
        "category_id": 1,
        "description": "Lentil soup, enough for two.",
        "minutes": 90,
    },
)
@bp.response(201, PostSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 422)
def create_post(body):
    """Place an offer or a request.

    It stays online for the community's expiry period. The same post again within ten minutes
    (a double tap) answers the first one."""
    member = current_user._get_current_object()
    details = PostDetails(**_details(body, {"area_id": member.area_id}))
    return services.create_post(member, body["kind"], details, actor=member)


@bp.route(f"/posts/<{PATH_ID}:post_id>")
@token_required
@bp.response(200, PostSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 404)
def get_post(post_id: int):
    """One post of the caller's community, whatever its status, or an online one of a linked community."""
    return visible_post(post_id)


@bp.route(f"/posts/<{PATH_ID}:post_id>", methods=["PATCH"])
@token_required
@writes
@bp.arguments(PostChanges, required=False, example={"title": "Soup for three evenings", "minutes": 120})
@bp.response(200, PostSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def edit_post(changes, post_id: int):
    """Change some fields of one's own post.

    Fields left out stay as they are; kind, owner and dates never change. Becoming a gift clears
    the estimated time. A closed post cannot be changed (409 `post_state_conflict`)."""
    post = owned_post(post_id)
    current = {
        "title": post.title,
        "description": post.description,
        "category_id": post.category_id,
        "minutes": post.minutes,
        "gift": post.is_gift,
        "area_id": post.area_id,
        "available_days": post.available_days,
        "available_parts": post.available_parts,
        "available_note": post.available_note,
    }
    if changes.get("gift") and "minutes" not in changes:
        current["minutes"] = None  # becoming a gift clears the estimated time
    return services.edit_post(post, PostDetails(**_details(changes, current)), actor=post.owner)


@bp.route(f"/posts/<{PATH_ID}:post_id>/close", methods=["POST"])
@token_required
@writes
@bp.response(200, PostSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409)
def close_post(post_id: int):
    """Close one's own post.

    It leaves the market and stays in the owner's history. Closing a closed post is 409
    `post_state_conflict`; a retry with the same Idempotency-Key gets the first answer instead."""
    post = owned_post(post_id)
    return services.close_post(post, actor=post.owner)


def _details(given: dict, defaults: dict) -> dict:
    """PostDetails arguments: what was sent, else the defaults (named as in the API)."""
    values = {**defaults, **given}
    values.pop("kind", None)
    values["is_gift"] = values.pop("gift", False)
    return values


def visible_post(post_id: int) -> Post:
    """As the market pages decide: a post of the caller's community; a post a coordinator took
    down only for its owner and the coordinators."""
    post = db.get_or_404(Post, post_id)
    if not can_see_post(current_user, post):
        abort(404)
    return post


def owned_post(post_id: int) -> Post:
    post = visible_post(post_id)
    if not can_manage_post(current_user, post):
        abort(403, _("This is not your post, so you cannot change it."))
    return post
