"""Market rules: posting and editing, the life of a post, finding and matching posts, the digest,
and the community's categories. Services flush, never commit; they raise MarketError with a
sentence fit to show, naming the form field it is about when there is one."""
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import FileStorage

from timebank.audit.services import ACTION_LABELS, record
from timebank.communities.models import Area, Category, Community
from timebank.db import utcnow
from timebank.errors import DomainError
from timebank.extensions import db
from timebank.mail.services import queue_mail
from timebank.market import search
from timebank.market.models import DAY_PARTS, DAYS, KINDS, Post
from timebank.members.export import register_exporter
from timebank.members.models import Member, member_skills
from timebank.members.services import register_eraser
from timebank.moderation.blocks import not_blocked
from timebank.permissions import can_act_for, can_coordinate
from timebank.uploads.models import Image
from timebank.uploads.services import ImageError, delete_image, save_image

TITLE_MAX = 100
DESCRIPTION_MAX = 4000
NOTE_MAX = 200
REASON_MAX = 500
CATEGORY_NAME_MAX = 60
MAX_MINUTES = 24 * 60
EXPIRY_WEEKS_RANGE = (1, 52)
REMIND_BEFORE = timedelta(days=7)
# "Once a day at most": a little under a day, so a daily job that runs a bit early still sends.
DIGEST_INTERVAL = timedelta(hours=20)
# A second identical post this soon is a double click or a retry, not a new post.
DUPLICATE_WINDOW = timedelta(minutes=10)
PER_PAGE = 20
COUNT_LIMIT = 500

ACTION_LABELS.update({
    "post.created": _l("placed a post"),
    "post.edited": _l("changed a post"),
    "post.paused": _l("paused a post"),
    "post.resumed": _l("put a post back online"),
    "post.closed": _l("closed a post"),
    "post.renewed": _l("renewed a post"),
    "post.moderated": _l("took a post out of the market"),
    "post.reinstated": _l("put a post back in the market"),
    "category.added": _l("added a category"),
    "category.renamed": _l("renamed a category"),
    "category.retired": _l("retired a category"),
    "category.restored": _l("brought back a category"),
    "category.merged": _l("merged two categories"),
    "market.expiry_changed": _l("changed how long posts stay online"),
})


class MarketError(DomainError):
    """A market action was refused; the message says why and what to do."""


class PostStateConflict(MarketError):
    """The post's state does not allow this now (closed, not online, not paused)."""

    code = "post_state_conflict"
    status = 409


@dataclass
class PostDetails:
    """What a person fills in for an offer or a request."""

    title: str
    category_id: int | None
    description: str = ""
    minutes: int | None = None
    is_gift: bool = False
    available_days: list[str] = field(default_factory=list)
    available_parts: list[str] = field(default_factory=list)
    available_note: str = ""
    area_id: int | None = None


@dataclass
class Filters:
    """What the listing is narrowed to; empty values mean 'everything'."""

    kind: str | None = None
    category_id: int | None = None
    area_id: int | None = None
    gifts_only: bool = False
    text: str = ""


# Posts -----------------------------------------------------------------------------------------

def create_post(owner: Member, kind: str, details: PostDetails, *, actor: Member,
                photo: FileStorage | None = None) -> Post:
    """Put an offer or a request in the market for the community's expiry period."""
    if kind not in KINDS:
        raise MarketError(_l("A post is an offer or a request."))
    _check_may_act(actor, owner)
    values = _clean(details, owner.community)
    duplicate = db.session.scalar(sa.select(Post).where(
        Post.owner_id == owner.id, Post.kind == kind, Post.title == values["title"], Post.status == "active",
        Post.created_at > utcnow() - DUPLICATE_WINDOW))
    if duplicate is not None:
        return duplicate
    post = Post(community_id=owner.community_id, owner=owner, kind=kind,
                expires_at=utcnow() + timedelta(weeks=owner.community.post_expiry_weeks), **values)
    if photo:
        post.image = _save_photo(photo, owner)
    db.session.add(post)
    db.session.flush()
    _record_for_owner("post.created", post, actor, title=post.title)
    return post


def edit_post(post: Post, details: PostDetails, *, actor: Member, photo: FileStorage | None = None,
              remove_photo: bool = False) -> Post:
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
        raise MarketError(_l("The title can have at most %(max)d characters; yours has %(num)d.",
                             max=TITLE_MAX, num=len(title)), "title")
    description = (details.description or "").strip().replace("\r\n", "\n")
    if len(description) > DESCRIPTION_MAX:
        raise MarketError(_l("The description can have at most %(max)d characters; yours has %(num)d.",
                             max=DESCRIPTION_MAX, num=len(description)), "description")
    category = _usable_category(details.category_id, community, keep_category_id)
    minutes = _clean_minutes(details.minutes, details.is_gift)
    if not set(details.available_days) <= set(DAYS) or not set(details.available_parts) <= set(DAY_PARTS):
        raise MarketError(_l("Please choose days and times of day from the list."), "available_days")
    note = (details.available_note or "").strip()
    if len(note) > NOTE_MAX:
        raise MarketError(_l("Please keep this under %(max)d characters.", max=NOTE_MAX), "available_note")
    if details.area_id is not None and db.session.scalar(sa.select(Area.id).where(
            Area.id == details.area_id, Area.community_id == community.id)) is None:
        raise MarketError(_l("Please choose one of the areas in the list."), "area_id")
    return dict(title=title, description=description, category_id=category.id, minutes=minutes,
                is_gift=bool(details.is_gift),
                available_days=[d for d in DAYS if d in details.available_days],
                available_parts=[p for p in DAY_PARTS if p in details.available_parts],
                available_note=note, area_id=details.area_id)


def _usable_category(category_id: int | None, community: Community, keep_category_id: int | None) -> Category:
    if category_id is None:
        raise MarketError(_l("Please choose a category."), "category_id")
    category = db.session.get(Category, category_id)
    if category is None or category.community_id != community.id:
        raise MarketError(_l("Please choose one of the categories in the list."), "category_id")
    if category.retired_at is not None and category.id != keep_category_id:
        raise MarketError(_l("The category “%(name)s” is no longer used. Please choose another one.",
                             name=category.name(str(get_locale()))), "category_id")
    return category


def _clean_minutes(minutes: int | None, is_gift: bool) -> int | None:
    if is_gift:
        if minutes:
            raise MarketError(_l("A gift is free: please leave the time empty."), "minutes")
        return 0
    if minutes is None or minutes == 0:
        return None
    if minutes < 0:
        raise MarketError(_l("The time cannot be less than nothing. Please fill in how long it takes."),
                          "minutes")
    if minutes > MAX_MINUTES:
        raise MarketError(_l("That is more than 24 hours. Please check the time, or split the work "
                             "into smaller posts."), "minutes")
    return minutes


# Finding posts -----------------------------------------------------------------------------------

def listed_conditions(community_id: int, now: datetime | None = None) -> list:
    """Posts shown in a community's market: online, not past their date, by active members.

    The owner check is a NOT EXISTS rather than a join, so that the database starts from the
    community's posts (ix_posts_listing) and looks owners up by id, never scanning members."""
    inactive_owner = sa.exists().where(Member.id == Post.owner_id, Member.status != "active")
    return [Post.community_id == community_id, Post.status == "active", Post.expires_at > (now or utcnow()),
            ~inactive_owner]


def listed(community_id: int) -> sa.Select:
    return (sa.select(Post).where(*listed_conditions(community_id))
            .options(joinedload(Post.owner), joinedload(Post.category), joinedload(Post.area)))


@dataclass
class Page:
    """One page of results. `total` is exact up to COUNT_LIMIT and None beyond it: counting
    every match of a common word would cost more than it tells."""

    items: list[Post]
    number: int
    has_next: bool
    total: int | None


def find_posts(community_id: int, filters: Filters, page: int = 1, per_page: int = PER_PAGE,
               exact_total: bool = False, viewer_id: int | None = None) -> Page:
    """One page of the market, newest first; `total` is counted up to COUNT_LIMIT unless
    `exact_total` (the API's lists promise a number).

    Newest means highest id: ids grow as posts are placed. Ordering by id lets SQLite walk the
    posts that match a search from the newest and stop after one page, instead of sorting every
    match of a common word."""
    conditions = []
    if filters.kind in KINDS:
        conditions.append(Post.kind == filters.kind)
    if filters.category_id is not None:
        conditions.append(Post.category_id == filters.category_id)
    if filters.area_id is not None:
        conditions.append(Post.area_id == filters.area_id)
    if filters.gifts_only:
        conditions.append(Post.is_gift.is_(True))
    conditions += not_blocked(Post.owner_id, viewer_id)  # posts of someone the viewer has a block with
    condition = search.matching(filters.text) if filters.text else None
    if condition is not None:
        conditions.append(condition)
    items = list(db.session.scalars(
        listed(community_id).where(*conditions)
        .order_by(Post.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)))
    matches = sa.select(Post.id).where(*listed_conditions(community_id), *conditions)
    if not exact_total:
        matches = matches.limit(COUNT_LIMIT + 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(matches.subquery()))
    return Page(items=items[:per_page], number=page, has_next=len(items) > per_page,
                total=total if exact_total or total <= COUNT_LIMIT else None)


def recent_posts(community_id: int, limit: int = 5, viewer_id: int | None = None) -> list[Post]:
    return list(db.session.scalars(listed(community_id).where(*not_blocked(Post.owner_id, viewer_id))
                                   .order_by(Post.id.desc()).limit(limit)))


def matching_offers(request: Post, limit: int = 5, viewer_id: int | None = None) -> list[Post]:
    """Offers in the request's category, from the same area first, then the newest."""
    same_area = sa.case((Post.area_id == request.area_id, 0), else_=1)
    query = (listed(request.community_id)
             .where(Post.kind == "offer", Post.category_id == request.category_id,
                    Post.owner_id != request.owner_id, *not_blocked(Post.owner_id, viewer_id))
             .order_by(same_area, Post.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def member_posts(member: Member) -> list[Post]:
    """Everything a member has posted, newest first, for their own overview."""
    return list(db.session.scalars(
        sa.select(Post).where(Post.owner_id == member.id)
        .options(joinedload(Post.category), joinedload(Post.closed_by))
        .order_by(Post.id.desc())))


# Scheduled work -------------------------------------------------------------------------------

def remind_and_expire(now: datetime | None = None) -> tuple[int, int]:
    """Remind owners a week before their post expires, then expire it. Run it as often as you
    like: each post gets one reminder per period, and expiry happens once."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Post).where(Post.status.in_(("active", "paused")), Post.reminded_at.is_(None),
                              Post.expires_at > now, Post.expires_at <= now + REMIND_BEFORE)
        .options(selectinload(Post.owner)).with_for_update(skip_locked=True)).all()
    for post in due:
        if post.owner.is_active:
            queue_mail(post.owner, "market_post_expiring", post=post)
        post.reminded_at = now
    expired = db.session.execute(
        sa.update(Post).where(Post.status.in_(("active", "paused")), Post.expires_at <= now)
        .values(status="expired").execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return len(due), expired


def set_digest(member: Member, enabled: bool, now: datetime | None = None) -> None:
    """Opt in or out of the digest; it starts with requests placed from now on."""
    if enabled and not member.market_digest:
        member.market_digest_sent_until = now or utcnow()
    member.market_digest = enabled
    db.session.flush()


def queue_digests(now: datetime | None = None) -> int:
    """Email each opted-in member the new requests that match their skills or offers, once,
    and at most once per DIGEST_INTERVAL.

    Each member's digest covers the requests placed since their last one, so a second run
    finds nothing new to send."""
    now = now or utcnow()
    readers = db.session.scalars(
        sa.select(Member).where(Member.market_digest.is_(True), Member.status == "active", sa.or_(
            Member.market_digest_sent_until.is_(None), Member.market_digest_sent_until <= now - DIGEST_INTERVAL))
        .with_for_update(skip_locked=True)).all()
    if not readers:
        return 0
    since = min(m.market_digest_sent_until or now for m in readers)
    opted_in = sa.select(Member.id).where(Member.market_digest.is_(True))
    interests = defaultdict(set)
    for member_id, category_id in db.session.execute(
            sa.select(member_skills.c.member_id, member_skills.c.category_id)
            .where(member_skills.c.member_id.in_(opted_in))
            .union(sa.select(Post.owner_id, Post.category_id).where(
                Post.owner_id.in_(opted_in), Post.kind == "offer", Post.status == "active",
                Post.expires_at > now))):
        interests[member_id].add(category_id)
    new_requests = db.session.scalars(
        sa.select(Post).where(Post.kind == "request", Post.status == "active", Post.expires_at > now,
                              Post.created_at > since, Post.created_at <= now)
        .options(joinedload(Post.category)).order_by(Post.created_at)).all()
    sent = 0
    for member in readers:
        start = member.market_digest_sent_until or now
        posts = [p for p in new_requests
                 if p.community_id == member.community_id and p.owner_id != member.id
                 and p.category_id in interests[member.id] and start < p.created_at]
        if posts and queue_mail(member, "market_digest", posts=posts) is not None:
            sent += 1
        member.market_digest_sent_until = now
    db.session.flush()
    return sent


# Community settings and categories --------------------------------------------------------------

def set_post_expiry(community: Community, weeks: int, *, actor: Member) -> Community:
    """How long new and renewed posts stay online; posts already online keep their date."""
    low, high = EXPIRY_WEEKS_RANGE
    if weeks is None or not low <= weeks <= high:
        raise MarketError(_l("Please choose between %(low)d and %(high)d weeks.", low=low, high=high), "weeks")
    if weeks != community.post_expiry_weeks:
        record("market.expiry_changed", actor=actor, community_id=community.id,
               old=community.post_expiry_weeks, new=weeks)
        community.post_expiry_weeks = weeks
    db.session.flush()
    return community


def add_category(community: Community, names: dict[str, str], *, actor: Member) -> Category:
    names = _clean_names(community, names)
    position = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Category.position), -1))
                                 .where(Category.community_id == community.id)) + 1
    category = Category(community_id=community.id, key=_new_key(community, names), names=names,
                        position=position)
    db.session.add(category)
    db.session.flush()
    record("category.added", actor=actor, community_id=community.id, subject=category, names=names)
    return category


def rename_category(category: Category, names: dict[str, str], *, actor: Member) -> Category:
    names = _clean_names(category.community, names, category)
    record("category.renamed", actor=actor, community_id=category.community_id, subject=category,
           old=category.names, new=names)
    category.names = names
    db.session.flush()
    return category


def retire_category(category: Category, *, actor: Member) -> Category:
    """No new posts in it; posts already in it stay as they are."""
    if category.retired_at is not None:
        raise MarketError(_l("This category is not used any more already."))
    category.retired_at = utcnow()
    db.session.flush()
    record("category.retired", actor=actor, community_id=category.community_id, subject=category)
    return category


def restore_category(category: Category, *, actor: Member) -> Category:
    if category.merged_into_id is not None:
        raise MarketError(_l("This category was merged into another one and cannot come back."))
    if category.retired_at is None:
        raise MarketError(_l("This category is in use already."))
    category.retired_at = None
    db.session.flush()
    record("category.restored", actor=actor, community_id=category.community_id, subject=category)
    return category


def merge_category(source: Category, target: Category, *, actor: Member) -> Category:
    """Move every post and skill of `source` to `target` and retire `source`. Old links to
    `source` keep working: the listing follows `merged_into_id`."""
    if target.id == source.id or target.community_id != source.community_id:
        raise MarketError(_l("Please choose another category of this neighbourhood."), "target_id")
    if target.retired_at is not None:
        raise MarketError(_l("You cannot merge into a category that is not used any more."), "target_id")
    if source.merged_into_id is not None:
        raise MarketError(_l("This category was merged already."))
    moved = db.session.execute(sa.update(Post).where(Post.category_id == source.id)
                               .values(category_id=target.id).execution_options(synchronize_session=False)).rowcount
    has_target = sa.select(member_skills.c.member_id).where(member_skills.c.category_id == target.id)
    db.session.execute(sa.insert(member_skills).from_select(
        ["member_id", "category_id"],
        sa.select(member_skills.c.member_id, sa.literal(target.id))
        .where(member_skills.c.category_id == source.id, member_skills.c.member_id.not_in(has_target))))
    db.session.execute(sa.delete(member_skills).where(member_skills.c.category_id == source.id))
    source.merged_into_id = target.id
    source.retired_at = source.retired_at or utcnow()
    db.session.flush()
    db.session.expire_all()
    record("category.merged", actor=actor, community_id=source.community_id, subject=source,
           into=target.id, posts_moved=moved)
    return target


def resolve_category(community_id: int, category_id: int | None) -> Category | None:
    """The category a link means: merged categories lead to the one they were merged into."""
    category = db.session.get(Category, category_id) if category_id is not None else None
    seen = set()
    while category is not None and category.merged_into_id is not None and category.id not in seen:
        seen.add(category.id)
        category = db.session.get(Category, category.merged_into_id)
    if category is None or category.community_id != community_id:
        return None
    return category


def _clean_names(community: Community, names: dict[str, str], renaming: Category | None = None) -> dict:
    cleaned = {}
    for language in current_app.config["LANGUAGES"]:
        name = " ".join((names.get(language) or "").split())
        if not name:
            raise MarketError(_l("Please fill in the name in every language."), f"name_{language}")
        if len(name) > CATEGORY_NAME_MAX:
            raise MarketError(_l("Please keep the name under %(max)d characters.", max=CATEGORY_NAME_MAX),
                              f"name_{language}")
        cleaned[language] = name
    others = db.session.scalars(sa.select(Category).where(
        Category.community_id == community.id, Category.merged_into_id.is_(None))).all()
    for other in others:
        if renaming is not None and other.id == renaming.id:
            continue
        for language, name in cleaned.items():
            if (other.names.get(language) or "").casefold() == name.casefold():
                raise MarketError(_l("There is already a category called “%(name)s”.", name=name),
                                  f"name_{language}")
    return cleaned


def _new_key(community: Community, names: dict[str, str]) -> str:
    base_name = names.get("en") or next(iter(names.values()))
    plain = unicodedata.normalize("NFKD", base_name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:32] or "category"
    taken = set(db.session.scalars(sa.select(Category.key).where(Category.community_id == community.id)))
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return key


def export_member_posts(member: Member) -> list[dict]:
    """The member's posts, for their data export (GDPR art. 15 and 20)."""
    posts = db.session.scalars(sa.select(Post).where(Post.owner_id == member.id).order_by(Post.id))
    return [{"id": p.id, "kind": p.kind, "title": p.title, "description": p.description,
             "category": p.category.key, "minutes": p.minutes, "gift": p.is_gift, "status": p.status,
             "available_days": p.available_days, "available_parts": p.available_parts,
             "available_note": p.available_note, "created_at": p.created_at, "expires_at": p.expires_at}
            for p in posts]


register_exporter("posts", export_member_posts)


def let_go_of_posts(member: Member, actor: Member) -> None:
    """An erased member's posts leave the market for good, without their words or photo; the
    titles stay, so the neighbours' exchange history still says what was done."""
    for post in db.session.scalars(sa.select(Post).where(Post.owner_id == member.id)):
        post.description = post.available_note = ""
        if post.status != "closed":
            post.status, post.closed_by = "closed", member
        _replace_photo(post, None)
    db.session.flush()


register_eraser("posts", let_go_of_posts)
