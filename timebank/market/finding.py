"""Finding posts: what the market lists, one page of a search (counted exactly only up to
COUNT_LIMIT), recent posts, offers that match a request, a member's own posts."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from timebank.communities.models import Category
from timebank.db import NotByIndex, utcnow
from timebank.extensions import db
from timebank.market import search
from timebank.market.models import KINDS, Post
from timebank.market.rules import Filters
from timebank.members.models import Member
from timebank.moderation.blocks import not_blocked

PER_PAGE = 20
COUNT_LIMIT = 500


def listed_conditions(
    community_id: int, now: datetime | None = None, linked: tuple[int, ...] = (), newest_first: bool = False
) -> list:
    """Posts shown in a community's market (and in the `linked` communities' ones): online, not
    past their date, by active members.

    The owner check is a NOT EXISTS rather than a join, so that the database starts from the
    community's posts (ix_posts_listing) and looks owners up by id, never scanning members. For a
    page `newest_first`, SQLite must not find the posts by their date (ix_posts_online, made for
    counting them): it would sort every online post to show twenty, where ix_posts_listing gives
    them newest first and stops after a page (0.5 against 0.13 ms for the first page of the
    large demo)."""
    inactive_owner = sa.exists().where(Member.id == Post.owner_id, Member.status != "active")
    where = Post.community_id.in_([community_id, *linked]) if linked else Post.community_id == community_id
    expires_at = NotByIndex(Post.expires_at) if newest_first else Post.expires_at
    return [where, Post.status == "active", expires_at > (now or utcnow()), ~inactive_owner]


def newest(
    community_id: int, *conditions, linked: tuple[int, ...] = (), offset: int = 0, limit: int, text_search: bool = False
) -> list[Post]:
    """Listed posts that meet `conditions`, newest first, with what a card shows. The page's ids
    come first and only those posts are loaded with owner, category and area: joining them to every
    match before sorting cost PostgreSQL a quarter of the query (1.10 against 0.85 ms on the large
    demo). A post's community is not joined: the viewer's own is in the session, a linked one is
    loaded once. A `text_search` starts from the posts with the words (its index) and sorts those."""
    page = (
        sa.select(Post.id)
        .where(*listed_conditions(community_id, linked=linked, newest_first=not text_search), *conditions)
        .order_by(Post.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(
        db.session.scalars(
            sa.select(Post)
            .where(Post.id.in_(page))
            .options(joinedload(Post.owner), joinedload(Post.category), joinedload(Post.area))
            .order_by(Post.id.desc())
        )
    )


@dataclass
class Page:
    """One page of results. `total` is exact up to COUNT_LIMIT and None beyond it: counting
    every match of a common word would cost more than it tells."""

    items: list[Post]
    number: int
    has_next: bool
    total: int | None


def find_posts(
    community_id: int,
    filters: Filters,
    page: int = 1,
    per_page: int = PER_PAGE,
    exact_total: bool = False,
    viewer_id: int | None = None,
) -> Page:
    """One page of the market, newest first; `total` is counted up to COUNT_LIMIT unless
    `exact_total` (the API's lists promise a number).

    Newest means highest id: ids grow as posts are placed. Ordering by id lets SQLite walk the
    posts that match a search from the newest and stop after one page, instead of sorting every
    match of a common word."""
    conditions = []
    if filters.kind in KINDS:
        conditions.append(Post.kind == filters.kind)
    if filters.category_id is not None and filters.linked:
        # The same kind of help in the linked communities: their category with the same key.
        same_kind = sa.select(Category.id).where(
            Category.community_id.in_([community_id, *filters.linked]),
            Category.key == sa.select(Category.key).where(Category.id == filters.category_id).scalar_subquery(),
        )
        conditions.append(Post.category_id.in_(same_kind))
    elif filters.category_id is not None:
        conditions.append(Post.category_id == filters.category_id)
    if filters.area_id is not None:
        conditions.append(Post.area_id == filters.area_id)
    if filters.gifts_only:
        conditions.append(Post.is_gift.is_(True))
    conditions += not_blocked(Post.owner_id, viewer_id)  # posts of someone the viewer has a block with
    condition = search.matching(filters.text) if filters.text else None
    if condition is not None:
        conditions.append(condition)
    items = newest(
        community_id,
        *conditions,
        linked=filters.linked,
        offset=(page - 1) * per_page,
        limit=per_page + 1,
        text_search=condition is not None,
    )
    matches = sa.select(Post.id).where(*listed_conditions(community_id, linked=filters.linked), *conditions)
    if not exact_total:
        matches = matches.limit(COUNT_LIMIT + 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(matches.subquery()))
    return Page(
        items=items[:per_page],
        number=page,
        has_next=len(items) > per_page,
        total=total if exact_total or total <= COUNT_LIMIT else None,
    )


def recent_posts(community_id: int, limit: int = 5, viewer_id: int | None = None) -> list[Post]:
    return newest(community_id, *not_blocked(Post.owner_id, viewer_id), limit=limit)


def matching_offers(request: Post, limit: int = 5, viewer_id: int | None = None) -> list[Post]:
    """Offers in the request's category, from the same area first, then the newest.

    Two queries, same area and then the others, each newest first: each walks the category's
    posts from the newest and stops after `limit`, where ordering by "same area" first made the
    database sort every offer of the category (a third of a post page's time)."""
    offers = (
        Post.kind == "offer",
        Post.category_id == request.category_id,
        Post.owner_id != request.owner_id,
        *not_blocked(Post.owner_id, viewer_id),
    )
    if request.area_id is None:
        return newest(request.community_id, *offers, limit=limit)
    found = newest(request.community_id, *offers, Post.area_id == request.area_id, limit=limit)
    if len(found) < limit:
        elsewhere = sa.or_(Post.area_id != request.area_id, Post.area_id.is_(None))
        found += newest(request.community_id, *offers, elsewhere, limit=limit - len(found))
    return found


def member_posts(member: Member) -> list[Post]:
    """Everything a member has posted, newest first, for their own overview."""
    return list(
        db.session.scalars(
            sa.select(Post)
            .where(Post.owner_id == member.id)
            .options(joinedload(Post.category), joinedload(Post.closed_by))
            .order_by(Post.id.desc())
        )
    )
