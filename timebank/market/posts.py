"""Placing and editing posts and their life: pause, resume, close, renew, and a coordinator's
moderation. Services flush, never commit."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from timebank.audit.services import record
from timebank.communities.models import Area, Category, Community
from timebank.db import utcnow
from timebank.extensions import db
from timebank.mail.services import queue_mail
from timebank.market.models import DAY_PARTS, DAYS, KINDS, Post
from timebank.market.rules import (
    DESCRIPTION_MAX,
    DUPLICATE_WINDOW,
    MAX_MINUTES,
    NOTE_MAX,
    REASON_MAX,
    TITLE_MAX,
    MarketError,
    PostDetails,
    PostStateConflict,
)
from timebank.members.models import Member
from timebank.permissions import can_act_for, can_coordinate
from timebank.uploads.models import Image
from timebank.uploads.services import ImageError, delete_image, save_image


def create_post(
    owner: Member, kind: str, details: PostDetails, *, actor: Member, photo: FileStorage | None = None
) -> Post:
    """Put an offer or a request in the market for the community's expiry period."""
    if kind not in KINDS:
        raise MarketError(_l("A post is an offer or a request."))
    _check_may_act(actor, owner)
    values = _clean(details, owner.community)
    duplicate = db.session.scalar(
        sa.select(Post).where(
            Post.owner_id == owner.id,
            Post.kind == kind,
            Post.title == values["title"],
            Post.status == "active",
            Post.created_at > utcnow() - DUPLICATE_WINDOW,
        )
    )
    if duplicate is not None:
        return duplicate
    post = Post(
        community_id=owner.community_id,
        owner=owner,
        kind=kind,
        expires_at=utcnow() + timedelta(weeks=owner.community.post_expiry_weeks),
        **values,
    )
    if photo:
        post.image = _save_photo(photo, owner)
    db.session.add(post)
    db.session.flush()
    _record_for_owner("post.created", post, actor, title=post.title)
    return post


def edit_post(
    post: Post, details: PostDetails, *, actor: Member, photo: FileStorage | None = None, remove_photo: bool = False
) -> Post:
    """Change what a post says; its kind, owner and dates stay."""
    _check_may_act(actor, post.owner)
    if post.status == "closed":
        raise PostStateConflict(_l("This post is closed and cannot be changed any more."))
    values = _clean(details, post.owner.community, keep_category_id=post.category_id)
    for name, value in values.items():
        setattr(post, name, value)
    if photo or remove_photo:
        _replace_photo(post, _save_photo(photo, post.owner) if photo else None)
    db.session.flush()
    _record_for_owner("post.edited", post, actor, title=post.title)
    return post


def _replace_photo(post: Post, new: Image | None) -> None:
    """A replaced or removed photo is deleted with its file: it is the member's, not an archive's.
    The new one is saved first, so a refused upload leaves the old one in place."""
    old, post.image = post.image, new
    if old is not None:
        db.session.flush()
        delete_image(old)


def pause_post(post: Post, *, actor: Member) -> Post:
    """Take a post out of the market for a while, e.g. during a holiday."""
    _check_may_act(actor, post.owner)
    if post.state != "active":
        raise PostStateConflict(_l("Only a post that is online can be paused."))
    post.status = "paused"
    return _changed("post.paused", post, actor)


def resume_post(post: Post, *, actor: Member) -> Post:
    _check_may_act(actor, post.owner)
    if post.state != "paused":
        raise PostStateConflict(_l("Only a paused post can be put back online."))
    post.status = "active"
    return _changed("post.resumed", post, actor)


def close_post(post: Post, *, actor: Member) -> Post:
    """The owner is done with the post; it stays in their history."""
    _check_may_act(actor, post.owner)
    if post.status == "closed":
        raise PostStateConflict(_l("This post is closed already."))
    post.status = "closed"
    post.closed_by = post.owner
    return _changed("post.closed", post, actor)


def renew_post(post: Post, *, actor: Member, now: datetime | None = None) -> Post:
    """Keep a post for another expiry period from today; an expired post comes back online."""
    _check_may_act(actor, post.owner)
    if post.status == "closed":
        raise PostStateConflict(_l("A closed post cannot be renewed. You can place a new one."))
    now = now or utcnow()
    post.expires_at = now + timedelta(weeks=post.owner.community.post_expiry_weeks)
    post.reminded_at = None
    if post.status == "expired":
        post.status = "active"
    return _changed("post.renewed", post, actor)


def moderate_post(post: Post, *, actor: Member, reason: str) -> Post:
    """A coordinator takes a post out of the market; the owner is told why."""
    if not can_coordinate(actor, post.community_id):
        raise MarketError(_l("Only a coordinator of this neighbourhood can close someone else's post."))
    reason = (reason or "").strip()
    if not reason:
        raise MarketError(_l("Please write why you close this post. The owner will read it."), "reason")
    if len(reason) > REASON_MAX:
        raise MarketError(_l("Please keep the reason under %(max)d characters.", max=REASON_MAX), "reason")
    if post.status == "closed":
        raise PostStateConflict(_l("This post is closed already."))
    post.status = "closed"
    post.closed_by = actor
    post.closed_reason = reason
    db.session.flush()
    record("post.moderated", actor=actor, on_behalf_of=post.owner, subject=post, reason=reason, title=post.title)
    queue_mail(post.owner, "market_post_closed", post=post, reason=reason)
    return post


def reinstate_post(post: Post, *, actor: Member, now: datetime | None = None) -> Post:
    """A coordinator undoes a take-down (a mistake, or the owner put it right): the post is back
    online for a full period and the owner is told."""
    if not can_coordinate(actor, post.community_id):
        raise MarketError(_l("Only a coordinator of this neighbourhood can put a post back."))
    if not post.is_moderated:
        raise PostStateConflict(_l("Only a post that a coordinator took out of the market can be put back."))
    post.status, post.closed_by, post.closed_reason = "active", None, ""
    post.expires_at = (now or utcnow()) + timedelta(weeks=post.owner.community.post_expiry_weeks)
    post.reminded_at = None
    db.session.flush()
    record("post.reinstated", actor=actor, on_behalf_of=post.owner, subject=post, title=post.title)
    queue_mail(post.owner, "market_post_reinstated", post=post, coordinator=actor)
    return post


def _check_may_act(actor: Member, owner: Member) -> None:
    if not can_act_for(actor, owner):
        raise MarketError(_l("This is not your post, so you cannot change it."))


def _changed(action: str, post: Post, actor: Member) -> Post:
    db.session.flush()
    _record_for_owner(action, post, actor)
    return post


def _record_for_owner(action: str, post: Post, actor: Member, **details) -> None:
    """What a coordinator does for an assisted member is logged; what members do themselves is not."""
    if actor.id != post.owner_id:
        record(action, actor=actor, on_behalf_of=post.owner, subject=post, **details)


def _save_photo(photo: FileStorage, owner: Member):
    try:
        return save_image(photo, community_id=owner.community_id, owner_id=owner.id)
    except ImageError as exc:
        raise MarketError(exc.args[0], "photo") from None


def _clean(details: PostDetails, community: Community, keep_category_id: int | None = None) -> dict:
    """Check what was filled in; the tidy values, or MarketError naming the first wrong field."""
    title = " ".join((details.title or "").split())
    if not title:
        raise MarketError(_l("Please give your post a short title."), "title")
    if len(title) > TITLE_MAX:
        raise MarketError(
            _l("The title can have at most %(max)d characters; yours has %(num)d.", max=TITLE_MAX, num=len(title)),
            "title",
        )
    description = (details.description or "").strip().replace("\r\n", "\n")
    if len(description) > DESCRIPTION_MAX:
        raise MarketError(
            _l(
                "The description can have at most %(max)d characters; yours has %(num)d.",
                max=DESCRIPTION_MAX,
                num=len(description),
            ),
            "description",
        )
    category = _usable_category(details.category_id, community, keep_category_id)
    minutes = _clean_minutes(details.minutes, details.is_gift)
    if not set(details.available_days) <= set(DAYS) or not set(details.available_parts) <= set(DAY_PARTS):
        raise MarketError(_l("Please choose days and times of day from the list."), "available_days")
    note = (details.available_note or "").strip()
    if len(note) > NOTE_MAX:
        raise MarketError(_l("Please keep this under %(max)d characters.", max=NOTE_MAX), "available_note")
    if (
        details.area_id is not None
        and db.session.scalar(sa.select(Area.id).where(Area.id == details.area_id, Area.community_id == community.id))
        is None
    ):
        raise MarketError(_l("Please choose one of the areas in the list."), "area_id")
    return dict(
        title=title,
        description=description,
        category_id=category.id,
        minutes=minutes,
        is_gift=bool(details.is_gift),
        available_days=[d for d in DAYS if d in details.available_days],
        available_parts=[p for p in DAY_PARTS if p in details.available_parts],
        available_note=note,
        area_id=details.area_id,
    )


def _usable_category(category_id: int | None, community: Community, keep_category_id: int | None) -> Category:
    if category_id is None:
        raise MarketError(_l("Please choose a category."), "category_id")
    category = db.session.get(Category, category_id)
    if category is None or category.community_id != community.id:
        raise MarketError(_l("Please choose one of the categories in the list."), "category_id")
    if category.retired_at is not None and category.id != keep_category_id:
        raise MarketError(
            _l(
                "The category “%(name)s” is no longer used. Please choose another one.",
                name=category.name(str(get_locale())),
            ),
            "category_id",
        )
    return category


def _clean_minutes(minutes: int | None, is_gift: bool) -> int | None:
    if is_gift:
        if minutes:
            raise MarketError(_l("A gift is free: please leave the time empty."), "minutes")
        return 0
    if minutes is None or minutes == 0:
        return None
    if minutes < 0:
        raise MarketError(_l("The time cannot be less than nothing. Please fill in how long it takes."), "minutes")
    if minutes > MAX_MINUTES:
        raise MarketError(
            _l("That is more than 24 hours. Please check the time, or split the work into smaller posts."), "minutes"
        )
    return minutes
