"""Serving photos to the pages (see `uploads.serve`)."""

from flask import Blueprint
from flask_login import current_user, login_required

from timebank.uploads.serve import send_image

bp = Blueprint("uploads", __name__)


@bp.route("/images/<int:image_id>")
@login_required
def image(image_id: int):
    return send_image(image_id, current_user)
