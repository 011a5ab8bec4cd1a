"""GET /api/v1/images/{id}: the photos that posts and profiles link to, for bearer-token callers
(the web pages serve the same files to session cookies, which the API ignores)."""

from flask import url_for
from flask_login import current_user

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PATH_ID, api_blueprint, documents_errors
from timebank.uploads.serve import send_image

bp = api_blueprint("images", "Photos of posts and members.")

BINARY = {"schema": {"type": "string", "format": "binary"}}


@bp.route(f"/images/<{PATH_ID}:image_id>")
@token_required
@bp.doc(
    security=BEARER,
    responses={"200": {"description": "The photo.", "content": {"image/jpeg": BINARY, "image/png": BINARY}}},
)
@documents_errors(bp, 401, 404)
def image(image_id: int):
    """A photo of the caller's community."""
    return send_image(image_id, current_user)


def photo_url(image_id: int | None) -> str | None:
    return url_for("images.image", image_id=image_id, _external=True) if image_id else None
