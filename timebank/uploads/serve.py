"""Sending a photo, to pages and the API alike: only to those who may see the post or profile it
belongs to."""

import sqlalchemy as sa
from flask import abort, send_from_directory

from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.moderation.models import is_hidden
from timebank.permissions import can_coordinate, can_see_post, is_member_of
from timebank.uploads.models import Image
from timebank.uploads.services import upload_folder


def send_image(image_id: int, viewer):
    """The photo for those who may see what it belongs to: a post's photo for those who may see
    the post, a profile photo for the members of the community while the profile is shown and not
    hidden by a coordinator (and for its coordinators); 404 for anyone else, as if it did not exist."""
    picture = db.get_or_404(Image, image_id)
    if not is_member_of(viewer, picture.community_id):
        abort(404)
    post = db.session.scalar(sa.select(Post).where(Post.image_id == picture.id))
    if post is not None and not can_see_post(viewer, post):
        abort(404)
    owner = db.session.scalar(sa.select(Member).where(Member.photo_id == picture.id))
    hidden_profile = owner is not None and owner.id != viewer.id and is_hidden("profile", owner.id)
    if (
        owner is not None
        and (owner.status != "active" or hidden_profile)
        and not can_coordinate(viewer, owner.community_id)
    ):
        abort(404)
    response = send_from_directory(upload_folder(), picture.filename, mimetype=picture.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
