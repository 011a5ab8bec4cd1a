"""Guards every page shares: who may open a coordinator's page, which post a page may show, and
where a `next` may lead."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, url_for
from flask_login import current_user

from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.acting import acting_member
from timebank.permissions import can_coordinate, can_see_post


def coordinator_required(view):
    """Only a coordinator of the logged-in member's own community; anyone else gets 403 (and a
    visitor who is not logged in is asked to log in first)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            from timebank.extensions import login_manager

            return login_manager.unauthorized()
        if not can_coordinate(current_user, current_user.community_id):
            abort(403)
        return view(*args, **kwargs)

    return guarded


def safe_next(target: str | None, default: str = "core.index") -> str:
    """A `next` address that stays on this site: a path starting with one "/", with no scheme, host,
    backslash or control character (browsers read "/\\evil.com" as another site); anything else
    goes to `default`."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return url_for(default)
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return url_for(default)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for(default)
    return target


def visible_post(post_id: int, *options) -> Post:
    """A post the reader may see (`can_see_post`); anything else is 'not found', so ids of other
    communities tell nothing. Loader `options` only for pages that just read it: the services lock a
    post with `refresh(..., with_for_update=True)`, which repeats the options it was loaded with,
    and PostgreSQL refuses FOR UPDATE on the outer joins of eager loads."""
    post = db.get_or_404(Post, post_id, options=list(options))
    if not can_see_post(current_user, post, acting_member()):
        abort(404)
    return post
