"""Serving photos: only to logged-in members of the photo's community."""
from flask import Blueprint, abort, send_from_directory
from flask_login import current_user, login_required

from timebank.extensions import db
from timebank.permissions import is_member_of
from timebank.uploads.models import Image
from timebank.uploads.services import upload_folder

bp = Blueprint("uploads", __name__)


@bp.route("/images/<int:image_id>")
@login_required
def image(image_id: int):
    return send_image(image_id, current_user)


def send_image(image_id: int, viewer):
    """The photo for a member of its community; 404 for anyone else, as if it did not exist."""
    picture = db.get_or_404(Image, image_id)
    if not is_member_of(viewer, picture.community_id):
        abort(404)
    response = send_from_directory(upload_folder(), picture.filename, mimetype=picture.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
